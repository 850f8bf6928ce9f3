#include "histogram.hpp"

#include <algorithm>

namespace aerie::bench {
namespace {
constexpr std::uint64_t kHalf = 1u << (Histogram::kSubBucketBits - 1);
}

Histogram::Histogram() {
  // One past the index of the largest value, so record() never bounds-checks.
  const int width = 64 - __builtin_clzll(static_cast<std::uint64_t>(kMaxValue));
  const int shift = width - kSubBucketBits;
  counts_.assign(static_cast<std::size_t>(shift + 1) * kHalf + kHalf + 1, 0);
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

void Histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = 0;
  max_ = 0;
}

std::uint64_t Histogram::upperEdgeOf(std::size_t index) noexcept {
  // Inverse of indexOf(): index = shift * half + (v >> shift) with v >> shift in
  // [half, 2 * half) once shift > 0.
  if (index < 2 * kHalf) return index;
  const std::size_t shift = index / kHalf - 1;
  const std::uint64_t sub = index - shift * kHalf;
  return ((sub + 1) << shift) - 1;
}

std::int64_t Histogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  const auto target =
      std::max<std::uint64_t>(1, static_cast<std::uint64_t>(q * double(count_) + 0.5));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= target)
      return std::min<std::int64_t>(static_cast<std::int64_t>(upperEdgeOf(i)), max_);
  }
  return max_;
}

}  // namespace aerie::bench
