#include "aerie/protocol/frame_writer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "aerie/protocol/close_code.hpp"
#include "aerie/protocol/frame_header.hpp"
#include "aerie/protocol/mask.hpp"

namespace aerie::protocol {
namespace {

constexpr MaskKey kKey = {0x37, 0xfa, 0x21, 0x3d};

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values)
    out.push_back(static_cast<char>(v));
  return out;
}

std::span<const char> span(const std::string& s) {
  return {s.data(), s.size()};
}

// Keys 0x01010101, 0x02020202, ...: each frame's key is visible in the output.
class CountingMasks final : public MaskKeySource {
 public:
  int calls = 0;
  MaskKey next() override {
    ++calls;
    const auto b = static_cast<std::uint8_t>(calls);
    return {b, b, b, b};
  }
};

// Swaps ASCII letter case; declines messages containing '#'.
class CaseSwapCompressor final : public PayloadCompressor {
 public:
  bool compress(std::span<const char> message, std::string& out) override {
    for (char c : message) {
      if (c == '#') return false;
      out.push_back(static_cast<char>(c ^ 0x20));
    }
    return true;
  }
};

// Walks a wire string frame by frame (independent of the parser).
struct WireFrame {
  FrameHeader header;
  std::string payload;  // unmasked
};

std::vector<WireFrame> splitFrames(const std::string& wire) {
  std::vector<WireFrame> frames;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    WireFrame f;
    const DecodeResult r = decodeFrameHeader(wire.data() + pos, wire.size() - pos, f.header);
    EXPECT_EQ(r.status, DecodeStatus::Ok);
    if (r.status != DecodeStatus::Ok) break;
    pos += r.headerSize;
    f.payload = wire.substr(pos, f.header.payloadLength);
    EXPECT_EQ(f.payload.size(), f.header.payloadLength) << "truncated frame";
    if (f.header.masked) applyMask(f.payload.data(), f.payload.size(), f.header.maskKey);
    pos += f.payload.size();
    frames.push_back(std::move(f));
  }
  return frames;
}

TEST(FrameWriter, RfcExamplesByteForByte) {
  std::string out;
  appendFrame(out, Opcode::Text, span("Hello"), true, false, nullptr);
  EXPECT_EQ(out, bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));

  out.clear();
  appendFrame(out, Opcode::Text, span("Hello"), true, false, &kKey);
  EXPECT_EQ(out, bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));

  out.clear();
  appendFrame(out, Opcode::Text, span("Hel"), false, false, nullptr);
  appendFrame(out, Opcode::Continuation, span("lo"), true, false, nullptr);
  EXPECT_EQ(out, bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}));

  out.clear();
  appendFrame(out, Opcode::Ping, span("Hello"), true, false, nullptr);
  EXPECT_EQ(out, bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));

  out.clear();
  appendFrame(out, Opcode::Pong, span("Hello"), true, false, &kKey);
  EXPECT_EQ(out, bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));

  std::string payload256(256, '\0');
  for (std::size_t i = 0; i < 256; ++i)
    payload256[i] = static_cast<char>(i);
  out.clear();
  appendFrame(out, Opcode::Binary, span(payload256), true, false, nullptr);
  EXPECT_EQ(out, bytes({0x82, 0x7E, 0x01, 0x00}) + payload256);

  const std::string payload64k(65536, 'q');
  out.clear();
  appendFrame(out, Opcode::Binary, span(payload64k), true, false, nullptr);
  EXPECT_EQ(out, bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}) + payload64k);
}

TEST(FrameWriter, WriteFrameWritesExactlyItsSize) {
  for (std::size_t size : {0u, 1u, 125u, 126u, 65535u, 65536u}) {
    for (bool masked : {false, true}) {
      const std::string payload(size, 'p');
      const std::size_t expected = frameHeaderSize(size, masked) + size;
      std::string out(expected + 8, '\xAA');
      const std::size_t n = writeFrame(out.data(), Opcode::Binary, span(payload), true, false,
                                       masked ? &kKey : nullptr);
      EXPECT_EQ(n, expected);
      EXPECT_EQ(out.substr(expected), std::string(8, '\xAA'));
      out.resize(n);
      const auto frames = splitFrames(out);
      ASSERT_EQ(frames.size(), 1u);
      EXPECT_EQ(frames[0].payload, payload);
      EXPECT_EQ(frames[0].header.masked, masked);
      if (masked && size > 0) {
        EXPECT_NE(out.substr(n - size), payload) << "not masked";
      }
    }
  }
}

TEST(FrameWriter, WriteFrameSetsRsv1AndFin) {
  char out[16];
  EXPECT_EQ(writeFrame(out, Opcode::Text, {}, false, true, nullptr), 2u);
  EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x41);
  EXPECT_EQ(writeFrame(out, Opcode::Close, {}, true, false, nullptr), 2u);
  EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x88);
}

TEST(FrameWriter, AppendFrameAppends) {
  std::string out = "prefix";
  appendFrame(out, Opcode::Text, span("ab"), true, false, nullptr);
  EXPECT_EQ(out, "prefix" + bytes({0x81, 0x02}) + "ab");
}

TEST(FrameWriter, MessageInOneFrame) {
  std::string out;
  EXPECT_EQ(appendMessage(out, Opcode::Text, span("Hello"), 0, nullptr, nullptr), 1u);
  EXPECT_EQ(out, bytes({0x81, 0x05}) + "Hello");
  out.clear();
  EXPECT_EQ(appendMessage(out, Opcode::Binary, span("Hello"), 5, nullptr, nullptr), 1u);
  EXPECT_EQ(out, bytes({0x82, 0x05}) + "Hello");
  out.clear();
  EXPECT_EQ(appendMessage(out, Opcode::Text, span("Hello"), 100, nullptr, nullptr), 1u);
  EXPECT_EQ(out, bytes({0x81, 0x05}) + "Hello");
}

