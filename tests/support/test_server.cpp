#include "support/test_server.hpp"

#include <stdexcept>
#include <thread>

namespace aerie::test {

bool waitUntil(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return predicate();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::uint16_t boundPort(const Server& server) {
  const std::vector<std::string> bound = server.boundAddresses();
  if (bound.empty()) throw std::runtime_error("the test server bound no address");
  const std::string& address = bound.front();  // "127.0.0.1:P", "[::1]:P"
  return static_cast<std::uint16_t>(std::stoul(address.substr(address.rfind(':') + 1)));
}

TestServer::TestServer(std::shared_ptr<ws::Handler> handler, ws::Options options, unsigned workers,
                       ServerOptions serverOptions) {
  Host host;
  host.expose("127.0.0.1", 0).use(websocket(std::move(handler), options));
  serverOptions.workers = workers;
  serverOptions.handleSignals = false;
  server_ = std::make_unique<Server>(std::move(host), serverOptions);
  server_->start();
  port_ = boundPort(*server_);
}

TestServer::~TestServer() {
  stop();
}

void TestServer::stop() {
  if (server_ && server_->state() != Server::State::Stopped) server_->stop();
}

std::unique_ptr<RawWsClient> TestServer::connect(std::string_view path) const {
  auto client = std::make_unique<RawWsClient>(port_);
  if (!client->handshake(path)) throw std::runtime_error("websocket handshake failed");
  return client;
}

void RecordingHandler::onStart(ws::Endpoint& endpoint) {
  std::lock_guard lock(mutex_);
  endpoint_ = &endpoint;
  ++starts_;
}

Task<> RecordingHandler::onOpen(ClientId client, std::any /*handshakeData*/) {
  {
    std::lock_guard lock(mutex_);
    opened_.push_back(client);
  }
  changed_.notify_all();
  co_return;
}

Task<> RecordingHandler::onData(ClientId client, ws::Message message) {
  Received received;
  received.client = client;
  received.binary = message.isBinary();
  received.payload = co_await message.buffer();
  {
    std::lock_guard lock(mutex_);
    received_.push_back(received);
  }
  changed_.notify_all();
  co_await handleMessage(client, received);
}

Task<> RecordingHandler::handleMessage(ClientId client, const Received& message) {
  if (!echo_) co_return;
  if (message.binary) {
    co_await endpoint_->sendBinary(message.payload, client);
  } else {
    co_await endpoint_->send(message.payload, client);
  }
}

Task<> RecordingHandler::onClose(ClientId client, std::uint16_t code, std::string_view reason) {
  {
    std::lock_guard lock(mutex_);
    closed_.push_back({client, code, std::string(reason)});
  }
  changed_.notify_all();
  co_return;
}

int RecordingHandler::starts() const {
  std::lock_guard lock(mutex_);
  return starts_;
}

std::vector<ClientId> RecordingHandler::opened() const {
  std::lock_guard lock(mutex_);
  return opened_;
}

std::vector<RecordingHandler::Received> RecordingHandler::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

std::vector<RecordingHandler::Closed> RecordingHandler::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::optional<ClientId> RecordingHandler::waitOpened(std::size_t index,
                                                     std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, timeout, [&] { return opened_.size() > index; })) {
    return std::nullopt;
  }
  return opened_[index];
}

bool RecordingHandler::waitReceived(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
}

std::optional<RecordingHandler::Closed> RecordingHandler::waitClosed(
    ClientId client, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::optional<Closed> found;
  changed_.wait_for(lock, timeout, [&] {
    for (const Closed& c : closed_) {
      if (c.client == client) {
        found = c;
        return true;
      }
    }
    return false;
  });
  return found;
}

}  // namespace aerie::test
