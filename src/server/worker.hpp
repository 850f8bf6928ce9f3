// A worker thread: its loop, its listeners (SO_REUSEPORT, one per address per worker, so
// the kernel spreads connections), its connections, and a tick for timeouts.
#pragma once

#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "net/loop.hpp"
#include "server/millis_stamp.hpp"

namespace aerie::detail {

class ServerImpl;
class Connection;

class Worker {
 public:
  static constexpr std::chrono::milliseconds kTickInterval{100};

  Worker(ServerImpl& server, unsigned index);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  net::Loop& loop() noexcept { return loop_; }
  ServerImpl& server() noexcept { return server_; }
  unsigned index() const noexcept { return loop_.index(); }
  /// The worker of the calling thread (null elsewhere).
  static Worker* current() noexcept;

  /// Clocks cached per thread, refreshed every tick (kTickInterval): timestamps for
  /// getInfo() and timeouts without a clock call per message.
  static std::int64_t unixNow() noexcept;
  static std::chrono::steady_clock::time_point steadyNow() noexcept;
  /// steadyNow() in 32 bits, for per-connection timers.
  static MillisStamp millisNow() noexcept;

  /// Accepts on this listening socket (the worker owns the fd).
  void addListener(int fd, bool isUnix);
  /// Runs the loop on a new thread.
  void startThread();
  void join();
  /// Stops accepting (graceful stop).
  void closeListeners();
  /// Stops the loop (after all connections are gone).
  void stopLoop();

  /// A connection with queued output: flushed once at the end of this loop turn.
  void queueFlush(Connection& connection);

  void link(Connection& connection) noexcept;
  void unlink(Connection& connection) noexcept;
  std::size_t connectionCount() const noexcept { return connectionCount_; }
  /// Calls `f` for every connection (safe against connections closing meanwhile).
  void forEachConnection(const std::function<void(Connection&)>& f);

 private:
  struct Listener {
    asio::posix::stream_descriptor socket;
    bool isUnix;
  };
  void acceptLoop(Listener& listener);
  void onAcceptable(Listener& listener);
  void flushQueued();
  void scheduleTick();
  void tick();

  ServerImpl& server_;
  net::Loop loop_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<Connection*> flushQueue_;
  Connection* head_ = nullptr;
  std::size_t connectionCount_ = 0;
  asio::steady_timer ticker_;
  std::thread thread_;
};

}  // namespace aerie::detail
