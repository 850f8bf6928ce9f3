// WebSocket URLs (RFC 6455 section 3): ws://host[:port]/path?query and wss://...
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aerie::client::detail {

struct WsUrl {
  bool secure = false;     // wss
  std::string host;        // without IPv6 brackets; reg-names lower-cased
  std::uint16_t port = 0;  // explicit, or 80 / 443
  std::string target;      // origin-form "/path?query" ("/" for an empty path)

  /// The Host header: "host", or "host:port" when the port is not the scheme's default.
  std::string hostHeader() const;
  /// "host:port" (for CONNECT). IPv6 literals in brackets in both.
  std::string authority() const;
};

struct WsUrlResult {
  std::optional<WsUrl> url;
  std::string error;  // why not, as a sentence naming the URL
};

WsUrlResult parseWsUrl(std::string_view url);

}  // namespace aerie::client::detail
