// An in-process aerie::Server for tests: one websocket() application on 127.0.0.1, a
// kernel-chosen port, `workers` event-loop threads; stopped (gracefully) by the destructor.
// Plus RecordingHandler, a thread-safe handler that records every callback (and echoes,
// if asked), and waitUntil() for polling with a generous timeout.
#pragma once

#include <any>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/aerie.hpp"
#include "support/raw_ws_client.hpp"

namespace aerie::test {

/// Polls `predicate` every few milliseconds until it holds or `timeout` passed; returns
/// its last value. For state written by server threads under the caller's own locking.
bool waitUntil(const std::function<bool()>& predicate,
               std::chrono::milliseconds timeout = kTimeout);

/// The TCP port of a started server's first bound address (it listened on port 0, the
/// kernel chose). Throws when the server bound nothing.
std::uint16_t boundPort(const Server& server);

class TestServer {
 public:
  /// Starts a server with `handler` answering every path. `serverOptions.workers` is
  /// replaced by `workers`; signal handling is off.
  explicit TestServer(std::shared_ptr<ws::Handler> handler, ws::Options options = {},
                      unsigned workers = 1, ServerOptions serverOptions = {});
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  Server& server() noexcept { return *server_; }
  /// Graceful stop (onStop, 1001 to every client, join); idempotent.
  void stop();

  /// A new raw client connected to this server, handshake done (throws if it fails).
  std::unique_ptr<RawWsClient> connect(std::string_view path = "/") const;

 private:
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

/// Records every callback. With `echo`, each message goes back to its sender with its
/// type (text as text, binary as binary), awaiting the send.
class RecordingHandler : public ws::Handler {
 public:
  struct Received {
    ClientId client = 0;
    bool binary = false;
    std::string payload;
  };
  struct Closed {
    ClientId client = 0;
    std::uint16_t code = 0;
    std::string reason;
  };

  explicit RecordingHandler(bool echo = true) : echo_(echo) {}

  void onStart(ws::Endpoint& endpoint) override;
  Task<> onOpen(ClientId client, std::any handshakeData) override;
  Task<> onData(ClientId client, ws::Message message) override;
  Task<> onClose(ClientId client, std::uint16_t code, std::string_view reason) override;

  ws::Endpoint& endpoint() const noexcept { return *endpoint_; }
  int starts() const;
  std::vector<ClientId> opened() const;
  std::vector<Received> received() const;
  std::vector<Closed> closed() const;
  /// The client that opened `index`-th (0-based), waiting for it to open.
  std::optional<ClientId> waitOpened(std::size_t index,
                                     std::chrono::milliseconds timeout = kTimeout);
  /// Waits until `count` messages were received in total.
  bool waitReceived(std::size_t count, std::chrono::milliseconds timeout = kTimeout);
  /// Waits for onClose of `client`.
  std::optional<Closed> waitClosed(ClientId client, std::chrono::milliseconds timeout = kTimeout);

 protected:
  /// Called by onData once the message is buffered and recorded (under no lock); echoes
  /// it when `echo` was given.
  virtual Task<> handleMessage(ClientId client, const Received& message);

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  ws::Endpoint* endpoint_ = nullptr;
  int starts_ = 0;
  std::vector<ClientId> opened_;
  std::vector<Received> received_;
  std::vector<Closed> closed_;
  bool echo_;
};

}  // namespace aerie::test
