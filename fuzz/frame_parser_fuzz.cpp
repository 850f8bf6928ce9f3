// libFuzzer target for the frame parser.
//
// Input: byte 0 selects the options, byte 1 how the rest is split into consume() calls,
// the rest is the wire data. The data is parsed twice, whole and split; both runs must
// agree (same error, same completed messages and control frames), and the sink traps on
// any broken invariant: data outside a message, fin not exactly once, a control payload
// over 125 bytes, a callback after an error or a close, invalid UTF-8 delivered as text,
// a message over the size limit, a binary message when text-only.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>

#include "aerie/protocol/close_code.hpp"
#include "aerie/protocol/parser.hpp"
#include "aerie/protocol/utf8.hpp"

namespace {

using namespace aerie::protocol;

#define FUZZ_CHECK(condition)           \
  do {                                  \
    if (!(condition)) __builtin_trap(); \
  } while (0)

// A toy inbound transform: every byte twice, written 5 bytes at a time.
class DoublingTransform final : public PayloadTransform {
 public:
  ProtocolError transform(std::span<const char> in, bool, TransformOutput& out) override {
    char buffer[5];
    std::size_t n = 0;
    for (char c : in) {
      for (int i = 0; i < 2; ++i) {
        buffer[n++] = c;
        if (n == sizeof buffer) {
          if (const ProtocolError e = out.write({buffer, n})) return e;
          n = 0;
        }
      }
    }
    return n != 0 ? out.write({buffer, n}) : ProtocolError{};
  }
};

struct Hash {
  std::uint64_t value = 1469598103934665603ull;  // FNV-1a
  void mix(const char* data, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) {
      value = (value ^ static_cast<std::uint8_t>(data[i])) * 1099511628211ull;
    }
  }
  void mix(std::uint64_t v) { mix(reinterpret_cast<const char*>(&v), sizeof v); }
};

struct CheckingSink {
  CheckingSink(ParserOptions o, bool transform) : options(o), transformSet(transform) {}

  ParserOptions options;
  bool transformSet;
  bool stopped = false;  // the harness saw an error
  bool closed = false;
  bool inMessage = false;
  bool checkUtf8 = false;
  std::uint64_t messageBytes = 0;
  Utf8Validator utf8;
  Hash pending;    // the current message, whatever its chunking
  Hash completed;  // completed messages and control frames, in order

  void live() const { FUZZ_CHECK(!stopped && !closed); }

  void onMessageBegin(Opcode op, bool compressed) {
    live();
    FUZZ_CHECK(!inMessage);
    FUZZ_CHECK(op == Opcode::Text || op == Opcode::Binary);
    FUZZ_CHECK(!(op == Opcode::Binary && options.textOnly));
    FUZZ_CHECK(!compressed || options.rsv1Allowed);
    inMessage = true;
    messageBytes = 0;
    checkUtf8 = op == Opcode::Text && options.validateUtf8 && (!compressed || transformSet);
    utf8.reset();
    pending = Hash{};
    pending.mix(static_cast<std::uint64_t>(op) * 2 + compressed);
  }
  void onMessageData(std::span<const char> chunk, bool fin) {
    live();
    FUZZ_CHECK(inMessage);
    FUZZ_CHECK(fin || !chunk.empty());
    messageBytes += chunk.size();
    FUZZ_CHECK(options.maxMessageSize == 0 || messageBytes <= options.maxMessageSize);
    if (checkUtf8) FUZZ_CHECK(utf8.feed(chunk.data(), chunk.size()));
    pending.mix(chunk.data(), chunk.size());
    if (fin) {
      if (checkUtf8) FUZZ_CHECK(utf8.isComplete());
      inMessage = false;
      completed.mix(pending.value);
    }
  }
  void control(std::uint64_t kind, std::span<const char> payload) {
    live();
    FUZZ_CHECK(payload.size() <= 125);
    completed.mix(kind);
    completed.mix(payload.data(), payload.size());
  }
  void onPing(std::span<const char> payload) { control(1, payload); }
  void onPong(std::span<const char> payload) { control(2, payload); }
  void onClose(std::uint16_t code, std::string_view reason) {
    live();
    FUZZ_CHECK(code == close_code::NoStatus || isValidCloseCodeOnWire(code));
    FUZZ_CHECK(code != close_code::NoStatus || reason.empty());
    FUZZ_CHECK(reason.size() <= 123);
    FUZZ_CHECK(isValidUtf8(reason));
    completed.mix(3 + static_cast<std::uint64_t>(code));
    completed.mix(reason.data(), reason.size());
    closed = true;
  }
};

