// The door to the clients of one websocket() application (seed 000: Websocket\Endpoint).
//
// Every method may be called from any thread and any handler. Sends to a client living on
// another worker thread are handed to that thread (one post per thread for broadcasts);
// the frame is serialised once and shared by all recipients.
#pragma once

#include <coroutine>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/protocol/close_code.hpp"
#include "aerie/websocket/client_id.hpp"
#include "aerie/websocket/client_info.hpp"

namespace aerie::ws {

class Endpoint;

/// What the send family returns. The data is queued when the call is made (awaiting is
/// optional); `co_await` resumes at once while the client's buffered bytes are below the
/// high-water mark, otherwise when they drained below the low-water mark or the client is
/// gone ("fulfilled when the internal buffers aren't too saturated").
class SendAwaitable {
 public:
  SendAwaitable() noexcept = default;
  SendAwaitable(Endpoint* endpoint, ClientId client) noexcept
      : endpoint_(endpoint), client_(client) {}

  bool await_ready() const noexcept;
  bool await_suspend(std::coroutine_handle<> awaiting) noexcept;
  void await_resume() const noexcept {}

 private:
  Endpoint* endpoint_ = nullptr;  // null: nothing to wait for
  ClientId client_ = 0;
};

class Endpoint {
 public:
  virtual ~Endpoint() = default;

  /// Sends a text message; refuses invalid UTF-8 with std::invalid_argument (nothing sent).
  virtual SendAwaitable send(std::string data, ClientId client) = 0;
  virtual SendAwaitable sendBinary(std::string data, ClientId client) = 0;
  /// To every client except `exceptIds`.
  virtual SendAwaitable broadcast(std::string data, std::span<const ClientId> exceptIds = {}) = 0;
  virtual SendAwaitable broadcastBinary(std::string data,
                                        std::span<const ClientId> exceptIds = {}) = 0;
  /// To the given clients.
  virtual SendAwaitable multicast(std::string data, std::span<const ClientId> clientIds) = 0;
  virtual SendAwaitable multicastBinary(std::string data, std::span<const ClientId> clientIds) = 0;

  /// Starts the close handshake with `client`; onClose follows once it is gone.
  virtual void close(ClientId client, std::uint16_t code = protocol::close_code::Normal,
                     std::string_view reason = {}) = 0;

  /// Counters and timestamps of a connected client; nothing for an unknown id.
  virtual std::optional<ClientInfo> getInfo(ClientId client) const = 0;
  /// The ids of all connected clients.
  virtual std::vector<ClientId> getClients() const = 0;

 protected:
  friend class SendAwaitable;
  // Used by SendAwaitable on the calling thread.
  virtual bool isSaturated(ClientId client) const noexcept = 0;
  virtual bool waitUntilDrained(ClientId client, std::coroutine_handle<> awaiting) noexcept = 0;
};

inline bool SendAwaitable::await_ready() const noexcept {
  return endpoint_ == nullptr || !endpoint_->isSaturated(client_);
}
inline bool SendAwaitable::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  return endpoint_->waitUntilDrained(client_, awaiting);
}

}  // namespace aerie::ws
