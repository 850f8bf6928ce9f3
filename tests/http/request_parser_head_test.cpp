// Request line, header fields and head limits of RequestParser. Every input goes through
// parseAllWays(): whole, byte by byte and in random splits, with the same outcome.
#include <gtest/gtest.h>

#include <string>

#include "aerie/http/request_parser.hpp"
#include "parse_helpers.hpp"

namespace aerie::http {
namespace {

using test::parseAllWays;
using test::statusOf;

std::string withHost(std::string_view requestLine, std::string_view fields = {}) {
  return std::string(requestLine) + "\r\nHost: example.com\r\n" + std::string(fields) + "\r\n";
}

TEST(RequestParserHead, ParsesSimpleGet) {
  const std::string input =
      "GET /chat?room=1 HTTP/1.1\r\n"
      "Host: example.com\r\n"
      "User-Agent:  test/1.0 \t\r\n"
      "Accept:\r\n"
      "X-Multi: a\r\n"
      "x-multi: b\r\n"
      "\r\n";
  const auto out = parseAllWays(input);
  ASSERT_TRUE(out.ok()) << out.reason;
  EXPECT_EQ(out.trace, "HM");
  ASSERT_EQ(out.heads.size(), 1u);
  const RequestHead& head = out.heads[0];
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/chat?room=1");
  EXPECT_EQ(head.versionMajor, 1);
  EXPECT_EQ(head.versionMinor, 1);
  ASSERT_EQ(head.headers.size(), 5u);
  EXPECT_EQ(head.headers[0].name, "Host");
  EXPECT_EQ(head.headers.get("host"), "example.com");
  EXPECT_EQ(head.headers.get("user-agent"), "test/1.0");  // OWS stripped both sides
  EXPECT_EQ(head.headers.get("accept"), "");              // empty value is valid
  EXPECT_EQ(head.headers.combined("x-multi"), "a, b");
  EXPECT_EQ(out.headEnds[0], input.size());
  EXPECT_EQ(out.bodies[0], "");
}

TEST(RequestParserHead, ReportsHeadBeforeMessageCompleteAndThenNeedsMore) {
  RequestParser parser;
  const std::string input = withHost("GET / HTTP/1.1");
  auto r = parser.feed(input);
  EXPECT_EQ(r.event, RequestParser::Event::HeadComplete);
  EXPECT_EQ(r.consumed, input.size());
  EXPECT_TRUE(parser.inBody());
  EXPECT_EQ(parser.bodyKind(), RequestParser::BodyKind::None);
  r = parser.feed(nullptr, 0);
  EXPECT_EQ(r.event, RequestParser::Event::MessageComplete);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_FALSE(parser.inBody());
  EXPECT_EQ(parser.head().method, "GET");  // still readable until the next feed()
  r = parser.feed(nullptr, 0);
  EXPECT_EQ(r.event, RequestParser::Event::NeedMore);
  EXPECT_EQ(parser.head().method, "");  // that feed() started the next request
}

TEST(RequestParserHead, LeavesBytesAfterTheHeadToTheCaller) {
  // A WebSocket upgrade: what follows the head is frames, not HTTP.
  const std::string head =
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  const std::string frame = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  const std::string input = head + frame;
  RequestParser parser;
  const auto r = parser.feed(input);
  ASSERT_EQ(r.event, RequestParser::Event::HeadComplete);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_TRUE(parser.head().headers.hasToken("connection", "upgrade"));
  EXPECT_EQ(parser.head().headers.get("sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST(RequestParserHead, TakeHeadMovesTheHeadOut) {
  RequestParser parser;
  ASSERT_EQ(parser.feed(withHost("GET /x HTTP/1.1", "A: b\r\n")).event,
            RequestParser::Event::HeadComplete);
  RequestHead head = parser.takeHead();
  EXPECT_EQ(head.target, "/x");
  EXPECT_EQ(head.headers.get("a"), "b");
}

TEST(RequestParserHead, HandHeadToReusesStorageAndLeavesNothingStale) {
  RequestParser parser;
  RequestHead request;
  const std::string first = withHost("POST /first HTTP/1.1", "X-Only-First: 1\r\n");
  const std::string second = withHost("GET /second HTTP/1.0");
  const std::string both = first + second;
  auto r = parser.feed(both);
  ASSERT_EQ(r.event, RequestParser::Event::HeadComplete);
  parser.handHeadTo(request);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/first");
  EXPECT_EQ(request.headers.get("x-only-first"), "1");
  const std::string_view rest = std::string_view(both).substr(r.consumed);
  r = parser.feed(rest);  // the end of the first message (no body)
  ASSERT_EQ(r.event, RequestParser::Event::MessageComplete);
  r = parser.feed(rest.substr(r.consumed));
  ASSERT_EQ(r.event, RequestParser::Event::HeadComplete);
  parser.handHeadTo(request);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/second");
  EXPECT_EQ(request.versionMinor, 0);
  EXPECT_FALSE(request.headers.contains("x-only-first"));
  EXPECT_EQ(request.headers.get("host"), "example.com");
}

TEST(RequestParserHead, AcceptsHttp10WithoutHost) {
  const auto out = parseAllWays("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.heads[0].versionMinor, 0);
}

TEST(RequestParserHead, AcceptsAnyTokenMethod) {
  EXPECT_EQ(statusOf(withHost("M-SEARCH * HTTP/1.1")), 400);  // "*" is for OPTIONS only
  const auto out = parseAllWays(withHost("M-SEARCH /x HTTP/1.1"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.heads[0].method, "M-SEARCH");
  EXPECT_EQ(statusOf(withHost("PROPFIND /x HTTP/1.1")), 0);
}

TEST(RequestParserHead, RejectsMalformedRequestLines) {
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1 ")), 400);  // trailing space
  EXPECT_EQ(statusOf(withHost("GET  / HTTP/1.1")), 400);  // empty target
  EXPECT_EQ(statusOf(withHost("GET /  HTTP/1.1")), 400);  // double space
  EXPECT_EQ(statusOf(withHost(" GET / HTTP/1.1")), 400);  // leading space
  EXPECT_EQ(statusOf(withHost("GET /")), 400);            // HTTP/0.9 shape
  EXPECT_EQ(statusOf(withHost("GET")), 400);
  EXPECT_EQ(statusOf(withHost("GET\t/ HTTP/1.1")), 400);  // HTAB is not SP
  EXPECT_EQ(statusOf(withHost("GET /\tHTTP/1.1")), 400);
}

TEST(RequestParserHead, RejectsBadMethodTokens) {
  EXPECT_EQ(statusOf(withHost("G@T / HTTP/1.1")), 400);
  EXPECT_EQ(statusOf(withHost("GE\"T / HTTP/1.1")), 400);
  EXPECT_EQ(statusOf(withHost("GE(T / HTTP/1.1")), 400);
  EXPECT_EQ(statusOf(withHost(std::string("GE\0T / HTTP/1.1", 15))), 400);
  EXPECT_EQ(statusOf(withHost("G\xC3\xA9T / HTTP/1.1")), 400);
}

TEST(RequestParserHead, ValidatesRequestTargets) {
  EXPECT_EQ(statusOf(withHost("GET foo HTTP/1.1")), 400);           // relative
  EXPECT_EQ(statusOf(withHost("GET /caf\xC3\xA9 HTTP/1.1")), 400);  // raw non-ASCII
  EXPECT_EQ(statusOf(withHost("GET /a\x7F HTTP/1.1")), 400);        // DEL
  EXPECT_EQ(statusOf(withHost("GET /a\x01 HTTP/1.1")), 400);        // CTL
  EXPECT_EQ(statusOf(withHost("GET * HTTP/1.1")), 400);
  EXPECT_EQ(statusOf(withHost("OPTIONS * HTTP/1.1")), 0);
  EXPECT_EQ(statusOf(withHost("GET example.com:443 HTTP/1.1")), 400);
  EXPECT_EQ(statusOf(withHost("CONNECT example.com:443 HTTP/1.1")), 0);
  EXPECT_EQ(statusOf(withHost("CONNECT example.com/x HTTP/1.1")), 400);
  EXPECT_EQ(statusOf(withHost("GET 1http://x/ HTTP/1.1")), 400);  // scheme starts with alpha
  EXPECT_EQ(statusOf(withHost("GET ://x/ HTTP/1.1")), 400);
  EXPECT_EQ(statusOf(withHost("GET /%7Euser/a%20b?q=\"x\" HTTP/1.1")), 0);  // kept encoded
  const auto out = parseAllWays(withHost("GET http://example.com/a?b HTTP/1.1"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out.heads[0].target, "http://example.com/a?b");
}

TEST(RequestParserHead, ChecksHttpVersion) {
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.2")), 505);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/2.0")), 505);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/0.9")), 505);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/9.9")), 505);
  EXPECT_EQ(statusOf(withHost("GET / http/1.1")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1.1")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/11")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.x")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/10.1")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTPS/1.1")), 400);
}

TEST(RequestParserHead, SkipsEmptyLinesBeforeTheRequestLine) {
  const std::string request = withHost("GET / HTTP/1.1");
  const auto out = parseAllWays("\r\n\r\n\r\n" + request);
  ASSERT_TRUE(out.ok()) << out.reason;
  EXPECT_EQ(out.trace, "HM");
  EXPECT_EQ(out.headEnds[0], request.size() + 6);
}

TEST(RequestParserHead, RejectsBareLf) {
  // Documented choice: CRLF only, everywhere.
  EXPECT_EQ(statusOf("GET / HTTP/1.1\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nHost: x\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nHost: x\r\n\n"), 400);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\nHost: x\n\n"), 400);
  EXPECT_EQ(statusOf("\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
}

TEST(RequestParserHead, RejectsBareCr) {
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nHost: x\r\nX\r: y\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET /\r HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nHost: x\r\n\r\r\n"), 400);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\r\n\r\n"), 400);
}

TEST(RequestParserHead, ValidatesFieldValues) {
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", std::string("A: b\0c\r\n", 8))), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "A: b\x01\r\n")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "A: b\x7F\r\n")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "A: b\x1B[31m\r\n")), 400);
  const auto out = parseAllWays(withHost("GET / HTTP/1.1", "A: x\ty \xE9\xFF z\r\n"));
  ASSERT_TRUE(out.ok());  // HTAB inside and obs-text are allowed
  EXPECT_EQ(out.heads[0].headers.get("a"), "x\ty \xE9\xFF z");
}

TEST(RequestParserHead, ValidatesEveryPositionOfLongValuesAndTargets) {
  // Long runs are checked eight bytes at a time: put each bad byte at each position of a
  // word, and in the tail after the last whole word.
  for (std::size_t pos = 0; pos < 27; ++pos) {
    for (char bad : {'\0', '\x01', '\x08', '\x0B', '\r', '\x1F', '\x7F'}) {
      std::string value(27, 'v');
      value[pos] = bad;
      EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "A: x" + value + "x\r\n")), 400)
          << pos << " " << int(bad);
      std::string target = "/" + std::string(27, 't');
      target[pos + 1] = bad;
      EXPECT_EQ(statusOf(withHost("GET " + target + " HTTP/1.1")), 400) << pos << " " << int(bad);
    }
    for (char good : {'\t', ' ', '\x80', '\xFF', '~', '!'}) {
      std::string value(27, 'v');
      value[pos] = good;
      EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "A: x" + value + "x\r\n")), 0)
          << pos << " " << int(good);
    }
    for (char nonAscii : {'\x80', '\xFF'}) {
      std::string target = "/" + std::string(27, 't');
      target[pos + 1] = nonAscii;
      EXPECT_EQ(statusOf(withHost("GET " + target + " HTTP/1.1")), 400) << pos;
    }
  }
}

