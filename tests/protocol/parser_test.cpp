// Parser tests. Every parse case runs under several ways of splitting the input into
// consume() calls (whole, 1 byte at a time, fixed strides, random splits) and must give the
// same result under all of them; the sink checks the event-order invariants as it goes.
#include "aerie/protocol/parser.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/protocol/utf8.hpp"

namespace aerie::protocol {
namespace {

using namespace std::string_literals;

constexpr MaskKey kKey = {0x37, 0xfa, 0x21, 0x3d};  // the RFC 6455 5.7 examples' key

// ---------------------------------------------------------------------------------------
// Wire builder, independent of encodeFrameHeader() so a bug there cannot hide here.

enum class LengthForm { Minimal, Bits16, Bits64 };

std::string frame(std::uint8_t b0, std::string_view payload, std::optional<MaskKey> mask,
                  LengthForm form = LengthForm::Minimal,
                  std::optional<std::uint64_t> declared = std::nullopt) {
  const std::uint64_t length = declared.value_or(payload.size());
  std::string out;
  out.push_back(static_cast<char>(b0));
  const std::uint8_t maskBit = mask ? 0x80 : 0;
  if (form == LengthForm::Minimal && length <= 125) {
    out.push_back(static_cast<char>(maskBit | length));
  } else if (form != LengthForm::Bits64 && length <= 0xFFFF) {
    out.push_back(static_cast<char>(maskBit | 126));
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(maskBit | 127));
    for (int i = 7; i >= 0; --i)
      out.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
  }
  if (mask) {
    for (std::uint8_t b : *mask)
      out.push_back(static_cast<char>(b));
  }
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<char>(payload[i] ^ (mask ? static_cast<char>((*mask)[i % 4]) : 0)));
  }
  return out;
}

// A client frame (masked): what a server-role parser receives.
std::string cf(std::uint8_t b0, std::string_view payload) {
  return frame(b0, payload, kKey);
}
// A server frame (unmasked): what a client-role parser receives.
std::string sf(std::uint8_t b0, std::string_view payload) {
  return frame(b0, payload, std::nullopt);
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values)
    out.push_back(static_cast<char>(v));
  return out;
}

// ---------------------------------------------------------------------------------------
// Recording sink.

struct Event {
  enum class Kind { Begin, Data, Ping, Pong, Close };
  Kind kind = Kind::Data;
  Opcode opcode = Opcode::Continuation;
  bool flag = false;  // Begin: compressed; Data: fin
  std::string payload;
  std::uint16_t code = 0;
  bool operator==(const Event&) const = default;
};

Event begin(Opcode op, bool compressed = false) {
  return {Event::Kind::Begin, op, compressed, {}, 0};
}
Event data(std::string payload, bool fin = true) {
  return {Event::Kind::Data, Opcode::Continuation, fin, std::move(payload), 0};
}
Event ping(std::string payload) {
  return {Event::Kind::Ping, {}, false, std::move(payload), 0};
}
Event pong(std::string payload) {
  return {Event::Kind::Pong, {}, false, std::move(payload), 0};
}
Event closeEvent(std::uint16_t code, std::string reason = {}) {
  return {Event::Kind::Close, {}, false, std::move(reason), code};
}

std::ostream& operator<<(std::ostream& os, const Event& e) {
  static constexpr const char* kNames[] = {"Begin", "Data", "Ping", "Pong", "Close"};
  os << kNames[static_cast<int>(e.kind)] << "(op=" << static_cast<int>(e.opcode)
     << " flag=" << e.flag << " code=" << e.code << " payload[" << e.payload.size() << "]=";
  for (std::size_t i = 0; i < e.payload.size() && i < 40; ++i) {
    const auto c = static_cast<unsigned char>(e.payload[i]);
    if (c >= 0x20 && c < 0x7F) {
      os << e.payload[i];
    } else {
      os << "\\x"
         << "0123456789abcdef"[c >> 4] << "0123456789abcdef"[c & 15];
    }
  }
  return os << ")";
}

struct RecordingSink {
  explicit RecordingSink(ParserOptions options, bool transformSet)
      : options_(options), transformSet_(transformSet) {}

  std::vector<Event> events;  // adjacent data chunks merged, so splits compare equal
  std::vector<std::string> violations;
  std::size_t dataCalls = 0;
  std::size_t emptyNonFinChunks = 0;
  bool stopped = false;                          // set by the harness after an error
  std::vector<std::span<const char>> rawChunks;  // only while recordRaw
  bool recordRaw = false;

  void onMessageBegin(Opcode op, bool compressed) {
    check();
    if (inMessage_) violations.push_back("begin inside a message");
    if (op != Opcode::Text && op != Opcode::Binary) violations.push_back("begin with bad opcode");
    inMessage_ = true;
    checkUtf8_ = op == Opcode::Text && options_.validateUtf8 && (!compressed || transformSet_);
    utf8_.reset();
    events.push_back(begin(op, compressed));
  }
  void onMessageData(std::span<const char> chunk, bool fin) {
    check();
    ++dataCalls;
    if (recordRaw) rawChunks.push_back(chunk);
    if (!inMessage_) violations.push_back("data outside a message");
    if (chunk.empty() && !fin) ++emptyNonFinChunks;
    if (checkUtf8_ && !utf8_.feed(chunk.data(), chunk.size())) {
      violations.push_back("invalid UTF-8 delivered");
    }
    if (fin) {
      if (checkUtf8_ && !utf8_.isComplete()) violations.push_back("text ends mid-sequence");
      inMessage_ = false;
    }
    if (!events.empty() && events.back().kind == Event::Kind::Data && !events.back().flag) {
      events.back().payload.append(chunk.data(), chunk.size());
      events.back().flag = fin;
    } else {
      events.push_back(data(std::string(chunk.data(), chunk.size()), fin));
    }
  }
  void onPing(std::span<const char> payload) {
    check();
    if (payload.size() > 125) violations.push_back("ping over 125 bytes");
    events.push_back(ping(std::string(payload.data(), payload.size())));
  }
  void onPong(std::span<const char> payload) {
    check();
    if (payload.size() > 125) violations.push_back("pong over 125 bytes");
    events.push_back(pong(std::string(payload.data(), payload.size())));
  }
  void onClose(std::uint16_t code, std::string_view reason) {
    check();
    if (code != close_code::NoStatus && !isValidCloseCodeOnWire(code)) {
      violations.push_back("close with an invalid code");
    }
    if (!isValidUtf8(reason)) violations.push_back("close reason not UTF-8");
    closed_ = true;
    events.push_back(closeEvent(code, std::string(reason)));
  }

