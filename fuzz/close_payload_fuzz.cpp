// libFuzzer target for close frame payloads (protocol/close_code.hpp).
//
// The input is one close payload. parseClosePayload() and closeErrorFor() are compared with
// a reference written straight from RFC 6455 (5.5: at most 125 bytes; 5.5.1: empty, or a
// 2-byte code and a UTF-8 reason; 7.4.1/7.4.2: which codes may appear on the wire; RFC 3629
// for UTF-8, decoded code point by code point here instead of by the library's DFA).
// Every accepted payload must round-trip through encodeClosePayload(), and encoding any
// code and reason must give at most 125 bytes with a reason that is a UTF-8-boundary prefix.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "aerie/protocol/close_code.hpp"

#define FUZZ_CHECK(condition)           \
  do {                                  \
    if (!(condition)) __builtin_trap(); \
  } while (0)

namespace {

using namespace aerie::protocol;

// RFC 6455 7.4.1 (defined codes) and 7.4.2 (ranges), with IANA's registrations
// 1012-1014. 1004 is reserved; 1005, 1006 and 1015 must never be sent.
bool referenceCodeValid(unsigned code) {
  if (code < 1000) return false;
  if (code <= 2999) {
    switch (code) {
      case 1000:
      case 1001:
      case 1002:
      case 1003:
      case 1007:
      case 1008:
      case 1009:
      case 1010:
      case 1011:
      case 1012:
      case 1013:
      case 1014:
        return true;
      default:
        return false;
    }
  }
  return code <= 4999;
}

// RFC 3629: decode each code point; reject overlongs, surrogates, > U+10FFFF, truncation.
bool referenceUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<std::uint8_t>(text[i]);
    std::size_t length;
    std::uint32_t cp;
    if (b0 < 0x80) {
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      length = 2;
      cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
      length = 3;
      cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
      length = 4;
      cp = b0 & 0x07;
    } else {
      return false;
    }
    if (text.size() - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto b = static_cast<std::uint8_t>(text[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

struct Reference {
  bool accepted;
  std::uint16_t error;  // 1000 when accepted
};

Reference reference(std::string_view payload) {
  if (payload.empty()) return {true, close_code::Normal};
  if (payload.size() == 1 || payload.size() > 125) return {false, close_code::ProtocolError};
  const unsigned code = (static_cast<unsigned>(static_cast<std::uint8_t>(payload[0])) << 8) |
                        static_cast<std::uint8_t>(payload[1]);
  if (!referenceCodeValid(code)) return {false, close_code::ProtocolError};
  if (!referenceUtf8(payload.substr(2))) return {false, close_code::InvalidPayload};
  return {true, close_code::Normal};
}

void checkEncode(std::uint16_t code, std::string_view reason) {
  const std::string encoded = encodeClosePayload(code, reason);
  if (code == close_code::NoStatus) {
    FUZZ_CHECK(encoded.empty());
    return;
  }
  FUZZ_CHECK(encoded.size() >= 2 && encoded.size() <= 125);
  FUZZ_CHECK((static_cast<std::uint8_t>(encoded[0]) << 8 | static_cast<std::uint8_t>(encoded[1])) ==
             code);
  const std::string_view kept = std::string_view(encoded).substr(2);
  FUZZ_CHECK(reason.substr(0, kept.size()) == kept);
  if (reason.size() <= 123) {
    FUZZ_CHECK(kept.size() == reason.size());
  } else {
    // Truncated at a code point boundary: a valid reason stays valid, and at most 3 bytes
    // of a 4-byte sequence are dropped below the 123-byte cap.
    FUZZ_CHECK(kept.size() <= 123);
    if (referenceUtf8(reason)) FUZZ_CHECK(referenceUtf8(kept) && kept.size() + 3 >= 123);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size heap copy so ASan sees any read past the payload.
  char* copy = static_cast<char*>(std::malloc(size == 0 ? 1 : size));
  FUZZ_CHECK(copy != nullptr);
  if (size != 0) std::memcpy(copy, data, size);
  const std::span<const char> payload(copy, size);
  const std::string_view text(copy, size);

  const Reference expected = reference(text);
  const std::optional<ClosePayload> parsed = parseClosePayload(payload);
  FUZZ_CHECK(parsed.has_value() == expected.accepted);
  FUZZ_CHECK(closeErrorFor(payload) == expected.error);
  if (parsed) {
    if (size == 0) {
      FUZZ_CHECK(parsed->code == close_code::NoStatus && parsed->reason.empty());
    } else {
      FUZZ_CHECK(isValidCloseCodeOnWire(parsed->code) && referenceCodeValid(parsed->code));
      FUZZ_CHECK(parsed->reason.data() == copy + 2 && parsed->reason.size() == size - 2);
      FUZZ_CHECK(referenceUtf8(parsed->reason));
      // An accepted payload is echoed back: encoding it again must give the same bytes.
      FUZZ_CHECK(encodeClosePayload(parsed->code, parsed->reason) == text);
    }
  }

  // The library's code check, over the whole 16-bit range the first two bytes select.
  if (size >= 2) {
    const auto code = static_cast<std::uint16_t>(static_cast<std::uint8_t>(copy[0]) << 8 |
                                                 static_cast<std::uint8_t>(copy[1]));
    FUZZ_CHECK(isValidCloseCodeOnWire(code) == referenceCodeValid(code));
    checkEncode(code, text.substr(2));
  }
  std::free(copy);
  return 0;
}
