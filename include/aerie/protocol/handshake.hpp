// The WebSocket opening handshake (RFC 6455 section 4), sans-IO: checks a parsed HTTP
// upgrade request, builds the 101 response head, and the client's mirror image (request
// head, response check). The HTTP layer parses and writes bytes; nothing here touches a
// socket.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/protocol/header_values.hpp"

namespace aerie::protocol {

/// The GUID RFC 6455 appends to the client's key before hashing (section 1.3).
inline constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version RFC 6455 defines.
inline constexpr std::string_view kWebSocketVersion = "13";

/// base64(SHA-1(key + GUID)), the Sec-WebSocket-Accept value for a Sec-WebSocket-Key:
/// "dGhlIHNhbXBsZSBub25jZQ==" -> "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=". The key is hashed as
/// given (the server validates it first with isValidClientKey). Returns an empty string
/// only if OpenSSL fails to hash.
std::string computeAcceptKey(std::string_view secWebSocketKey);

/// True for a Sec-WebSocket-Key that is base64 of exactly 16 bytes: 22 alphabet
/// characters then "==" (24 characters). Surrounding whitespace must already be trimmed.
bool isValidClientKey(std::string_view key) noexcept;

/// A fresh Sec-WebSocket-Key: 16 random bytes (OpenSSL RAND_bytes) base64-encoded.
std::string generateClientKey();

// ---- Server side ----

/// What the server needs from a parsed request. Views into the HTTP parser's buffer.
struct HandshakeRequestView {
  std::string_view method;
  int versionMajor = 1;
  int versionMinor = 1;
  std::span<const HeaderField> headers;
};

/// The verdict on an upgrade request.
struct HandshakeCheck {
  int status = 101;         // 101 = upgrade; otherwise 400, 405 or 426
  std::string_view reason;  // static text for the response body / log; empty when 101
  // Headers the error response must carry (static strings): "Allow: GET" with 405;
  // "Upgrade: websocket" + "Connection: Upgrade" with every 426 (RFC 7230 6.7: a 426 must
  // name the protocol it wants, and an Upgrade header must be listed in Connection); plus
  // "Sec-WebSocket-Version: 13" when the version was the problem (RFC 6455 4.4).
  std::vector<HeaderField> extraHeaders;
  std::string_view key;  // the client's Sec-WebSocket-Key when status == 101

  bool ok() const noexcept { return status == 101; }
};

/// Checks an upgrade request, in this order (the first failure wins):
///   method not GET                                   -> 405 + Allow: GET
///   HTTP version below 1.1                           -> 400
///   Host missing, repeated or not uri-host[:port]    -> 400
///   Upgrade without the token "websocket"            -> 426
///   Connection without the token "upgrade"           -> 426
///   Sec-WebSocket-Key missing                        -> 400
///   Sec-WebSocket-Key repeated or not 16 base64 bytes -> 400
///   Sec-WebSocket-Version missing, repeated, not "13" -> 426 + Sec-WebSocket-Version: 13
/// Header names compare case-insensitively and a repeated Upgrade/Connection header is
/// one comma list. Allocates only on failure (the extra headers).
HandshakeCheck validateUpgradeRequest(const HandshakeRequestView& request);

/// Builds the 101 response head, byte for byte:
///   HTTP/1.1 101 Switching Protocols\r\n
///   Upgrade: websocket\r\n
///   Connection: Upgrade\r\n
///   Sec-WebSocket-Accept: <acceptKey>\r\n
///   [Sec-WebSocket-Protocol: <subprotocol>\r\n]       (when not empty)
///   [Sec-WebSocket-Extensions: <extensions>\r\n]      (when not empty)
///   [<name>: <value>\r\n ...]                         (extraHeaders, in order)
///   \r\n
/// Returns an empty string (and sets *error when given) if a value contains a control
/// character (CR/LF would inject headers), a name is not a token, the subprotocol is not a
/// token, or an extra header would duplicate one written here or give a 101 a body
/// (Upgrade, Connection, Sec-WebSocket-Accept/-Protocol/-Extensions, Content-Length,
/// Transfer-Encoding).
std::string buildAcceptResponseHead(std::string_view acceptKey, std::string_view subprotocol = {},
                                    std::string_view extensions = {},
                                    std::span<const HeaderField> extraHeaders = {},
                                    std::string_view* error = nullptr);

// ---- Client side ----

struct ClientRequest {
  std::string_view target = "/";  // origin-form: "/path?query"
  std::string_view host;          // Host header value: "example.com" or "example.com:8080"
  std::string_view key;           // from generateClientKey()
  std::string_view origin;        // omitted when empty
  std::span<const std::string> subprotocols;  // offered in order; omitted when empty
  std::string_view extensions;                // a formatExtensions() value; omitted when empty
  std::span<const HeaderField> extraHeaders;  // written last, in order
};

/// Builds the request head:
///   GET <target> HTTP/1.1\r\n
///   Host: <host>\r\n
///   Upgrade: websocket\r\n
///   Connection: Upgrade\r\n
///   Sec-WebSocket-Key: <key>\r\n
///   Sec-WebSocket-Version: 13\r\n
///   [Origin: <origin>\r\n]
///   [Sec-WebSocket-Protocol: p1, p2\r\n]
///   [Sec-WebSocket-Extensions: <extensions>\r\n]
///   [<name>: <value>\r\n ...]
///   \r\n
/// Returns an empty string (and sets *error when given) for a target that is not
/// origin-form or holds spaces/control characters, an empty or malformed host, a key that
/// isValidClientKey() rejects, a subprotocol that is not a token, any value with a control
/// character (CR/LF), an extra header name that is not a token, or an extra header that
/// would duplicate one written here (Host, Upgrade, Connection, Sec-WebSocket-Key,
/// Sec-WebSocket-Version; Origin, Sec-WebSocket-Protocol and Sec-WebSocket-Extensions
/// when those are given above).
std::string buildClientRequestHead(const ClientRequest& request, std::string_view* error = nullptr);

/// The client's verdict on the server's response.
struct ClientHandshakeCheck {
  bool ok = false;
  std::string error;             // why it failed, for the log / exception; empty when ok
  std::string_view subprotocol;  // the server's choice (view into `headers`); empty if none
  std::string extensions;        // Sec-WebSocket-Extensions lines joined with ", "; the
                                 // caller checks them against what it offered

  explicit operator bool() const noexcept { return ok; }
};

/// Checks a response to our upgrade request (RFC 6455 4.1, "the client MUST _Fail_"):
/// status 101; Upgrade with "websocket"; Connection with "upgrade"; exactly one
/// Sec-WebSocket-Accept equal to computeAcceptKey(sentKey); at most one
/// Sec-WebSocket-Protocol, holding a single token we offered (case-sensitive, RFC 7936);
/// Sec-WebSocket-Extensions, when present, well-formed. Whether the extensions are ones we
/// offered is left to the caller, which knows its offers (permessage-deflate negotiation).
ClientHandshakeCheck validateServerResponse(int status, std::span<const HeaderField> headers,
                                            std::string_view sentKey,
                                            std::span<const std::string> offeredProtocols);

}  // namespace aerie::protocol
