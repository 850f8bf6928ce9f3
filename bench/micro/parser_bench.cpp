// Frame parser and writer micro-benchmarks.
//
// The parse buffers hold many frames back to back, as one server read would. consume()
// unmasks in place, so a buffer parsed twice would be garbage the second time; the mask
// key is chosen with every byte below 0x80 and the payload is ASCII, so each pass turns
// ASCII into other ASCII and every pass is valid input (and still UTF-8-checked) without a
// refill copy inside the timed loop.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/protocol/frame_writer.hpp"
#include "aerie/protocol/parser.hpp"

namespace {

using namespace aerie::protocol;

constexpr MaskKey kAsciiKey = {0x11, 0x22, 0x33, 0x44};

struct CountingSink {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  void onMessageBegin(Opcode, bool) noexcept {}
  void onMessageData(std::span<const char> chunk, bool fin) noexcept {
    bytes += chunk.size();
    messages += fin;
  }
  void onPing(std::span<const char>) noexcept {}
  void onPong(std::span<const char>) noexcept {}
  void onClose(std::uint16_t, std::string_view) noexcept {}
};

std::string maskedFrames(Opcode opcode, std::size_t payloadSize, std::size_t count) {
  std::string payload(payloadSize, 'a');
  for (std::size_t i = 0; i < payloadSize; ++i)
    payload[i] = static_cast<char>('a' + i % 26);
  std::string wire;
  for (std::size_t i = 0; i < count; ++i) {
    appendFrame(wire, opcode, {payload.data(), payload.size()}, true, false, &kAsciiKey);
  }
  return wire;
}

void parseFrames(benchmark::State& state, Opcode opcode, std::size_t payloadSize,
                 std::size_t framesPerBuffer) {
  std::string wire = maskedFrames(opcode, payloadSize, framesPerBuffer);
  CountingSink sink;
  Parser<CountingSink> parser(sink, ParserOptions{});
  for (auto _ : state) {
    const ParseResult r = parser.consume(wire.data(), wire.size());
    benchmark::DoNotOptimize(r);
    if (r.error) state.SkipWithError("parse error");
  }
  benchmark::DoNotOptimize(sink.bytes);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * framesPerBuffer));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * wire.size()));
}

void BM_ParseMaskedText16(benchmark::State& state) {
  parseFrames(state, Opcode::Text, 16, 4096);
}
BENCHMARK(BM_ParseMaskedText16);

void BM_ParseMaskedBinary16(benchmark::State& state) {
  parseFrames(state, Opcode::Binary, 16, 4096);
}
BENCHMARK(BM_ParseMaskedBinary16);

void BM_ParseMaskedBinary1K(benchmark::State& state) {
  parseFrames(state, Opcode::Binary, 1024, 256);
}
BENCHMARK(BM_ParseMaskedBinary1K);

void BM_ParseMaskedText1K(benchmark::State& state) {
  parseFrames(state, Opcode::Text, 1024, 256);
}
BENCHMARK(BM_ParseMaskedText1K);

void BM_ParseMaskedBinary64K(benchmark::State& state) {
  parseFrames(state, Opcode::Binary, 64 * 1024, 8);
}
BENCHMARK(BM_ParseMaskedBinary64K);

// A 16-byte frame arriving one read per frame: the per-call overhead.
void BM_ParseMaskedText16OnePerCall(benchmark::State& state) {
  std::string wire = maskedFrames(Opcode::Text, 16, 1);
  CountingSink sink;
  Parser<CountingSink> parser(sink, ParserOptions{});
  for (auto _ : state) {
    const ParseResult r = parser.consume(wire.data(), wire.size());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseMaskedText16OnePerCall);

void BM_WriteFrame16(benchmark::State& state) {
  const std::string payload(16, 'x');
  std::vector<char> out(64);
  const MaskKey* mask = state.range(0) != 0 ? &kAsciiKey : nullptr;
  for (auto _ : state) {
    const std::size_t n =
        writeFrame(out.data(), Opcode::Text, {payload.data(), payload.size()}, true, false, mask);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_WriteFrame16)->ArgName("masked")->Arg(0)->Arg(1);

void BM_AppendMessage16(benchmark::State& state) {
  const std::string payload(16, 'x');
  std::string out;
  out.reserve(64);
  for (auto _ : state) {
    out.clear();
    appendMessage(out, Opcode::Text, {payload.data(), payload.size()}, 0, nullptr, nullptr);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_AppendMessage16);

}  // namespace