 private:
  void check() {
    if (stopped) violations.push_back("callback after an error");
    if (closed_) violations.push_back("callback after close");
  }

  ParserOptions options_;
  bool transformSet_;
  bool inMessage_ = false;
  bool closed_ = false;
  bool checkUtf8_ = false;
  Utf8Validator utf8_;
};

// ---------------------------------------------------------------------------------------
// Split harness.

struct Outcome {
  std::vector<Event> events;
  std::uint16_t errorCode = 0;
  std::string errorReason;
  std::size_t consumed = 0;  // total over all calls (without an error)
  bool closed = false;
  std::uint64_t frames = 0;
  std::uint64_t messages = 0;
  bool inMessage = false;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{error=" << o.errorCode << " '" << o.errorReason << "' consumed=" << o.consumed
     << " closed=" << o.closed << " frames=" << o.frames << " messages=" << o.messages
     << " inMessage=" << o.inMessage << " events=[";
  for (const Event& e : o.events)
    os << e << " ";
  return os << "]}";
}

using Splits = std::vector<std::size_t>;  // chunk sizes

struct Strategy {
  std::string name;
  Splits splits;
};

std::vector<Strategy> strategies(std::size_t size) {
  std::vector<Strategy> out;
  out.push_back({"whole", {size}});
  for (std::size_t stride : {1, 2, 3, 7, 13}) {
    Splits s;
    for (std::size_t done = 0; done < size; done += stride)
      s.push_back(std::min(stride, size - done));
    out.push_back({"stride " + std::to_string(stride), s});
  }
  for (unsigned seed = 1; seed <= 4; ++seed) {
    std::mt19937 rng(seed);
    const std::size_t maxChunk = seed <= 2 ? 9 : 300;
    Splits s;
    for (std::size_t done = 0; done < size;) {
      // Empty calls are legal too: mix a few in.
      const std::size_t n = std::min<std::size_t>(rng() % (maxChunk + 1), size - done);
      s.push_back(n);
      done += n;
    }
    out.push_back({"random seed " + std::to_string(seed), s});
  }
  return out;
}

Outcome feed(std::string_view wire, ParserOptions options, const Splits& splits,
             PayloadTransform* transform, std::vector<std::string>& violations) {
  RecordingSink sink(options, transform != nullptr);
  Parser<RecordingSink> parser(sink, options);
  parser.setTransform(transform);
  Outcome out;
  std::size_t offset = 0;
  for (std::size_t n : splits) {
    // A fresh exact-size heap buffer per call (ASan catches reads past the chunk), wiped
    // afterwards like a reused receive buffer (catches anyone keeping pointers into it).
    auto buffer = std::make_unique<char[]>(n + 1);
    std::copy_n(wire.data() + offset, n, buffer.get());
    const ParseResult r = parser.consume(buffer.get(), n);
    std::fill_n(buffer.get(), n + 1, '\xEE');
    if (r.consumed > n) violations.push_back("consumed more than given");
    if (r.error) {
      out.errorCode = r.error.closeCode;
      out.errorReason = std::string(r.error.reason);
      sink.stopped = true;
      // Sticky: the rest is refused with the same error and reaches nobody.
      std::string rest(wire.substr(offset + n));
      const ParseResult again = parser.consume(rest.data(), rest.size());
      if (again.consumed != 0 || again.error.closeCode != r.error.closeCode) {
        violations.push_back("error not sticky");
      }
      break;
    }
    out.consumed += r.consumed;
    offset += n;
    if (parser.closed()) {
      if (r.consumed > n) violations.push_back("consumed past the input");
      std::string rest(wire.substr(offset));
      const ParseResult again = parser.consume(rest.data(), rest.size());
      if (again.consumed != 0 || again.error) violations.push_back("consumed after close");
      break;
    }
    if (r.consumed != n) violations.push_back("short consume without close or error");
  }
  if (out.errorCode != 0) out.consumed = 0;
  if (parser.hasError() != (out.errorCode != 0)) violations.push_back("hasError() mismatch");
  for (auto& v : sink.violations)
    violations.push_back(v);
  if (sink.emptyNonFinChunks != 0) violations.push_back("empty non-final chunk delivered");
  out.events = std::move(sink.events);
  out.closed = parser.closed();
  out.frames = parser.framesParsed();
  out.messages = parser.messagesParsed();
  out.inMessage = parser.inMessage();
  return out;
}

// The payload of a trailing unfinished data event (removed from `o`), if any.
std::string takeUnfinishedData(Outcome& o) {
  if (o.events.empty() || o.events.back().kind != Event::Kind::Data || o.events.back().flag) {
    return {};
  }
  std::string payload = std::move(o.events.back().payload);
  o.events.pop_back();
  return payload;
}

// Parses `wire` under every split strategy; all must agree. Returns the outcome of
// feeding it whole.
Outcome parse(std::string_view wire, ParserOptions options = {},
              PayloadTransform* transform = nullptr) {
  Outcome whole;
  bool haveWhole = false;
  for (const Strategy& strategy : strategies(wire.size())) {
    std::vector<std::string> violations;
    Outcome o = feed(wire, options, strategy.splits, transform, violations);
    for (const auto& v : violations)
      ADD_FAILURE() << strategy.name << ": " << v;
    if (!haveWhole) {
      whole = o;
      haveWhole = true;
    } else if (o.errorCode == 0) {
      EXPECT_EQ(o, whole) << "split strategy: " << strategy.name;
    } else {
      // Before an error, smaller reads may have delivered more of the offending frame's valid
      // prefix than one whole read (which rejects the chunk holding the bad byte at once).
      Outcome a = whole;
      const std::string wholeTail = takeUnfinishedData(a);
      const std::string tail = takeUnfinishedData(o);
      EXPECT_EQ(o, a) << "split strategy: " << strategy.name;
      // Both are prefixes of the same stream. (With a transform even the whole read may
      // deliver more: its output is checked and delivered write by write.)
      const std::size_t common = std::min(tail.size(), wholeTail.size());
      EXPECT_EQ(tail.substr(0, common), wholeTail.substr(0, common))
          << "split strategy: " << strategy.name;
    }
  }
  return whole;
}

ParserOptions clientRole() {
  ParserOptions o;
  o.role = Role::Client;
  return o;
}

void expectError(const Outcome& o, std::uint16_t code, std::vector<Event> events = {}) {
  EXPECT_EQ(o.errorCode, code) << o;
  EXPECT_FALSE(o.errorReason.empty());
  EXPECT_LE(o.errorReason.size(), 123u);
  EXPECT_EQ(o.events, events);
}

// ---------------------------------------------------------------------------------------
// RFC 6455 section 5.7 examples.

TEST(ParserRfcExamples, SingleFrameUnmaskedText) {
  const std::string wire = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f});
  const Outcome o = parse(wire, clientRole());
  EXPECT_EQ(o.events, (std::vector<Event>{begin(Opcode::Text), data("Hello")}));
  EXPECT_EQ(o.errorCode, 0);
  EXPECT_EQ(o.consumed, wire.size());
  EXPECT_EQ(o.frames, 1u);
  EXPECT_EQ(o.messages, 1u);
}