TEST(RequestParserHead, ValidatesFieldNames) {
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "Host : x\r\n")), 400);  // also a duplicate
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "A : x\r\n")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "A\t: x\r\n")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", ": x\r\n")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "A(b): x\r\n")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "A b: x\r\n")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", std::string("A\0b: x\r\n", 8))), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "\xC3\xA9: x\r\n")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "NoColon\r\n")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "X-Ok_1.2~!#$%&'*+^`|: v\r\n")), 0);
}

TEST(RequestParserHead, RejectsObsFold) {
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "A: b\r\n c\r\n")), 400);
  EXPECT_EQ(statusOf(withHost("GET / HTTP/1.1", "A: b\r\n\tc\r\n")), 400);
  // Whitespace between the request line and the first field (RFC 9112 2.2).
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\n Host: x\r\n\r\n"), 400);
}

TEST(RequestParserHead, RequiresExactlyOneHostInHttp11) {
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nA: b\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), 400);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nHOST: a\r\n\r\n"), 0);
  EXPECT_EQ(statusOf("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);  // empty authority is valid
  EXPECT_EQ(statusOf("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
}

TEST(RequestParserHead, DetectsExpectContinue) {
  auto out = parseAllWays(withHost("POST / HTTP/1.1", "Expect: 100-Continue\r\n"));
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out.expectsContinue[0]);
  out = parseAllWays(withHost("POST / HTTP/1.1"));
  EXPECT_FALSE(out.expectsContinue[0]);
  out = parseAllWays(withHost("POST / HTTP/1.1", "Expect: something-else\r\n"));
  EXPECT_FALSE(out.expectsContinue[0]);
  out = parseAllWays("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");  // ignored for 1.0
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out.expectsContinue[0]);
}

TEST(RequestParserHead, ErrorsAreStickyUntilReset) {
  RequestParser parser;
  auto r = parser.feed("BAD\r\n");
  ASSERT_EQ(r.event, RequestParser::Event::Error);
  EXPECT_EQ(r.status, 400);
  EXPECT_FALSE(r.reason.empty());
  r = parser.feed(withHost("GET / HTTP/1.1"));
  EXPECT_EQ(r.event, RequestParser::Event::Error);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.consumed, 0u);
  parser.reset();
  r = parser.feed(withHost("GET / HTTP/1.1"));
  EXPECT_EQ(r.event, RequestParser::Event::HeadComplete);
}