struct RunResult {
  std::uint16_t error = 0;
  std::size_t consumed = 0;  // without an error
  bool closed = false;
  std::uint64_t frames = 0;
  std::uint64_t messages = 0;
  std::uint64_t digest = 0;
};

std::uint32_t xorshift(std::uint32_t& s) {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

// whole: one call with everything; otherwise chunk sizes drawn from splitSeed.
RunResult run(const std::uint8_t* data, std::size_t size, ParserOptions options, bool withTransform,
              bool whole, std::uint8_t splitSeed) {
  DoublingTransform transform;
  CheckingSink sink(options, withTransform);
  Parser<CheckingSink> parser(sink, options);
  if (withTransform) parser.setTransform(&transform);

  static constexpr std::uint32_t kMaxChunk[] = {1, 3, 16, 200};
  const std::uint32_t maxChunk = kMaxChunk[splitSeed & 3];
  std::uint32_t state = 0x9E3779B9u ^ splitSeed;
  RunResult result;
  std::size_t offset = 0;
  while (offset < size) {
    const std::size_t n =
        whole ? size : std::min<std::size_t>(1 + xorshift(state) % maxChunk, size - offset);
    // An exact-size copy: ASan sees any read past the chunk; freed right after, as the
    // receive buffer would be reused.
    char* chunk = static_cast<char*>(std::malloc(n));
    FUZZ_CHECK(chunk != nullptr);
    std::memcpy(chunk, data + offset, n);
    const ParseResult r = parser.consume(chunk, n);
    std::free(chunk);
    FUZZ_CHECK(r.consumed <= n);
    FUZZ_CHECK(parser.hasError() == static_cast<bool>(r.error));
    if (r.error) {
      const std::uint16_t code = r.error.closeCode;
      FUZZ_CHECK(code == close_code::ProtocolError || code == close_code::InvalidPayload ||
                 code == close_code::MessageTooBig || code == close_code::UnsupportedData);
      FUZZ_CHECK(!r.error.reason.empty() && r.error.reason.size() <= 123);
      result.error = code;
      sink.stopped = true;
      // Sticky, and silent.
      char rest[4] = {'\x81', '\x00', '\x88', '\x00'};
      const ParseResult again = parser.consume(rest, sizeof rest);
      FUZZ_CHECK(again.consumed == 0 && again.error.closeCode == code);
      break;
    }
    result.consumed += r.consumed;
    if (parser.closed()) {
      char rest[2] = {'\x89', '\x00'};
      const ParseResult again = parser.consume(rest, sizeof rest);
      FUZZ_CHECK(again.consumed == 0 && !again.error);
      break;
    }
    FUZZ_CHECK(r.consumed == n);
    offset += n;
  }
  FUZZ_CHECK(parser.inMessage() == sink.inMessage);
  FUZZ_CHECK(parser.closed() == sink.closed);
  result.closed = parser.closed();
  result.frames = parser.framesParsed();
  result.messages = parser.messagesParsed();
  result.digest = sink.completed.value;
  if (result.error != 0) result.consumed = 0;
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t config = data[0];
  const std::uint8_t splitSeed = data[1];
  data += 2;
  size -= 2;

  ParserOptions options;
  options.role = (config & 1) != 0 ? Role::Client : Role::Server;
  options.rsv1Allowed = (config & 2) != 0;
  if ((config & 4) != 0) {
    options.maxFrameSize = 64;
    options.maxMessageSize = 200;
  }
  options.textOnly = (config & 8) != 0;
  options.validateUtf8 = (config & 16) == 0;
  const bool withTransform = (config & 32) != 0;

  const RunResult whole = run(data, size, options, withTransform, true, 0);
  const RunResult split = run(data, size, options, withTransform, false, splitSeed);
  FUZZ_CHECK(whole.error == split.error);
  FUZZ_CHECK(whole.consumed == split.consumed);
  FUZZ_CHECK(whole.closed == split.closed);
  FUZZ_CHECK(whole.frames == split.frames);
  FUZZ_CHECK(whole.messages == split.messages);
  FUZZ_CHECK(whole.digest == split.digest);
  return 0;
}
