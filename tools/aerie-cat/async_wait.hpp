// co_await on an asio timer's or signal set's async_wait.
#pragma once

#include <coroutine>
#include <system_error>

namespace aerie::cat {

/// Yields the wait's error code: success, or asio::error::operation_aborted once the
/// waitable was cancelled.
template <class Waitable>
class AsyncWait {
 public:
  explicit AsyncWait(Waitable& waitable) noexcept : waitable_(waitable) {}

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> awaiting) {
    // Timers complete with (error), signal sets with (error, signal number).
    waitable_.async_wait([this, awaiting](const std::error_code& error, auto&&...) {
      error_ = error;
      awaiting.resume();
    });
  }
  std::error_code await_resume() const noexcept { return error_; }

 private:
  Waitable& waitable_;
  std::error_code error_;
};

}  // namespace aerie::cat
