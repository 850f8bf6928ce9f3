// Masking (RFC 6455 section 5.3): the RFC's own example, then every size and offset
// against a byte-at-a-time reference, unaligned buffers, chunked use and the copy form.
#include "aerie/protocol/mask.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace aerie::protocol {
namespace {

using Bytes = std::vector<std::uint8_t>;

// payload[i] ^= key[(offset + i) % 4], literally.
void referenceMask(std::uint8_t* data, std::size_t size, MaskKey key, std::size_t offset) {
  for (std::size_t i = 0; i < size; ++i)
    data[i] ^= key[(offset + i) % 4];
}

char* chars(std::uint8_t* p) {
  return reinterpret_cast<char*>(p);
}
const char* chars(const std::uint8_t* p) {
  return reinterpret_cast<const char*>(p);
}

Bytes randomBytes(std::mt19937& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b)
    x = static_cast<std::uint8_t>(rng());
  return b;
}

constexpr MaskKey kKey = {0x37, 0xFA, 0x21, 0x3D};

TEST(Mask, Rfc6455MaskedHelloExample) {
  // RFC 6455 section 5.7: "A single-frame masked text message" 0x81 0x85 0x37 0xfa 0x21
  // 0x3d 0x7f 0x9f 0x4d 0x51 0x58 contains "Hello".
  std::string payload = "Hello";
  EXPECT_EQ(applyMask(payload.data(), payload.size(), kKey), 5u % 4);
  EXPECT_EQ(payload, "\x7f\x9f\x4d\x51\x58");
  applyMask(payload.data(), payload.size(), kKey);
  EXPECT_EQ(payload, "Hello");

  char out[5];
  EXPECT_EQ(applyMaskCopy(out, "Hello", 5, kKey), 1u);
  EXPECT_EQ(std::string(out, 5), "\x7f\x9f\x4d\x51\x58");
}

TEST(Mask, EverySizeAndOffsetMatchesReference) {
  std::mt19937 rng(1);
  const MaskKey key = {0x01, 0x80, 0xFE, 0x5A};
  for (std::size_t size = 0; size <= 130; ++size) {
    for (std::size_t offset = 0; offset < 8; ++offset) {  // offsets >= 4 wrap like % 4
      const Bytes original = randomBytes(rng, size);
      Bytes expected = original;
      referenceMask(expected.data(), size, key, offset);

      Bytes inPlace = original;
      EXPECT_EQ(applyMask(chars(inPlace.data()), size, key, offset), (offset + size) % 4);
      ASSERT_EQ(inPlace, expected) << "size " << size << " offset " << offset;

      Bytes copied(size);
      EXPECT_EQ(applyMaskCopy(chars(copied.data()), chars(original.data()), size, key, offset),
                (offset + size) % 4);
      ASSERT_EQ(copied, expected) << "copy, size " << size << " offset " << offset;
    }
  }
}

