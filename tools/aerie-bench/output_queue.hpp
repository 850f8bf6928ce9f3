// The bytes queued for one connection's send(): a plain growable buffer that frames are
// built in directly (std::string would zero-fill the room first or take a copy), with
// writable slack past what is asked for, so small payloads can be masked in whole words.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace aerie::bench {

class OutputQueue {
 public:
  /// Bytes writable past the end of a prepare()d range.
  static constexpr std::size_t kSlack = 8;

  /// Room for `n` more bytes (and kSlack beyond them) at the end of the queue; they count
  /// once commit()ted.
  char* prepare(std::size_t n) {
    if (capacity_ - size_ < n + kSlack) grow(n + kSlack);
    return data_.get() + size_;
  }
  void commit(std::size_t n) noexcept { size_ += n; }
  void append(std::string_view bytes) {
    std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
    commit(bytes.size());
  }

  /// What send() has not taken yet.
  const char* pending() const noexcept { return data_.get() + head_; }
  std::size_t pendingSize() const noexcept { return size_ - head_; }
  bool empty() const noexcept { return head_ == size_; }
  /// send() took `n` bytes; a drained queue starts again at the front.
  void consume(std::size_t n) noexcept {
    head_ += n;
    if (head_ == size_) head_ = size_ = 0;
  }
  void clear() noexcept { head_ = size_ = 0; }

 private:
  void grow(std::size_t atLeast) {
    // Move what is pending to the front; double the buffer if it is still too small.
    const std::size_t pendingBytes = size_ - head_;
    std::size_t capacity = capacity_;
    if (capacity - pendingBytes < atLeast)
      capacity = std::max({capacity * 2, pendingBytes + atLeast, std::size_t{256}});
    if (capacity == capacity_) {
      std::memmove(data_.get(), data_.get() + head_, pendingBytes);
    } else {
      auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
      if (pendingBytes > 0) std::memcpy(bigger.get(), data_.get() + head_, pendingBytes);
      data_ = std::move(bigger);
      capacity_ = capacity;
    }
    head_ = 0;
    size_ = pendingBytes;
  }

  std::unique_ptr<char[]> data_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace aerie::bench
