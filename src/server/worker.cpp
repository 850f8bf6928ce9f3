#include "server/worker.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/log.hpp"
#include "server/connection.hpp"
#include "server/server_impl.hpp"

namespace aerie::detail {
namespace {

thread_local Worker* currentWorker = nullptr;
thread_local std::int64_t cachedUnixNow = 0;
thread_local std::chrono::steady_clock::time_point cachedSteadyNow{};
thread_local MillisStamp cachedMillisNow{};

void refreshClocks() noexcept {
  cachedUnixNow = static_cast<std::int64_t>(std::time(nullptr));
  cachedSteadyNow = std::chrono::steady_clock::now();
  cachedMillisNow = MillisStamp::of(cachedSteadyNow);
}

/// "1.2.3.4:5", "[::1]:5"; `ip` gets the bare address (for per-IP limits).

}  // namespace

Worker::Worker(ServerImpl& server, unsigned index)
    : server_(server), loop_(index), ticker_(loop_.io()) {}

Worker::~Worker() {
  join();
}

Worker* Worker::current() noexcept {
  return currentWorker;
}

std::int64_t Worker::unixNow() noexcept {
  if (cachedUnixNow == 0) refreshClocks();
  return cachedUnixNow;
}

std::chrono::steady_clock::time_point Worker::steadyNow() noexcept {
  if (cachedUnixNow == 0) refreshClocks();
  return cachedSteadyNow;
}

MillisStamp Worker::millisNow() noexcept {
  if (cachedUnixNow == 0) refreshClocks();
  return cachedMillisNow;
}

void Worker::addListener(int fd, bool isUnix) {
  auto listener =
      std::make_unique<Listener>(Listener{asio::posix::stream_descriptor(loop_.io(), fd), isUnix});
  acceptLoop(*listener);
  listeners_.push_back(std::move(listener));
}

void Worker::startThread() {
  scheduleTick();
  thread_ = std::thread([this] {
    currentWorker = this;
    refreshClocks();
    loop_.drive();
    // stop() leaves completions that are already due unrun: the aborted waits of the
    // connections the stop sequence closed last hold references that free them. Run what
    // is ready (nothing blocks here), or every such connection and its session leak.
    // Coroutines still waiting in delay() are woken with LoopStopping and unwind.
    loop_.cancelTimers();
    loop_.io().restart();
    loop_.io().poll();
    currentWorker = nullptr;
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::closeListeners() {
  for (auto& listener : listeners_) {
    std::error_code ignored;
    listener->socket.close(ignored);
  }
}

void Worker::stopLoop() {
  // On the worker's own thread: an Asio timer is not thread-safe, and the tick handler may
  // be re-arming the ticker at this very moment (TSan caught cancel() here racing
  // expires_after() in scheduleTick()). The post wakes the loop like any other.
  loop_.post([this] {
    ticker_.cancel();
    loop_.io().stop();
  });
}

void Worker::acceptLoop(Listener& listener) {
  listener.socket.async_wait(asio::posix::descriptor_base::wait_read,
                             [this, &listener](const std::error_code& error) {
                               if (error) return;  // closed: graceful stop
                               onAcceptable(listener);
                               acceptLoop(listener);
                             });
}

void Worker::onAcceptable(Listener& listener) {
  // Take every pending connection in one wake-up.
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = ::accept4(listener.socket.native_handle(), reinterpret_cast<sockaddr*>(&peer),
                             &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        log::warn("accept: {} (raise the open file limit)", std::strerror(errno));
      }
      return;
    }
    if (!listener.isUnix) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    server_.accepted(*this, fd,
                     listener.isUnix ? net::PeerAddress() : net::PeerAddress::fromSockaddr(peer));
  }
}

void Worker::queueFlush(Connection& connection) {
  connection.flushQueued = true;
  connection.retain();
  flushQueue_.push_back(&connection);
  if (flushQueue_.size() == 1) loop_.post([this] { flushQueued(); });
}

void Worker::flushQueued() {
  // Sessions may queue more while we flush: swap first.
  std::vector<Connection*> queue;
  queue.swap(flushQueue_);
  for (Connection* connection : queue) {
    connection->flushQueued = false;
    connection->flush();
    connection->release();
  }
  if (flushQueue_.empty()) {  // keep the grown capacity for the next turn
    queue.clear();
    flushQueue_.swap(queue);
  }
}

void Worker::link(Connection& connection) noexcept {
  connection.next = head_;
  connection.prev = nullptr;
  if (head_ != nullptr) head_->prev = &connection;
  head_ = &connection;
  ++connectionCount_;
}

void Worker::unlink(Connection& connection) noexcept {
  if (connection.prev != nullptr) connection.prev->next = connection.next;
  if (connection.next != nullptr) connection.next->prev = connection.prev;
  if (head_ == &connection) head_ = connection.next;
  connection.prev = connection.next = nullptr;
  --connectionCount_;
  server_.connectionClosed(connection);
}

void Worker::forEachConnection(const std::function<void(Connection&)>& f) {
  std::vector<Connection*> all;
  all.reserve(connectionCount_);
  for (Connection* c = head_; c != nullptr; c = c->next) {
    c->retain();
    all.push_back(c);
  }
  for (Connection* c : all) {
    if (!c->closed()) f(*c);
    c->release();
  }
}

void Worker::scheduleTick() {
  ticker_.expires_after(kTickInterval);
  ticker_.async_wait([this](const std::error_code& error) {
    if (error) return;
    tick();
    scheduleTick();
  });
}

void Worker::tick() {
  refreshClocks();
  const auto now = cachedSteadyNow;
  forEachConnection([now](Connection& c) {
    if (c.closeDeadline() != std::chrono::steady_clock::time_point{} && now >= c.closeDeadline()) {
      c.close();
      return;
    }
    c.session()->onTick(now);
    if (!c.closed()) c.trimIdleBuffer();
  });
}

}  // namespace aerie::detail
