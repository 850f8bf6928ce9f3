#include "aerie/protocol/handshake.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aerie/protocol/base64.hpp"

namespace aerie::protocol {
namespace {

constexpr std::string_view kRfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view kRfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

// ---- base64 ----

TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {{"", ""},
                                                                   {"f", "Zg=="},
                                                                   {"fo", "Zm8="},
                                                                   {"foo", "Zm9v"},
                                                                   {"foob", "Zm9vYg=="},
                                                                   {"fooba", "Zm9vYmE="},
                                                                   {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64Encode(plain), encoded);
    EXPECT_EQ(base64EncodedSize(plain.size()), encoded.size());
    const auto decoded = base64Decode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64, AllByteValuesRoundTrip) {
  std::string bytes;
  for (int i = 0; i < 256; ++i)
    bytes.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= bytes.size(); len += 37) {
    const std::string_view slice(bytes.data(), len);
    const auto decoded = base64Decode(base64Encode(slice));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, slice);
  }
  EXPECT_EQ(base64Encode(std::string_view("\xfb\xff", 2)), "+/8=");  // both special characters
}

TEST(Base64, DecodeRejectsMalformedInput) {
  const char* const bad[] = {"Zg",   "Zg=",  "Zm9vY", "Z===",   "====", "Zg==Zg==", "=Zg=",
                             "Zm=v", "Zm9 ", " Zm9v", "Zm9v\n", "Zm9-", "Zm9_",     "Zm9*"};
  for (const char* input : bad)
    EXPECT_FALSE(base64Decode(input)) << input;
}

TEST(Base64, DecodeToleratesNonZeroPadBits) {
  // "Zh==" carries the same byte as "Zg==" plus non-zero unused bits (see base64.hpp).
  const auto decoded = base64Decode("Zh==");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, "f");
}

// ---- keys ----

TEST(HandshakeKey, AcceptKeyRfc6455Example) {
  EXPECT_EQ(computeAcceptKey(kRfcKey), kRfcAccept);
  // The example widely reproduced from Wikipedia's WebSocket article.
  EXPECT_EQ(computeAcceptKey("x3JJHMbDL1EzLkh9GBhXDw=="), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
  // Hashed as given: a different key, a different answer.
  EXPECT_NE(computeAcceptKey("dGhlIHNhbXBsZSBub25jZA=="), kRfcAccept);
  EXPECT_EQ(computeAcceptKey("").size(), 28u);
}

TEST(HandshakeKey, ValidClientKeys) {
  EXPECT_TRUE(isValidClientKey(kRfcKey));
  EXPECT_TRUE(isValidClientKey("AAAAAAAAAAAAAAAAAAAAAA=="));
  EXPECT_TRUE(isValidClientKey("+/+/+/+/+/+/+/+/+/+/+w=="));
  EXPECT_TRUE(isValidClientKey("dGhlIHNhbXBsZSBub25jZR=="));  // non-zero pad bits, still 16 bytes
}

TEST(HandshakeKey, InvalidClientKeys) {
  const char* const bad[] = {
      "",
      "dGhlIHNhbXBsZSBub25jZQ",            // padding missing
      "dGhlIHNhbXBsZSBub25jZQ=",           // half the padding
      "AAAAAAAAAAAAAAAAAAAA",              // 15 bytes
      "AAAAAAAAAAAAAAAAAAAAAAA=",          // 17 bytes, 24 characters
      "AAAAAAAAAAAAAAAAAAAAAAAA",          // 18 bytes
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  // 24 bytes
      " dGhlIHNhbXBsZSBub25jZQ==",         // untrimmed
      "dGhlIHNhbXBsZSBub25jZQ== ",         //
      "dGhlIHNhbXBsZSBub25j-Q==",          // URL-safe alphabet
      "dGhlIHNhbXBsZSBub25j=Q==",          // '=' inside
      "dGhlIHNhbXBsZSBub25jZQ==\r\n",      //
  };
  for (const char* key : bad)
    EXPECT_FALSE(isValidClientKey(key)) << key;
}

TEST(HandshakeKey, GeneratedKeysAreValidAndFresh) {
  const std::string a = generateClientKey();
  const std::string b = generateClientKey();
  EXPECT_TRUE(isValidClientKey(a)) << a;
  EXPECT_TRUE(isValidClientKey(b)) << b;
  const auto decoded = base64Decode(a);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->size(), 16u);
  EXPECT_NE(a, b);  // 2^-128 chance of a false failure
}