// The wide kernels align the destination first; every misalignment of source and
// destination (and sizes around the kernel steps) must give the reference result, and
// bytes outside the range must stay untouched.
::testing::AssertionResult checkLargeBuffersAtEveryAlignment() {
  std::mt19937 rng(2);
  std::vector<std::uint8_t> src(4096 + 128);
  std::vector<std::uint8_t> dst(4096 + 128);
  for (const std::size_t size : {127u, 128u, 129u, 255u, 1000u, 4096u}) {
    for (std::size_t dstAlign = 0; dstAlign < 33; ++dstAlign) {
      const std::size_t srcAlign = (dstAlign * 7) % 32;
      const std::size_t offset = dstAlign % 4;
      for (auto& x : src)
        x = static_cast<std::uint8_t>(rng());
      std::fill(dst.begin(), dst.end(), std::uint8_t{0xAA});
      Bytes expected(src.begin() + static_cast<std::ptrdiff_t>(srcAlign),
                     src.begin() + static_cast<std::ptrdiff_t>(srcAlign + size));
      referenceMask(expected.data(), size, kKey, offset);

      applyMaskCopy(chars(dst.data() + dstAlign), chars(src.data() + srcAlign), size, kKey, offset);
      if (!std::equal(expected.begin(), expected.end(),
                      dst.begin() + static_cast<std::ptrdiff_t>(dstAlign)))
        return ::testing::AssertionFailure() << "copy size " << size << " align " << dstAlign;
      for (std::size_t i = 0; i < dst.size(); ++i) {
        if ((i < dstAlign || i >= dstAlign + size) && dst[i] != 0xAA)
          return ::testing::AssertionFailure() << "copy wrote outside, byte " << i;
      }

      applyMask(chars(src.data() + srcAlign), size, kKey, offset);
      if (!std::equal(expected.begin(), expected.end(),
                      src.begin() + static_cast<std::ptrdiff_t>(srcAlign)))
        return ::testing::AssertionFailure() << "in place size " << size << " align " << srcAlign;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(Mask, LargeBuffersAtEveryAlignment) {
  EXPECT_TRUE(checkLargeBuffersAtEveryAlignment());
}

TEST(Mask, ChunkedEqualsOneShot) {
  std::mt19937 rng(3);
  for (int iter = 0; iter < 200; ++iter) {
    const std::size_t size = rng() % 600;
    const Bytes original = randomBytes(rng, size);
    const std::size_t startOffset = rng() % 4;
    Bytes oneShot = original;
    applyMask(chars(oneShot.data()), size, kKey, startOffset);

    Bytes chunked = original;
    Bytes copied(size);
    std::size_t offset = startOffset;
    std::size_t copyOffset = startOffset;
    for (std::size_t pos = 0; pos < size;) {
      const std::size_t len =
          std::min<std::size_t>(size - pos, rng() % 3 == 0 ? rng() % 5 : rng() % 200);
      offset = applyMask(chars(chunked.data() + pos), len, kKey, offset);
      copyOffset = applyMaskCopy(chars(copied.data() + pos), chars(original.data() + pos), len,
                                 kKey, copyOffset);
      pos += len;
    }
    ASSERT_EQ(chunked, oneShot) << "iteration " << iter;
    ASSERT_EQ(copied, oneShot) << "iteration " << iter;
    EXPECT_EQ(offset, (startOffset + size) % 4);
  }
}

TEST(Mask, CopyEqualsCopyThenMaskAndTwiceIsIdentity) {
  std::mt19937 rng(4);
  for (const std::size_t size : {0u, 1u, 3u, 7u, 8u, 15u, 16u, 31u, 33u, 64u, 200u, 70000u}) {
    const MaskKey key = {static_cast<std::uint8_t>(rng()), static_cast<std::uint8_t>(rng()),
                         static_cast<std::uint8_t>(rng()), static_cast<std::uint8_t>(rng())};
    const Bytes original = randomBytes(rng, size);
    for (std::size_t offset = 0; offset < 4; ++offset) {
      Bytes viaCopy(size);
      applyMaskCopy(chars(viaCopy.data()), chars(original.data()), size, key, offset);
      Bytes viaInPlace = original;
      applyMask(chars(viaInPlace.data()), size, key, offset);
      ASSERT_EQ(viaCopy, viaInPlace) << size;
      if (size >= 4) {
        ASSERT_NE(viaCopy, original) << size;  // some key byte is non-zero
      }

      applyMask(chars(viaInPlace.data()), size, key, offset);
      ASSERT_EQ(viaInPlace, original) << "twice, size " << size;
    }
  }
}

TEST(Mask, CopyMayTargetItsOwnSource) {
  // Full overlap (out == in) is allowed: it is how applyMask is built on the same kernel.
  std::mt19937 rng(5);
  Bytes data = randomBytes(rng, 300);
  Bytes expected = data;
  referenceMask(expected.data(), expected.size(), kKey, 2);
  applyMaskCopy(chars(data.data()), chars(data.data()), data.size(), kKey, 2);
  EXPECT_EQ(data, expected);
}

TEST(Mask, ZeroKeyIsIdentityAndEmptyIsANoOp) {
  std::string s = "unchanged";
  EXPECT_EQ(applyMask(s.data(), s.size(), MaskKey{0, 0, 0, 0}, 0), s.size() % 4);
  EXPECT_EQ(s, "unchanged");
  EXPECT_EQ(applyMask(nullptr, 0, kKey, 3), 3u);
  EXPECT_EQ(applyMaskCopy(nullptr, nullptr, 0, kKey, 2), 2u);
}

#if defined(__x86_64__)
// The SSE2 kernel only runs where AVX2 is missing or disabled, and the choice is made once
// per process: check it in a fresh child started with AERIE_NO_AVX2.
TEST(MaskSse2DeathTest, Sse2KernelMatchesTheReference) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // re-executes: kernel not yet chosen
  EXPECT_EXIT(
      {
        setenv("AERIE_NO_AVX2", "1", 1);
        std::exit(checkLargeBuffersAtEveryAlignment() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}
#endif

}  // namespace
}  // namespace aerie::protocol
