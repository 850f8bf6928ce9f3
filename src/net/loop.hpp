// An event loop: one io_context run by one thread (concurrency hint 1), plus the per-thread
// resources the hot path shares: the receive buffer, the epoll set of the connections, and
// the callbacks to run at the end of this turn (flushes, reads to resume).
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "net/callback.hpp"
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
  static Loop* current() noexcept { return current_; }
  /// Makes this loop current for the calling thread (done by run()).
  void makeCurrent() noexcept;
  /// Runs the loop on the calling thread until stopped, Asio's way: io_context::run()
  /// (the client's aerie::run). No poller.
  void run();
  /// Runs the loop on the calling thread until io().stop(), waiting once per turn in the
  /// poller's epoll set, Asio's reactor one member of it (server workers). A turn: wait,
  /// dispatch the connections' events, run Asio's handlers if it has any ready, run the
  /// callbacks post()ed on this thread. Callbacks still queued at the stop are run before
  /// it returns.
  void drive();
  /// Turns drive() has waited for (one epoll_wait each): tells a loop that blocks when idle
  /// from one that spins. Read on the loop's thread.
  std::uint64_t turns() const noexcept { return turns_; }

  /// One receive buffer per thread: reads land here and are parsed in place, so an idle
  /// connection owns no receive buffer at all.
  std::span<char> receiveBuffer() noexcept { return {receiveBuffer_.get(), kReceiveBufferSize}; }
  static constexpr std::size_t kReceiveBufferSize = 256 * 1024;

  /// The epoll set of this loop's connections: a driving loop's (see drive()).
  Poller& poller() { return *poller_; }

  /// Runs `function` on this loop's thread, later: never inside the caller. From the
  /// loop's own thread while it drives, at the end of this turn (no lock, no wake-up);
  /// otherwise as an Asio handler (from another thread: one lock and one wake-up).
  template <class F>
  void post(F&& function) {
    if (current_ == this && driving_) {
      deferred_.emplace_back(std::forward<F>(function));
    } else {
      asio::post(io_, std::forward<F>(function));
    }
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
  void runDeferred();

  // Defined here with a constant initialiser: other translation units then read it
  // directly, without GCC's thread_local wrapper call (which UBSan flags as a null load).
  static inline constinit thread_local Loop* current_ = nullptr;
  TimerWaiter* timers_ = nullptr;
  bool stopping_ = false;
  std::uint64_t turns_ = 0;
  bool driving_ = false;            // read by post() on this thread only
  std::vector<Callback> deferred_;  // post()ed on this thread while driving
  std::vector<Callback> running_;   // the round being run (capacity kept)
  unsigned index_;
  asio::io_context io_{1};
  std::unique_ptr<char[]> receiveBuffer_;
  std::unique_ptr<Poller> poller_;  // after io_: goes first (made by drive())
};

}  // namespace aerie::net