// ---- server: validateUpgradeRequest ----

// A valid request (RFC 6455 1.2 example) whose fields tests replace or drop.
struct Request {
  std::string method = "GET";
  int major = 1;
  int minor = 1;
  std::vector<HeaderField> headers = {
      {"Host", "server.example.com"},   {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},        {"Sec-WebSocket-Key", kRfcKey},
      {"Origin", "http://example.com"}, {"Sec-WebSocket-Protocol", "chat, superchat"},
      {"Sec-WebSocket-Version", "13"},
  };

  Request& set(std::string_view name, std::string_view value) {
    for (auto& field : headers) {
      if (equalsIgnoreCase(field.name, name)) {
        field.value = value;
        return *this;
      }
    }
    headers.push_back({name, value});
    return *this;
  }
  Request& drop(std::string_view name) {
    std::erase_if(headers, [name](const HeaderField& f) { return equalsIgnoreCase(f.name, name); });
    return *this;
  }
  Request& add(std::string_view name, std::string_view value) {
    headers.push_back({name, value});
    return *this;
  }
  HandshakeCheck check() const {
    return validateUpgradeRequest(HandshakeRequestView{method, major, minor, headers});
  }
};

using Fields = std::vector<std::pair<std::string_view, std::string_view>>;

Fields fieldsOf(const HandshakeCheck& check) {
  Fields out;
  for (const auto& field : check.extraHeaders)
    out.emplace_back(field.name, field.value);
  return out;
}