TEST(ParserRfcExamples, SingleFrameMaskedText) {
  const std::string wire =
      bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  const Outcome o = parse(wire);
  EXPECT_EQ(o.events, (std::vector<Event>{begin(Opcode::Text), data("Hello")}));
  EXPECT_EQ(o.errorCode, 0);
}

TEST(ParserRfcExamples, FragmentedUnmaskedText) {
  const std::string wire = bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f});
  const Outcome o = parse(wire, clientRole());
  EXPECT_EQ(o.events, (std::vector<Event>{begin(Opcode::Text), data("Hello")}));
  EXPECT_EQ(o.frames, 2u);
  EXPECT_EQ(o.messages, 1u);
  EXPECT_FALSE(o.inMessage);
}

TEST(ParserRfcExamples, UnmaskedPingAndMaskedPong) {
  const Outcome ping1 = parse(bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), clientRole());
  EXPECT_EQ(ping1.events, std::vector<Event>{ping("Hello")});
  const Outcome pong1 =
      parse(bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_EQ(pong1.events, std::vector<Event>{pong("Hello")});
  EXPECT_EQ(pong1.frames, 1u);
  EXPECT_EQ(pong1.messages, 0u);
}

TEST(ParserRfcExamples, Binary256And64KiB) {
  std::string payload256(256, '\0');
  for (std::size_t i = 0; i < payload256.size(); ++i)
    payload256[i] = static_cast<char>(i);
  const std::string wire256 = bytes({0x82, 0x7E, 0x01, 0x00}) + payload256;
  EXPECT_EQ(parse(wire256, clientRole()).events,
            (std::vector<Event>{begin(Opcode::Binary), data(payload256)}));

  std::string payload64k(65536, '\0');
  for (std::size_t i = 0; i < payload64k.size(); ++i)
    payload64k[i] = static_cast<char>(i * 7);
  const std::string wire64k =
      bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}) + payload64k;
  // Long inputs: a single pass per strategy is enough; the strides still cover the header.
  EXPECT_EQ(parse(wire64k, clientRole()).events,
            (std::vector<Event>{begin(Opcode::Binary), data(payload64k)}));
}

// ---------------------------------------------------------------------------------------
// Valid streams.

TEST(Parser, EmptyMessageGivesOneEmptyFinalChunk) {
  const Outcome o = parse(cf(0x81, "") + cf(0x82, ""));
  EXPECT_EQ(o.events,
            (std::vector<Event>{begin(Opcode::Text), data(""), begin(Opcode::Binary), data("")}));
  EXPECT_EQ(o.messages, 2u);
}

TEST(Parser, EmptyFragmentsDeliverNothingButTheFinalChunk) {
  const Outcome o = parse(cf(0x01, "") + cf(0x00, "ab") + cf(0x00, "") + cf(0x80, ""));
  EXPECT_EQ(o.events, (std::vector<Event>{begin(Opcode::Text), data("ab")}));
  EXPECT_EQ(o.frames, 4u);
  EXPECT_EQ(o.messages, 1u);
}

TEST(Parser, ControlFramesInterleavedInAFragmentedMessage) {
  const Outcome o = parse(cf(0x01, "Hel") + cf(0x89, "p1") + cf(0x00, "l") + cf(0x8A, "") +
                          cf(0x89, std::string(125, 'x')) + cf(0x80, "o") + cf(0x82, "b"));
  EXPECT_EQ(o.errorCode, 0);
  EXPECT_EQ(o.events, (std::vector<Event>{begin(Opcode::Text), data("Hel", false), ping("p1"),
                                          data("l", false), pong(""), ping(std::string(125, 'x')),
                                          data("o"), begin(Opcode::Binary), data("b")}));
  EXPECT_EQ(o.frames, 7u);
  EXPECT_EQ(o.messages, 2u);
}

