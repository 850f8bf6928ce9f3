#include "net/loop.hpp"

#include <asio/executor_work_guard.hpp>

#include "net/asio_hooks.hpp"

namespace aerie::net {

Loop::Loop(unsigned index)
    : index_(index), receiveBuffer_(std::make_unique_for_overwrite<char[]>(kReceiveBufferSize)) {}

Loop::~Loop() {
  if (current_ == this) current_ = nullptr;
}

void Loop::makeCurrent() noexcept {
  current_ = this;
}

void Loop::addTimerWaiter(TimerWaiter& waiter) noexcept {
  waiter.prev = nullptr;
  waiter.next = timers_;
  if (timers_ != nullptr) timers_->prev = &waiter;
  timers_ = &waiter;
}

void Loop::removeTimerWaiter(TimerWaiter& waiter) noexcept {
  if (waiter.prev != nullptr) waiter.prev->next = waiter.next;
  if (waiter.next != nullptr) waiter.next->prev = waiter.prev;
  if (timers_ == &waiter) timers_ = waiter.next;
  waiter.prev = waiter.next = nullptr;
}

void Loop::cancelTimers() noexcept {
  stopping_ = true;
  for (TimerWaiter* waiter = timers_; waiter != nullptr; waiter = waiter->next)
    waiter->cancel();
}

void Loop::run() {
  makeCurrent();
  io_.run();
}

void Loop::runDeferred() {
  // One round: what these callbacks post runs in the next turn, after the sockets were
  // looked at again (as Asio does: a reactor poll between rounds of handlers).
  running_.swap(deferred_);
  for (auto& callback : running_)
    callback();
  running_.clear();
}

void Loop::drive() {
  makeCurrent();
  if (!poller_) poller_ = std::make_unique<Poller>();
  AsioHooks asio(io_);
  poller_->watch(asio.reactorDescriptor());
  // The loop ends at io().stop() only: Asio running out of work (between two of its
  // timers, say) says nothing about the connections in the poller.
  auto work = asio::make_work_guard(io_);
  driving_ = true;
  bool asioReady = true;  // what was posted before the loop started
  while (true) {
    if (asioReady) {
      io_.poll();
      asioReady = false;
      if (io_.stopped()) break;  // stopped by a handler, or before the poll
    }
    runDeferred();
    // Asio's queue is looked at every turn, under the lock arm() or pending() takes anyway:
    // a handler posted from another thread while this thread was busy woke nothing (the
    // reactor was not armed), and must not wait for a turn with nothing else to do.
    int timeout = 0;  // more callbacks queued: only look at the sockets
    AsioHooks::Pending pending;
    if (deferred_.empty()) {
      pending = asio.arm();
      if (pending == AsioHooks::Pending::nothing) timeout = -1;
    } else {
      pending = asio.pending();
    }
    if (pending == AsioHooks::Pending::stopped) break;
    if (pending == AsioHooks::Pending::handlers) asioReady = true;
    ++turns_;
    if (poller_->wait(timeout)) asioReady = true;
    if (timeout == -1) asio.disarm();
  }
  driving_ = false;
  // Callbacks queued at the stop: a flush holds a reference to its connection, and so on.
  // What they post now goes to Asio, whose remaining handlers the caller runs.
  while (!deferred_.empty())
    runDeferred();
}

}  // namespace aerie::net
