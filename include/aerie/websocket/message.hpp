// A message from a client, handed to onData() as soon as its first frame arrives.
//
// Buffer it (`co_await msg.buffer()`) or stream it (`while (auto chunk = co_await
// msg.read())`). Both throw MessageError if the client disconnects before the message is
// complete. Chunks are copied out of the server's shared receive buffer once, into the
// message; a fully received small message costs exactly that one copy.
#pragma once

#include <coroutine>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "aerie/core/task.hpp"

namespace aerie::ws {

class MessageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
/// The connection a message is read from, told when a streaming reader took data: it may
/// have paused reading from the client while too much waited (Options::streamWindow).
class MessageFlow {
 public:
  virtual void messageConsumed() noexcept = 0;

 protected:
  ~MessageFlow() = default;
};

struct MessageState {
  std::string data;  // received, not yet consumed
  bool binary = false;
  bool complete = false;
  bool failed = false;
  bool streaming = false;          // read() was called: flow control applies
  MessageFlow* flow = nullptr;     // while the message is incomplete and its source alive
  std::coroutine_handle<> waiter;  // a buffer()/read() waiting for more

  void wake() noexcept;
};
}  // namespace detail

class Message {
 public:
  explicit Message(std::shared_ptr<detail::MessageState> state) noexcept
      : state_(std::move(state)) {}

  bool isBinary() const noexcept { return state_->binary; }

  /// The whole payload, once the last frame arrived.
  Task<std::string> buffer();

  /// The next chunk as it arrives; nothing once the message is complete. A streaming reader
  /// sets the pace: reading from the client pauses while more than Options::streamWindow
  /// received bytes wait for read().
  Task<std::optional<std::string>> read();

 private:
  struct DataAwaiter;
  Task<std::string> bufferWhenComplete();
  std::shared_ptr<detail::MessageState> state_;
};

}  // namespace aerie::ws