TEST(Parser, CloseInsideAFragmentedMessageEndsTheStream) {
  const Outcome o = parse(cf(0x01, "ab") + cf(0x88, "\x03\xe8") + cf(0x80, "cd"));
  EXPECT_EQ(o.events,
            (std::vector<Event>{begin(Opcode::Text), data("ab", false), closeEvent(1000)}));
  EXPECT_TRUE(o.closed);
  EXPECT_TRUE(o.inMessage);
}

TEST(Parser, NonMinimalLengthEncodingsAreAccepted) {
  const std::string wire = frame(0x81, "Hello", kKey, LengthForm::Bits16) +
                           frame(0x82, "abc", kKey, LengthForm::Bits64) +
                           frame(0x89, "p", kKey, LengthForm::Bits16);
  const Outcome o = parse(wire);
  EXPECT_EQ(o.errorCode, 0);
  EXPECT_EQ(o.events, (std::vector<Event>{begin(Opcode::Text), data("Hello"), begin(Opcode::Binary),
                                          data("abc"), ping("p")}));
}

TEST(Parser, TextSplitAcrossFramesInsideACodePoint) {
  // U+20AC (E2 82 AC) and U+1F600 (F0 9F 98 80) cut across frame boundaries.
  const Outcome o =
      parse(cf(0x01, "a\xE2") + cf(0x00, "\x82") + cf(0x00, "\xAC\xF0\x9F") + cf(0x80, "\x98\x80"));
  EXPECT_EQ(o.errorCode, 0);
  EXPECT_EQ(o.events,
            (std::vector<Event>{begin(Opcode::Text), data("a\xE2\x82\xAC\xF0\x9F\x98\x80")}));
}

TEST(Parser, Utf8ValidationCanBeTurnedOff) {
  ParserOptions options;
  options.validateUtf8 = false;
  const Outcome o = parse(cf(0x81, "\xFF\xC0") + cf(0x81, "a\xE2"), options);
  EXPECT_EQ(o.errorCode, 0);
  EXPECT_EQ(o.events, (std::vector<Event>{begin(Opcode::Text), data("\xFF\xC0"),
                                          begin(Opcode::Text), data("a\xE2")}));
}

TEST(Parser, TextOnlyAcceptsText) {
  ParserOptions options;
  options.textOnly = true;
  const Outcome o = parse(cf(0x81, "hi"), options);
  EXPECT_EQ(o.errorCode, 0);
  EXPECT_EQ(o.messages, 1u);
}

TEST(Parser, Rsv1AllowedMarksTheMessageCompressed) {
  ParserOptions options;
  options.rsv1Allowed = true;
  // No transform set: the payload is delivered as it is, and not UTF-8-checked (it is
  // compressed data, not text yet).
  const Outcome o = parse(cf(0x41, "\xFF") + cf(0x80, "\xFE") + cf(0x81, "t"), options);
  EXPECT_EQ(o.errorCode, 0);
  EXPECT_EQ(o.events, (std::vector<Event>{begin(Opcode::Text, true), data("\xFF\xFE"),
                                          begin(Opcode::Text, false), data("t")}));
}

TEST(Parser, CloseFrames) {
  EXPECT_EQ(parse(cf(0x88, "")).events, std::vector<Event>{closeEvent(close_code::NoStatus)});
  EXPECT_EQ(parse(cf(0x88, "\x03\xe8")).events, std::vector<Event>{closeEvent(1000)});
  EXPECT_EQ(parse(cf(0x88,
                     "\x0f\xa0"
                     "bye \xE2\x82\xAC"))
                .events,
            std::vector<Event>{closeEvent(4000, "bye \xE2\x82\xAC")});
  const std::string longReason(123, 'r');
  EXPECT_EQ(parse(cf(0x88, "\x03\xe9" + longReason)).events,
            std::vector<Event>{closeEvent(1001, longReason)});
  EXPECT_EQ(parse(sf(0x88, "\x0b\xb8"), clientRole()).events, std::vector<Event>{closeEvent(3000)});
}

TEST(Parser, DataAfterCloseIsIgnoredAndNotConsumed) {
  const std::string closeFrame = cf(0x88, "\x03\xe8ok");
  const std::string wire = cf(0x81, "a") + closeFrame + cf(0x81, "b") + "garbage\xFF";
  const Outcome o = parse(wire);
  EXPECT_EQ(o.errorCode, 0);
  EXPECT_TRUE(o.closed);
  EXPECT_EQ(o.consumed, cf(0x81, "a").size() + closeFrame.size());
  EXPECT_EQ(o.events, (std::vector<Event>{begin(Opcode::Text), data("a"), closeEvent(1000, "ok")}));
  EXPECT_EQ(o.frames, 2u);
}

// A rate limit holds within one read: consume() stops after frameBudget frames, right at
// the frame boundary, and the rest parses later as if it had never been split.
TEST(Parser, FrameBudgetStopsBetweenFrames) {
  RecordingSink sink({}, false);
  Parser<RecordingSink> parser(sink, {});
  const std::string first = cf(0x81, "one") + cf(0x89, "p") + cf(0x01, "tw");
  std::string wire = first + cf(0x80, "o") + cf(0x81, "three");
  ParseResult r = parser.consume(wire.data(), wire.size(), 3);
  EXPECT_EQ(r.consumed, first.size());
  EXPECT_FALSE(r.error);
  EXPECT_EQ(parser.framesParsed(), 3u);
  EXPECT_TRUE(parser.inMessage());
  r = parser.consume(wire.data() + first.size(), wire.size() - first.size(), 0);
  EXPECT_EQ(r.consumed, 0u);  // no budget left: nothing parsed
  r = parser.consume(wire.data() + first.size(), wire.size() - first.size());
  EXPECT_EQ(r.consumed, wire.size() - first.size());
  EXPECT_EQ(parser.framesParsed(), 5u);
  EXPECT_EQ(parser.messagesParsed(), 3u);
  EXPECT_EQ(sink.events,
            (std::vector<Event>{begin(Opcode::Text), data("one"), ping("p"), begin(Opcode::Text),
                                data("two"), begin(Opcode::Text), data("three")}));
}

