#include "aerie/server/host.hpp"

#include <stdexcept>

namespace aerie {

Host& Host::expose(std::string_view address, std::uint16_t port) {
  if (address.empty()) throw std::invalid_argument("Host::expose: empty address");
  addresses_.push_back(ListenAddress{std::string(address), port, false});
  return *this;
}

Host& Host::expose(std::string_view path) {
  if (path.empty()) throw std::invalid_argument("Host::expose: empty Unix socket path");
  addresses_.push_back(ListenAddress{std::string(path), 0, true});
  return *this;
}

Host& Host::use(Responder responder) {
  if (!responder) throw std::invalid_argument("Host::use: empty responder");
  responders_.push_back(std::move(responder));
  return *this;
}

Host& Host::encrypt(std::string_view certificateFile, std::string_view privateKeyFile,
                    std::string_view passphrase) {
  if (certificateFile.empty() || privateKeyFile.empty()) {
    throw std::invalid_argument("Host::encrypt: a certificate file and a key file are needed");
  }
  certificates_.push_back(TlsCertificate{std::string(certificateFile), std::string(privateKeyFile),
                                         std::string(passphrase)});
  return *this;
}

}  // namespace aerie
