#include "aerie/protocol/handshake.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>

#include "aerie/protocol/base64.hpp"
#include "aerie/protocol/sha1.hpp"

namespace aerie::protocol {
namespace {

constexpr HeaderField kAllowGet{"Allow", "GET"};
constexpr HeaderField kUpgradeWebsocket{"Upgrade", "websocket"};
constexpr HeaderField kConnectionUpgrade{"Connection", "Upgrade"};
constexpr HeaderField kVersion13{"Sec-WebSocket-Version", "13"};

HandshakeCheck fail(int status, std::string_view reason) {
  HandshakeCheck check;
  check.status = status;
  check.reason = reason;
  return check;
}

HandshakeCheck upgradeRequired(std::string_view reason, bool versionProblem) {
  HandshakeCheck check = fail(426, reason);
  check.extraHeaders.reserve(3);
  check.extraHeaders.push_back(kUpgradeWebsocket);
  check.extraHeaders.push_back(kConnectionUpgrade);
  if (versionProblem) check.extraHeaders.push_back(kVersion13);
  return check;
}

bool isHexDigit(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 3986: unreserved / sub-delims, the characters a reg-name may hold besides "%XX".
bool isRegNameChar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos;
}

// Host = uri-host [ ":" port ] (RFC 7230 5.4, RFC 3986 3.2.2): an IP-literal in brackets
// or a non-empty reg-name/IPv4 address, then optionally ":" and digits. Anything else
// (spaces, "@", "/", control bytes) is a malformed Host the server must answer with 400.
bool isValidHost(std::string_view host) noexcept {
  if (host.empty()) return false;
  std::size_t i = 0;
  if (host[0] == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (std::size_t j = 1; j < close; ++j) {
      // IPv6address / IPvFuture ("v" HEXDIG "." ( unreserved / sub-delims / ":" )).
      if (!(isRegNameChar(host[j]) || host[j] == ':')) return false;
    }
    i = close + 1;
  } else {
    while (i < host.size() && host[i] != ':') {
      if (host[i] == '%') {
        if (i + 2 >= host.size() || !isHexDigit(host[i + 1]) || !isHexDigit(host[i + 2])) {
          return false;
        }
        i += 3;
        continue;
      }
      if (!isRegNameChar(host[i])) return false;
      ++i;
    }
    if (i == 0) return false;  // ":80" has no host
  }
  if (i == host.size()) return true;
  if (host[i] != ':') return false;
  for (++i; i < host.size(); ++i) {
    if (host[i] < '0' || host[i] > '9') return false;
  }
  return true;
}

bool isOriginFormTarget(std::string_view target) noexcept {
  if (target.empty() || target[0] != '/') return false;
  for (const char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;  // spaces end the request-target
  }
  return true;
}

bool refuse(std::string_view* error, std::string_view reason) {
  if (error != nullptr) *error = reason;
  return false;
}

// Checks extra headers: token names, clean values, none in `reserved`.
bool checkExtraHeaders(std::span<const HeaderField> extras,
                       std::span<const std::string_view> reserved, std::string_view* error) {
  for (const HeaderField& field : extras) {
    if (!isToken(field.name)) return refuse(error, "extra header name is not a token");
    if (!isValidFieldValue(field.value)) {
      return refuse(error, "extra header value contains a control character");
    }
    for (const std::string_view name : reserved) {
      if (equalsIgnoreCase(field.name, name)) {
        return refuse(error, "extra header duplicates a handshake header");
      }
    }
  }
  return true;
}

void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

std::string computeAcceptKey(std::string_view secWebSocketKey) {
  // Two updates instead of concatenating key + GUID: no temporary string, any key length.
  const Sha1::Digest digest = Sha1().update(secWebSocketKey).update(kWebSocketGuid).finish();
  return base64Encode(std::span<const std::uint8_t>(digest.data(), digest.size()));
}

bool isValidClientKey(std::string_view key) noexcept {
  // 16 bytes = 5 full quanta (20 chars) + 1 byte (2 chars + "=="). Checking the shape is
  // the same as decoding and counting, without the allocation.
  if (key.size() != 24 || key[22] != '=' || key[23] != '=') return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (!isBase64Char(key[i])) return false;
  }
  return true;
}

std::string generateClientKey() {
  std::array<std::uint8_t, 16> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    // The key is a nonce against caching intermediaries, not a secret (RFC 6455 10.3
    // covers masking, not the key): a non-cryptographic fallback beats failing.
    std::random_device rd;
    for (auto& b : nonce)
      b = static_cast<std::uint8_t>(rd());
  }
  return base64Encode(std::span<const std::uint8_t>(nonce));
}

