// What a loop that waits in its own epoll set needs from Asio's scheduler and reactor, which
// Asio keeps private: the reactor's epoll descriptor, and a way to be woken for handlers
// that other threads post.
//
// Why: a server worker waits once per turn in its own set, with Asio's epoll descriptor
// as one (level-triggered) member of it, instead of waiting in Asio's set with ours as a
// member (two epoll_wait calls per turn: 0.60 per HTTP request against nginx's 0.30).
// Asio's handlers then run with io_context::poll() only when its set is ready or its queue
// holds handlers.
//
// The catch: Asio wakes its reactor for a handler posted from another thread (or for
// io_context::stop) only while a thread is blocked inside the reactor. Its flag
// `task_interrupted_` is set after every reactor run and reset only by run()/run_one()
// before blocking, never by poll(). So before blocking in our set, arm() resets it under
// the scheduler's mutex: a post then interrupts Asio's reactor (Asio writes its eventfd),
// which makes Asio's descriptor ready in our set and ends our wait. arm() refuses when
// handlers are already queued or the context is stopped (then the loop must not block),
// and the check and the reset are one critical section, so nothing slips between them.
//
// The private members are reached with the explicit-instantiation rule ([temp.spec]:
// access is not checked for the arguments of an explicit instantiation); this file is the
// only place that knows their names, and the static_assert below pins the Asio versions
// whose scheduler it was checked against (1.18-1.29: same members, same meaning).
#pragma once

// clang-format off
#include <asio/io_context.hpp>
#include <asio/detail/reactor.hpp>
#include <asio/detail/scheduler.hpp>
// clang-format on
#include <asio/version.hpp>

static_assert(ASIO_VERSION >= 101800 && ASIO_VERSION < 103000,
              "net::AsioHooks reaches into Asio's scheduler and epoll_reactor as in Asio "
              "1.18-1.29: check src/net/asio_hooks.hpp against this Asio version");

namespace aerie::net {

class AsioHooks {
 public:
  explicit AsioHooks(asio::io_context& io);

  /// The epoll descriptor of Asio's reactor: readable while Asio has events to take.
  int reactorDescriptor() const noexcept;

  /// What Asio's scheduler holds that the loop must act on before it may block.
  enum class Pending { nothing, handlers, stopped };

  /// On a turn that will not block: whether Asio has handlers queued (posted from another
  /// thread, say) or is stopped, so that they run this turn whatever else the loop has to
  /// do. One uncontended lock.
  Pending pending() noexcept;
  /// Before blocking: makes the next cross-thread post or stop() interrupt Asio's reactor
  /// (and so wake our wait), and returns Pending::nothing. Arms nothing and returns what is
  /// pending when handlers are already queued or the context is stopped: the caller must
  /// act on them instead of blocking. The check and the arming are one critical section.
  Pending arm() noexcept;
  /// After the wait: back to Asio's own state (no reactor thread to interrupt).
  void disarm() noexcept;

 private:
  Pending pendingLocked() noexcept;  // under the scheduler's mutex

  asio::detail::scheduler& scheduler_;
  asio::detail::reactor& reactor_;
};

}  // namespace aerie::net
