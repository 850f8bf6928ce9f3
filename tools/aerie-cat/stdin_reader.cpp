#include "stdin_reader.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <asio/post.hpp>
#include <cerrno>
#include <condition_variable>
#include <coroutine>
#include <csignal>
#include <mutex>
#include <system_error>
#include <utility>

namespace aerie::cat {

namespace detail {

/// What the reading thread and the loop share.
struct StdinShared {
  explicit StdinShared(asio::io_context& context) : io(context) {}

  struct Result {
    std::optional<std::string> line;
    int error = 0;  // errno of a failed read
  };

  asio::io_context& io;
  int wakeFd = -1;  // makes the thread's poll() return when stopping

  std::mutex mutex;
  std::condition_variable demand;
  bool requested = false;  // guarded by mutex
  bool stopping = false;   // guarded by mutex

  // The loop thread's side.
  bool stopped = false;
  std::optional<Result> ready;
  std::coroutine_handle<> waiter;

  void deliver(Result result) {
    if (stopped) return;
    ready = std::move(result);
    if (waiter) std::exchange(waiter, {}).resume();
  }
};

}  // namespace detail

namespace {

using Shared = detail::StdinShared;

/// Waits until the next line is there, or until stop().
struct LineAwaiter {
  Shared& shared;
  bool await_ready() const noexcept { return shared.ready || shared.stopped; }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept { shared.waiter = awaiting; }
  void await_resume() const noexcept {}
};

/// Reads until a line is complete, at the end of input, or when stop() wakes us (nothing).
std::optional<Shared::Result> readLine(Shared& shared, std::string& pending, std::size_t& start,
                                       bool& ended) {
  char buffer[64 * 1024];
  for (;;) {
    const std::size_t newline = pending.find('\n', start);
    if (newline != std::string::npos) {
      Shared::Result result{pending.substr(start, newline - start), 0};
      start = newline + 1;
      if (start == pending.size()) {
        pending.clear();
        start = 0;
      }
      return result;
    }
    if (ended) {
      Shared::Result result;
      if (start < pending.size()) result.line = pending.substr(start);
      pending.clear();
      start = 0;
      return result;
    }
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {shared.wakeFd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      ended = true;
      return Shared::Result{std::nullopt, errno};
    }
    if (fds[1].revents != 0) return std::nullopt;
    const ssize_t got = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (got > 0) {
      pending.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0) {
      ended = true;
    } else if (errno != EINTR && errno != EAGAIN) {
      ended = true;
      return Shared::Result{std::nullopt, errno};
    }
  }
}

void readStdin(std::shared_ptr<Shared> shared) {
  // Signals are the loop's business (asio::signal_set): keep them off this thread.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);

  std::string pending;
  std::size_t start = 0;
  bool ended = false;
  for (;;) {
    {
      std::unique_lock lock(shared->mutex);
      shared->demand.wait(lock, [&] { return shared->requested || shared->stopping; });
      if (shared->stopping) return;
      shared->requested = false;
    }
    std::optional<Shared::Result> result = readLine(*shared, pending, start, ended);
    if (!result) return;
    asio::post(shared->io,
               [shared, line = std::move(*result)]() mutable { shared->deliver(std::move(line)); });
  }
}

}  // namespace

StdinReader::StdinReader(asio::io_context& io)
    : shared_(std::make_shared<detail::StdinShared>(io)) {
  shared_->wakeFd = ::eventfd(0, EFD_CLOEXEC);
  if (shared_->wakeFd < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  thread_ = std::thread(readStdin, shared_);
}

StdinReader::~StdinReader() {
  stop();
  ::close(shared_->wakeFd);
}

Task<std::optional<std::string>> StdinReader::next() {
  std::shared_ptr<Shared> shared = shared_;  // the frame keeps it alive
  if (shared->stopped) co_return std::nullopt;
  if (!shared->ready) {
    {
      std::lock_guard lock(shared->mutex);
      shared->requested = true;
    }
    shared->demand.notify_one();
  }
  while (!shared->ready && !shared->stopped)
    co_await LineAwaiter{*shared};
  if (shared->stopped) co_return std::nullopt;
  Shared::Result result = std::move(*shared->ready);
  shared->ready.reset();
  if (result.error != 0) {
    throw std::system_error(result.error, std::generic_category(), "reading stdin");
  }
  co_return std::move(result.line);
}

void StdinReader::stop() {
  if (shared_->stopped) return;
  shared_->stopped = true;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
  }
  shared_->demand.notify_one();
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(shared_->wakeFd, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  // A next() waiting for a line ends with nothing, from the loop rather than from inside
  // stop(): its caller may be the one that owns this reader.
  if (std::coroutine_handle<> waiter = std::exchange(shared_->waiter, {})) {
    asio::post(shared_->io, [waiter] { waiter.resume(); });
  }
}

bool StdinReader::stopped() const noexcept {
  return shared_->stopped;
}

}  // namespace aerie::cat
