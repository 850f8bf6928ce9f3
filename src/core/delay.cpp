#include "aerie/core/delay.hpp"

#include <asio/steady_timer.hpp>
#include <coroutine>
#include <stdexcept>

#include "net/loop.hpp"

namespace aerie {

Task<> delay(std::chrono::milliseconds duration) {
  net::Loop* loop = net::Loop::current();
  if (loop == nullptr) throw std::logic_error("aerie::delay() needs a thread running an aerie loop");
  struct Awaiter {
    asio::steady_timer timer;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> awaiting) {
      timer.async_wait([awaiting](const std::error_code&) { awaiting.resume(); });
    }
    void await_resume() const noexcept {}
  };
  co_await Awaiter{asio::steady_timer(loop->io(), duration)};
}

}  // namespace aerie
