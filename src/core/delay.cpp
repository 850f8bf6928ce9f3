#include "aerie/core/delay.hpp"

#include <asio/steady_timer.hpp>
#include <coroutine>
#include <stdexcept>

#include "net/loop.hpp"

namespace aerie {
namespace {

class DelayAwaiter final : public net::Loop::TimerWaiter {
 public:
  DelayAwaiter(net::Loop& loop, std::chrono::milliseconds duration)
      : loop_(loop), timer_(loop.io(), duration) {}

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) {
    loop_.addTimerWaiter(*this);
    timer_.async_wait([this, awaiting](const std::error_code& error) {
      loop_.removeTimerWaiter(*this);
      cancelled_ = static_cast<bool>(error);
      awaiting.resume();
    });
  }
  void await_resume() const {
    if (cancelled_) throw LoopStopping();
  }
  void cancel() noexcept override { timer_.cancel(); }

 private:
  net::Loop& loop_;
  asio::steady_timer timer_;
  bool cancelled_ = false;
};

}  // namespace

Task<> delay(std::chrono::milliseconds duration) {
  net::Loop* loop = net::Loop::current();
  if (loop == nullptr)
    throw std::logic_error("aerie::delay() needs a thread running an aerie loop");
  if (loop->stopping()) throw LoopStopping();
  co_await DelayAwaiter(*loop, duration);
}

}  // namespace aerie
