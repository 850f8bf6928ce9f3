#include "shared_state.hpp"

#include <time.h>

#include <cstdio>

namespace aerie::bench {

std::int64_t nowNs() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void SharedState::reportError(const std::string& what) {
  errors.fetch_add(1, std::memory_order_relaxed);
  constexpr std::uint64_t kPrinted = 10;
  const std::uint64_t n = errorsPrinted.fetch_add(1, std::memory_order_relaxed);
  if (n < kPrinted) std::fprintf(stderr, "\naerie-bench: error: %s\n", what.c_str());
  if (n == kPrinted) std::fprintf(stderr, "\naerie-bench: (further errors only counted)\n");
}

void Timeline::add(std::size_t second, std::uint64_t messages, std::uint64_t bytes,
                   const Histogram& latency) {
  std::lock_guard lock(mutex_);
  while (seconds_.size() <= second)
    seconds_.emplace_back();
  SecondStats& s = seconds_[second];
  s.messages += messages;
  s.bytes += bytes;
  s.latency.merge(latency);
  ++s.threadsReported;
}

bool Timeline::take(std::size_t second, int threads, bool force, SecondStats& out) {
  std::lock_guard lock(mutex_);
  if (second >= seconds_.size()) {
    if (!force) return false;
    out = SecondStats{};
    return true;
  }
  if (seconds_[second].threadsReported < threads && !force) return false;
  out = seconds_[second];
  return true;
}

}  // namespace aerie::bench
