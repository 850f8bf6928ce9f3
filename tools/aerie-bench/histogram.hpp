// A log-linear latency histogram in the spirit of HdrHistogram: 256 linear sub-buckets per
// power of two, so every recorded value lands in a bucket at most 1/128 (< 0.8 %) wide
// relative to its value. Values are nanoseconds; the range runs past 60 s. Cheap enough
// to record every message and to merge once per second per thread.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace aerie::bench {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 8;  // 256 sub-buckets: < 0.8 % relative error
  static constexpr std::int64_t kMaxValue = 64'000'000'000;  // 64 s in ns; larger clamps

  Histogram();

  void record(std::int64_t ns) noexcept {
    if (ns < 0) ns = 0;
    if (ns > kMaxValue) ns = kMaxValue;
    ++counts_[indexOf(static_cast<std::uint64_t>(ns))];
    ++count_;
    sum_ += static_cast<std::uint64_t>(ns);
    if (ns > max_) max_ = ns;
  }
  void merge(const Histogram& other);
  void reset();

  std::uint64_t count() const noexcept { return count_; }
  std::int64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ ? double(sum_) / double(count_) : 0.0; }
  /// The value at quantile q (0..1): the upper edge of the bucket holding it, never above
  /// the largest recorded value. 0 when empty.
  std::int64_t quantile(double q) const noexcept;

 private:
  static std::size_t indexOf(std::uint64_t v) noexcept {
    constexpr std::uint64_t half = 1u << (kSubBucketBits - 1);
    const int width = 64 - __builtin_clzll(v | 1);
    const int shift = width > kSubBucketBits ? width - kSubBucketBits : 0;
    return static_cast<std::size_t>(shift) * half + (v >> shift);
  }
  static std::uint64_t upperEdgeOf(std::size_t index) noexcept;

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace aerie::bench