TEST(Parser, CountersAndState) {
  RecordingSink sink({}, false);
  Parser<RecordingSink> parser(sink, {});
  std::string wire = cf(0x01, "ab") + cf(0x89, "");
  ParseResult r = parser.consume(wire.data(), wire.size());
  EXPECT_EQ(r.consumed, wire.size());
  EXPECT_TRUE(parser.inMessage());
  EXPECT_EQ(parser.framesParsed(), 2u);
  EXPECT_EQ(parser.messagesParsed(), 0u);
  wire = cf(0x80, "c");
  r = parser.consume(wire.data(), wire.size());
  EXPECT_FALSE(parser.inMessage());
  EXPECT_EQ(parser.framesParsed(), 3u);
  EXPECT_EQ(parser.messagesParsed(), 1u);
  EXPECT_FALSE(parser.closed());
  EXPECT_FALSE(parser.hasError());
  r = parser.consume(nullptr, 0);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_FALSE(r.error);
}

// atRest(): only between frames outside a message may a server drop the parser and make a
// new one at the next read.
TEST(Parser, AtRestOnlyBetweenFramesOutsideAMessage) {
  RecordingSink sink({}, false);
  Parser<RecordingSink> parser(sink, {});
  EXPECT_TRUE(parser.atRest());
  std::string wire = cf(0x81, "whole");
  parser.consume(wire.data(), wire.size());
  EXPECT_TRUE(parser.atRest());
  wire = cf(0x81, "split");
  parser.consume(wire.data(), 1);  // a frame header begun
  EXPECT_FALSE(parser.atRest());
  parser.consume(wire.data() + 1, 5);  // inside the payload
  EXPECT_FALSE(parser.atRest());
  parser.consume(wire.data() + 6, wire.size() - 6);
  EXPECT_TRUE(parser.atRest());
  wire = cf(0x01, "first");
  parser.consume(wire.data(), wire.size());  // inside a fragmented message
  EXPECT_FALSE(parser.atRest());
  wire = cf(0x89, "");  // a ping between its fragments
  parser.consume(wire.data(), wire.size());
  EXPECT_FALSE(parser.atRest());
  wire = cf(0x80, "last") + cf(0x88, "\x03\xe8");
  parser.consume(wire.data(), wire.size());
  EXPECT_TRUE(parser.closed());
  EXPECT_FALSE(parser.atRest());  // closed: nothing more to parse
}

// ---------------------------------------------------------------------------------------
// Zero copy, streaming, hot path.

TEST(Parser, SmallFrameIsOneBeginAndOneChunkPointingIntoTheCallersBuffer) {
  RecordingSink sink({}, false);
  sink.recordRaw = true;
  Parser<RecordingSink> parser(sink, {});
  std::string wire = cf(0x81, "Hello") + cf(0x82, "World!");
  const ParseResult r = parser.consume(wire.data(), wire.size());
  EXPECT_EQ(r.consumed, wire.size());
  ASSERT_EQ(sink.dataCalls, 2u);
  ASSERT_EQ(sink.events.size(), 4u);
  // Unmasked in place: the chunk is the caller's memory, right after the header.
  EXPECT_EQ(sink.rawChunks[0].data(), wire.data() + 6);
  EXPECT_EQ(wire.substr(6, 5), "Hello");
  EXPECT_EQ(sink.rawChunks[1].data(), wire.data() + 11 + 6);
}

TEST(Parser, HugeFrameStreamsInBoundedMemory) {
  // A 1 GiB frame announced; 4 MiB of it fed through one reused 64 KiB buffer. Every chunk
  // must come straight from that buffer: the parser buffers no payload.
  static_assert(sizeof(Parser<RecordingSink>) < 512, "the parser's state must stay small");
  ParserOptions options = clientRole();
  RecordingSink sink(options, false);
  sink.recordRaw = true;
  Parser<RecordingSink> parser(sink, options);
  std::string header = frame(0x82, "", std::nullopt, LengthForm::Minimal, 1ull << 30);
  ASSERT_EQ(parser.consume(header.data(), header.size()).consumed, header.size());
  std::vector<char> buffer(64 * 1024, 'z');
  std::size_t delivered = 0;
  for (int i = 0; i < 64; ++i) {
    sink.rawChunks.clear();
    const ParseResult r = parser.consume(buffer.data(), buffer.size());
    ASSERT_EQ(r.consumed, buffer.size());
    ASSERT_EQ(sink.rawChunks.size(), 1u);
    EXPECT_EQ(sink.rawChunks[0].data(), buffer.data());
    delivered += sink.rawChunks[0].size();
  }
  EXPECT_EQ(delivered, 64u * buffer.size());
  EXPECT_TRUE(parser.inMessage());
  EXPECT_EQ(sink.events.size(), 2u);  // begin + one merged, unfinished data event
  EXPECT_EQ(sink.events[1].payload.size(), delivered);
  EXPECT_FALSE(sink.events[1].flag);
}

// ---------------------------------------------------------------------------------------
// 1002: protocol errors.

