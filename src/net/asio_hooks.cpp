#include "net/asio_hooks.hpp"

#include <type_traits>

namespace aerie::net {
namespace {

// member(Tag) returns the pointer to member named in the explicit instantiation below.
template <class Tag, auto Member>
struct Reach {
  friend constexpr auto member(Tag) noexcept { return Member; }
};

using asio::detail::epoll_reactor;
using asio::detail::scheduler;

struct SchedulerMutex {
  friend constexpr auto member(SchedulerMutex) noexcept;
};
struct SchedulerTaskInterrupted {
  friend constexpr auto member(SchedulerTaskInterrupted) noexcept;
};
struct SchedulerTaskOperation {
  friend constexpr auto member(SchedulerTaskOperation) noexcept;
};
struct SchedulerQueue {
  friend constexpr auto member(SchedulerQueue) noexcept;
};
struct SchedulerStopped {
  friend constexpr auto member(SchedulerStopped) noexcept;
};
struct ReactorEpoll {
  friend constexpr auto member(ReactorEpoll) noexcept;
};

template struct Reach<SchedulerMutex, &scheduler::mutex_>;
template struct Reach<SchedulerTaskInterrupted, &scheduler::task_interrupted_>;
template struct Reach<SchedulerTaskOperation, &scheduler::task_operation_>;
template struct Reach<SchedulerQueue, &scheduler::op_queue_>;
template struct Reach<SchedulerStopped, &scheduler::stopped_>;
template struct Reach<ReactorEpoll, &epoll_reactor::epoll_fd_>;

static_assert(std::is_same_v<asio::detail::reactor, epoll_reactor>,
              "net::AsioHooks expects Asio's epoll reactor (Linux, no io_uring backend)");

}  // namespace

AsioHooks::AsioHooks(asio::io_context& io)
    : scheduler_(asio::use_service<asio::detail::scheduler>(io)),
      reactor_(asio::use_service<asio::detail::reactor>(io)) {
  // Make the reactor the scheduler's task now (Asio does it when the first socket or timer
  // service is made): without a task, poll() never takes the reactor's events (its
  // descriptor would stay ready in our set: a busy loop) and a post interrupts nothing.
  reactor_.init_task();
}

int AsioHooks::reactorDescriptor() const noexcept {
  return reactor_.*member(ReactorEpoll{});
}

AsioHooks::Pending AsioHooks::pendingLocked() noexcept {
  if (scheduler_.*member(SchedulerStopped{})) return Pending::stopped;
  // Idle, the queue holds only the reactor's own marker (the "task operation").
  auto& queue = scheduler_.*member(SchedulerQueue{});
  const asio::detail::operation* marker = &(scheduler_.*member(SchedulerTaskOperation{}));
  asio::detail::operation* front = queue.front();
  if (front == marker) front = asio::detail::op_queue_access::next(front);
  return front != nullptr ? Pending::handlers : Pending::nothing;
}

AsioHooks::Pending AsioHooks::pending() noexcept {
  asio::detail::conditionally_enabled_mutex::scoped_lock lock(scheduler_.*member(SchedulerMutex{}));
  return pendingLocked();
}

AsioHooks::Pending AsioHooks::arm() noexcept {
  asio::detail::conditionally_enabled_mutex::scoped_lock lock(scheduler_.*member(SchedulerMutex{}));
  const Pending pending = pendingLocked();
  if (pending == Pending::nothing) scheduler_.*member(SchedulerTaskInterrupted{}) = false;
  return pending;
}

void AsioHooks::disarm() noexcept {
  asio::detail::conditionally_enabled_mutex::scoped_lock lock(scheduler_.*member(SchedulerMutex{}));
  scheduler_.*member(SchedulerTaskInterrupted{}) = true;
}

}  // namespace aerie::net
