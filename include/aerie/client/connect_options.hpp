// How a client reaches the server: timeouts, local address, address family, HTTP proxy.
#pragma once

#include <chrono>
#include <string>

#include "aerie/client/tls_options.hpp"

namespace aerie::client {

enum class AddressFamily {
  Any,         // the resolver's order (RFC 6724), falling back across every address
  PreferIpv4,  // IPv4 addresses first, then IPv6
  PreferIpv6,  // IPv6 addresses first, then IPv4
  Ipv4Only,
  Ipv6Only,
};

struct ConnectOptions {
  // A user-declared constructor on purpose: GCC 12 miscompiles *aggregate* temporaries with
  // string members inside a co_await expression (`co_await connect(url, ConnectOptions{})` freed a
  // bitwise copy). As a non-aggregate the same code is correct.
  ConnectOptions() noexcept {}  // NOLINT(modernize-use-equals-default)

  /// Resolving, connecting (every address tried) and the proxy tunnel, together.
  std::chrono::milliseconds connectTimeout{10'000};
  /// From the upgrade request to the server's complete 101 response.
  std::chrono::milliseconds handshakeTimeout{10'000};
  /// Local IP address to bind to before connecting; empty = the kernel's choice.
  std::string bindAddress;
  /// Disables Nagle's algorithm: small messages leave at once.
  bool tcpNoDelay = true;
  AddressFamily addressFamily = AddressFamily::Any;
  /// An HTTP proxy ("http://[user:password@]host[:port]") reached with a CONNECT tunnel;
  /// the credentials go in a Basic Proxy-Authorization header. Empty = none.
  std::string proxy;
  /// With no `proxy`, take it from http_proxy (ws://) or https_proxy (wss://), honouring
  /// no_proxy, as curl does. Off by default: the environment is not consulted unasked.
  bool proxyFromEnvironment = false;
  /// wss:// only: certificate verification (on, against the system CAs), client
  /// certificate, SNI name. The TLS handshake counts against connectTimeout.
  TlsOptions tls;
};

}  // namespace aerie::client