TEST(ParserErrors, ControlPayloadOver125) {
  expectError(parse(cf(0x89, std::string(126, 'x'))), close_code::ProtocolError);
  expectError(parse(cf(0x8A, std::string(126, 'x'))), close_code::ProtocolError);
  expectError(parse(cf(0x88, "\x03\xe8" + std::string(124, 'x'))), close_code::ProtocolError);
  // Checked from the header: the payload need not have arrived.
  expectError(parse(frame(0x89, "", kKey, LengthForm::Minimal, 126)), close_code::ProtocolError);
}

TEST(ParserErrors, FragmentedControlFrame) {
  expectError(parse(cf(0x09, "p")), close_code::ProtocolError);
  expectError(parse(cf(0x0A, "p")), close_code::ProtocolError);
  expectError(parse(cf(0x08, "")), close_code::ProtocolError);
}

TEST(ParserErrors, ReservedOpcodes) {
  for (int op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    SCOPED_TRACE(op);
    expectError(parse(cf(static_cast<std::uint8_t>(0x80 | op), "x")), close_code::ProtocolError);
    // Also inside a fragmented message.
    expectError(parse(cf(0x01, "a") + cf(static_cast<std::uint8_t>(0x80 | op), "")),
                close_code::ProtocolError, {begin(Opcode::Text), data("a", false)});
  }
}

TEST(ParserErrors, Rsv2AndRsv3) {
  ParserOptions allowed;
  allowed.rsv1Allowed = true;
  for (const ParserOptions& options : {ParserOptions{}, allowed}) {
    expectError(parse(cf(0xA1, "x"), options), close_code::ProtocolError);
    expectError(parse(cf(0x91, "x"), options), close_code::ProtocolError);
    expectError(parse(cf(0xA9, "x"), options), close_code::ProtocolError);
    expectError(parse(cf(0x01, "a") + cf(0x90, "b"), options), close_code::ProtocolError,
                {begin(Opcode::Text), data("a", false)});
  }
}

TEST(ParserErrors, Rsv1WithoutNegotiation) {
  expectError(parse(cf(0xC1, "x")), close_code::ProtocolError);
  expectError(parse(cf(0xC2, "x")), close_code::ProtocolError);
}

TEST(ParserErrors, Rsv1OnContinuationOrControlEvenWhenAllowed) {
  ParserOptions options;
  options.rsv1Allowed = true;
  expectError(parse(cf(0x41, "a") + cf(0xC0, "b"), options), close_code::ProtocolError,
              {begin(Opcode::Text, true), data("a", false)});
  expectError(parse(cf(0x01, "a") + cf(0xC0, "b"), options), close_code::ProtocolError,
              {begin(Opcode::Text), data("a", false)});
  expectError(parse(cf(0xC9, "p"), options), close_code::ProtocolError);
  expectError(parse(cf(0xCA, "p"), options), close_code::ProtocolError);
  expectError(parse(cf(0xC8, ""), options), close_code::ProtocolError);
}

TEST(ParserErrors, UnmaskedClientFrame) {
  expectError(parse(sf(0x81, "Hello")), close_code::ProtocolError);
  expectError(parse(sf(0x89, "")), close_code::ProtocolError);
  expectError(parse(cf(0x01, "a") + sf(0x80, "b")), close_code::ProtocolError,
              {begin(Opcode::Text), data("a", false)});
}

TEST(ParserErrors, MaskedServerFrame) {
  expectError(parse(cf(0x81, "Hello"), clientRole()), close_code::ProtocolError);
  expectError(parse(cf(0x8A, ""), clientRole()), close_code::ProtocolError);
}

TEST(ParserErrors, ContinuationWithoutMessage) {
  expectError(parse(cf(0x80, "x")), close_code::ProtocolError);
  expectError(parse(cf(0x00, "x")), close_code::ProtocolError);
  expectError(parse(cf(0x81, "a") + cf(0x80, "b")), close_code::ProtocolError,
              {begin(Opcode::Text), data("a")});
}

TEST(ParserErrors, NewMessageInsideFragmentedMessage) {
  expectError(parse(cf(0x01, "a") + cf(0x81, "b")), close_code::ProtocolError,
              {begin(Opcode::Text), data("a", false)});
  expectError(parse(cf(0x02, "a") + cf(0x01, "b")), close_code::ProtocolError,
              {begin(Opcode::Binary), data("a", false)});
}

TEST(ParserErrors, InvalidClosePayload) {
  expectError(parse(cf(0x88, "\x03")), close_code::ProtocolError);
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    SCOPED_TRACE(code);
    const std::string payload = bytes({code >> 8, code & 0xFF}) + "r";
    expectError(parse(cf(0x88, payload)), close_code::ProtocolError);
  }
  // Invalid code and bad UTF-8: the code decides (1002).
  expectError(parse(cf(0x88, bytes({0x03, 0xEC, 0xFF}))), close_code::ProtocolError);
}

TEST(ParserErrors, SixtyFourBitLengthWithHighBit) {
  const std::string wire = bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 0x37, 0xfa, 0x21, 0x3d});
  expectError(parse(wire), close_code::ProtocolError);
  // 2^63 - 1 is a legal length (rejected here only by the frame size limit).
  ParserOptions limited;
  limited.maxFrameSize = 1 << 20;
  const std::string legal =
      bytes({0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x37, 0xfa, 0x21, 0x3d});
  expectError(parse(legal, limited), close_code::MessageTooBig);
}

// ---------------------------------------------------------------------------------------
// 1007: invalid payload data.

