// Recycled message buffers and message states, per thread: with them a server that echoes
// small messages allocates nothing per message once warm (heaptrack, docs/BENCHMARKS.md).
//
// The payload a handler takes with `co_await msg.buffer()` is a std::string it owns; when
// it hands that string back to send()/sendBinary() (the echo shape), the server copies the
// bytes into the frame and keeps the string's storage here for the next message's data.
// Storage is kept by power-of-two capacity class and only handed to a message it fits
// within 4x, so a handler that stores messages does not keep large buffers for small ones;
// at most 8 per class and 128 KiB in all per thread (the churn soak in tests/stress saw a
// 1 MiB bound fill up as RSS growth).
#pragma once

#include <memory>
#include <string>

#include "aerie/core/frame_pool.hpp"
#include "aerie/websocket/message.hpp"

namespace aerie::detail {

/// Keeps `payload`'s storage for a later message (or frees it: too small, too large, or the
/// class is full).
void recyclePayload(std::string&& payload) noexcept;

/// An empty string with room for at least `size` bytes: recycled storage when some fits,
/// otherwise a new reservation.
std::string takePayload(std::size_t size);

/// How many strings this thread's pool holds (tests).
std::size_t pooledPayloads() noexcept;

/// Allocator of the frame pool, for allocate_shared.
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(allocateFrame(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { deallocateFrame(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept {
    return true;
  }
};

/// A message state (with its shared_ptr control block) from the frame pool.
inline std::shared_ptr<ws::detail::MessageState> makeMessageState() {
  return std::allocate_shared<ws::detail::MessageState>(PoolAllocator<ws::detail::MessageState>{});
}

}  // namespace aerie::detail
