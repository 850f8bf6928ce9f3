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

}  // namespace aerie
