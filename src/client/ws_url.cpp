#include "client/ws_url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace aerie::client::detail {
namespace {

bool startsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

bool isHex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

/// Path and query characters of RFC 3986 (pchar, '/', '?'), percent escapes checked.
bool validPathAndQuery(std::string_view text) {
  static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@/?";
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !isHex(text[i + 1]) || !isHex(text[i + 2])) return false;
      i += 2;
      continue;
    }
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 &&
        kAllowed.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

/// reg-name characters (unreserved / sub-delims); percent escapes are not accepted in a
/// host we hand to the resolver.
bool validRegName(std::string_view host) {
  static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=";
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           kAllowed.find(c) != std::string_view::npos;
  });
}

WsUrlResult failure(std::string_view url, const std::string& why) {
  return {std::nullopt, "invalid WebSocket URL '" + std::string(url) + "': " + why};
}

}  // namespace

std::string WsUrl::hostHeader() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string header = v6 ? "[" + host + "]" : host;
  if (port != (secure ? 443 : 80)) header += ":" + std::to_string(port);
  return header;
}

std::string WsUrl::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

WsUrlResult parseWsUrl(std::string_view url) {
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return failure(url, "spaces and control characters are not allowed");
    }
  }
  WsUrl result;
  std::string_view rest;
  if (startsWithNoCase(url, "ws://")) {
    rest = url.substr(5);
  } else if (startsWithNoCase(url, "wss://")) {
    result.secure = true;
    rest = url.substr(6);
  } else {
    const auto colon = url.find("://");
    const std::string scheme =
        colon == std::string_view::npos ? std::string() : std::string(url.substr(0, colon));
    return failure(url, scheme.empty()
                            ? "the scheme must be ws:// or wss://"
                            : "the scheme must be ws:// or wss://, not " + scheme + "://");
  }
  if (rest.find('#') != std::string_view::npos) {
    return failure(url, "fragments (#...) are not allowed in WebSocket URLs (RFC 6455 3)");
  }
  const auto pathStart = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, pathStart);
  std::string target =
      pathStart == std::string_view::npos ? std::string("/") : std::string(rest.substr(pathStart));
  if (target.front() == '?') target.insert(0, "/");
  if (!validPathAndQuery(target)) {
    return failure(url, "the path or query has characters that must be percent-encoded");
  }
  result.target = std::move(target);
  if (authority.find('@') != std::string_view::npos) {
    return failure(url, "user information (user:password@) is not supported");
  }
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return failure(url, "unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return failure(url, "unexpected characters after the IPv6 literal");
      port = after.substr(1);
      if (port.empty()) return failure(url, "empty port");
    }
    in6_addr address{};
    if (::inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1) {
      return failure(url, "'" + std::string(host) + "' is not an IPv6 address");
    }
  } else {
    const auto colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return failure(url, "empty port");
    }
    if (host.empty()) return failure(url, "the host is missing");
    if (!validRegName(host)) return failure(url, "'" + std::string(host) + "' is not a valid host");
  }
  if (host.empty()) return failure(url, "the host is missing");
  result.host = std::string(host);
  std::transform(result.host.begin(), result.host.end(), result.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (port.empty()) {
    result.port = result.secure ? 443 : 80;
  } else {
    if (port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return failure(url, "the port must be a number from 1 to 65535");
    }
    const unsigned long value = std::stoul(std::string(port));
    if (value == 0 || value > 65535)
      return failure(url, "the port must be a number from 1 to 65535");
    result.port = static_cast<std::uint16_t>(value);
  }
  return {std::move(result), {}};
}

}  // namespace aerie::client::detail