TEST(FrameWriter, EmptyMessageIsOneEmptyFrame) {
  std::string out;
  EXPECT_EQ(appendMessage(out, Opcode::Text, {}, 3, nullptr, nullptr), 1u);
  EXPECT_EQ(out, bytes({0x81, 0x00}));
  CountingMasks masks;
  out.clear();
  EXPECT_EQ(appendMessage(out, Opcode::Binary, {}, 0, &masks, nullptr), 1u);
  EXPECT_EQ(out, bytes({0x82, 0x80, 1, 1, 1, 1}));
}

TEST(FrameWriter, FragmentsWithAFreshMaskPerFrame) {
  CountingMasks masks;
  std::string out = "x";
  EXPECT_EQ(appendMessage(out, Opcode::Text, span("abcdefghij"), 3, &masks, nullptr), 4u);
  EXPECT_EQ(masks.calls, 4);
  const auto frames = splitFrames(out.substr(1));
  ASSERT_EQ(frames.size(), 4u);
  const char* expected[] = {"abc", "def", "ghi", "j"};
  for (std::size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(frames[i].header.opcode, i == 0 ? Opcode::Text : Opcode::Continuation);
    EXPECT_EQ(frames[i].header.fin, i == 3);
    EXPECT_FALSE(frames[i].header.rsv1);
    EXPECT_TRUE(frames[i].header.masked);
    const auto k = static_cast<std::uint8_t>(i + 1);
    EXPECT_EQ(frames[i].header.maskKey, (MaskKey{k, k, k, k}));
    EXPECT_EQ(frames[i].payload, expected[i]);
  }
  EXPECT_EQ(out.size(), 1 + 3 * (6 + 3) + (6 + 1));
}

TEST(FrameWriter, FragmentsAcrossLengthForms) {
  const std::string payload(200000, 'z');
  std::string out;
  EXPECT_EQ(appendMessage(out, Opcode::Binary, span(payload), 70000, nullptr, nullptr), 3u);
  const auto frames = splitFrames(out);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].payload.size(), 70000u);
  EXPECT_EQ(frames[1].payload.size(), 70000u);
  EXPECT_EQ(frames[2].payload.size(), 60000u);
  EXPECT_EQ(out.size(), 200000u + 10 + 10 + 4);
}

TEST(FrameWriter, CompressedMessageHasRsv1OnItsFirstFrameOnly) {
  CaseSwapCompressor compressor;
  std::string out;
  EXPECT_EQ(appendMessage(out, Opcode::Text, span("Hello"), 2, nullptr, &compressor), 3u);
  const auto frames = splitFrames(out);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_TRUE(frames[0].header.rsv1);
  EXPECT_FALSE(frames[1].header.rsv1);
  EXPECT_FALSE(frames[2].header.rsv1);
  EXPECT_EQ(frames[0].payload + frames[1].payload + frames[2].payload, "hELLO");
}

TEST(FrameWriter, DeclinedCompressionSendsThePlainMessage) {
  CaseSwapCompressor compressor;
  std::string out;
  EXPECT_EQ(appendMessage(out, Opcode::Text, span("ab#cd"), 0, nullptr, &compressor), 1u);
  EXPECT_EQ(out, bytes({0x81, 0x05}) + "ab#cd");
}

TEST(FrameWriter, ControlMessagesAreNeverFragmentedOrCompressed) {
  CaseSwapCompressor compressor;
  std::string out;
  EXPECT_EQ(appendMessage(out, Opcode::Ping, span("abcdef"), 2, nullptr, &compressor), 1u);
  EXPECT_EQ(out, bytes({0x89, 0x06}) + "abcdef");
}

TEST(FrameWriter, LargeCompressedMessage) {
  // Goes through the scratch buffer and its release above 1 MiB; twice, to reuse it.
  CaseSwapCompressor compressor;
  const std::string payload((1 << 20) + 100, 'a');
  for (int round = 0; round < 2; ++round) {
    std::string out;
    EXPECT_EQ(appendMessage(out, Opcode::Binary, span(payload), 1 << 19, nullptr, &compressor), 3u);
    const auto frames = splitFrames(out);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_TRUE(frames[0].header.rsv1);
    EXPECT_FALSE(frames[1].header.rsv1);
    EXPECT_EQ(frames[2].payload, std::string(100, 'A'));
  }
}

TEST(FrameWriter, CloseFrames) {
  std::string out;
  appendCloseFrame(out, 1000, "bye", nullptr);
  EXPECT_EQ(out, bytes({0x88, 0x05, 0x03, 0xE8}) + "bye");
  out.clear();
  appendCloseFrame(out, close_code::NoStatus, "ignored", nullptr);
  EXPECT_EQ(out, bytes({0x88, 0x00}));
  out.clear();
  appendCloseFrame(out, 1001, "", &kKey);
  const auto frames = splitFrames(out);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].header.opcode, Opcode::Close);
  EXPECT_TRUE(frames[0].header.masked);
  EXPECT_EQ(frames[0].payload, bytes({0x03, 0xE9}));
  out.clear();
  appendCloseFrame(out, 4000, std::string(300, 'r'), nullptr);
  EXPECT_EQ(out.size(), 2u + 125u);  // still a legal control frame
}

}  // namespace
}  // namespace aerie::protocol
