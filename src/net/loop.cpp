#include "net/loop.hpp"

namespace aerie::net {
namespace {
thread_local Loop* currentLoop = nullptr;
}

Loop::Loop(unsigned index)
    : index_(index), receiveBuffer_(std::make_unique_for_overwrite<char[]>(kReceiveBufferSize)) {}

Loop::~Loop() {
  if (currentLoop == this) currentLoop = nullptr;
}

Loop* Loop::current() noexcept {
  return currentLoop;
}

void Loop::makeCurrent() noexcept {
  currentLoop = this;
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

}  // namespace aerie::net
