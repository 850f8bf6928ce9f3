// A steady-clock moment in 32 bits: its milliseconds, wrapping every 49.7 days. Only the
// difference of two stamps means anything, and it is exact for moments less than 49.7
// days apart (unsigned arithmetic wraps with the clock). A WebSocket session keeps six of
// them for its timers: 24 bytes instead of 48 in every connection (issue 10, idle memory).
// The timer options are bounded to kMaxInterval so that no timer needs a longer interval.
#pragma once

#include <chrono>
#include <cstdint>

namespace aerie::detail {

class MillisStamp {
 public:
  /// The longest interval a timer compares against (websocket() rejects longer options):
  /// half the wrap, so "now - stamp >= interval" fires before the difference wraps.
  static constexpr std::chrono::milliseconds kMaxInterval{std::uint32_t{1} << 31};

  constexpr MillisStamp() noexcept = default;
  static MillisStamp of(std::chrono::steady_clock::time_point moment) noexcept {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(moment.time_since_epoch()).count();
    return MillisStamp(static_cast<std::uint32_t>(ms));
  }

  /// The time from `earlier` to this moment (both less than 49.7 days apart).
  constexpr std::chrono::milliseconds operator-(MillisStamp earlier) const noexcept {
    return std::chrono::milliseconds(static_cast<std::uint32_t>(ms_ - earlier.ms_));
  }

 private:
  constexpr explicit MillisStamp(std::uint32_t ms) noexcept : ms_(ms) {}
  std::uint32_t ms_ = 0;
};

}  // namespace aerie::detail