const Fields kUpgradeRequiredHeaders = {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}};
const Fields kVersionHeaders = {
    {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Version", "13"}};

TEST(ValidateUpgrade, AcceptsRfcExample) {
  const HandshakeCheck check = Request{}.check();
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(check.status, 101);
  EXPECT_EQ(check.key, kRfcKey);
  EXPECT_TRUE(check.extraHeaders.empty());
  EXPECT_TRUE(check.reason.empty());
}

TEST(ValidateUpgrade, KeyPointsIntoTheRequest) {
  Request r;
  const std::string padded = std::string("  ") + std::string(kRfcKey) + "\t";
  r.set("Sec-WebSocket-Key", padded);
  const HandshakeCheck check = r.check();
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check.key, kRfcKey);  // OWS trimmed defensively
  EXPECT_EQ(check.key.data(), padded.data() + 2);
}

TEST(ValidateUpgrade, HeaderNamesAreCaseInsensitive) {
  Request r;
  r.headers = {{"HOST", "a"},
               {"upgrade", "WebSocket"},
               {"CONNECTION", "upgrade"},
               {"sec-websocket-key", kRfcKey},
               {"SEC-WEBSOCKET-VERSION", "13"}};
  EXPECT_TRUE(r.check().ok());
}

TEST(ValidateUpgrade, MethodNotGetIs405WithAllow) {
  for (const char* method : {"POST", "HEAD", "get", "PUT", ""}) {
    Request r;
    r.method = method;
    const HandshakeCheck check = r.check();
    EXPECT_EQ(check.status, 405) << method;
    EXPECT_EQ(fieldsOf(check), (Fields{{"Allow", "GET"}}));
    EXPECT_FALSE(check.reason.empty());
    EXPECT_TRUE(check.key.empty());
  }
}

TEST(ValidateUpgrade, MethodIsCheckedFirst) {
  Request r;
  r.method = "POST";
  r.major = 1;
  r.minor = 0;
  r.headers.clear();
  EXPECT_EQ(r.check().status, 405);
}

TEST(ValidateUpgrade, HttpVersionBelow11Is400) {
  for (const auto& [major, minor] : {std::pair{1, 0}, std::pair{0, 9}, std::pair{0, 0}}) {
    Request r;
    r.major = major;
    r.minor = minor;
    const HandshakeCheck check = r.check();
    EXPECT_EQ(check.status, 400);
    EXPECT_EQ(check.reason, "HTTP/1.1 or later required");
    EXPECT_TRUE(check.extraHeaders.empty());
  }
  Request later;
  later.minor = 2;
  EXPECT_TRUE(later.check().ok());
  Request two;
  two.major = 2;
  two.minor = 0;
  EXPECT_TRUE(two.check().ok());
}

TEST(ValidateUpgrade, VersionIsCheckedBeforeHeaders) {
  Request r;
  r.minor = 0;
  r.drop("Host").drop("Upgrade");
  EXPECT_EQ(r.check().reason, "HTTP/1.1 or later required");
}

TEST(ValidateUpgrade, HostMissingRepeatedOrInvalidIs400) {
  EXPECT_EQ(Request{}.drop("Host").check().status, 400);
  EXPECT_EQ(Request{}.drop("Host").check().reason, "Host header required");
  EXPECT_EQ(Request{}.add("host", "other.example").check().status, 400);
  EXPECT_EQ(Request{}.add("host", "other.example").check().reason, "more than one Host header");
  for (const char* host :
       {"", " ", "a b", "user@host", "host/path", ":80", "host:8x", "host:80:1", "[::1", "[]",
        "[::1]x", "exa%2", "exa%zzmple", "a\r\nb", "caf\xC3\xA9"}) {
    const HandshakeCheck check = Request{}.set("Host", host).check();
    EXPECT_EQ(check.status, 400) << host;
    EXPECT_EQ(check.reason, "invalid Host header") << host;
  }
  for (const char* host : {"example.com", "example.com:8080", "127.0.0.1:1", "[::1]", "[::1]:443",
                           "ex%41mple", "localhost:", " example.com ", "a-b_c~d"}) {
    EXPECT_TRUE(Request{}.set("Host", host).check().ok()) << host;
  }
}

TEST(ValidateUpgrade, UpgradeTokenIsRequired) {
  for (const char* value : {"", "websocket2", "web socket", "h2c", "websocket/13"}) {
    const HandshakeCheck check = Request{}.set("Upgrade", value).check();
    EXPECT_EQ(check.status, 426) << value;
    EXPECT_EQ(fieldsOf(check), kUpgradeRequiredHeaders) << value;
  }
  EXPECT_EQ(Request{}.drop("Upgrade").check().status, 426);
  EXPECT_EQ(Request{}.drop("Upgrade").check().reason, "\"Upgrade: websocket\" header required");
  for (const char* value :
       {"websocket", "WebSocket", "websocket, foo", "foo,websocket", " foo ,\tWEBSOCKET "}) {
    EXPECT_TRUE(Request{}.set("Upgrade", value).check().ok()) << value;
  }
  // Two Upgrade lines are one list.
  EXPECT_TRUE(Request{}.set("Upgrade", "foo").add("Upgrade", "websocket").check().ok());
}

TEST(ValidateUpgrade, ConnectionTokenIsRequired) {
  for (const char* value : {"", "keep-alive", "upgrades", "keep-alive upgrade", "close"}) {
    const HandshakeCheck check = Request{}.set("Connection", value).check();
    EXPECT_EQ(check.status, 426) << value;
    EXPECT_EQ(check.reason, "\"Connection: Upgrade\" header required");
    EXPECT_EQ(fieldsOf(check), kUpgradeRequiredHeaders) << value;
  }
  EXPECT_EQ(Request{}.drop("Connection").check().status, 426);
  for (const char* value : {"Upgrade", "upgrade", "keep-alive, Upgrade", "Upgrade,keep-alive",
                            "keep-alive ,  UPGRADE  "}) {
    EXPECT_TRUE(Request{}.set("Connection", value).check().ok()) << value;
  }
  EXPECT_TRUE(Request{}.set("Connection", "keep-alive").add("Connection", "Upgrade").check().ok());
}

TEST(ValidateUpgrade, UpgradeIsCheckedBeforeConnection) {
  const HandshakeCheck check = Request{}.drop("Upgrade").drop("Connection").check();
  EXPECT_EQ(check.reason, "\"Upgrade: websocket\" header required");
}

TEST(ValidateUpgrade, KeyMissingOrInvalidIs400) {
  const HandshakeCheck missing = Request{}.drop("Sec-WebSocket-Key").check();
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.reason, "Sec-WebSocket-Key header required");
  EXPECT_TRUE(missing.extraHeaders.empty());

  for (const char* key :
       {"", "dGhlIHNhbXBsZSBub25jZQ", "AAAAAAAAAAAAAAAAAAAAAAA=", "not base64!"}) {
    const HandshakeCheck check = Request{}.set("Sec-WebSocket-Key", key).check();
    EXPECT_EQ(check.status, 400) << key;
    EXPECT_EQ(check.reason, "Sec-WebSocket-Key must be 16 bytes in base64") << key;
    EXPECT_TRUE(check.key.empty());
  }
  const HandshakeCheck twice = Request{}.add("Sec-WebSocket-Key", kRfcKey).check();
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(twice.reason, "more than one Sec-WebSocket-Key header");
}

