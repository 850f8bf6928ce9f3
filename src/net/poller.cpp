#include "net/poller.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace aerie::net {
namespace {

int createEpoll() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  return fd;
}

}  // namespace

// The wait on the set, queued in Asio's reactor. Its perform step (run by the reactor when
// the set's descriptor is readable, or at once when queued after an event) takes the
// ready events; it stays queued, with no system call, while there are none.
class Poller::Wait : public asio::detail::reactor_op {
 public:
  explicit Wait(Poller* poller)
      : asio::detail::reactor_op(asio::error_code(), &Wait::perform, &Wait::complete),
        poller_(poller) {}

  Poller* poller_;       // null once the poller is gone: the wait then deletes itself
  int count_ = 0;        // events taken by perform()
  bool pending = false;  // in Asio's hands (queued or completing)

 private:
  static status perform(asio::detail::reactor_op* base) {
    auto* wait = static_cast<Wait*>(base);
    Poller* poller = wait->poller_;
    const int count = ::epoll_wait(poller->epoll_, poller->events_.data(),
                                   static_cast<int>(poller->events_.size()), 0);
    wait->count_ = std::max(count, 0);
    if (wait->count_ == 0) return not_done;  // nothing ready: stay queued
    // A batch shorter than the buffer emptied the ready list: "exhausted" makes Asio queue
    // the next wait without trying it first (an arrival since raises a new edge). A full
    // batch: more may be waiting, so the next wait tries at once.
    return wait->count_ < static_cast<int>(poller->events_.size()) ? done_and_exhausted : done;
  }

  static void complete(void* owner, asio::detail::operation* base, const asio::error_code&,
                       std::size_t) {
    auto* wait = static_cast<Wait*>(base);
    wait->pending = false;
    // owner is null when the io_context is destroyed with the wait queued; no poller: it
    // was destroyed first (its deregistration ended the wait with operation_aborted).
    if (owner == nullptr || wait->poller_ == nullptr) {
      delete wait;
      return;
    }
    if (wait->ec_) return;  // not expected while the poller lives
    wait->poller_->dispatch(wait->count_);
  }
};

Poller::Poller(asio::io_context& io)
    : reactor_(asio::use_service<asio::detail::reactor>(io)), epoll_(createEpoll()) {
  if (reactor_.register_descriptor(epoll_, registration_) != 0) {
    const int error = errno;
    reactor_.cleanup_descriptor_data(registration_);
    ::close(epoll_);
    throw std::system_error(error, std::system_category(), "epoll_ctl(EPOLL_CTL_ADD)");
  }
  wait_ = new Wait(this);
  wait();
}

Poller::~Poller() {
  if (wait_->pending) {
    wait_->poller_ = nullptr;  // Asio completes (or destroys) it later: it deletes itself
  } else {
    delete wait_;
  }
  reactor_.deregister_descriptor(epoll_, registration_, true);  // ends the pending wait
  ::close(epoll_);
  reactor_.cleanup_descriptor_data(registration_);
}

void Poller::add(int fd, PollClient& client) {
  if (static_cast<std::size_t>(fd) >= slots_.size()) {
    slots_.resize(std::max<std::size_t>(static_cast<std::size_t>(fd) + 1, slots_.size() * 2));
  }
  Slot& slot = slots_[static_cast<std::size_t>(fd)];
  slot.client = &client;
  ++slot.generation;
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.u64 =
      static_cast<std::uint64_t>(slot.generation) << 32 | static_cast<std::uint32_t>(fd);
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0) {
    slot.client = nullptr;
    throw std::system_error(errno, std::system_category(), "epoll_ctl(EPOLL_CTL_ADD)");
  }
}

void Poller::remove(int fd) noexcept {
  if (fd < 0 || static_cast<std::size_t>(fd) >= slots_.size()) return;
  slots_[static_cast<std::size_t>(fd)].client = nullptr;
  // No EPOLL_CTL_DEL: closing the descriptor (never duplicated) removes it from the set.
}

void Poller::wait() {
  wait_->ec_ = {};
  wait_->pending = true;
  // Speculative: after an event on the set Asio runs perform() right away; otherwise the
  // wait is queued, and a read wait is queued without a system call.
  reactor_.start_op(asio::detail::reactor::read_op, epoll_, registration_, wait_, false, true);
}

void Poller::dispatch(int count) {
  for (int i = 0; i < count; ++i) {
    const std::uint64_t data = events_[static_cast<std::size_t>(i)].data.u64;
    const auto fd = static_cast<std::uint32_t>(data);
    const auto generation = static_cast<std::uint32_t>(data >> 32);
    if (fd >= slots_.size()) continue;
    const Slot& slot = slots_[fd];
    if (slot.client == nullptr || slot.generation != generation) continue;  // closed meanwhile
    slot.client->onEvents(events_[static_cast<std::size_t>(i)].events);
  }
  wait();
}

}  // namespace aerie::net
