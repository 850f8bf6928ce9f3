// The loop's own epoll set for its connections: registered once, edge-triggered, with
// EPOLLRDHUP, and no system call to wait again. One descriptor (this set) is what Asio's
// reactor sees.
//
// Why not asio::posix::stream_descriptor::async_wait per connection: Asio re-arms every
// such wait with EPOLL_CTL_MOD (one system call per wake-up: 12.6 % of the server's CPU on
// a small HTTP route), and it does not pass on the event mask. Without EPOLLRDHUP in that
// mask a short read does not prove the socket empty (a FIN can be right behind the data),
// so every read would need a second recv() to see EAGAIN. Here, as in nginx, a connection
// is added once with EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET and told each event's mask:
// per request that leaves recv() and send() (and one epoll_wait per batch of ready sockets).
//
// This set is one descriptor in Asio's reactor, waited on with an operation of our own
// (Asio's detail layer: reactor_op) whose perform step is the epoll_wait on the set: Asio's
// public async_wait would re-arm it with EPOLL_CTL_MOD at every turn (0.22 system calls per
// request on the HTTP route).
#pragma once

// io_context first: Asio's reactor headers rely on what it declares.
// clang-format off
#include <asio/io_context.hpp>
#include <asio/detail/reactor.hpp>
#include <asio/detail/reactor_op.hpp>
// clang-format on
#include <sys/epoll.h>

#include <array>
#include <asio/version.hpp>
#include <cstdint>
#include <vector>

static_assert(ASIO_VERSION >= 101800 && ASIO_VERSION < 103000,
              "net::Poller uses Asio's reactor_op and epoll_reactor::start_op as in Asio "
              "1.18-1.29: check src/net/poller.cpp against this Asio version");

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
  explicit Poller(asio::io_context& io);
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  ~Poller();

  /// Registers a non-blocking descriptor; its events go to `client` until remove(). Throws
  /// std::system_error when epoll refuses it.
  void add(int fd, PollClient& client);
  /// Stops the events of `fd` (call before closing it): also those of the batch being
  /// dispatched, so a client closed by another's event is not called after it is gone.
  void remove(int fd) noexcept;

 private:
  class Wait;
  void wait();
  void dispatch(int count);

  struct Slot {
    PollClient* client = nullptr;
    std::uint32_t generation = 0;  // tells a closed fd's stale event from its reuse's
  };

  asio::detail::reactor& reactor_;
  asio::detail::reactor::per_descriptor_data registration_ = nullptr;
  int epoll_;
  Wait* wait_;               // owned; outlives us when Asio still holds it (see ~Poller)
  std::vector<Slot> slots_;  // by descriptor number
  std::array<epoll_event, 256> events_{};
};

}  // namespace aerie::net
