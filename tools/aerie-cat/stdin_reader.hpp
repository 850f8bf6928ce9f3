// Lines of stdin for a coroutine on the event loop, without blocking the loop.
//
// A thread of its own does the reading, in blocking mode: asio's stream_descriptor would
// switch stdin to O_NONBLOCK, and on a terminal stdin and stdout usually share one open
// file description, so printing a large message could then fail with EAGAIN (and the flag
// would outlive us in the shell). The thread reads one line ahead of demand only: a fast
// producer (a piped file) waits for the socket instead of filling memory.
#pragma once

#include <asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "aerie/core/task.hpp"

namespace aerie::cat {

namespace detail {
struct StdinShared;
}

class StdinReader {
 public:
  explicit StdinReader(asio::io_context& io);
  StdinReader(const StdinReader&) = delete;
  StdinReader& operator=(const StdinReader&) = delete;
  ~StdinReader();

  /// The next line without its '\n' (a last line without one too); nothing at the end of
  /// input or once stopped. Throws std::system_error when reading fails. One caller at a
  /// time, on the loop's thread.
  Task<std::optional<std::string>> next();

  /// Ends the reading thread; a next() waiting returns nothing. On the loop's thread.
  void stop();
  bool stopped() const noexcept;

 private:
  std::shared_ptr<detail::StdinShared> shared_;
  std::thread thread_;
};

}  // namespace aerie::cat
