// Streaming UTF-8 validation. Two engines cooperate:
//  - an ASCII skipper (SSE2 16/64 bytes a step, AVX2 32/128 bytes a step when the CPU has
//    it, chosen once at run time) for the common all-ASCII stretches;
//  - Per Vognsen's shift-based DFA for everything else: one table load (independent of
//    the state, so it issues early) and one shift per byte, the state being the shift
//    amount. Its critical path is a single shift per byte.
// The DFA works in fixed blocks and hands back to the ASCII skipper whenever it stands on
// a code point boundary, so text with occasional non-ASCII characters stays fast.
#include "aerie/protocol/utf8.hpp"

#include <array>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace aerie::protocol {
namespace {

using Byte = unsigned char;

// ---------------------------------------------------------------------------------------
// Shift DFA. Every state is a multiple of 6 below 64; kShiftTable[b] holds, in bits
// [s, s + 6), the state that follows state s on byte b. kAccept must be 0 because
// Utf8Validator::reset() and the member initialiser in the header write 0.
constexpr std::uint32_t kAccept = 0;
constexpr std::uint32_t kReject = 6;    // absorbing
constexpr std::uint32_t kNeed1 = 12;    // one more continuation byte 80..BF
constexpr std::uint32_t kNeed2 = 18;    // two more
constexpr std::uint32_t kNeed3 = 24;    // three more
constexpr std::uint32_t kAfterE0 = 30;  // needs A0..BF: lower would be an overlong 3-byte form
constexpr std::uint32_t kAfterED = 36;  // needs 80..9F: higher would be a surrogate D800..DFFF
constexpr std::uint32_t kAfterF0 = 42;  // needs 90..BF: lower would be an overlong 4-byte form
constexpr std::uint32_t kAfterF4 = 48;  // needs 80..8F: higher would exceed U+10FFFF

constexpr std::array<std::uint32_t, 9> kStates = {kAccept,  kReject,  kNeed1,   kNeed2,  kNeed3,
                                                  kAfterE0, kAfterED, kAfterF0, kAfterF4};

constexpr bool inRange(unsigned b, unsigned lo, unsigned hi) {
  return b >= lo && b <= hi;
}

// The RFC 3629 (section 4) grammar, one transition at a time.
constexpr std::uint32_t nextState(std::uint32_t state, unsigned b) {
  const bool continuation = inRange(b, 0x80, 0xBF);
  switch (state) {
    case kAccept:
      if (b <= 0x7F) return kAccept;
      if (inRange(b, 0xC2, 0xDF)) return kNeed1;
      if (b == 0xE0) return kAfterE0;
      if (b == 0xED) return kAfterED;
      if (inRange(b, 0xE1, 0xEF)) return kNeed2;
      if (b == 0xF0) return kAfterF0;
      if (inRange(b, 0xF1, 0xF3)) return kNeed3;
      if (b == 0xF4) return kAfterF4;
      return kReject;  // stray continuation, C0/C1 (always overlong), F5..FF (> U+10FFFF)
    case kNeed1:
      return continuation ? kAccept : kReject;
    case kNeed2:
      return continuation ? kNeed1 : kReject;
    case kNeed3:
      return continuation ? kNeed2 : kReject;
    case kAfterE0:
      return inRange(b, 0xA0, 0xBF) ? kNeed1 : kReject;
    case kAfterED:
      return inRange(b, 0x80, 0x9F) ? kNeed1 : kReject;
    case kAfterF0:
      return inRange(b, 0x90, 0xBF) ? kNeed2 : kReject;
    case kAfterF4:
      return inRange(b, 0x80, 0x8F) ? kNeed2 : kReject;
    default:
      return kReject;
  }
}

constexpr std::array<std::uint64_t, 256> makeShiftTable() {
  std::array<std::uint64_t, 256> table{};
  for (unsigned b = 0; b < 256; ++b) {
    for (std::uint32_t s : kStates)
      table[b] |= std::uint64_t{nextState(s, b)} << s;
  }
  return table;
}

constexpr std::array<std::uint64_t, 256> kShiftTable = makeShiftTable();

static_assert(kAfterF4 + 6 <= 64, "all states must fit one 64-bit row");
static_assert(((kShiftTable[0xF4] >> kAccept) & 63) == kAfterF4);
static_assert(((kShiftTable[0x90] >> kAfterF4) & 63) == kReject);
static_assert(((kShiftTable[0x41] >> kReject) & 63) == kReject);

// `s` may carry garbage above bit 5 from the previous row; the shift count is reduced
// modulo 64 (x86 shifts do this in hardware, so the `& 63` costs nothing).
[[gnu::always_inline]] inline std::uint64_t dfaStep(std::uint64_t s, Byte b) noexcept {
  return kShiftTable[b] >> (s & 63);
}

// How many bytes the DFA processes before it looks for ASCII again: long enough to
// amortise the check, short enough to get back to the vector path soon after a run
// of non-ASCII text ends.
constexpr std::ptrdiff_t kDfaBlock = 16;

// ---------------------------------------------------------------------------------------
// ASCII skipping. Contract of the "long" skippers: return the address of the first
// non-ASCII byte, or a position with fewer than 16 bytes left before `end` (everything
// before it being ASCII).
#if defined(__x86_64__)

inline __m128i load16(const Byte* p) noexcept {
  return _mm_loadu_si128(static_cast<const __m128i*>(static_cast<const void*>(p)));
}

inline unsigned highBits16(const Byte* p) noexcept {
  return static_cast<unsigned>(_mm_movemask_epi8(load16(p)));
}

const Byte* skipAsciiSse2(const Byte* p, const Byte* end) noexcept {
  while (end - p >= 64) {
    const __m128i any = _mm_or_si128(_mm_or_si128(load16(p), load16(p + 16)),
                                     _mm_or_si128(load16(p + 32), load16(p + 48)));
    if (_mm_movemask_epi8(any) != 0) break;
    p += 64;
  }
  while (end - p >= 16) {
    const unsigned mask = highBits16(p);
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
  return p;
}

__attribute__((target("avx2"), always_inline)) inline __m256i load32(const Byte* p) noexcept {
  return _mm256_loadu_si256(static_cast<const __m256i*>(static_cast<const void*>(p)));
}

__attribute__((target("avx2"))) const Byte* skipAsciiAvx2(const Byte* p, const Byte* end) noexcept {
  while (end - p >= 128) {
    const __m256i any = _mm256_or_si256(_mm256_or_si256(load32(p), load32(p + 32)),
                                        _mm256_or_si256(load32(p + 64), load32(p + 96)));
    if (_mm256_movemask_epi8(any) != 0) break;
    p += 128;
  }
  while (end - p >= 32) {
    const auto mask = static_cast<unsigned>(_mm256_movemask_epi8(load32(p)));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 32;
  }
  if (end - p >= 16) {
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(load16(p)));
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
  }
  return p;
}

using SkipFn = const Byte* (*)(const Byte*, const Byte*) noexcept;

// AERIE_NO_AVX2=1 in the environment forces the SSE2 kernels: the tests use it to cover
// them on AVX2 machines, benchmarks to compare the two. Read once, at the first call.
bool avx2Disabled() noexcept {
  const char* value = std::getenv("AERIE_NO_AVX2");
  return value != nullptr && value[0] != '\0' && value[0] != '0';
}

SkipFn pickSkipAscii() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && !avx2Disabled() ? skipAsciiAvx2 : skipAsciiSse2;
}

