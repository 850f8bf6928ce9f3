#include "aerie/server/server.hpp"

#include "server/server_impl.hpp"

namespace aerie {

Server::Server(Host host, ServerOptions options)
    : impl_(std::make_unique<detail::ServerImpl>(*this, std::move(host), options)) {}

Server::~Server() = default;

int Server::run() {
  return impl_->run();
}
void Server::start() {
  impl_->start();
}
void Server::stop() {
  impl_->stop();
}
void Server::wait() {
  impl_->wait();
}

void Server::reloadCertificates() {
  impl_->reloadTls();
}
Server::State Server::state() const noexcept {
  return impl_->state();
}
std::vector<std::string> Server::boundAddresses() const {
  return impl_->boundAddresses();
}
const ServerOptions& Server::options() const noexcept {
  return impl_->options();
}
unsigned Server::workerCount() const noexcept {
  return impl_->workerCount();
}

}  // namespace aerie
