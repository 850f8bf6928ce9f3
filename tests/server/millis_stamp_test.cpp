// MillisStamp: 32-bit milliseconds of the steady clock whose differences stay exact across
// the wrap (every 49.7 days), which WebSocket sessions rely on for their timers.
#include "server/millis_stamp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

namespace aerie::detail {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Clock::time_point at(std::chrono::milliseconds sinceEpoch) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(sinceEpoch));
}

TEST(MillisStamp, DifferenceIsTheElapsedMilliseconds) {
  const auto now = Clock::now();
  EXPECT_EQ(MillisStamp::of(now + 1500ms) - MillisStamp::of(now), 1500ms);
  const auto a = MillisStamp::of(at(123'456ms));
  EXPECT_EQ(MillisStamp::of(at(123'456ms) + 999us) - a, 0ms);  // whole milliseconds
  EXPECT_EQ(MillisStamp::of(at(123'457ms)) - a, 1ms);
  EXPECT_EQ(a - a, 0ms);
}

TEST(MillisStamp, DifferencesStayExactAcrossTheWrap) {
  const auto wrap = std::chrono::milliseconds(std::int64_t{1} << 32);
  for (const auto before : {1ms, 250ms, 60'000ms}) {
    const auto earlier = MillisStamp::of(at(wrap - before));
    for (const auto after : {0ms, 1ms, 3'000ms}) {
      EXPECT_EQ(MillisStamp::of(at(wrap + after)) - earlier, before + after);
    }
  }
  // The longest interval a timer may use is measured exactly from anywhere.
  const auto from = MillisStamp::of(at(wrap - 10ms));
  EXPECT_EQ(MillisStamp::of(at(wrap - 10ms + MillisStamp::kMaxInterval)) - from,
            MillisStamp::kMaxInterval);
}

TEST(MillisStamp, AnEarlierStampThatIsLaterReadsAsNoTimeAtAll) {
  const auto now = MillisStamp::of(at(5'000ms));
  EXPECT_EQ(MillisStamp::of(at(4'999ms)) - now, 0ms);
  const auto wrap = std::chrono::milliseconds(std::int64_t{1} << 32);
  EXPECT_EQ(MillisStamp::of(at(wrap - 1ms)) - MillisStamp::of(at(wrap + 1ms)), 0ms);
}

TEST(MillisStamp, FitsInFourBytes) {
  EXPECT_EQ(sizeof(MillisStamp), 4u);
}

}  // namespace
}  // namespace aerie::detail
