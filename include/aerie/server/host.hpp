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

/// A certificate (chain, PEM) and its private key (PEM), for Host::encrypt().
struct TlsCertificate {
  std::string certificateFile;
  std::string privateKeyFile;
  std::string passphrase;  // for an encrypted key; empty = none
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
  /// Serves every exposed address over TLS (1.2 and 1.3) with this certificate chain and
  /// key (PEM files; `passphrase` for an encrypted key). Called again with other
  /// certificates, the client's SNI name picks the one whose names match (the first is the
  /// default). Files are read when the server starts (a missing, unreadable or mismatched
  /// file is a start-up error) and again on SIGHUP, without dropping connections.
  Host& encrypt(std::string_view certificateFile, std::string_view privateKeyFile,
                std::string_view passphrase = {});
  const std::vector<TlsCertificate>& certificates() const noexcept { return certificates_; }
  bool encrypted() const noexcept { return !certificates_.empty(); }

  const std::vector<ListenAddress>& addresses() const noexcept { return addresses_; }
  const std::vector<Responder>& responders() const noexcept { return responders_; }

 private:
  std::vector<ListenAddress> addresses_;
  std::vector<Responder> responders_;
  std::vector<TlsCertificate> certificates_;
};

}  // namespace aerie
