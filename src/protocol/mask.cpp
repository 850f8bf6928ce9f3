// RFC 6455 section 5.3 masking, a word or vector at a time.
//
// The key is rotated once for the starting offset and widened to 8 bytes; since every
// step below covers a multiple of 4 bytes, the widened key stays in phase with the data
// for the whole call. Long buffers first mask a few head bytes one at a time so the
// destination is 32-byte aligned (wide stores then never straddle a cache line), and
// then run an AVX2 kernel (chosen once at run time) or the SSE2 baseline.
#include "aerie/protocol/mask.hpp"

#include <bit>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace aerie::protocol {
namespace {

using Byte = unsigned char;

struct RotatedKey {
  std::uint64_t word = 0;  // key bytes offset, offset+1, ... (mod 4) in memory order, twice
  Byte bytes[4] = {};      // the same four bytes, for the tail
};

inline RotatedKey rotateKey(MaskKey key, std::size_t offset) noexcept {
  // Rotating the key as a 32-bit word moves key byte `offset` to the lowest address;
  // the direction depends on byte order.
  std::uint32_t word;
  std::memcpy(&word, key.data(), 4);
  const auto shift = static_cast<int>(8 * (offset & 3));
  if constexpr (std::endian::native == std::endian::little) {
    word = std::rotr(word, shift);
  } else {
    word = std::rotl(word, shift);
  }
  RotatedKey rotated;
  rotated.word = (std::uint64_t{word} << 32) | word;
  std::memcpy(rotated.bytes, &word, 4);
  return rotated;
}

// Below this size the alignment head and the wide kernel's call are not worth it.
constexpr std::size_t kWideThreshold = 128;

#if defined(__x86_64__)

inline __m128i load16(const Byte* p) noexcept {
  return _mm_loadu_si128(static_cast<const __m128i*>(static_cast<const void*>(p)));
}

inline void store16(Byte* p, __m128i v) noexcept {
  _mm_storeu_si128(static_cast<__m128i*>(static_cast<void*>(p)), v);
}

// Kernels mask the largest multiple of their step that fits in n and return it; `out`
// equals `in` (in place) or does not overlap it.
std::size_t maskSse2(Byte* out, const Byte* in, std::size_t n, std::uint64_t key) noexcept {
  const __m128i k = _mm_set1_epi64x(static_cast<long long>(key));
  std::size_t i = 0;
  for (; n - i >= 64; i += 64) {
    const __m128i a = load16(in + i);
    const __m128i b = load16(in + i + 16);
    const __m128i c = load16(in + i + 32);
    const __m128i d = load16(in + i + 48);
    store16(out + i, _mm_xor_si128(a, k));
    store16(out + i + 16, _mm_xor_si128(b, k));
    store16(out + i + 32, _mm_xor_si128(c, k));
    store16(out + i + 48, _mm_xor_si128(d, k));
  }
  for (; n - i >= 16; i += 16)
    store16(out + i, _mm_xor_si128(load16(in + i), k));
  return i;
}

__attribute__((target("avx2"), always_inline)) inline __m256i load32(const Byte* p) noexcept {
  return _mm256_loadu_si256(static_cast<const __m256i*>(static_cast<const void*>(p)));
}

__attribute__((target("avx2"), always_inline)) inline void store32(Byte* p, __m256i v) noexcept {
  _mm256_storeu_si256(static_cast<__m256i*>(static_cast<void*>(p)), v);
}

__attribute__((target("avx2"))) std::size_t maskAvx2(Byte* out, const Byte* in, std::size_t n,
                                                     std::uint64_t key) noexcept {
  const __m256i k = _mm256_set1_epi64x(static_cast<long long>(key));
  std::size_t i = 0;
  for (; n - i >= 128; i += 128) {
    const __m256i a = load32(in + i);
    const __m256i b = load32(in + i + 32);
    const __m256i c = load32(in + i + 64);
    const __m256i d = load32(in + i + 96);
    store32(out + i, _mm256_xor_si256(a, k));
    store32(out + i + 32, _mm256_xor_si256(b, k));
    store32(out + i + 64, _mm256_xor_si256(c, k));
    store32(out + i + 96, _mm256_xor_si256(d, k));
  }
  for (; n - i >= 32; i += 32)
    store32(out + i, _mm256_xor_si256(load32(in + i), k));
  return i;
}

using KernelFn = std::size_t (*)(Byte*, const Byte*, std::size_t, std::uint64_t) noexcept;

// AERIE_NO_AVX2=1 in the environment forces the SSE2 kernels: the tests use it to cover
// them on AVX2 machines, benchmarks to compare the two. Read once, at the first call.
bool avx2Disabled() noexcept {
  const char* value = std::getenv("AERIE_NO_AVX2");
  return value != nullptr && value[0] != '\0' && value[0] != '0';
}

KernelFn pickKernel() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && !avx2Disabled() ? maskAvx2 : maskSse2;
}

