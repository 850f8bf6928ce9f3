// WebSocket frame header encoding and decoding (RFC 6455 section 5.2).
//
//  0               1               2               3
//  +-+-+-+-+-------+-+-------------+-------------------------------+
//  |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//  |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//  |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//  | |1|2|3|       |K|             |                               |
//  +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//  |     Extended payload length continued, if payload len == 127  |
//  + - - - - - - - - - - - - - - - +-------------------------------+
//  |                               |Masking-key, if MASK set to 1  |
//  +-------------------------------+-------------------------------+
#pragma once

#include <cstddef>
#include <cstdint>

#include "aerie/protocol/close_code.hpp"
#include "aerie/protocol/error.hpp"
#include "aerie/protocol/mask.hpp"
#include "aerie/protocol/opcode.hpp"

namespace aerie::protocol {

struct FrameHeader {
  bool fin = true;
  bool rsv1 = false;
  bool rsv2 = false;
  bool rsv3 = false;
  Opcode opcode = Opcode::Text;  // a decoded header may hold a reserved value (0x3-0x7, 0xB-0xF)
  bool masked = false;
  MaskKey maskKey{};
  std::uint64_t payloadLength = 0;
};

/// 2 bytes + 8 (64-bit length) + 4 (masking key).
inline constexpr std::size_t kMaxFrameHeaderSize = 14;

/// Largest payload length the 7-bit and the 16-bit length forms can carry.
inline constexpr std::uint64_t kMax7BitLength = 125;
inline constexpr std::uint64_t kMax16BitLength = 0xFFFF;

/// Size of the minimal header encoding for this payload length.
constexpr std::size_t frameHeaderSize(std::uint64_t payloadLength, bool masked) noexcept {
  const std::size_t lengthBytes = payloadLength <= kMax7BitLength    ? 0
                                  : payloadLength <= kMax16BitLength ? 2
                                                                     : 8;
  return 2 + lengthBytes + (masked ? 4 : 0);
}

/// Writes the header in its minimal length form (RFC 6455 5.2: "the minimal number of bytes
/// MUST be used") to `out`, which has room for frameHeaderSize() bytes. Returns that size.
/// payloadLength must be below 2^63; the opcode's low 4 bits are written as they are.
std::size_t encodeFrameHeader(const FrameHeader& header, char* out) noexcept;

enum class DecodeStatus : std::uint8_t { Ok, NeedMore, Error };

struct DecodeResult {
  DecodeStatus status = DecodeStatus::NeedMore;
  std::size_t headerSize = 0;  // with Ok: bytes the header occupies
  ProtocolError error;         // with Error
};

/// Decodes a frame header from the first `size` bytes at `data`. NeedMore when the header
/// is not complete yet (nothing is written to `out` then). Error (1002) only for a 64-bit
/// length with its most significant bit set; every other rule (reserved bits and opcodes,
/// masking, control frame limits) depends on the connection's state and is the parser's job.
///
/// Non-minimal length encodings (e.g. 5 written in the 16-bit form) are accepted: RFC 6455
/// says the sender MUST use the minimal form but names no receiver action, Autobahn does not
/// test it, and major peers accept them; rejecting would only break interoperability with
/// sloppy senders while protecting nothing (the length is still exact and bounded).
inline DecodeResult decodeFrameHeader(const char* data, std::size_t size,
                                      FrameHeader& out) noexcept {
  if (size < 2) return {};
  const auto b0 = static_cast<std::uint8_t>(data[0]);
  const auto b1 = static_cast<std::uint8_t>(data[1]);
  const bool masked = (b1 & 0x80) != 0;
  const std::uint8_t length7 = b1 & 0x7F;
  const std::size_t lengthBytes = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
  const std::size_t headerSize = 2 + lengthBytes + (masked ? 4 : 0);
  if (size < headerSize) return {};

  std::uint64_t length = length7;
  if (lengthBytes != 0) {
    length = 0;
    for (std::size_t i = 0; i < lengthBytes; ++i) {
      length = (length << 8) | static_cast<std::uint8_t>(data[2 + i]);
    }
    if ((length >> 63) != 0) {
      return {DecodeStatus::Error,
              0,
              {close_code::ProtocolError, "64-bit payload length with the high bit set"}};
    }
  }

  out.fin = (b0 & 0x80) != 0;
  out.rsv1 = (b0 & 0x40) != 0;
  out.rsv2 = (b0 & 0x20) != 0;
  out.rsv3 = (b0 & 0x10) != 0;
  out.opcode = static_cast<Opcode>(b0 & 0x0F);
  out.masked = masked;
  out.payloadLength = length;
  if (masked) {
    const char* key = data + 2 + lengthBytes;
    for (std::size_t i = 0; i < 4; ++i)
      out.maskKey[i] = static_cast<std::uint8_t>(key[i]);
  } else {
    out.maskKey = MaskKey{};
  }
  return {DecodeStatus::Ok, headerSize, {}};
}

}  // namespace aerie::protocol
