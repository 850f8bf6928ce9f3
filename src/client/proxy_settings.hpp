// HTTP proxies for the client: the proxy URL, the curl-style environment variables
// (http_proxy, https_proxy, no_proxy) and the CONNECT request that opens a tunnel.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace aerie::client::detail {

struct ProxySettings {
  std::string host;  // without IPv6 brackets
  std::uint16_t port = 0;
  std::string username;  // empty: no Proxy-Authorization
  std::string password;
  /// "host:port", IPv6 in brackets.
  std::string authority() const;
};

struct ProxyResult {
  std::optional<ProxySettings> proxy;
  std::string error;  // set when the URL is malformed; both empty: no proxy
};

/// "http://[user:password@]host[:port][/]" (port 80 by default; "host:port" without a
/// scheme is taken as http). User and password are percent-decoded. https:// proxies are
/// refused: TLS to the proxy is not supported.
ProxyResult parseProxyUrl(std::string_view url);

/// The proxy the environment asks for when connecting to host:port: http_proxy for ws://,
/// https_proxy for wss:// (the lower-case name wins over the upper-case one; an empty
/// variable counts as unset), unless no_proxy / NO_PROXY matches the host.
ProxyResult proxyFromEnvironment(bool secure, std::string_view host, std::uint16_t port,
                                 const std::function<const char*(const char*)>& getenv);

/// curl's no_proxy rules: entries separated by commas and/or spaces; "*" matches every
/// host; an entry matches the host itself and its subdomains ("example.com" and
/// ".example.com" both match "a.example.com", never "badexample.com"); IP addresses match
/// exactly; an entry's ":port" restricts it to that port; case-insensitive; IPv6 entries
/// bare or in brackets.
bool noProxyMatches(std::string_view noProxy, std::string_view host, std::uint16_t port);

/// "CONNECT host:port HTTP/1.1", Host, and Basic Proxy-Authorization when credentials are set.
std::string buildConnectRequest(std::string_view authority, const ProxySettings& proxy);

}  // namespace aerie::client::detail