TEST(ValidateUpgrade, KeyIsCheckedBeforeVersion) {
  const HandshakeCheck check =
      Request{}.drop("Sec-WebSocket-Key").set("Sec-WebSocket-Version", "8").check();
  EXPECT_EQ(check.status, 400);
}

TEST(ValidateUpgrade, VersionOtherThan13Is426WithVersionHeader) {
  for (const char* version : {"8", "7", "", "13, 8", "013", "14", "1 3"}) {
    const HandshakeCheck check = Request{}.set("Sec-WebSocket-Version", version).check();
    EXPECT_EQ(check.status, 426) << version;
    EXPECT_EQ(fieldsOf(check), kVersionHeaders) << version;
  }
  const HandshakeCheck missing = Request{}.drop("Sec-WebSocket-Version").check();
  EXPECT_EQ(missing.status, 426);
  EXPECT_EQ(missing.reason, "Sec-WebSocket-Version header required");
  EXPECT_EQ(fieldsOf(missing), kVersionHeaders);

  const HandshakeCheck twice = Request{}.add("Sec-WebSocket-Version", "13").check();
  EXPECT_EQ(twice.status, 426);
  EXPECT_EQ(fieldsOf(twice), kVersionHeaders);

  EXPECT_TRUE(Request{}.set("Sec-WebSocket-Version", " 13 ").check().ok());
}

// ---- server: response head ----

