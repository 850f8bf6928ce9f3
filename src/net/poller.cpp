#include "net/poller.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace aerie::net {

Poller::Poller() : epoll_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
}

Poller::~Poller() {
  ::close(epoll_);
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

void Poller::watch(int fd) {
  epoll_event event{};
  event.events = EPOLLIN;  // level-triggered: reported until its owner takes its events
  event.data.u64 = kWatched;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event) != 0) {
    throw std::system_error(errno, std::system_category(), "epoll_ctl(EPOLL_CTL_ADD)");
  }
}

bool Poller::wait(int timeoutMs) {
  const int count =
      ::epoll_wait(epoll_, events_.data(), static_cast<int>(events_.size()), timeoutMs);
  bool watchedReady = false;
  for (int i = 0; i < count; ++i) {
    const std::uint64_t data = events_[static_cast<std::size_t>(i)].data.u64;
    if (data == kWatched) {
      watchedReady = true;
      continue;
    }
    const auto fd = static_cast<std::uint32_t>(data);
    const auto generation = static_cast<std::uint32_t>(data >> 32);
    if (fd >= slots_.size()) continue;
    const Slot& slot = slots_[fd];
    if (slot.client == nullptr || slot.generation != generation) continue;  // closed meanwhile
    slot.client->onEvents(events_[static_cast<std::size_t>(i)].events);
  }
  return watchedReady;
}

}  // namespace aerie::net