TEST(RequestParserHead, ResetAbandonsAPartialHead) {
  RequestParser parser;
  EXPECT_EQ(parser.feed("GET /abandoned HT").event, RequestParser::Event::NeedMore);
  parser.reset();
  ASSERT_EQ(parser.feed(withHost("GET /fresh HTTP/1.1")).event, RequestParser::Event::HeadComplete);
  EXPECT_EQ(parser.head().target, "/fresh");
}

// --- limits ---------------------------------------------------------------------------

// A request line of exactly `length` bytes (without CRLF).
std::string requestLineOf(std::size_t length) {
  const std::string fixed = "GET / HTTP/1.1";
  return "GET /" + std::string(length - fixed.size(), 'a') + " HTTP/1.1";
}

TEST(RequestParserLimits, RequestLineAtAndPastTheLimit) {
  ParserLimits limits;
  limits.maxRequestLineSize = 64;
  EXPECT_EQ(statusOf(withHost(requestLineOf(64)), limits), 0);
  EXPECT_EQ(statusOf(withHost(requestLineOf(65)), limits), 414);
  // Also detected before the line ends, from a prefix.
  RequestParser parser(limits);
  const auto r = parser.feed(std::string(65, 'a'));
  EXPECT_EQ(r.event, RequestParser::Event::Error);
  EXPECT_EQ(r.status, 414);
  // A CR that may start the CRLF does not count yet.
  RequestParser parser2(limits);
  EXPECT_EQ(parser2.feed(requestLineOf(64) + "\r").event, RequestParser::Event::NeedMore);
}