HandshakeCheck validateUpgradeRequest(const HandshakeRequestView& request) {
  const auto headers = request.headers;

  // Methods are case-sensitive (RFC 7231 4.1).
  if (request.method != "GET") {
    HandshakeCheck check = fail(405, "WebSocket upgrade requires the GET method");
    check.extraHeaders.push_back(kAllowGet);
    return check;
  }
  if (request.versionMajor < 1 || (request.versionMajor == 1 && request.versionMinor < 1)) {
    return fail(400, "HTTP/1.1 or later required");
  }

  // RFC 7230 5.4: a missing, repeated or malformed Host is answered with 400.
  const std::size_t hostCount = countHeaders(headers, "Host");
  if (hostCount == 0) return fail(400, "Host header required");
  if (hostCount > 1) return fail(400, "more than one Host header");
  if (!isValidHost(trimOws(findHeader(headers, "Host")->value))) {
    return fail(400, "invalid Host header");
  }

  if (!headersHaveToken(headers, "Upgrade", "websocket")) {
    return upgradeRequired("\"Upgrade: websocket\" header required", false);
  }
  if (!headersHaveToken(headers, "Connection", "upgrade")) {
    return upgradeRequired("\"Connection: Upgrade\" header required", false);
  }

  const std::size_t keyCount = countHeaders(headers, "Sec-WebSocket-Key");
  if (keyCount == 0) return fail(400, "Sec-WebSocket-Key header required");
  if (keyCount > 1) return fail(400, "more than one Sec-WebSocket-Key header");
  const std::string_view key = trimOws(findHeader(headers, "Sec-WebSocket-Key")->value);
  if (!isValidClientKey(key)) {
    return fail(400, "Sec-WebSocket-Key must be 16 bytes in base64");
  }

  // RFC 6455 4.2.1: the version header appears once and is 13; 4.4: otherwise answer
  // with the versions we speak.
  const std::size_t versionCount = countHeaders(headers, "Sec-WebSocket-Version");
  if (versionCount == 0) return upgradeRequired("Sec-WebSocket-Version header required", true);
  if (versionCount > 1) {
    return upgradeRequired("more than one Sec-WebSocket-Version header", true);
  }
  if (trimOws(findHeader(headers, "Sec-WebSocket-Version")->value) != kWebSocketVersion) {
    return upgradeRequired("unsupported WebSocket version (13 required)", true);
  }

  HandshakeCheck check;
  check.key = key;
  return check;
}

