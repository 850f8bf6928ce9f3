// Byte classes of RFC 9110/9112 as 256-entry tables, shared by the parser, the header
// container and the URL helpers. Private to src/http/.
//
// Tables instead of chains of comparisons: one load per byte on the hot path, and the
// rules are written down once, next to their RFC grammar.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace aerie::http::detail {

enum CharClass : std::uint8_t {
  kTchar = 1u << 0,       // token = 1*tchar (methods, field names, codings)
  kFieldVchar = 1u << 1,  // field-value bytes: VCHAR / obs-text / SP / HTAB
  kTarget = 1u << 2,      // request-target bytes: VCHAR (0x21-0x7E) only
  kHex = 1u << 3,         // HEXDIG
  kDigit = 1u << 4,       // DIGIT
  kChunkExt = 1u << 5,    // chunk-ext bytes: anything but CTLs (HTAB allowed) and DEL
  kRegName = 1u << 6,     // reg-name bytes (RFC 3986): unreserved / pct-encoded / sub-delims
};

constexpr std::array<std::uint8_t, 256> makeCharClasses() {
  std::array<std::uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t bits = 0;
    const bool vchar = c >= 0x21 && c <= 0x7E;
    const bool obsText = c >= 0x80;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    bool tcharPunct = false;
    for (char p : {'!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~'}) {
      if (c == p) tcharPunct = true;
    }
    if (alpha || digit || tcharPunct) bits |= kTchar;
    if (vchar || obsText || c == ' ' || c == '\t') bits |= kFieldVchar;
    if (vchar) bits |= kTarget;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) bits |= kHex;
    if (digit) bits |= kDigit;
    if (vchar || obsText || c == ' ' || c == '\t') bits |= kChunkExt;
    bool regNamePunct = false;
    for (char p :
         {'-', '.', '_', '~', '%', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '='}) {
      if (c == p) regNamePunct = true;
    }
    if (alpha || digit || regNamePunct) bits |= kRegName;
    table[static_cast<std::size_t>(c)] = bits;
  }
  return table;
}

inline constexpr std::array<std::uint8_t, 256> kCharClasses = makeCharClasses();

constexpr bool is(char c, CharClass cls) noexcept {
  return (kCharClasses[static_cast<unsigned char>(c)] & cls) != 0;
}

constexpr bool isOws(char c) noexcept {
  return c == ' ' || c == '\t';
}

constexpr int hexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char toLower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Word-at-a-time scans for the two long runs of a head: field values and the request
// target. Nearly all their bytes are printable ASCII, which a 64-bit word test accepts
// eight at a time; a word that fails the test (HTAB, obs-text or an invalid byte) is
// decided byte by byte with the table, so the word test only needs to have no false
// negatives. hasByteBelow(x, n) is exact for n <= 128 (no borrow can occur unless some
// byte is below n, and the lowest such byte is always flagged).
namespace swar {
constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHigh = 0x8080808080808080ull;
constexpr std::uint64_t hasByteBelow(std::uint64_t x, std::uint64_t n) noexcept {
  return (x - kOnes * n) & ~x & kHigh;
}
constexpr std::uint64_t hasByte(std::uint64_t x, std::uint64_t b) noexcept {
  return hasByteBelow(x ^ (kOnes * b), 1);
}
inline std::uint64_t load(const char* p) noexcept {
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
}  // namespace swar

/// Every byte is a field-value byte (VCHAR / obs-text / SP / HTAB).
inline bool allFieldVchar(const char* p, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t x = swar::load(p + i);
    if ((swar::hasByteBelow(x, 0x20) | swar::hasByte(x, 0x7F)) == 0) continue;
    for (std::size_t j = i; j < i + 8; ++j) {
      if (!is(p[j], kFieldVchar)) return false;
    }
  }
  for (; i < n; ++i) {
    if (!is(p[i], kFieldVchar)) return false;
  }
  return true;
}

/// Every byte is a request-target byte (VCHAR: 0x21-0x7E).
inline bool allTarget(const char* p, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t x = swar::load(p + i);
    if ((swar::hasByteBelow(x, 0x21) | swar::hasByte(x, 0x7F) | (x & swar::kHigh)) != 0) {
      return false;  // unlike field values, no byte outside the fast set is valid
    }
  }
  for (; i < n; ++i) {
    if (!is(p[i], kTarget)) return false;
  }
  return true;
}

}  // namespace aerie::http::detail
