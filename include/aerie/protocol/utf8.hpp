// Streaming UTF-8 validation (RFC 3629 as RFC 6455 section 8.1 requires).
//
// Text messages arrive in fragments and reads that split code points anywhere; the
// validator keeps the state of an unfinished sequence between feed() calls and fails
// fast: feed() returns false as soon as a byte can no longer start or continue a valid
// sequence (overlong forms, UTF-16 surrogates, code points above U+10FFFF, stray
// continuation bytes), not at the end of the message.
//
// Speed: ASCII stretches are checked 16 bytes (SSE2) or 128 bytes (AVX2, chosen at run
// time) at a time, everything else by a shift-based DFA at about one byte per cycle.
// Setting AERIE_NO_AVX2=1 in the environment (read once) forces the SSE2 path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace aerie::protocol {

class Utf8Validator {
 public:
  /// Validates the next bytes of the stream. Returns false once the stream is invalid
  /// (and keeps returning false until reset()).
  bool feed(const char* data, std::size_t size) noexcept;
  bool feed(std::string_view chunk) noexcept { return feed(chunk.data(), chunk.size()); }

  /// True when everything fed so far is valid and ends on a code point boundary:
  /// call it when the message is complete.
  bool isComplete() const noexcept;

  /// True once an invalid byte was seen.
  bool failed() const noexcept;

  void reset() noexcept { state_ = 0; }

 private:
  std::uint32_t state_ = 0;  // implementation-defined DFA state; 0 = at a boundary
};

/// Validates a complete string.
bool isValidUtf8(std::string_view text) noexcept;

/// Byte-at-a-time DFA validation with no fast paths: the baseline the micro-benchmarks
/// compare against, and a reference for the tests.
bool isValidUtf8Reference(std::string_view text) noexcept;

}  // namespace aerie::protocol
