// The opening handshake a client sends (amphp's Handshake): the URL plus what goes into
// the upgrade request besides the mandatory headers.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aerie/http/headers.hpp"

namespace aerie::client {

struct Handshake {
  /// ws://host[:port]/path?query (wss:// once TLS is built).
  std::string url;
  /// Extra request headers, sent after the WebSocket ones, in order. They may not repeat
  /// the headers the handshake itself writes (Host, Upgrade, Connection, Sec-WebSocket-*).
  http::Headers headers;
  /// Offered subprotocols, in order of preference (Sec-WebSocket-Protocol).
  std::vector<std::string> subprotocols;
  /// The Origin header; omitted when empty.
  std::string origin;

  Handshake(std::string target) : url(std::move(target)) {}  // NOLINT: implicit, as a URL
  Handshake(const char* target) : url(target) {}             // NOLINT

  Handshake& header(std::string_view name, std::string_view value) {
    headers.add(name, value);
    return *this;
  }
  Handshake& subprotocol(std::string protocol) {
    subprotocols.push_back(std::move(protocol));
    return *this;
  }
  Handshake& withOrigin(std::string value) {
    origin = std::move(value);
    return *this;
  }
};

}  // namespace aerie::client
