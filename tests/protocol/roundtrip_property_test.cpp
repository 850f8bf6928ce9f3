// Property: whatever the writer encodes, the parser of the other role decodes to the same
// messages, pings, pongs and frame counts, however the bytes are split into reads.
// Fixed seeds: failures reproduce.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "aerie/protocol/frame_writer.hpp"
#include "aerie/protocol/parser.hpp"
#include "aerie/protocol/utf8.hpp"

namespace aerie::protocol {
namespace {

constexpr std::uint8_t kXor = 0x5A;

// A stand-in for permessage-deflate: XOR with a constant; declines lengths divisible by 7.
class XorCompressor final : public PayloadCompressor {
 public:
  bool compress(std::span<const char> message, std::string& out) override {
    if (message.size() % 7 == 0) return false;
    for (char c : message)
      out.push_back(static_cast<char>(c ^ kXor));
    return true;
  }
};

class XorTransform final : public PayloadTransform {
 public:
  ProtocolError transform(std::span<const char> in, bool, TransformOutput& out) override {
    char buffer[256];
    for (std::size_t i = 0; i < in.size(); i += sizeof buffer) {
      const std::size_t n = std::min(sizeof buffer, in.size() - i);
      for (std::size_t j = 0; j < n; ++j)
        buffer[j] = static_cast<char>(in[i + j] ^ kXor);
      if (const ProtocolError e = out.write({buffer, n})) return e;
    }
    return {};
  }
};

class SeededMasks final : public MaskKeySource {
 public:
  explicit SeededMasks(std::uint32_t seed) : rng_(seed) {}
  MaskKey next() override {
    const std::uint32_t v = rng_();
    return {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8),
            static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 24)};
  }

 private:
  std::mt19937 rng_;
};

struct Message {
  Opcode opcode = Opcode::Text;
  bool compressed = false;
  std::string payload;
  bool operator==(const Message&) const = default;
};

struct Expected {
  std::vector<Message> messages;
  std::vector<std::string> pings;
  std::vector<std::string> pongs;
  std::uint64_t frames = 0;
};

struct CollectingSink {
  Expected got;
  bool inMessage = false;
  int violations = 0;

  void onMessageBegin(Opcode op, bool compressed) {
    if (inMessage) ++violations;
    inMessage = true;
    got.messages.push_back({op, compressed, {}});
  }
  void onMessageData(std::span<const char> chunk, bool fin) {
    if (!inMessage) ++violations;
    got.messages.back().payload.append(chunk.data(), chunk.size());
    if (fin) inMessage = false;
  }
  void onPing(std::span<const char> p) { got.pings.emplace_back(p.data(), p.size()); }
  void onPong(std::span<const char> p) { got.pongs.emplace_back(p.data(), p.size()); }
  void onClose(std::uint16_t, std::string_view) { ++violations; }
};

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {
    // Pools the messages are cut from: cheap to slice, expensive only once.
    binaryPool_.resize(256 * 1024);
    for (char& c : binaryPool_)
      c = static_cast<char>(rng_());
    static const char* kChars[] = {"a",
                                   "Z",
                                   " ",
                                   "~",
                                   "\xC3\xA9",
                                   "\xD0\x96",
                                   "\xE2\x82\xAC",
                                   "\xE4\xB8\xAD",
                                   "\xEF\xBF\xBD",
                                   "\xF0\x9F\x98\x80",
                                   "\xF4\x8F\xBF\xBF"};
    while (textPool_.size() < 256 * 1024)
      textPool_ += kChars[rng_() % std::size(kChars)];
  }

  std::uint32_t next(std::uint32_t bound) { return rng_() % bound; }

  std::size_t size() {
    const std::uint32_t bucket = next(100);
    auto near = [&](std::size_t base) {
      const std::size_t delta = next(5);  // base-2 .. base+2
      return base + delta >= 2 ? base + delta - 2 : 0;
    };
    if (bucket < 55) {
      static const std::size_t kBases[] = {0, 1, 125, 126, 127};
      return near(kBases[next(5)]);
    }
    if (bucket < 61) {
      static const std::size_t kBases[] = {65535, 65536, 65537};
      return near(kBases[next(3)]);
    }
    if (bucket < 64) return next(200 * 1024 + 1);
    return next(400);
  }

  std::string binary(std::size_t n) {
    const std::size_t start = next(static_cast<std::uint32_t>(binaryPool_.size() - n + 1));
    return binaryPool_.substr(start, n);
  }

  std::string text(std::size_t n) {
    std::size_t start = next(static_cast<std::uint32_t>(textPool_.size() - n + 1));
    while (start > 0 && isContinuation(textPool_[start]))
      --start;
    std::size_t end = start + n;
    while (end > start && end < textPool_.size() && isContinuation(textPool_[end]))
      --end;
    std::string out = textPool_.substr(start, end - start);
    out.append(n - out.size(), 'a');  // back to the exact size, still valid
    return out;
  }

  std::string controlPayload() { return binary(next(126)); }

 private:
  static bool isContinuation(char c) { return (static_cast<std::uint8_t>(c) & 0xC0) == 0x80; }

  std::mt19937 rng_;
  std::string binaryPool_;
  std::string textPool_;
};

