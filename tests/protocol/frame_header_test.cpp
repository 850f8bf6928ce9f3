#include "aerie/protocol/frame_header.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace aerie::protocol {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values)
    out.push_back(static_cast<char>(v));
  return out;
}

std::string encode(const FrameHeader& h) {
  char buffer[kMaxFrameHeaderSize + 2];
  std::fill(std::begin(buffer), std::end(buffer), '\xAA');
  const std::size_t n = encodeFrameHeader(h, buffer);
  EXPECT_EQ(n, frameHeaderSize(h.payloadLength, h.masked));
  EXPECT_EQ(buffer[n], '\xAA') << "wrote past the header";
  return std::string(buffer, n);
}

void expectSame(const FrameHeader& a, const FrameHeader& b) {
  EXPECT_EQ(a.fin, b.fin);
  EXPECT_EQ(a.rsv1, b.rsv1);
  EXPECT_EQ(a.rsv2, b.rsv2);
  EXPECT_EQ(a.rsv3, b.rsv3);
  EXPECT_EQ(a.opcode, b.opcode);
  EXPECT_EQ(a.masked, b.masked);
  if (a.masked) {
    EXPECT_EQ(a.maskKey, b.maskKey);
  }
  EXPECT_EQ(a.payloadLength, b.payloadLength);
}

TEST(FrameHeader, SizeUsesTheMinimalLengthForm) {
  EXPECT_EQ(frameHeaderSize(0, false), 2u);
  EXPECT_EQ(frameHeaderSize(125, false), 2u);
  EXPECT_EQ(frameHeaderSize(126, false), 4u);
  EXPECT_EQ(frameHeaderSize(65535, false), 4u);
  EXPECT_EQ(frameHeaderSize(65536, false), 10u);
  EXPECT_EQ(frameHeaderSize((1ull << 63) - 1, false), 10u);
  EXPECT_EQ(frameHeaderSize(0, true), 6u);
  EXPECT_EQ(frameHeaderSize(126, true), 8u);
  EXPECT_EQ(frameHeaderSize(65536, true), 14u);
  EXPECT_EQ(kMaxFrameHeaderSize, 14u);
}