// Only reached after 16 ASCII bytes in a row, so the indirect call is amortised.
const Byte* skipAsciiLong(const Byte* p, const Byte* end) noexcept {
  static const SkipFn skip = pickSkipAscii();
  return skip(p, end);
}

#endif  // __x86_64__

// Returns the address of the first non-ASCII byte in [p, end), or end. `begin` is the
// start of the caller's buffer: bytes in [begin, p) may be read (never judged) so the
// tail can be checked with one overlapping vector load.
inline const Byte* skipAscii(const Byte* begin, const Byte* p, const Byte* end) noexcept {
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
#if defined(__x86_64__)
  if (end - p >= 16) {
    const unsigned mask = highBits16(p);
    if (mask != 0) return p + __builtin_ctz(mask);
    p += 16;
    if (end - p >= 16) {
      p = skipAsciiLong(p, end);
      if (end - p >= 16) return p;  // stopped on a non-ASCII byte
    }
    if (p == end) return end;
  }
  if (end - begin >= 16) {
    const auto left = static_cast<unsigned>(end - p);  // 0..15
    const unsigned mask = highBits16(end - 16) >> (16 - left);
    return mask != 0 ? p + __builtin_ctz(mask) : end;
  }
#else
  (void)begin;
  while (end - p >= 16) {
    std::uint64_t a;
    std::uint64_t b;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    if (((a | b) & kHighBits) != 0) break;
    p += 16;
  }
#endif
  // Short buffers (and the non-x86 tail): a word at a time, then bytes.
  while (end - p >= 8) {
    std::uint64_t a;
    std::memcpy(&a, p, 8);
    if ((a & kHighBits) != 0) break;
    p += 8;
  }
  while (p != end && *p < 0x80)
    ++p;
  return p;
}

