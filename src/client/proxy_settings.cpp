#include "client/proxy_settings.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "aerie/http/url.hpp"
#include "aerie/protocol/base64.hpp"

namespace aerie::client::detail {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

ProxyResult failure(std::string_view url, const std::string& why) {
  return {std::nullopt, "invalid proxy URL '" + std::string(url) + "': " + why};
}

/// Splits "host", "host:port", "[v6]", "[v6]:port"; false on malformed input.
bool splitHostPort(std::string_view text, std::string& host, std::string& port) {
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(text.substr(1, close - 1));
    const std::string_view after = text.substr(close + 1);
    if (after.empty()) return true;
    if (after.front() != ':') return false;
    port = std::string(after.substr(1));
    return true;
  }
  const auto colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
    host = std::string(text);  // a bare IPv6 address
    return true;
  }
  host = std::string(text.substr(0, colon));
  if (colon != std::string_view::npos) port = std::string(text.substr(colon + 1));
  return true;
}

std::optional<std::uint16_t> parsePort(std::string_view text) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const unsigned long value = std::stoul(std::string(text));
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

const char* firstSet(const std::function<const char*(const char*)>& getenv, const char* lowerName,
                     const char* upperName) {
  for (const char* name : {lowerName, upperName}) {
    const char* value = getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return nullptr;
}

}  // namespace

std::string ProxySettings::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

ProxyResult parseProxyUrl(std::string_view url) {
  std::string_view rest = url;
  const std::string scheme = lower(url.substr(0, std::min(url.find("://"), url.size())));
  if (url.find("://") != std::string_view::npos) {
    if (scheme == "https") return failure(url, "TLS to the proxy (https://) is not supported");
    if (scheme != "http") return failure(url, "the scheme must be http://");
    rest = url.substr(url.find("://") + 3);
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return failure(url, "a proxy URL has no path");
  }
  ProxySettings proxy;
  const auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userInfo = rest.substr(0, at);
    const auto colon = userInfo.find(':');
    const auto user = http::percentDecode(userInfo.substr(0, colon));
    const auto password = colon == std::string_view::npos
                              ? std::optional<std::string>(std::string())
                              : http::percentDecode(userInfo.substr(colon + 1));
    if (!user || !password) return failure(url, "bad percent-encoding in the credentials");
    proxy.username = *user;
    proxy.password = *password;
    rest = rest.substr(at + 1);
  }
  std::string host;
  std::string port;
  if (!splitHostPort(rest, host, port) || host.empty()) return failure(url, "the host is missing");
  if (host.find_first_of(" \t\r\n") != std::string::npos) return failure(url, "bad host");
  proxy.host = lower(host);
  if (port.empty()) {
    proxy.port = 80;
  } else if (const auto value = parsePort(port)) {
    proxy.port = *value;
  } else {
    return failure(url, "the port must be a number from 1 to 65535");
  }
  return {std::move(proxy), {}};
}

bool noProxyMatches(std::string_view noProxy, std::string_view host, std::uint16_t port) {
  const std::string target = lower(host);
  std::size_t pos = 0;
  while (pos < noProxy.size()) {
    const auto end = noProxy.find_first_of(", \t", pos);
    std::string_view entry = noProxy.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end == std::string_view::npos ? noProxy.size() : end + 1;
    if (entry.empty()) continue;
    if (entry == "*") return true;
    std::string entryHost;
    std::string entryPort;
    if (!splitHostPort(entry, entryHost, entryPort)) continue;
    if (!entryPort.empty()) {
      const auto value = parsePort(entryPort);
      if (!value || *value != port) continue;
    }
    std::string name = lower(entryHost);
    if (!name.empty() && name.front() == '.') name.erase(0, 1);
    if (name.empty()) continue;
    if (target == name) return true;
    if (target.size() > name.size() && target.ends_with(name) &&
        target[target.size() - name.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

ProxyResult proxyFromEnvironment(bool secure, std::string_view host, std::uint16_t port,
                                 const std::function<const char*(const char*)>& getenv) {
  const char* proxy = secure ? firstSet(getenv, "https_proxy", "HTTPS_PROXY")
                             : firstSet(getenv, "http_proxy", "HTTP_PROXY");
  if (proxy == nullptr) return {};
  if (const char* noProxy = firstSet(getenv, "no_proxy", "NO_PROXY")) {
    if (noProxyMatches(noProxy, host, port)) return {};
  }
  return parseProxyUrl(proxy);
}

std::string buildConnectRequest(std::string_view authority, const ProxySettings& proxy) {
  std::string request = "CONNECT ";
  request.append(authority).append(" HTTP/1.1\r\nHost: ").append(authority).append("\r\n");
  if (!proxy.username.empty() || !proxy.password.empty()) {
    request.append("Proxy-Authorization: Basic ")
        .append(protocol::base64Encode(proxy.username + ":" + proxy.password))
        .append("\r\n");
  }
  request.append("\r\n");
  return request;
}

}  // namespace aerie::client::detail
