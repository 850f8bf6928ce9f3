// What the load threads share with each other and with the main (reporting) thread.
#pragma once

#include <atomic>
#include <barrier>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "histogram.hpp"

namespace aerie::bench {

/// One second of the run, filled in by every load thread as it passes the second's end.
struct SecondStats {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  Histogram latency;
  int threadsReported = 0;
};

class Timeline {
 public:
  void add(std::size_t second, std::uint64_t messages, std::uint64_t bytes,
           const Histogram& latency);
  /// A copy of second `second` once `threads` threads reported it (or `force`); false if not.
  bool take(std::size_t second, int threads, bool force, SecondStats& out);

 private:
  std::mutex mutex_;
  std::deque<SecondStats> seconds_;
};

std::int64_t nowNs() noexcept;

/// Runs once per barrier phase: the first phase (every thread connected) starts the clock;
/// later phases (every thread stopped sending) leave it alone.
struct StartClock {
  std::atomic<std::int64_t>* startNs;
  void operator()() noexcept {
    if (startNs->load() == 0) startNs->store(nowNs());
  }
};

struct SharedState {
  SharedState(int threads, int publishers)
      : sync(threads, StartClock{&startNs}), published(static_cast<std::size_t>(publishers)) {}

  std::atomic<std::int64_t> startNs{0};  // load starts; measuring starts after the warmup
  std::barrier<StartClock> sync;
  std::atomic<std::int64_t> openConnections{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> errorsPrinted{0};
  std::vector<std::atomic<std::uint64_t>> published;  // broadcast: messages per publisher
  Timeline timeline;

  /// Counts an error and prints the first few of them on stderr.
  void reportError(const std::string& what);
};

}  // namespace aerie::bench
