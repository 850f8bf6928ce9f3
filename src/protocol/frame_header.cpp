#include "aerie/protocol/frame_header.hpp"

namespace aerie::protocol {

std::size_t encodeFrameHeader(const FrameHeader& header, char* out) noexcept {
  auto* p = reinterpret_cast<unsigned char*>(out);
  p[0] = static_cast<unsigned char>((header.fin ? 0x80 : 0) | (header.rsv1 ? 0x40 : 0) |
                                    (header.rsv2 ? 0x20 : 0) | (header.rsv3 ? 0x10 : 0) |
                                    (static_cast<std::uint8_t>(header.opcode) & 0x0F));
  const unsigned char maskBit = header.masked ? 0x80 : 0;
  const std::uint64_t length = header.payloadLength;
  std::size_t pos = 2;
  if (length <= kMax7BitLength) {
    p[1] = static_cast<unsigned char>(maskBit | length);
  } else if (length <= kMax16BitLength) {
    p[1] = maskBit | 126;
    p[2] = static_cast<unsigned char>(length >> 8);
    p[3] = static_cast<unsigned char>(length);
    pos = 4;
  } else {
    p[1] = maskBit | 127;
    for (std::size_t i = 0; i < 8; ++i) {
      p[2 + i] = static_cast<unsigned char>(length >> (8 * (7 - i)));
    }
    pos = 10;
  }
  if (header.masked) {
    for (std::size_t i = 0; i < 4; ++i)
      p[pos + i] = header.maskKey[i];
    pos += 4;
  }
  return pos;
}

}  // namespace aerie::protocol