TEST(RequestParserLimits, DefaultRequestLineLimitIs8192) {
  EXPECT_EQ(statusOf(withHost(requestLineOf(8192))), 0);
  EXPECT_EQ(statusOf(withHost(requestLineOf(8193))), 414);
}

TEST(RequestParserLimits, RequestLineMustFitInTheHead) {
  ParserLimits limits;
  limits.maxRequestLineSize = 1000;
  limits.maxHeaderSize = 66;
  EXPECT_EQ(statusOf(std::string("GET / HTTP/1.0\r\n\r\n"), limits), 0);
  // Effective request line bound: maxHeaderSize - 2 = 64.
  EXPECT_EQ(statusOf(requestLineOf(65) + "\r\n\r\n", limits), 414);
  // 64 fits the line, but the head (64 + 2 + 2) does not.
  EXPECT_EQ(statusOf(requestLineOf(64) + "\r\n\r\n", limits), 431);
}

TEST(RequestParserLimits, HeadSizeAtAndPastTheLimit) {
  const std::string base = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  // base + value + "\r\n\r\n" == size
  const auto headOf = [&](std::size_t size) {
    return base + std::string(size - base.size() - 4, 'v') + "\r\n\r\n";
  };
  ParserLimits limits;
  limits.maxHeaderSize = 200;
  EXPECT_EQ(headOf(200).size(), 200u);
  EXPECT_EQ(statusOf(headOf(200), limits), 0);
  EXPECT_EQ(statusOf(headOf(201), limits), 431);
  // Empty lines before the request line are not part of the head.
  EXPECT_EQ(statusOf("\r\n\r\n" + headOf(200), limits), 0);
  // Detected from a prefix, before the head ends.
  RequestParser parser(limits);
  const auto r = parser.feed(base + std::string(300, 'v'));
  EXPECT_EQ(r.status, 431);
}

