#include "aerie/core/frame_pool.hpp"

#include <cstdlib>
#include <new>

namespace aerie::detail {
namespace {

constexpr std::size_t kGranule = 64;
constexpr std::size_t kClasses = 32;             // frames up to 2 KiB are pooled
constexpr std::size_t kMaxCachedPerClass = 256;  // bounds the memory a burst leaves behind

struct FreeNode {
  FreeNode* next;
};

struct FreeLists {
  FreeNode* heads[kClasses] = {};
  std::size_t counts[kClasses] = {};

  ~FreeLists() {
    for (auto*& head : heads) {
      while (head != nullptr) {
        FreeNode* next = head->next;
        std::free(head);
        head = next;
      }
    }
  }
};

thread_local FreeLists freeLists;

constexpr std::size_t classOf(std::size_t size) {
  return (size + kGranule - 1) / kGranule - 1;
}

}  // namespace

void* allocateFrame(std::size_t size) {
  const std::size_t cls = classOf(size);
  if (cls < kClasses) {
    if (FreeNode* node = freeLists.heads[cls]) {
      freeLists.heads[cls] = node->next;
      --freeLists.counts[cls];
      return node;
    }
    size = (cls + 1) * kGranule;
  }
  if (void* p = std::malloc(size)) return p;
  throw std::bad_alloc();
}

void deallocateFrame(void* frame, std::size_t size) noexcept {
  const std::size_t cls = classOf(size);
  if (cls < kClasses && freeLists.counts[cls] < kMaxCachedPerClass) {
    auto* node = static_cast<FreeNode*>(frame);
    node->next = freeLists.heads[cls];
    freeLists.heads[cls] = node;
    ++freeLists.counts[cls];
    return;
  }
  std::free(frame);
}

}  // namespace aerie::detail
