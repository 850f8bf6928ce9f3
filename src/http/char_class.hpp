// Byte classes of RFC 9110/9112 as 256-entry tables, shared by the parser, the header
// container and the URL helpers. Private to src/http/.
//
// Tables instead of chains of comparisons: one load per byte on the hot path, and the
// rules are written down once, next to their RFC grammar.
#pragma once

#include <array>
#include <cstdint>

namespace aerie::http::detail {

enum CharClass : std::uint8_t {
  kTchar = 1u << 0,       // token = 1*tchar (methods, field names, codings)
  kFieldVchar = 1u << 1,  // field-value bytes: VCHAR / obs-text / SP / HTAB
  kTarget = 1u << 2,      // request-target bytes: VCHAR (0x21-0x7E) only
  kHex = 1u << 3,         // HEXDIG
  kDigit = 1u << 4,       // DIGIT
  kChunkExt = 1u << 5,    // chunk-ext bytes: anything but CTLs (HTAB allowed) and DEL
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
    table[static_cast<std::size_t>(c)] = bits;
  }
  return table;
}

inline constexpr std::array<std::uint8_t, 256> kCharClasses = makeCharClasses();

constexpr bool is(char c, CharClass cls) noexcept {
  return (kCharClasses[static_cast<unsigned char>(c)] & cls) != 0;
}

constexpr bool isOws(char c) noexcept { return c == ' ' || c == '\t'; }

constexpr int hexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char toLower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace aerie::http::detail