TEST(RequestParserLimits, DefaultHeadLimitIs32KiB) {
  const std::string base = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  const auto headOf = [&](std::size_t size) {
    return base + std::string(size - base.size() - 4, 'v') + "\r\n\r\n";
  };
  EXPECT_EQ(test::parseWhole(headOf(32768)).status, 0);
  EXPECT_EQ(test::parseBytewise(headOf(32768)).status, 0);
  EXPECT_EQ(test::parseWhole(headOf(32769)).status, 431);
  EXPECT_EQ(test::parseBytewise(headOf(32769)).status, 431);
}

TEST(RequestParserLimits, HeaderCountAtAndPastTheLimit) {
  const auto withFields = [](std::size_t count) {
    std::string input = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (std::size_t i = 1; i < count; ++i)
      input += "X-" + std::to_string(i) + ": v\r\n";
    return input + "\r\n";
  };
  EXPECT_EQ(statusOf(withFields(100)), 0);
  EXPECT_EQ(statusOf(withFields(101)), 431);
  ParserLimits limits;
  limits.maxHeaderCount = 3;
  EXPECT_EQ(statusOf(withFields(3), limits), 0);
  EXPECT_EQ(statusOf(withFields(4), limits), 431);
}

}  // namespace
}  // namespace aerie::http

namespace aerie::http {
namespace {

TEST(RequestParserHost, ValidHostValuesPassAndMalformedOnesAre400) {
  for (const char* host :
       {"example.com", "example.com:8080", "127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:8443",
        "[2001:db8::1]", "xn--nxasmq6b.example", "a_b", "ex%41mple.com", ""}) {
    const std::string request = "GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
    EXPECT_EQ(statusOf(request), 0) << host;
  }
  for (const char* host :
       {"exa mple.com", "example.com:80:80", "example.com:http", ":80", "[::1", "[::1]x", "[zz::1]",
        "user@example.com", "a/b", "a\\b", "example.com:123456", "ex\"ample"}) {
    const std::string request = "GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
    EXPECT_EQ(statusOf(request), 400) << host;
  }
}

}  // namespace
}  // namespace aerie::http
