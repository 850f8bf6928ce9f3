// A steady-clock moment in 32 bits: its milliseconds, wrapping every 49.7 days. Only the
// difference of two stamps means anything: exact while the later one is less than 2^31 ms
// (24.8 days) after the earlier (unsigned arithmetic wraps with the clock); a difference
// that would be negative reads as 0, as a time_point comparison would never fire either. A
// WebSocket session keeps six of them for its timers: 24 bytes instead of 48 in every
// connection (issue 10, idle memory). The timer options are bounded to kMaxInterval, far
// enough below 2^31 ms that a timer checked every tick fires before its difference wraps.
#pragma once

#include <chrono>
#include <cstdint>

namespace aerie::detail {

class MillisStamp {
 public:
  /// The longest interval a timer compares against (websocket() rejects longer options).
  static constexpr std::chrono::milliseconds kMaxInterval = std::chrono::hours(24 * 24);
  static_assert(kMaxInterval.count() < (std::int64_t{1} << 31));

  constexpr MillisStamp() noexcept = default;
  static MillisStamp of(std::chrono::steady_clock::time_point moment) noexcept {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(moment.time_since_epoch()).count();
    return MillisStamp(static_cast<std::uint32_t>(ms));
  }

  /// The time from `earlier` to this moment; 0 if `earlier` is in fact later.
  constexpr std::chrono::milliseconds operator-(MillisStamp earlier) const noexcept {
    const auto elapsed = static_cast<std::uint32_t>(ms_ - earlier.ms_);
    return std::chrono::milliseconds(elapsed < (std::uint32_t{1} << 31) ? elapsed : 0);
  }

 private:
  constexpr explicit MillisStamp(std::uint32_t ms) noexcept : ms_(ms) {}
  std::uint32_t ms_ = 0;
};

}  // namespace aerie::detail
