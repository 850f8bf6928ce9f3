// The server's TLS contexts: one per certificate given to Host::encrypt(), the client's SNI
// name choosing among them, ALPN answering http/1.1. Loaded at start and again on SIGHUP;
// a connection keeps the set it started with (shared_ptr) until it ends.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "aerie/server/host.hpp"
#include "net/tls.hpp"

namespace aerie::detail {

class ServerTls {
 public:
  /// Reads every certificate and key; throws std::runtime_error naming the file and what is
  /// wrong with it (missing, unreadable, not PEM, key does not match the certificate...).
  static std::shared_ptr<ServerTls> load(const std::vector<TlsCertificate>& certificates);

  /// The context new connections start with (the first certificate's); SNI may switch.
  SSL_CTX* defaultContext() const noexcept { return contexts_.front()->get(); }
  /// A one-line description for the start-up log: subjects and validity.
  const std::string& summary() const noexcept { return summary_; }

 private:
  ServerTls() = default;
  static int onServerName(SSL* ssl, int* alert, void* self);

  std::vector<std::unique_ptr<net::TlsContext>> contexts_;
  std::string summary_;
};

}  // namespace aerie::detail