// Runs [begin, end) from `state`; returns the state after the last byte, or kReject as
// soon as a block contains an invalid byte (kReject is absorbing, so checking once per
// block is exact).
std::uint32_t validate(std::uint32_t state, const Byte* begin, const Byte* end) noexcept {
  const Byte* p = begin;
  std::uint64_t s = state;
  while (p != end) {
    if (s == kAccept) {
      p = skipAscii(begin, p, end);
      if (p == end) break;
    }
    if (end - p >= kDfaBlock) {
      for (std::ptrdiff_t i = 0; i < kDfaBlock; ++i)
        s = dfaStep(s, p[i]);
      p += kDfaBlock;
    } else {
      do {
        s = dfaStep(s, *p);
      } while (++p != end);
    }
    s &= 63;
    if (s == kReject) break;
  }
  return static_cast<std::uint32_t>(s);
}

const Byte* bytes(const char* data) noexcept {
  return reinterpret_cast<const Byte*>(data);
}

// ---------------------------------------------------------------------------------------
// Reference: Bjoern Hoehrmann's DFA ("Flexible and Economical UTF-8 Decoder", 2010):
// bytes map to 12 character classes, states are multiples of 12, 0 accepts, 12 rejects.
// Two dependent loads per byte and nothing else: the baseline for benchmarks and tests.
// clang-format off
constexpr std::array<std::uint8_t, 256> kRefClass = {
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  // 00..0F
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  // 10..1F
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  // 20..2F
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  // 30..3F
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  // 40..4F
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  // 50..5F
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  // 60..6F
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  // 70..7F
     1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  // 80..8F
     9,  9,  9,  9,  9,  9,  9,  9,  9,  9,  9,  9,  9,  9,  9,  9,  // 90..9F
     7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  // A0..AF
     7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  // B0..BF
     8,  8,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  // C0..CF
     2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  // D0..DF
    10,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  3,  4,  3,  3,  // E0..EF
    11,  6,  6,  6,  5,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  // F0..FF
};
// clang-format on

constexpr std::array<std::uint8_t, 108> kRefTransition = {
    0,  12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72,  // 0: accept
    12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,  // 12: reject
    12, 0,  12, 12, 12, 12, 12, 0,  12, 0,  12, 12,  // 24: one continuation left
    12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12,  // 36: two left
    12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12,  // 48: after E0 (A0..BF)
    12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12,  // 60: after ED (80..9F)
    12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,  // 72: after F0 (90..BF)
    12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,  // 84: after F1..F3
    12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,  // 96: after F4 (80..8F)
};

}  // namespace

bool Utf8Validator::feed(const char* data, std::size_t size) noexcept {
  if (state_ == kReject) return false;
  if (size == 0) return true;
  state_ = validate(state_, bytes(data), bytes(data) + size);
  return state_ != kReject;
}

bool Utf8Validator::isComplete() const noexcept {
  return state_ == kAccept;
}

bool Utf8Validator::failed() const noexcept {
  return state_ == kReject;
}

bool isValidUtf8(std::string_view text) noexcept {
  if (text.empty()) return true;
  return validate(kAccept, bytes(text.data()), bytes(text.data()) + text.size()) == kAccept;
}

bool isValidUtf8Reference(std::string_view text) noexcept {
  std::uint32_t state = 0;
  for (const char c : text)
    state = kRefTransition[state + kRefClass[static_cast<Byte>(c)]];
  return state == 0;
}

}  // namespace aerie::protocol
