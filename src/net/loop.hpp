// An event loop: one io_context run by one thread (concurrency hint 1, no locks inside),
// plus the per-thread resources the hot path shares: the receive buffer and the list of
// connections with output to flush at the end of this turn.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "net/poller.hpp"

namespace aerie::net {

class Loop {
 public:
  explicit Loop(unsigned index);
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  ~Loop();

  asio::io_context& io() noexcept { return io_; }
  unsigned index() const noexcept { return index_; }

  /// The loop of the calling thread, or null on a thread that runs no loop.
  static Loop* current() noexcept;
  /// Makes this loop current for the calling thread (done by run()).
  void makeCurrent() noexcept;
  /// Runs the loop on the calling thread until stopped.
  void run();

  /// One receive buffer per thread: reads land here and are parsed in place, so an idle
  /// connection owns no receive buffer at all.
  std::span<char> receiveBuffer() noexcept { return {receiveBuffer_.get(), kReceiveBufferSize}; }
  static constexpr std::size_t kReceiveBufferSize = 256 * 1024;

  /// The epoll set of this loop's connections (made at the first use: a loop that only
  /// runs clients has none).
  Poller& poller() {
    if (!poller_) poller_ = std::make_unique<Poller>(io_);
    return *poller_;
  }

  template <class F>
  void post(F&& function) {
    asio::post(io_, std::forward<F>(function));
  }

  /// Coroutines waiting on a timer (aerie::delay) register here, so that a stopping loop
  /// can wake them with an error instead of leaking their frames.
  struct TimerWaiter {
    virtual void cancel() noexcept = 0;
    TimerWaiter* prev = nullptr;
    TimerWaiter* next = nullptr;

   protected:
    ~TimerWaiter() = default;
  };
  void addTimerWaiter(TimerWaiter& waiter) noexcept;
  void removeTimerWaiter(TimerWaiter& waiter) noexcept;
  /// Cancels every registered timer and refuses new ones (delay() then throws): called
  /// when the loop stops, before its last completions run.
  void cancelTimers() noexcept;
  bool stopping() const noexcept { return stopping_; }

 private:
  TimerWaiter* timers_ = nullptr;
  bool stopping_ = false;
  unsigned index_;
  asio::io_context io_{1};
  std::unique_ptr<char[]> receiveBuffer_;
  std::unique_ptr<Poller> poller_;  // after io_: goes first
};

}  // namespace aerie::net