std::span<const char> span(const std::string& s) {
  return {s.data(), s.size()};
}

// Encodes a batch of messages with pings/pongs between and inside them.
std::string encodeBatch(Generator& gen, Role senderRole, SeededMasks& maskSource,
                        XorCompressor& compressor, Expected& expected, int messageCount) {
  std::string wire;
  MaskKeySource* masks = senderRole == Role::Client ? &maskSource : nullptr;
  auto control = [&](Opcode op) {
    const std::string payload = gen.controlPayload();
    const MaskKey key = maskSource.next();
    appendFrame(wire, op, span(payload), true, false, masks != nullptr ? &key : nullptr);
    (op == Opcode::Ping ? expected.pings : expected.pongs).push_back(payload);
    ++expected.frames;
  };
  for (int m = 0; m < messageCount; ++m) {
    while (gen.next(4) == 0)
      control(gen.next(2) == 0 ? Opcode::Ping : Opcode::Pong);
    const std::size_t size = gen.size();
    Message message;
    message.opcode = gen.next(2) == 0 ? Opcode::Text : Opcode::Binary;
    message.payload = message.opcode == Opcode::Text ? gen.text(size) : gen.binary(size);
    const std::span<const char> payload = span(message.payload);

    if (gen.next(3) != 0) {
      // The writer's own fragmentation.
      std::size_t autoFrameSize = 0;
      switch (gen.next(4)) {
        case 0:
          break;
        case 1:
          autoFrameSize = 1 + gen.next(static_cast<std::uint32_t>(size) + 10);
          break;
        case 2:
          autoFrameSize = std::max<std::size_t>(1, size / (1 + gen.next(8)));
          break;
        default: {
          static const std::size_t kSizes[] = {1, 125, 126, 65535, 65536};
          autoFrameSize = kSizes[gen.next(5)];
          if (autoFrameSize == 1 && size > 2000) autoFrameSize = 0;  // keep runs fast
        }
      }
      const bool compress = gen.next(8) == 0;
      message.compressed = compress && payload.size() % 7 != 0;
      expected.frames += appendMessage(wire, message.opcode, payload, autoFrameSize, masks,
                                       compress ? &compressor : nullptr);
    } else {
      // Hand-made fragments (some empty) with control frames between them.
      const std::size_t pieces = 1 + gen.next(5);
      std::size_t offset = 0;
      for (std::size_t i = 0; i < pieces; ++i) {
        const bool last = i + 1 == pieces;
        const std::size_t n =
            last ? size - offset : gen.next(static_cast<std::uint32_t>(size - offset + 1));
        const MaskKey key = maskSource.next();
        appendFrame(wire, i == 0 ? message.opcode : Opcode::Continuation,
                    payload.subspan(offset, n), last, false, masks != nullptr ? &key : nullptr);
        ++expected.frames;
        offset += n;
        if (!last && gen.next(3) == 0) control(Opcode::Ping);
      }
    }
    expected.messages.push_back(std::move(message));
  }
  return wire;
}