TEST(ParserErrors, InvalidUtf8InText) {
  expectError(parse(cf(0x81,
                       "ab\xFF"
                       "cd")),
              close_code::InvalidPayload, {begin(Opcode::Text)});
  expectError(parse(cf(0x81, "\xC0\xAF")), close_code::InvalidPayload, {begin(Opcode::Text)});
  expectError(parse(cf(0x81, "\xED\xA0\x80")), close_code::InvalidPayload, {begin(Opcode::Text)});
  expectError(parse(cf(0x81, "\xF4\x90\x80\x80")), close_code::InvalidPayload,
              {begin(Opcode::Text)});
  // Across fragments: E2 then a byte that cannot continue it.
  expectError(parse(cf(0x01, "a\xE2") + cf(0x80, "(")), close_code::InvalidPayload,
              {begin(Opcode::Text), data("a\xE2", false)});
}

TEST(ParserErrors, TextEndingInsideASequence) {
  expectError(parse(cf(0x81, "a\xE2\x82")), close_code::InvalidPayload, {begin(Opcode::Text)});
  expectError(parse(cf(0x01, "a\xF0") + cf(0x80, "\x9F")), close_code::InvalidPayload,
              {begin(Opcode::Text), data("a\xF0", false)});
}

TEST(ParserErrors, InvalidUtf8FailsFastMidFrame) {
  // A 1000-byte text frame whose byte 10 is invalid: the error comes with the first bytes,
  // long before the frame is complete, and the chunk holding the bad byte is not delivered.
  std::string payload(1000, 'a');
  payload[10] = '\xFF';
  const std::string wire = cf(0x81, payload);
  {
    RecordingSink sink({}, false);
    Parser<RecordingSink> parser(sink, {});
    std::string first = wire.substr(0, 8 + 20);
    const ParseResult r = parser.consume(first.data(), first.size());
    EXPECT_EQ(r.error.closeCode, close_code::InvalidPayload);
    EXPECT_EQ(sink.dataCalls, 0u);
  }
  {
    RecordingSink sink({}, false);
    Parser<RecordingSink> parser(sink, {});
    std::string first = wire.substr(0, 8 + 5);  // valid prefix
    ASSERT_FALSE(parser.consume(first.data(), first.size()).error);
    EXPECT_EQ(sink.dataCalls, 1u);
    std::string second = wire.substr(8 + 5, 10);  // holds the bad byte
    EXPECT_EQ(parser.consume(second.data(), second.size()).error.closeCode,
              close_code::InvalidPayload);
    EXPECT_EQ(sink.dataCalls, 1u);
  }
  expectError(parse(wire), close_code::InvalidPayload, {begin(Opcode::Text)});
}

TEST(ParserErrors, InvalidUtf8InCloseReason) {
  expectError(parse(cf(0x88,
                       "\x03\xe8"
                       "ab\xFF")),
              close_code::InvalidPayload);
  expectError(parse(cf(0x88,
                       "\x03\xe8"
                       "\xE2\x82")),
              close_code::InvalidPayload);
  // Even with text validation off: the close reason is the protocol's, not the app's.
  ParserOptions options;
  options.validateUtf8 = false;
  expectError(parse(cf(0x88, "\x03\xe8\xC0\x80"), options), close_code::InvalidPayload);
}

// ---------------------------------------------------------------------------------------
// 1009: too big.

TEST(ParserErrors, FrameOverMaxFrameSizeFromTheHeaderAlone) {
  ParserOptions options;
  options.maxFrameSize = 100;
  EXPECT_EQ(parse(cf(0x82, std::string(100, 'x')), options).errorCode, 0);
  // Only the header is sent: the limit is enforced before any payload arrives.
  expectError(parse(frame(0x82, "", kKey, LengthForm::Minimal, 101), options),
              close_code::MessageTooBig);
  expectError(parse(frame(0x81, "", kKey, LengthForm::Minimal, 1ull << 40), options),
              close_code::MessageTooBig);
  expectError(parse(cf(0x01, "a") + frame(0x80, "", kKey, LengthForm::Minimal, 101), options),
              close_code::MessageTooBig, {begin(Opcode::Text), data("a", false)});
}

TEST(ParserErrors, MessageOverMaxMessageSize) {
  ParserOptions options;
  options.maxMessageSize = 10;
  const Outcome ok = parse(cf(0x02, "12345") + cf(0x80, "67890"), options);
  EXPECT_EQ(ok.errorCode, 0);
  EXPECT_EQ(ok.messages, 1u);
  // The second frame's header alone already exceeds the limit.
  expectError(parse(cf(0x02, "12345") + frame(0x80, "", kKey, LengthForm::Minimal, 6), options),
              close_code::MessageTooBig, {begin(Opcode::Binary), data("12345", false)});
  expectError(parse(frame(0x82, "", kKey, LengthForm::Minimal, 11), options),
              close_code::MessageTooBig);
  // The count restarts with each message.
  EXPECT_EQ(parse(cf(0x82, "1234567890") + cf(0x82, "1234567890"), options).errorCode, 0);
}

// ---------------------------------------------------------------------------------------
// 1003: unsupported data.

TEST(ParserErrors, BinaryWhenTextOnly) {
  ParserOptions options;
  options.textOnly = true;
  expectError(parse(cf(0x82, "b"), options), close_code::UnsupportedData);
  expectError(parse(cf(0x02, "b") + cf(0x80, "c"), options), close_code::UnsupportedData);
}

// ---------------------------------------------------------------------------------------
// Transform seam.

// Writes every input byte twice, in pieces of at most 7 output bytes.
class DoublingTransform final : public PayloadTransform {
 public:
  int finCalls = 0;
  ProtocolError transform(std::span<const char> in, bool fin, TransformOutput& out) override {
    std::string doubled;
    for (char c : in)
      doubled.append(2, c);
    for (std::size_t i = 0; i < doubled.size(); i += 7) {
      const std::size_t n = std::min<std::size_t>(7, doubled.size() - i);
      if (const ProtocolError e = out.write({doubled.data() + i, n})) return e;
    }
    if (fin) ++finCalls;
    return {};
  }
};