std::size_t maskWide(Byte* out, const Byte* in, std::size_t n, std::uint64_t key) noexcept {
  static const KernelFn kernel = pickKernel();
  return kernel(out, in, n, key);
}

#endif  // __x86_64__

// Masks n bytes whose first byte is in phase 0 of `k`: 16-, 8- and 4-byte steps keep the
// phase, so only the last 0..3 bytes go one at a time. Used for short inputs, for the
// alignment head and for what the wide kernel leaves over.
inline void maskShort(Byte* out, const Byte* in, std::size_t n, const RotatedKey& k) noexcept {
  const auto mask8 = [&k](Byte* to, const Byte* from) {
    std::uint64_t word;
    std::memcpy(&word, from, 8);
    word ^= k.word;
    std::memcpy(to, &word, 8);
  };
  std::size_t i = 0;
#if defined(__x86_64__)
  if (n >= 16) {
    const __m128i kv = _mm_set1_epi64x(static_cast<long long>(k.word));
    for (; n - i >= 16; i += 16)
      store16(out + i, _mm_xor_si128(load16(in + i), kv));
  }
  if (n - i >= 8) {  // fewer than 16 left: no loop, so the compiler does not vectorise it
    mask8(out + i, in + i);
    i += 8;
  }
#else
  for (; n - i >= 8; i += 8)
    mask8(out + i, in + i);
#endif
  if (n - i >= 4) {
    std::uint32_t word;
    std::uint32_t key;
    std::memcpy(&word, in + i, 4);
    std::memcpy(&key, k.bytes, 4);
    word ^= key;
    std::memcpy(out + i, &word, 4);
    i += 4;
  }
  for (; i < n; ++i)
    out[i] = in[i] ^ k.bytes[i & 3];
}

std::size_t maskBytes(Byte* out, const Byte* in, std::size_t size, MaskKey key,
                      std::size_t offset) noexcept {
  const std::size_t next = (offset + size) & 3;
  if (size < kWideThreshold) {
    maskShort(out, in, size, rotateKey(key, offset));
    return next;
  }
  // Head: up to 31 bytes to bring `out` to a 32-byte boundary. Its first head % 4 bytes
  // go one at a time; from there on the data is in phase with a key rotated once.
  auto head = static_cast<std::size_t>(-reinterpret_cast<std::uintptr_t>(out) & 31);
  for (std::size_t i = 0; i < (head & 3); ++i)
    out[i] = in[i] ^ key[(offset + i) & 3];
  const RotatedKey k = rotateKey(key, offset + (head & 3));
  maskShort(out + (head & 3), in + (head & 3), head & ~std::size_t{3}, k);
  out += head;
  in += head;
  size -= head;
  std::size_t done = 0;
#if defined(__x86_64__)
  done = maskWide(out, in, size, k.word);
#endif
  maskShort(out + done, in + done, size - done, k);
  return next;
}

}  // namespace

std::size_t applyMask(char* data, std::size_t size, MaskKey key, std::size_t offset) noexcept {
  Byte* p = reinterpret_cast<Byte*>(data);
  return maskBytes(p, p, size, key, offset);
}

std::size_t applyMaskCopy(char* out, const char* in, std::size_t size, MaskKey key,
                          std::size_t offset) noexcept {
  return maskBytes(reinterpret_cast<Byte*>(out), reinterpret_cast<const Byte*>(in), size, key,
                   offset);
}

}  // namespace aerie::protocol
