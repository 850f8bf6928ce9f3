#include "aerie/websocket/message.hpp"

namespace aerie::ws {

void detail::MessageState::wake() noexcept {
  if (waiter) std::exchange(waiter, {}).resume();
}

struct Message::DataAwaiter {
  detail::MessageState& state;
  bool wholeMessage;
  bool await_ready() const noexcept {
    return state.failed || state.complete || (!wholeMessage && !state.data.empty());
  }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept { state.waiter = awaiting; }
  void await_resume() const noexcept {}
};

Task<std::string> Message::buffer() {
  // A message that arrived whole (most small ones: onData runs once its first frame is in,
  // and a small message is one frame) is handed over without a coroutine frame.
  if (state_->complete && !state_->failed) return Task<std::string>::ready(std::move(state_->data));
  return bufferWhenComplete();
}

Task<std::string> Message::bufferWhenComplete() {
  while (!state_->complete && !state_->failed)
    co_await DataAwaiter{*state_, true};
  if (state_->failed) throw MessageError("the connection closed before the message was complete");
  co_return std::move(state_->data);
}

Task<std::optional<std::string>> Message::read() {
  state_->streaming = true;
  while (state_->data.empty() && !state_->complete && !state_->failed) {
    co_await DataAwaiter{*state_, false};
  }
  if (!state_->data.empty()) {
    std::string chunk = std::move(state_->data);
    state_->data.clear();
    if (state_->flow != nullptr) state_->flow->messageConsumed();
    co_return chunk;
  }
  if (state_->failed) throw MessageError("the connection closed before the message was complete");
  co_return std::nullopt;
}

}  // namespace aerie::ws