// Ignores write()'s errors and reports a corrupt stream on '!'.
class CarelessTransform final : public PayloadTransform {
 public:
  ProtocolError transform(std::span<const char> in, bool, TransformOutput& out) override {
    for (char c : in) {
      if (c == '!') return {close_code::InvalidPayload, "corrupt"};
      (void)out.write({&c, 1});
    }
    return {};
  }
};

ParserOptions deflateOptions() {
  ParserOptions options;
  options.rsv1Allowed = true;
  return options;
}

TEST(ParserTransform, AppliesToCompressedMessagesOnly) {
  DoublingTransform transform;
  const Outcome o =
      parse(cf(0x41, "ab") + cf(0x89, "p") + cf(0x80, "c") + cf(0x81, "xy") + cf(0xC2, ""),
            deflateOptions(), &transform);
  EXPECT_EQ(o.errorCode, 0);
  EXPECT_EQ(o.events, (std::vector<Event>{begin(Opcode::Text, true), data("aabb", false), ping("p"),
                                          data("cc"), begin(Opcode::Text), data("xy"),
                                          begin(Opcode::Binary, true), data("")}));
  EXPECT_EQ(o.messages, 3u);
}

TEST(ParserTransform, MessageSizeLimitAppliesToTheOutput) {
  DoublingTransform transform;
  ParserOptions options = deflateOptions();
  options.maxMessageSize = 20;
  // 10 wire bytes -> 20 output bytes: at the limit. Only the output counts, not wire + output.
  EXPECT_EQ(parse(cf(0x42, "12345") + cf(0x80, "67890"), options, &transform).errorCode, 0);
  // The transform writes 7 bytes at a time: 10 + 7 bytes pass, the next write would make
  // 22 and is refused.
  expectError(parse(cf(0x42, "12345") + cf(0x80, "678901"), options, &transform),
              close_code::MessageTooBig,
              {begin(Opcode::Binary, true), data("11223344556677889", false)});
  // The frame size limit still applies to the wire bytes, with room for deflate's
  // block overhead on compressed frames (limit + limit/32 + 1024).
  options.maxFrameSize = 4;
  options.maxMessageSize = 0;
  EXPECT_EQ(parse(cf(0x42, std::string(1028, 'w')), options, &transform).errorCode, 0);
  EXPECT_EQ(parse(cf(0x42, std::string(1029, 'w')), options, &transform).errorCode,
            close_code::MessageTooBig);
  EXPECT_EQ(parse(cf(0x82, "12345"), options).errorCode, close_code::MessageTooBig)
      << "an uncompressed frame gets no overhead allowance";
}

TEST(ParserTransform, Utf8IsCheckedOnTheOutput) {
  DoublingTransform transform;
  // "é" is C3 A9; doubled it is C3 C3 A9 A9: invalid.
  expectError(parse(cf(0xC1, "\xC3\xA9"), deflateOptions(), &transform), close_code::InvalidPayload,
              {begin(Opcode::Text, true)});
  // Ending inside a sequence is checked on the output too: "\xC3" doubled is C3 C3.
  expectError(parse(cf(0x41, "a") + cf(0x80, "\xE2"), deflateOptions(), &transform),
              close_code::InvalidPayload, {begin(Opcode::Text, true), data("aa", false)});
  const Outcome ok = parse(cf(0xC1, "ok"), deflateOptions(), &transform);
  EXPECT_EQ(ok.errorCode, 0);
  EXPECT_EQ(ok.events, (std::vector<Event>{begin(Opcode::Text, true), data("ookk")}));
}

TEST(ParserTransform, FirstOffendingByteDecidesBetween1007And1009) {
  // Found by the frame parser fuzzer: one transform write() both held an invalid UTF-8 byte
  // and crossed the size limit, and the verdict depended on how the transform's output was
  // chunked (which depends on how the wire was read). The first offending byte decides.
  DoublingTransform transform;  // writes 7 output bytes at a time
  ParserOptions options = deflateOptions();
  options.maxMessageSize = 4;
  // Output "aa" + FF FF ...: the invalid byte sits within the limit -> 1007.
  expectError(parse(cf(0xC1,
                       "a\xFF"
                       "bc"),
                    options, &transform),
              close_code::InvalidPayload, {begin(Opcode::Text, true)});
  // Output "aabbcc": valid up to the limit, which "cc" crosses -> 1009.
  expectError(parse(cf(0xC1, "abc\xFF"), options, &transform), close_code::MessageTooBig,
              {begin(Opcode::Text, true)});
}

TEST(ParserTransform, TransformErrorsAndIgnoredWriteErrors) {
  CarelessTransform transform;
  expectError(parse(cf(0xC2, "ab!c"), deflateOptions(), &transform), close_code::InvalidPayload,
              {begin(Opcode::Binary, true), data("ab", false)});
  // The transform ignores the 1009 write() returned: the parser still fails, with 1009, and
  // nothing past the limit reaches the sink (the harness's sink checks no delivery after it).
  ParserOptions options = deflateOptions();
  options.maxMessageSize = 3;
  expectError(parse(cf(0xC2, "abcdef"), options, &transform), close_code::MessageTooBig,
              {begin(Opcode::Binary, true), data("abc", false)});
}

TEST(ParserTransform, FinIsSignalledOncePerMessage) {
  DoublingTransform transform;
  RecordingSink sink(deflateOptions(), true);
  Parser<RecordingSink> parser(sink, deflateOptions());
  parser.setTransform(&transform);
  std::string wire = cf(0x41, "a") + cf(0x00, "") + cf(0x80, "") + cf(0xC2, "");
  EXPECT_FALSE(parser.consume(wire.data(), wire.size()).error);
  EXPECT_EQ(transform.finCalls, 2);
  EXPECT_EQ(parser.messagesParsed(), 2u);
}

}  // namespace
}  // namespace aerie::protocol
