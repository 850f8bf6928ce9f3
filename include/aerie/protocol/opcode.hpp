// WebSocket opcodes (RFC 6455 section 5.2) and their classification.
#pragma once

#include <cstdint>

namespace aerie::protocol {

enum class Opcode : std::uint8_t {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xA,
};

/// Control frames have the high bit of the 4-bit opcode set (0x8-0xF).
constexpr bool isControl(Opcode op) noexcept {
  return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}

/// Opcodes RFC 6455 defines; 0x3-0x7 and 0xB-0xF are reserved.
constexpr bool isKnownOpcode(std::uint8_t op) noexcept {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

}  // namespace aerie::protocol