TEST(AcceptResponse, MinimalHeadIsByteExact) {
  EXPECT_EQ(buildAcceptResponseHead(kRfcAccept),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
}

TEST(AcceptResponse, FullHeadIsByteExact) {
  const HeaderField extras[] = {{"Set-Cookie", "sid=1"}, {"X-Server", "aerie"}};
  EXPECT_EQ(buildAcceptResponseHead(kRfcAccept, "chat",
                                    "permessage-deflate; server_max_window_bits=10", extras),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n"
            "Set-Cookie: sid=1\r\n"
            "X-Server: aerie\r\n"
            "\r\n");
  EXPECT_EQ(buildAcceptResponseHead(kRfcAccept, {}, "permessage-deflate"),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate\r\n"
            "\r\n");
}

TEST(AcceptResponse, RefusesInjectionAndDuplicates) {
  std::string_view error;
  EXPECT_EQ(buildAcceptResponseHead("", {}, {}, {}, &error), "");
  EXPECT_FALSE(error.empty());

  error = {};
  EXPECT_EQ(buildAcceptResponseHead("abc\r\nX: y", {}, {}, {}, &error), "");
  EXPECT_FALSE(error.empty());

  error = {};
  EXPECT_EQ(buildAcceptResponseHead(kRfcAccept, "chat\r\nX: y", {}, {}, &error), "");
  EXPECT_EQ(error, "subprotocol is not a token");

  EXPECT_EQ(buildAcceptResponseHead(kRfcAccept, "chat superchat"), "");
  EXPECT_EQ(buildAcceptResponseHead(kRfcAccept, {}, "permessage-deflate\r\nX: y"), "");

  const HeaderField badValue[] = {{"X-A", "1\r\nX-B: 2"}};
  EXPECT_EQ(buildAcceptResponseHead(kRfcAccept, {}, {}, badValue), "");
  const HeaderField badName[] = {{"X A", "1"}};
  EXPECT_EQ(buildAcceptResponseHead(kRfcAccept, {}, {}, badName), "");
  const HeaderField emptyName[] = {{"", "1"}};
  EXPECT_EQ(buildAcceptResponseHead(kRfcAccept, {}, {}, emptyName), "");
  for (const char* name :
       {"connection", "Upgrade", "Sec-WebSocket-Accept", "sec-websocket-protocol",
        "Sec-WebSocket-Extensions", "Content-Length", "Transfer-Encoding"}) {
    const HeaderField dup[] = {{name, "x"}};
    error = {};
    EXPECT_EQ(buildAcceptResponseHead(kRfcAccept, {}, {}, dup, &error), "") << name;
    EXPECT_EQ(error, "extra header duplicates a handshake header") << name;
  }
}

TEST(AcceptResponse, ServerRoundTrip) {
  const HandshakeCheck check = Request{}.check();
  ASSERT_TRUE(check.ok());
  const std::string head = buildAcceptResponseHead(computeAcceptKey(check.key));
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
}

// ---- client: request head ----

TEST(ClientRequestHead, MinimalHeadIsByteExact) {
  ClientRequest request;
  request.target = "/chat";
  request.host = "server.example.com";
  request.key = kRfcKey;
  EXPECT_EQ(buildClientRequestHead(request),
            "GET /chat HTTP/1.1\r\n"
            "Host: server.example.com\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "\r\n");
}

TEST(ClientRequestHead, FullHeadIsByteExact) {
  const std::vector<std::string> protocols = {"chat", "superchat"};
  const HeaderField extras[] = {{"Authorization", "Bearer abc"}, {"X-Trace", "1"}};
  ClientRequest request;
  request.target = "/ws?room=1&x=%20";
  request.host = "[::1]:8080";
  request.key = kRfcKey;
  request.origin = "http://example.com";
  request.subprotocols = protocols;
  request.extensions = "permessage-deflate; client_max_window_bits";
  request.extraHeaders = extras;
  std::string_view error = "untouched";
  EXPECT_EQ(buildClientRequestHead(request, &error),
            "GET /ws?room=1&x=%20 HTTP/1.1\r\n"
            "Host: [::1]:8080\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Origin: http://example.com\r\n"
            "Sec-WebSocket-Protocol: chat, superchat\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            "Authorization: Bearer abc\r\n"
            "X-Trace: 1\r\n"
            "\r\n");
  EXPECT_EQ(error, "untouched");  // only written on failure
}

TEST(ClientRequestHead, RefusesBadInput) {
  const auto valid = [] {
    ClientRequest request;
    request.host = "example.com";
    request.key = kRfcKey;
    return request;
  };
  ASSERT_FALSE(buildClientRequestHead(valid()).empty());

  const auto refused = [](const ClientRequest& request) {
    std::string_view error;
    const std::string head = buildClientRequestHead(request, &error);
    return head.empty() && !error.empty();
  };

  for (const char* target : {"", "chat", "/a b", "/a\r\nX: y", "/a\n", "http://x/"}) {
    ClientRequest r = valid();
    r.target = target;
    EXPECT_TRUE(refused(r)) << target;
  }
  for (const char* host : {"", "a b", "a\r\nX: y", "user@host"}) {
    ClientRequest r = valid();
    r.host = host;
    EXPECT_TRUE(refused(r)) << host;
  }
  {
    ClientRequest r = valid();
    r.key = "short";
    EXPECT_TRUE(refused(r));
  }
  {
    ClientRequest r = valid();
    r.origin = "http://a\r\nX-Evil: 1";
    EXPECT_TRUE(refused(r));
  }
  {
    const std::vector<std::string> protocols = {"chat", "bad protocol"};
    ClientRequest r = valid();
    r.subprotocols = protocols;
    EXPECT_TRUE(refused(r));
  }
  {
    const std::vector<std::string> protocols = {"chat\r\n"};
    ClientRequest r = valid();
    r.subprotocols = protocols;
    EXPECT_TRUE(refused(r));
  }
  {
    ClientRequest r = valid();
    r.extensions = "permessage-deflate\nX: y";
    EXPECT_TRUE(refused(r));
  }
  {
    const HeaderField extras[] = {{"X-A", "v\r\nX-B: w"}};
    ClientRequest r = valid();
    r.extraHeaders = extras;
    EXPECT_TRUE(refused(r));
  }
  {
    const HeaderField extras[] = {{"X-A\r\n", "v"}};
    ClientRequest r = valid();
    r.extraHeaders = extras;
    EXPECT_TRUE(refused(r));
  }
  for (const char* name :
       {"host", "Upgrade", "CONNECTION", "Sec-WebSocket-Key", "sec-websocket-version"}) {
    const HeaderField extras[] = {{name, "x"}};
    ClientRequest r = valid();
    r.extraHeaders = extras;
    EXPECT_TRUE(refused(r)) << name;
  }
}

TEST(ClientRequestHead, OptionalHeadersMayComeAsExtrasWhenNotSetAbove) {
  const HeaderField extras[] = {{"Origin", "https://a.example"},
                                {"Sec-WebSocket-Protocol", "chat"},
                                {"Sec-WebSocket-Extensions", "permessage-deflate"}};
  ClientRequest r;
  r.host = "example.com";
  r.key = kRfcKey;
  r.extraHeaders = extras;
  EXPECT_FALSE(buildClientRequestHead(r).empty());

  const std::vector<std::string> protocols = {"chat"};
  r.subprotocols = protocols;  // now Sec-WebSocket-Protocol would be written twice
  EXPECT_TRUE(buildClientRequestHead(r).empty());
  r.subprotocols = {};
  r.origin = "https://b.example";
  EXPECT_TRUE(buildClientRequestHead(r).empty());
  r.origin = {};
  r.extensions = "x";
  EXPECT_TRUE(buildClientRequestHead(r).empty());
}

// ---- client: response check ----

struct Response {
  int status = 101;
  std::vector<HeaderField> headers = {
      {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", kRfcAccept}};
  std::vector<std::string> offered = {"chat", "superchat"};

  Response& set(std::string_view name, std::string_view value) {
    for (auto& field : headers) {
      if (equalsIgnoreCase(field.name, name)) {
        field.value = value;
        return *this;
      }
    }
    headers.push_back({name, value});
    return *this;
  }
  Response& drop(std::string_view name) {
    std::erase_if(headers, [name](const HeaderField& f) { return equalsIgnoreCase(f.name, name); });
    return *this;
  }
  Response& add(std::string_view name, std::string_view value) {
    headers.push_back({name, value});
    return *this;
  }
  ClientHandshakeCheck check() const {
    return validateServerResponse(status, headers, kRfcKey, offered);
  }
};

TEST(ServerResponse, AcceptsValidResponse) {
  const ClientHandshakeCheck check = Response{}.check();
  EXPECT_TRUE(check.ok);
  EXPECT_TRUE(static_cast<bool>(check));
  EXPECT_TRUE(check.error.empty());
  EXPECT_TRUE(check.subprotocol.empty());
  EXPECT_TRUE(check.extensions.empty());
}

TEST(ServerResponse, CaseAndListsAreTolerated) {
  Response r;
  r.headers = {{"upgrade", "WebSocket"},
               {"connection", "keep-alive"},
               {"CONNECTION", "UPGRADE"},
               {"sec-websocket-accept", kRfcAccept}};
  EXPECT_TRUE(r.check().ok) << r.check().error;
}

TEST(ServerResponse, StatusMustBe101) {
  for (const int status : {200, 400, 426, 100, 0}) {
    Response r;
    r.status = status;
    const ClientHandshakeCheck check = r.check();
    EXPECT_FALSE(check.ok);
    EXPECT_EQ(check.error, "server answered with status " + std::to_string(status) +
                               " instead of 101 Switching Protocols");
  }
}

TEST(ServerResponse, UpgradeAndConnectionRequired) {
  EXPECT_EQ(Response{}.drop("Upgrade").check().error, "response lacks \"Upgrade: websocket\"");
  EXPECT_EQ(Response{}.set("Upgrade", "h2c").check().error,
            "response lacks \"Upgrade: websocket\"");
  EXPECT_EQ(Response{}.drop("Connection").check().error, "response lacks \"Connection: Upgrade\"");
  EXPECT_EQ(Response{}.set("Connection", "close").check().error,
            "response lacks \"Connection: Upgrade\"");
}

TEST(ServerResponse, AcceptMustMatch) {
  EXPECT_EQ(Response{}.drop("Sec-WebSocket-Accept").check().error,
            "response lacks Sec-WebSocket-Accept");
  EXPECT_EQ(Response{}.add("Sec-WebSocket-Accept", kRfcAccept).check().error,
            "response has more than one Sec-WebSocket-Accept");
  const ClientHandshakeCheck wrong =
      Response{}.set("Sec-WebSocket-Accept", "HSmrc0sMlYUkAGmm5OPpG2HaGWk=").check();
  EXPECT_FALSE(wrong.ok);
  EXPECT_EQ(wrong.error,
            "Sec-WebSocket-Accept does not match the key sent (expected "
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=)");
  // The accept value is compared exactly: base64 is case-sensitive.
  EXPECT_FALSE(Response{}.set("Sec-WebSocket-Accept", "S3pPLMBiTxaQ9kYGzzhZRbK+xOo=").check().ok);
  // The key itself is echoed back (a classic server bug).
  EXPECT_FALSE(Response{}.set("Sec-WebSocket-Accept", kRfcKey).check().ok);
}

TEST(ServerResponse, SubprotocolMustBeOneOffered) {
  const ClientHandshakeCheck chosen = Response{}.set("Sec-WebSocket-Protocol", "superchat").check();
  EXPECT_TRUE(chosen.ok) << chosen.error;
  EXPECT_EQ(chosen.subprotocol, "superchat");

  EXPECT_EQ(Response{}.set("Sec-WebSocket-Protocol", "other").check().error,
            "server selected a subprotocol that was not offered");
  EXPECT_EQ(Response{}.set("Sec-WebSocket-Protocol", "Chat").check().error,
            "server selected a subprotocol that was not offered");  // case-sensitive
  Response none;
  none.offered.clear();
  none.set("Sec-WebSocket-Protocol", "chat");
  EXPECT_EQ(none.check().error, "server selected a subprotocol although none was offered");

  EXPECT_EQ(Response{}.set("Sec-WebSocket-Protocol", "chat, superchat").check().error,
            "Sec-WebSocket-Protocol must name exactly one subprotocol");
  EXPECT_EQ(Response{}.set("Sec-WebSocket-Protocol", "").check().error,
            "Sec-WebSocket-Protocol must name exactly one subprotocol");
  EXPECT_EQ(Response{}
                .set("Sec-WebSocket-Protocol", "chat")
                .add("Sec-WebSocket-Protocol", "chat")
                .check()
                .error,
            "response has more than one Sec-WebSocket-Protocol");
}

TEST(ServerResponse, ExtensionsAreCombinedAndMustParse) {
  const ClientHandshakeCheck ok = Response{}
                                      .add("Sec-WebSocket-Extensions", "permessage-deflate")
                                      .add("sec-websocket-extensions", "x-other; a=1")
                                      .check();
  EXPECT_TRUE(ok.ok) << ok.error;
  EXPECT_EQ(ok.extensions, "permessage-deflate, x-other; a=1");

  const ClientHandshakeCheck bad =
      Response{}.add("Sec-WebSocket-Extensions", "permessage-deflate;;").check();
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error, "malformed Sec-WebSocket-Extensions in response");
  EXPECT_TRUE(bad.extensions.empty());
}

TEST(ServerResponse, ClientServerRoundTrip) {
  const std::string key = generateClientKey();
  const std::string accept = computeAcceptKey(key);
  const HeaderField headers[] = {
      {"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", accept}};
  EXPECT_TRUE(validateServerResponse(101, headers, key, {}).ok);
  const std::string otherKey = generateClientKey();
  EXPECT_FALSE(validateServerResponse(101, headers, otherKey, {}).ok);
}

}  // namespace
}  // namespace aerie::protocol
