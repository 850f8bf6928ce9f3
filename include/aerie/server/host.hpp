// Where the server listens and which responders answer (seed: Aerys\Host).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/server/responder.hpp"

namespace aerie {

struct ListenAddress {
  std::string address;     // IPv4/IPv6 literal, or a Unix socket path
  std::uint16_t port = 0;  // 0: a free port chosen by the kernel
  bool unixSocket = false;
  bool isUnix() const noexcept { return unixSocket; }
};

class Host {
 public:
  /// Listens on an IPv4/IPv6 address ("0.0.0.0", "::", "127.0.0.1") and port; port 0 picks
  /// a free port (Server::boundAddresses() tells which). Several calls listen on several.
  Host& expose(std::string_view address, std::uint16_t port);
  /// Listens on a Unix-domain socket at `path` (an existing socket file is replaced).
  Host& expose(std::string_view path);
  /// Adds a responder; the first one that starts a response wins.
  Host& use(Responder responder);

  const std::vector<ListenAddress>& addresses() const noexcept { return addresses_; }
  const std::vector<Responder>& responders() const noexcept { return responders_; }

 private:
  std::vector<ListenAddress> addresses_;
  std::vector<Responder> responders_;
};

}  // namespace aerie
