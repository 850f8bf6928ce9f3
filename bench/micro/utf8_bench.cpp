// UTF-8 validation throughput on 64 KiB: pure ASCII and a realistic mix (about 60% of
// the bytes ASCII, the rest Cyrillic, CJK and emoji words), for the fast validator and
// the byte-at-a-time reference DFA. Compare the GB/s columns of the pairs.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "aerie/protocol/utf8.hpp"

namespace {

constexpr std::size_t kSize = 64 * 1024;

std::string asciiText() {
  const std::string_view words =
      "The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ";
  std::string out;
  while (out.size() < kSize)
    out += words;
  out.resize(kSize);
  return out;
}

// Words drawn with fixed odds, separated by spaces and the odd punctuation, so ASCII
// runs are short (as in chat text mixing languages) and the validator must switch
// between its ASCII and multi-byte paths all the time.
std::string mixedText() {
  static constexpr std::array<std::string_view, 8> kAscii = {
      "hello", "world", "message", "the", "server", "ok", "WebSocket", "latency"};
  static constexpr std::array<std::string_view, 6> kCyrillic = {"привет", "мир", "сообщение",
                                                                "сервер", "да",  "быстро"};
  static constexpr std::array<std::string_view, 6> kCjk = {"你好",   "世界",       "消息",
                                                           "服务器", "こんにちは", "速い"};
  static constexpr std::array<std::string_view, 6> kEmoji = {"😀", "🚀",      "👍🏽",
                                                             "🎉", "❤️", "🔥"};
  std::mt19937 rng(42);
  std::string out;
  while (out.size() < kSize) {
    const unsigned pick = rng() % 100;
    if (pick < 64) {
      out += kAscii[rng() % kAscii.size()];
    } else if (pick < 80) {
      out += kCyrillic[rng() % kCyrillic.size()];
    } else if (pick < 92) {
      out += kCjk[rng() % kCjk.size()];
    } else {
      out += kEmoji[rng() % kEmoji.size()];
    }
    out += rng() % 8 == 0 ? ", " : " ";
  }
  // Cut back to a code point boundary at or below kSize.
  std::size_t end = kSize;
  while ((static_cast<unsigned char>(out[end]) & 0xC0) == 0x80)
    --end;
  out.resize(end);
  return out;
}

double asciiShare(std::string_view s) {
  std::size_t ascii = 0;
  for (const char c : s)
    ascii += static_cast<unsigned char>(c) < 0x80;
  return static_cast<double>(ascii) / static_cast<double>(s.size());
}

template <bool (*Validate)(std::string_view) noexcept>
void run(benchmark::State& state, const std::string& text) {
  if (!Validate(text)) state.SkipWithError("benchmark input is not valid UTF-8");
  for (auto _ : state) {
    benchmark::DoNotOptimize(text.data());
    bool ok = Validate(text);
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(text.size()));
  state.counters["ascii_share"] = asciiShare(text);
}

const std::string& ascii() {
  static const std::string text = asciiText();
  return text;
}
const std::string& mixed() {
  static const std::string text = mixedText();
  return text;
}

void BM_Utf8Ascii(benchmark::State& state) {
  run<aerie::protocol::isValidUtf8>(state, ascii());
}
void BM_Utf8ReferenceAscii(benchmark::State& state) {
  run<aerie::protocol::isValidUtf8Reference>(state, ascii());
}
void BM_Utf8Mixed(benchmark::State& state) {
  run<aerie::protocol::isValidUtf8>(state, mixed());
}
void BM_Utf8ReferenceMixed(benchmark::State& state) {
  run<aerie::protocol::isValidUtf8Reference>(state, mixed());
}

// The streaming form as a server uses it: the mixed text in 1400-byte chunks (about one
// TCP segment each), split wherever that lands, inside code points included.
void BM_Utf8MixedStream1400(benchmark::State& state) {
  const std::string& text = mixed();
  for (auto _ : state) {
    aerie::protocol::Utf8Validator v;
    bool ok = true;
    for (std::size_t pos = 0; pos < text.size(); pos += 1400) {
      ok &= v.feed(std::string_view(text).substr(pos, 1400));
    }
    ok &= v.isComplete();
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(text.size()));
}

// Chat-sized messages: per-call overhead dominates here, not the per-byte loops.
void BM_Utf8ShortAscii(benchmark::State& state) {
  const std::string text = ascii().substr(0, static_cast<std::size_t>(state.range(0)));
  run<aerie::protocol::isValidUtf8>(state, text);
}
void BM_Utf8ShortMixed(benchmark::State& state) {
  std::size_t end = static_cast<std::size_t>(state.range(0));
  while ((static_cast<unsigned char>(mixed()[end]) & 0xC0) == 0x80)
    --end;
  const std::string text = mixed().substr(0, end);
  run<aerie::protocol::isValidUtf8>(state, text);
}

BENCHMARK(BM_Utf8Ascii);
BENCHMARK(BM_Utf8ShortAscii)->Arg(16)->Arg(128);
BENCHMARK(BM_Utf8ShortMixed)->Arg(128);
BENCHMARK(BM_Utf8ReferenceAscii);
BENCHMARK(BM_Utf8Mixed);
BENCHMARK(BM_Utf8ReferenceMixed);
BENCHMARK(BM_Utf8MixedStream1400);

}  // namespace
