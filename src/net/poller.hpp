// The loop's own epoll set for its connections: registered once, edge-triggered, with
// EPOLLRDHUP, and no system call to wait again. The loop blocks in this set once per turn
// (net::Loop::drive); Asio's reactor is one level-triggered member of it.
//
// Why not asio::posix::stream_descriptor::async_wait per connection: Asio re-arms every
// such wait with EPOLL_CTL_MOD (one system call per wake-up: 12.6 % of the server's CPU on
// a small HTTP route), and it does not pass on the event mask. Without EPOLLRDHUP in that
// mask a short read does not prove the socket empty (a FIN can be right behind the data),
// so every read would need a second recv() to see EAGAIN. Here, as in nginx, a connection
// is added once with EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET and told each event's mask:
// per request that leaves recv() and send() (and one epoll_wait per batch of ready sockets).
//
// Why this set is the outer one: nested the other way (this set a member of Asio's), every
// turn cost two waits, Asio's and then ours (0.60 epoll_wait per HTTP request; nginx 0.30).
#pragma once

#include <sys/epoll.h>

#include <array>
#include <cstdint>
#include <vector>

namespace aerie::net {

/// What a registered descriptor is told.
class PollClient {
 public:
  /// An edge: `events` is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLHUP,
  /// EPOLLERR). Edge-triggered: the next call comes only after something new happened, so
  /// a client that leaves bytes unread must read them later on its own.
  virtual void onEvents(std::uint32_t events) = 0;

 protected:
  ~PollClient() = default;
};

class Poller {
 public:
  Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  ~Poller();

  /// Registers a non-blocking descriptor; its events go to `client` until remove(). Throws
  /// std::system_error when epoll refuses it.
  void add(int fd, PollClient& client);
  /// Stops the events of `fd` (call before closing it): also those of the batch being
  /// dispatched, so a client closed by another's event is not called after it is gone.
  void remove(int fd) noexcept;

  /// Adds a descriptor that is not dispatched but reported by wait(), level-triggered:
  /// the loop's Asio reactor. At most one.
  void watch(int fd);

  /// Waits up to `timeoutMs` (-1: until something happens) and dispatches the events.
  /// Returns true when the watched descriptor is readable.
  bool wait(int timeoutMs);

 private:
  static constexpr std::uint64_t kWatched = ~std::uint64_t{0};

  struct Slot {
    PollClient* client = nullptr;
    std::uint32_t generation = 0;  // tells a closed fd's stale event from its reuse's
  };

  int epoll_;
  std::vector<Slot> slots_;  // by descriptor number
  std::array<epoll_event, 256> events_{};
};

}  // namespace aerie::net
