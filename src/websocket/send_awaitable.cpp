#include "aerie/websocket/endpoint.hpp"
#include "websocket/fan_out_wait.hpp"

namespace aerie::ws {

bool SendAwaitable::await_ready() const noexcept {
  if (fanOut_) return fanOut_->pending.load(std::memory_order_acquire) == 0;
  return endpoint_ == nullptr || !endpoint_->isSaturated(client_);
}

bool SendAwaitable::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  if (fanOut_) return fanOut_->suspend(awaiting);
  return endpoint_->waitUntilDrained(client_, awaiting);
}

}  // namespace aerie::ws
