#include "aerie/protocol/sha1.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace aerie::protocol {

Sha1& Sha1::update(std::string_view bytes) noexcept {
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  std::size_t size = bytes.size();
  totalBytes_ += size;
  if (blockUsed_ != 0) {
    const std::size_t take = std::min(size, block_.size() - blockUsed_);
    std::memcpy(block_.data() + blockUsed_, data, take);
    blockUsed_ += take;
    data += take;
    size -= take;
    if (blockUsed_ < block_.size()) return *this;
    compress(block_.data());
    blockUsed_ = 0;
  }
  for (; size >= block_.size(); data += block_.size(), size -= block_.size())
    compress(data);
  std::memcpy(block_.data(), data, size);
  blockUsed_ = size;
  return *this;
}

Sha1::Digest Sha1::finish() noexcept {
  const std::uint64_t bits = totalBytes_ * 8;
  // Padding: 0x80, zeros up to 56 mod 64, then the length in bits, big-endian.
  block_[blockUsed_++] = 0x80;
  if (blockUsed_ > 56) {
    std::memset(block_.data() + blockUsed_, 0, block_.size() - blockUsed_);
    compress(block_.data());
    blockUsed_ = 0;
  }
  std::memset(block_.data() + blockUsed_, 0, 56 - blockUsed_);
  for (int i = 0; i < 8; ++i)
    block_[56 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  compress(block_.data());
  Digest digest;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    for (int b = 0; b < 4; ++b)
      digest[4 * i + b] = static_cast<std::uint8_t>(state_[i] >> (24 - 8 * b));
  }
  return digest;
}

void Sha1::compress(const std::uint8_t* block) noexcept {
  std::uint32_t w[80];
  for (int i = 0; i < 16; ++i) {
    w[i] = (std::uint32_t{block[4 * i]} << 24) | (std::uint32_t{block[4 * i + 1]} << 16) |
           (std::uint32_t{block[4 * i + 2]} << 8) | std::uint32_t{block[4 * i + 3]};
  }
  for (int i = 16; i < 80; ++i)
    w[i] = std::rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  std::uint32_t a = state_[0], b = state_[1], c = state_[2], d = state_[3], e = state_[4];
  for (int i = 0; i < 80; ++i) {
    std::uint32_t f;
    std::uint32_t k;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999u;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1u;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDCu;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6u;
    }
    const std::uint32_t t = std::rotl(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = std::rotl(b, 30);
    b = a;
    a = t;
  }
  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
}

}  // namespace aerie::protocol
