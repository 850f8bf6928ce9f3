// A worker's sessions by client id: an open-addressing table of pointers (linear probing,
// power-of-two capacity, at most half full), the key read from the session itself.
//
// Why not std::unordered_map: every send() looks its client up, and every client of a
// large, mostly idle server carries an entry. The map's node (32 B with malloc's header)
// plus its bucket cost 40 B per client and a pointer chase and an integer division per
// lookup. Here an entry is one pointer at a load of 3/8 to 3/4 (11-21 B per client), and
// ids, which grow by one per connection in their high bits, fall into consecutive slots
// (ids are the server's, never the peer's): a lookup is a shift, a mask and, almost
// always, one comparison, even at a load that random keys would not allow.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "aerie/websocket/client_id.hpp"

namespace aerie::detail {

/// `Session` has `ClientId id() const`. Single-threaded (one worker's).
template <class Session>
class SessionIndex {
 public:
  /// `idShift`: low bits of an id that do not vary between the ids of this table (the
  /// worker index), dropped before hashing.
  explicit SessionIndex(unsigned idShift = 0) noexcept : shift_(idShift) {}

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t capacity() const noexcept { return mask_ == 0 ? 0 : mask_ + 1; }

  Session* find(ClientId id) const noexcept {
    if (size_ == 0) return nullptr;
    for (std::size_t i = home(id);; i = (i + 1) & mask_) {
      Session* session = slots_[i];
      if (session == nullptr) return nullptr;
      if (session->id() == id) return session;
    }
  }

  /// Adds a session whose id is not in the table yet.
  void insert(Session* session) {
    if ((size_ + 1) * 4 > capacity() * 3) rehash(capacity() == 0 ? kMinCapacity : capacity() * 2);
    place(session);
    ++size_;
  }

  /// Removes the session with this id; false if there is none.
  bool erase(ClientId id) noexcept {
    if (size_ == 0) return false;
    std::size_t hole = home(id);
    while (slots_[hole] == nullptr || slots_[hole]->id() != id) {
      if (slots_[hole] == nullptr) return false;
      hole = (hole + 1) & mask_;
    }
    // Backward-shift deletion: later entries of the probe run move up into the hole when
    // their home slot does not lie (cyclically) between the hole and where they are, so
    // that find() never meets a gap inside a run. No tombstones.
    for (std::size_t i = (hole + 1) & mask_; slots_[i] != nullptr; i = (i + 1) & mask_) {
      const std::size_t want = home(slots_[i]->id());
      const bool stays = hole <= i ? (hole < want && want <= i) : (hole < want || want <= i);
      if (!stays) {
        slots_[hole] = slots_[i];
        hole = i;
      }
    }
    slots_[hole] = nullptr;
    --size_;
    // A burst of connections gone: give half the table back (1/8 full becomes 1/4).
    if (capacity() > kMinCapacity && size_ * 8 < capacity()) shrinkTo(capacity() / 2);
    return true;
  }

  /// Calls f(Session*) for every session; f must not insert or erase.
  template <class F>
  void forEach(F&& f) const {
    for (std::size_t i = 0; i < capacity(); ++i) {
      if (slots_[i] != nullptr) f(slots_[i]);
    }
  }

 private:
  static constexpr std::size_t kMinCapacity = 16;

  std::size_t home(ClientId id) const noexcept {
    return static_cast<std::size_t>(id >> shift_) & mask_;
  }
  void place(Session* session) noexcept {
    std::size_t i = home(session->id());
    while (slots_[i] != nullptr)
      i = (i + 1) & mask_;
    slots_[i] = session;
  }
  void shrinkTo(std::size_t capacity) noexcept {
    try {
      rehash(std::max(capacity, kMinCapacity));
    } catch (...) {
      // Out of memory while shrinking: the larger table still works.
    }
  }
  void rehash(std::size_t capacity) {
    std::unique_ptr<Session*[]> old = std::exchange(slots_, std::make_unique<Session*[]>(capacity));
    const std::size_t oldCapacity = this->capacity();
    mask_ = capacity - 1;
    for (std::size_t i = 0; i < oldCapacity; ++i) {
      if (old[i] != nullptr) place(old[i]);
    }
  }

  std::unique_ptr<Session*[]> slots_;
  std::size_t mask_ = 0;  // capacity - 1, or 0 before the first insert
  std::size_t size_ = 0;
  unsigned shift_;
};

}  // namespace aerie::detail
