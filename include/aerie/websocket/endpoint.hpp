// The door to the clients of one websocket() application (seed 000: Websocket\Endpoint).
//
// Every method may be called from any thread and any handler. Sends to a client living on
// another worker thread are handed to that thread (one post per thread for broadcasts);
// the frame is serialised once and shared by all recipients.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/protocol/close_code.hpp"
#include "aerie/protocol/utf8.hpp"
#include "aerie/websocket/client_id.hpp"
#include "aerie/websocket/client_info.hpp"

namespace aerie::ws {

class Endpoint;

namespace detail {
struct FanOutWait;  // a broadcast's pending recipients (src/websocket/fan_out_wait.hpp)
}

/// What the send family returns. The data is queued when the call is made (awaiting is
/// optional); `co_await` resumes at once while the recipients' buffered bytes are below the
/// high-water mark, otherwise once they drained below the low-water mark or left ("fulfilled
/// when the internal buffers aren't too saturated"). For broadcast/multicast: once every
/// recipient that was saturated when the message was queued has drained.
class SendAwaitable {
 public:
  SendAwaitable() noexcept = default;
  SendAwaitable(Endpoint* endpoint, ClientId client) noexcept
      : endpoint_(endpoint), client_(client) {}
  explicit SendAwaitable(std::shared_ptr<detail::FanOutWait> fanOut) noexcept
      : fanOut_(std::move(fanOut)) {}

  bool await_ready() const noexcept;
  bool await_suspend(std::coroutine_handle<> awaiting) noexcept;
  void await_resume() const noexcept {}

 private:
  Endpoint* endpoint_ = nullptr;  // null (and no fanOut_): nothing to wait for
  ClientId client_ = 0;
  std::shared_ptr<detail::FanOutWait> fanOut_;
};

/// Streams one message to a client fragment by fragment (amphp/websocket v1's stream()):
/// each write() is one frame, end() the final one, so a payload produced piece by piece
/// goes out in bounded memory. Until end(), other messages for that client (send,
/// broadcast, another stream) wait and follow in order: frames of two messages never
/// interleave. Text must be valid UTF-8 across the chunks (a chunk may end inside a
/// character); invalid text throws std::invalid_argument and nothing of that chunk is sent.
class MessageWriter {
 public:
  MessageWriter(Endpoint& endpoint, ClientId client, bool binary) noexcept;
  MessageWriter(MessageWriter&& other) noexcept;
  MessageWriter& operator=(MessageWriter&&) = delete;
  /// After write() without end(): the message is finished with an empty final frame, so
  /// the client's other messages are not held back forever.
  ~MessageWriter();

  SendAwaitable write(std::string chunk);
  SendAwaitable end(std::string lastChunk = {});

 private:
  SendAwaitable fragment(std::string chunk, bool fin);

  Endpoint* endpoint_;
  ClientId client_;
  std::uint64_t stream_;  // unique per writer: tells its fragments from other messages
  bool binary_;
  bool started_ = false;
  bool ended_ = false;
  protocol::Utf8Validator utf8_;  // text: validation carried across chunks
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

  /// A message to `client` produced chunk by chunk (see MessageWriter).
  MessageWriter stream(ClientId client) noexcept { return MessageWriter(*this, client, false); }
  MessageWriter streamBinary(ClientId client) noexcept {
    return MessageWriter(*this, client, true);
  }

  /// Starts the close handshake with `client`; onClose follows once it is gone.
  virtual void close(ClientId client, std::uint16_t code = protocol::close_code::Normal,
                     std::string_view reason = {}) = 0;

  /// Counters and timestamps of a connected client; nothing for an unknown id.
  virtual std::optional<ClientInfo> getInfo(ClientId client) const = 0;
  /// The ids of all connected clients.
  virtual std::vector<ClientId> getClients() const = 0;

 protected:
  friend class SendAwaitable;
  friend class MessageWriter;
  /// One fragment of stream `stream` (first: opcode Text/Binary; fin: the last one).
  virtual SendAwaitable sendFragment(ClientId client, std::uint64_t stream, bool binary, bool first,
                                     bool fin, std::string chunk) = 0;
  // Used by SendAwaitable on the calling thread.
  virtual bool isSaturated(ClientId client) const noexcept = 0;
  virtual bool waitUntilDrained(ClientId client, std::coroutine_handle<> awaiting) noexcept = 0;
};

}  // namespace aerie::ws
