// What a broadcast/multicast awaitable waits for: a countdown of the worker deliveries
// still to run plus the recipients that were saturated when the frame was queued. The
// last release resumes the awaiting coroutine on its own loop.
#pragma once

#include <atomic>
#include <coroutine>
#include <memory>
#include <mutex>
#include <utility>

#include "net/loop.hpp"

namespace aerie::ws::detail {

struct FanOutWait {
  std::atomic<int> pending{1};  // the fan-out call itself until it has posted everything
  std::mutex mutex;
  std::coroutine_handle<> waiter;
  net::Loop* waiterLoop = nullptr;

  void acquire() noexcept { pending.fetch_add(1, std::memory_order_relaxed); }

  void release() noexcept {
    if (pending.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    std::coroutine_handle<> awaiting;
    net::Loop* loop = nullptr;
    {
      std::lock_guard lock(mutex);
      awaiting = std::exchange(waiter, {});
      loop = waiterLoop;
    }
    if (!awaiting) return;
    if (loop != nullptr) {
      loop->post([awaiting] { awaiting.resume(); });
    } else {
      awaiting.resume();
    }
  }

  /// False when nothing is pending any more (then the caller does not suspend).
  bool suspend(std::coroutine_handle<> awaiting) noexcept {
    std::lock_guard lock(mutex);
    if (pending.load(std::memory_order_acquire) == 0) return false;
    waiter = awaiting;
    waiterLoop = net::Loop::current();
    return true;
  }
};

/// One delivery's share of a FanOutWait, carried by the posted handler: released when the
/// handler ran or was destroyed unrun (a stopping loop must not strand the awaiting coroutine).
struct DeliveryShare {
  std::shared_ptr<FanOutWait> wait;
  explicit DeliveryShare(std::shared_ptr<FanOutWait> shared) : wait(std::move(shared)) {
    wait->acquire();
  }
  DeliveryShare(DeliveryShare&&) noexcept = default;
  DeliveryShare& operator=(DeliveryShare&&) = delete;
  DeliveryShare(const DeliveryShare&) = delete;
  DeliveryShare& operator=(const DeliveryShare&) = delete;
  ~DeliveryShare() {
    if (wait) wait->release();
  }
};

}  // namespace aerie::ws::detail
