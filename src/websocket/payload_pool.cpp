#include "websocket/payload_pool.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <vector>

namespace aerie::detail {
namespace {

constexpr std::size_t kSmallestClass = 5;  // 32 B: below, std::string's inline buffer serves
constexpr std::size_t kLargestClass = 16;  // 64 KiB
constexpr std::size_t kPerClass = 8;
// What the pool may hold per thread in all: it is memory a quiet server keeps, and a churn
// of varied message sizes would otherwise fill every class (up to 8 x 128 KiB).
constexpr std::size_t kBudget = 128 * 1024;

struct Pool {
  std::array<std::vector<std::string>, kLargestClass + 1> classes;
  std::size_t bytes = 0;  // capacity held
};

thread_local Pool pool;

}  // namespace

void recyclePayload(std::string&& payload) noexcept {
  const std::size_t capacity = payload.capacity();
  if (capacity < (std::size_t{1} << kSmallestClass)) return;
  const std::size_t cls = std::bit_width(capacity) - 1;  // 2^cls <= capacity < 2^(cls+1)
  if (cls > kLargestClass) return;
  auto& list = pool.classes[cls];
  if (list.size() >= kPerClass || pool.bytes + capacity > kBudget) return;
  if (list.capacity() == 0) {
    try {
      list.reserve(kPerClass);
    } catch (...) {
      return;
    }
  }
  payload.clear();
  pool.bytes += capacity;
  list.push_back(std::move(payload));  // no allocation: reserved above
}

std::string takePayload(std::size_t size) {
  std::string out;
  if (size < (std::size_t{1} << 4) || size > (std::size_t{1} << kLargestClass)) {
    out.reserve(size);  // fits inline, or too large to keep
    return out;
  }
  // The class whose every string holds `size`: capacities from 2^cls >= size to below
  // 2^(cls+1) <= 4 x size. A new string gets exactly 2^cls, so it comes back to this class.
  const std::size_t cls = std::max<std::size_t>(std::bit_width(size - 1), kSmallestClass);
  if (!pool.classes[cls].empty()) {
    out = std::move(pool.classes[cls].back());
    pool.classes[cls].pop_back();
    pool.bytes -= out.capacity();
    return out;
  }
  out.reserve(std::size_t{1} << cls);
  return out;
}

std::size_t pooledPayloads() noexcept {
  std::size_t count = 0;
  for (const auto& list : pool.classes)
    count += list.size();
  return count;
}

}  // namespace aerie::detail