std::string buildAcceptResponseHead(std::string_view acceptKey, std::string_view subprotocol,
                                    std::string_view extensions,
                                    std::span<const HeaderField> extraHeaders,
                                    std::string_view* error) {
  if (acceptKey.empty() || !isValidFieldValue(acceptKey)) {
    refuse(error, "invalid Sec-WebSocket-Accept value");
    return {};
  }
  if (!subprotocol.empty() && !isToken(subprotocol)) {
    refuse(error, "subprotocol is not a token");
    return {};
  }
  if (!isValidFieldValue(extensions)) {
    refuse(error, "Sec-WebSocket-Extensions value contains a control character");
    return {};
  }
  static constexpr std::string_view kReserved[] = {"Upgrade",
                                                   "Connection",
                                                   "Sec-WebSocket-Accept",
                                                   "Sec-WebSocket-Protocol",
                                                   "Sec-WebSocket-Extensions",
                                                   "Content-Length",
                                                   "Transfer-Encoding"};
  if (!checkExtraHeaders(extraHeaders, kReserved, error)) return {};

  std::string out;
  std::size_t size = 128 + acceptKey.size() + subprotocol.size() + extensions.size();
  for (const HeaderField& field : extraHeaders)
    size += field.name.size() + field.value.size() + 4;
  out.reserve(size);
  out.append(
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n");
  appendHeader(out, "Sec-WebSocket-Accept", acceptKey);
  if (!subprotocol.empty()) appendHeader(out, "Sec-WebSocket-Protocol", subprotocol);
  if (!extensions.empty()) appendHeader(out, "Sec-WebSocket-Extensions", extensions);
  for (const HeaderField& field : extraHeaders)
    appendHeader(out, field.name, field.value);
  out.append("\r\n");
  return out;
}

std::string buildClientRequestHead(const ClientRequest& request, std::string_view* error) {
  if (!isOriginFormTarget(request.target)) {
    refuse(error, "request target must start with '/' and hold no spaces or control characters");
    return {};
  }
  if (!isValidHost(request.host)) {
    refuse(error, "invalid Host value");
    return {};
  }
  if (!isValidClientKey(request.key)) {
    refuse(error, "Sec-WebSocket-Key must be 16 bytes in base64");
    return {};
  }
  if (!isValidFieldValue(request.origin)) {
    refuse(error, "Origin contains a control character");
    return {};
  }
  for (const std::string& protocol : request.subprotocols) {
    if (!isToken(protocol)) {
      refuse(error, "subprotocol is not a token");
      return {};
    }
  }
  if (!isValidFieldValue(request.extensions)) {
    refuse(error, "Sec-WebSocket-Extensions value contains a control character");
    return {};
  }

  std::string_view reserved[8] = {"Host", "Upgrade", "Connection", "Sec-WebSocket-Key",
                                  "Sec-WebSocket-Version"};
  std::size_t reservedCount = 5;
  if (!request.origin.empty()) reserved[reservedCount++] = "Origin";
  if (!request.subprotocols.empty()) reserved[reservedCount++] = "Sec-WebSocket-Protocol";
  if (!request.extensions.empty()) reserved[reservedCount++] = "Sec-WebSocket-Extensions";
  if (!checkExtraHeaders(request.extraHeaders,
                         std::span<const std::string_view>(reserved, reservedCount), error)) {
    return {};
  }

  std::string out;
  out.reserve(256 + request.target.size() + request.host.size() + request.origin.size() +
              request.extensions.size());
  out.append("GET ");
  out.append(request.target);
  out.append(" HTTP/1.1\r\n");
  appendHeader(out, "Host", request.host);
  out.append(
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n");
  appendHeader(out, "Sec-WebSocket-Key", request.key);
  appendHeader(out, "Sec-WebSocket-Version", kWebSocketVersion);
  if (!request.origin.empty()) appendHeader(out, "Origin", request.origin);
  if (!request.subprotocols.empty()) {
    out.append("Sec-WebSocket-Protocol: ");
    for (std::size_t i = 0; i < request.subprotocols.size(); ++i) {
      if (i != 0) out.append(", ");
      out.append(request.subprotocols[i]);
    }
    out.append("\r\n");
  }
  if (!request.extensions.empty()) {
    appendHeader(out, "Sec-WebSocket-Extensions", request.extensions);
  }
  for (const HeaderField& field : request.extraHeaders) {
    appendHeader(out, field.name, field.value);
  }
  out.append("\r\n");
  return out;
}

ClientHandshakeCheck validateServerResponse(int status, std::span<const HeaderField> headers,
                                            std::string_view sentKey,
                                            std::span<const std::string> offeredProtocols) {
  ClientHandshakeCheck check;
  if (status != 101) {
    check.error = "server answered with status " + std::to_string(status) +
                  " instead of 101 Switching Protocols";
    return check;
  }
  if (!headersHaveToken(headers, "Upgrade", "websocket")) {
    check.error = "response lacks \"Upgrade: websocket\"";
    return check;
  }
  if (!headersHaveToken(headers, "Connection", "upgrade")) {
    check.error = "response lacks \"Connection: Upgrade\"";
    return check;
  }

  const std::size_t acceptCount = countHeaders(headers, "Sec-WebSocket-Accept");
  if (acceptCount == 0) {
    check.error = "response lacks Sec-WebSocket-Accept";
    return check;
  }
  if (acceptCount > 1) {
    check.error = "response has more than one Sec-WebSocket-Accept";
    return check;
  }
  const std::string expected = computeAcceptKey(sentKey);
  if (expected.empty() || trimOws(findHeader(headers, "Sec-WebSocket-Accept")->value) != expected) {
    // The received value is not echoed: it is peer-controlled text headed for a log.
    check.error = "Sec-WebSocket-Accept does not match the key sent (expected " + expected + ")";
    return check;
  }

  const std::size_t protocolCount = countHeaders(headers, "Sec-WebSocket-Protocol");
  if (protocolCount > 1) {
    check.error = "response has more than one Sec-WebSocket-Protocol";
    return check;
  }
  if (protocolCount == 1) {
    const std::string_view chosen = trimOws(findHeader(headers, "Sec-WebSocket-Protocol")->value);
    if (!isToken(chosen)) {
      check.error = "Sec-WebSocket-Protocol must name exactly one subprotocol";
      return check;
    }
    bool offered = false;
    for (const std::string& protocol : offeredProtocols) {
      if (protocol == chosen) {  // case-sensitive (RFC 7936)
        offered = true;
        break;
      }
    }
    if (!offered) {
      check.error = offeredProtocols.empty()
                        ? "server selected a subprotocol although none was offered"
                        : "server selected a subprotocol that was not offered";
      return check;
    }
    check.subprotocol = chosen;
  }

  if (countHeaders(headers, "Sec-WebSocket-Extensions") != 0) {
    check.extensions = combinedHeaderValue(headers, "Sec-WebSocket-Extensions");
    if (!parseExtensions(check.extensions)) {
      check.error = "malformed Sec-WebSocket-Extensions in response";
      check.extensions.clear();
      return check;
    }
  }

  check.ok = true;
  return check;
}

}  // namespace aerie::protocol