void feedInSplits(Generator& gen, Parser<CollectingSink>& parser, std::string& wire) {
  std::uint32_t maxChunk;
  switch (gen.next(5)) {
    case 0:
      maxChunk = wire.size() <= 8192 ? 1 : 16;
      break;  // byte by byte when small
    case 1:
      maxChunk = 16;
      break;
    case 2:
      maxChunk = 1500;
      break;
    case 3:
      maxChunk = 70000;
      break;
    default:
      maxChunk = static_cast<std::uint32_t>(wire.size()) + 1;
      break;
  }
  std::size_t offset = 0;
  while (offset < wire.size()) {
    const std::size_t n = std::min<std::size_t>(1 + gen.next(maxChunk), wire.size() - offset);
    const ParseResult r = parser.consume(wire.data() + offset, n);
    ASSERT_FALSE(r.error) << r.error.closeCode << " " << r.error.reason << " at " << offset;
    ASSERT_EQ(r.consumed, n);
    offset += n;
  }
}

void runRoundTrip(Role senderRole, std::uint32_t seed, int totalMessages) {
  Generator gen(seed);
  SeededMasks masks(seed + 1);
  XorCompressor compressor;
  XorTransform transform;
  ParserOptions options;
  options.role = senderRole == Role::Client ? Role::Server : Role::Client;
  options.rsv1Allowed = true;
  options.maxMessageSize = 256 * 1024;  // exercised, never hit

  int sent = 0;
  std::uint64_t bytes = 0;
  while (sent < totalMessages) {
    const int count = 1 + static_cast<int>(gen.next(30));
    Expected expected;
    std::string wire = encodeBatch(gen, senderRole, masks, compressor, expected, count);
    bytes += wire.size();
    CollectingSink sink;
    Parser<CollectingSink> parser(sink, options);
    parser.setTransform(&transform);
    feedInSplits(gen, parser, wire);
    if (testing::Test::HasFatalFailure()) return;
    EXPECT_EQ(sink.violations, 0);
    EXPECT_FALSE(parser.inMessage());
    EXPECT_EQ(parser.framesParsed(), expected.frames);
    EXPECT_EQ(parser.messagesParsed(), expected.messages.size());
    ASSERT_EQ(sink.got.messages.size(), expected.messages.size());
    for (std::size_t i = 0; i < expected.messages.size(); ++i) {
      const Message& want = expected.messages[i];
      const Message& got = sink.got.messages[i];
      ASSERT_EQ(got.opcode, want.opcode) << "message " << i;
      ASSERT_EQ(got.compressed, want.compressed) << "message " << i;
      ASSERT_EQ(got.payload.size(), want.payload.size()) << "message " << i;
      ASSERT_TRUE(got.payload == want.payload) << "message " << i << " differs";
      if (got.opcode == Opcode::Text) {
        EXPECT_TRUE(isValidUtf8(got.payload));
      }
    }
    EXPECT_EQ(sink.got.pings, expected.pings);
    EXPECT_EQ(sink.got.pongs, expected.pongs);
    sent += count;
  }
  testing::Test::RecordProperty("bytes", std::to_string(bytes));
}

TEST(RoundTripProperty, ClientToServer) {
  runRoundTrip(Role::Client, 20240601, 1100);
}

TEST(RoundTripProperty, ServerToClient) {
  runRoundTrip(Role::Server, 77, 1100);
}

}  // namespace
}  // namespace aerie::protocol