TEST(FrameHeader, EncodesRfcExamples) {
  FrameHeader h;
  h.fin = true;
  h.opcode = Opcode::Text;
  h.payloadLength = 5;
  EXPECT_EQ(encode(h), bytes({0x81, 0x05}));
  h.masked = true;
  h.maskKey = {0x37, 0xfa, 0x21, 0x3d};
  EXPECT_EQ(encode(h), bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}));
  h = FrameHeader{};
  h.fin = false;
  h.opcode = Opcode::Text;
  h.payloadLength = 3;
  EXPECT_EQ(encode(h), bytes({0x01, 0x03}));
  h.fin = true;
  h.opcode = Opcode::Continuation;
  h.payloadLength = 2;
  EXPECT_EQ(encode(h), bytes({0x80, 0x02}));
  h.opcode = Opcode::Binary;
  h.payloadLength = 256;
  EXPECT_EQ(encode(h), bytes({0x82, 0x7E, 0x01, 0x00}));
  h.payloadLength = 65536;
  EXPECT_EQ(encode(h), bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(FrameHeader, EncodesFlagBits) {
  FrameHeader h;
  h.fin = false;
  h.opcode = Opcode::Continuation;
  h.rsv1 = true;
  EXPECT_EQ(encode(h), bytes({0x40, 0x00}));
  h.rsv1 = false;
  h.rsv2 = true;
  EXPECT_EQ(encode(h), bytes({0x20, 0x00}));
  h.rsv2 = false;
  h.rsv3 = true;
  EXPECT_EQ(encode(h), bytes({0x10, 0x00}));
  h.rsv3 = false;
  h.opcode = Opcode::Pong;
  EXPECT_EQ(encode(h), bytes({0x0A, 0x00}));
}

TEST(FrameHeader, RoundTripsEveryLengthBoundaryAndFlag) {
  const std::vector<std::uint64_t> lengths = {
      0, 1, 124, 125, 126, 127, 65535, 65536, 65537, 1ull << 32, (1ull << 63) - 1};
  for (std::uint64_t length : lengths) {
    for (int bits = 0; bits < 64; ++bits) {
      FrameHeader h;
      h.fin = bits & 1;
      h.rsv1 = bits & 2;
      h.rsv2 = bits & 4;
      h.rsv3 = bits & 8;
      h.masked = bits & 16;
      h.opcode = (bits & 32) ? Opcode::Ping : Opcode::Binary;
      h.maskKey = {static_cast<std::uint8_t>(bits), 0x80, 0x00, 0xFF};
      h.payloadLength = length;
      const std::string wire = encode(h);
      FrameHeader decoded;
      decoded.fin = !h.fin;  // make sure decode overwrites everything
      const DecodeResult r = decodeFrameHeader(wire.data(), wire.size(), decoded);
      ASSERT_EQ(r.status, DecodeStatus::Ok) << length;
      EXPECT_EQ(r.headerSize, wire.size());
      expectSame(decoded, h);
    }
  }
}

TEST(FrameHeader, EveryPrefixNeedsMore) {
  for (std::uint64_t length : {5ull, 300ull, 70000ull}) {
    for (bool masked : {false, true}) {
      FrameHeader h;
      h.masked = masked;
      h.maskKey = {1, 2, 3, 4};
      h.payloadLength = length;
      const std::string wire = encode(h);
      for (std::size_t n = 0; n < wire.size(); ++n) {
        FrameHeader out;
        out.payloadLength = 777;
        const DecodeResult r = decodeFrameHeader(wire.data(), n, out);
        EXPECT_EQ(r.status, DecodeStatus::NeedMore) << length << " " << n;
        EXPECT_EQ(out.payloadLength, 777u) << "NeedMore must leave the header untouched";
      }
      // Extra bytes after the header (the payload) are not part of it.
      const std::string withPayload = wire + "xyz";
      FrameHeader out;
      const DecodeResult r = decodeFrameHeader(withPayload.data(), withPayload.size(), out);
      EXPECT_EQ(r.status, DecodeStatus::Ok);
      EXPECT_EQ(r.headerSize, wire.size());
    }
  }
}

TEST(FrameHeader, DecodesRfcMaskedExample) {
  const std::string wire = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f});
  FrameHeader h;
  const DecodeResult r = decodeFrameHeader(wire.data(), wire.size(), h);
  ASSERT_EQ(r.status, DecodeStatus::Ok);
  EXPECT_EQ(r.headerSize, 6u);
  EXPECT_TRUE(h.fin);
  EXPECT_EQ(h.opcode, Opcode::Text);
  EXPECT_TRUE(h.masked);
  EXPECT_EQ(h.maskKey, (MaskKey{0x37, 0xfa, 0x21, 0x3d}));
  EXPECT_EQ(h.payloadLength, 5u);
}

TEST(FrameHeader, SixtyFourBitLengthWithHighBitIsAnError) {
  const std::string wire = bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0});
  FrameHeader h;
  const DecodeResult r = decodeFrameHeader(wire.data(), wire.size(), h);
  EXPECT_EQ(r.status, DecodeStatus::Error);
  EXPECT_EQ(r.error.closeCode, 1002);
  EXPECT_FALSE(r.error.reason.empty());
  const std::string max = bytes({0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  EXPECT_EQ(decodeFrameHeader(max.data(), max.size(), h).status, DecodeStatus::Ok);
  EXPECT_EQ(h.payloadLength, (1ull << 63) - 1);
}

TEST(FrameHeader, NonMinimalLengthsAreAccepted) {
  // 5 in the 16-bit form and in the 64-bit form (see decodeFrameHeader() for why).
  const std::string w16 = bytes({0x81, 0x7E, 0x00, 0x05});
  const std::string w64 = bytes({0x81, 0x7F, 0, 0, 0, 0, 0, 0, 0, 5});
  for (const std::string& wire : {w16, w64}) {
    FrameHeader h;
    const DecodeResult r = decodeFrameHeader(wire.data(), wire.size(), h);
    EXPECT_EQ(r.status, DecodeStatus::Ok);
    EXPECT_EQ(r.headerSize, wire.size());
    EXPECT_EQ(h.payloadLength, 5u);
  }
}

TEST(FrameHeader, ReservedOpcodesDecodeAsTheirRawValue) {
  for (int op = 0; op < 16; ++op) {
    const std::string wire = bytes({0x80 | op, 0x00});
    FrameHeader h;
    ASSERT_EQ(decodeFrameHeader(wire.data(), wire.size(), h).status, DecodeStatus::Ok);
    EXPECT_EQ(static_cast<int>(h.opcode), op);
  }
}

}  // namespace
}  // namespace aerie::protocol
