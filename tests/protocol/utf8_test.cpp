// Streaming UTF-8 validator: Markus Kuhn's decoder stress test (sections 1-5), the
// fail-fast contract across every split, an exhaustive check over byte-class
// representatives, and randomized differential tests against the reference DFA.
#include "aerie/protocol/utf8.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace aerie::protocol {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::ptrdiff_t kNoFail = -1;

std::string_view view(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}
std::string_view view(const Bytes& b) {
  return view(b.data(), b.size());
}

// What a correct validator must say about a byte string: the index of the first byte
// after which no continuation can make the stream valid (kNoFail if none), and whether
// the whole string is valid. Written straight from the RFC 3629 section 4 grammar, and
// independent of both implementations under test.
struct Expectation {
  std::ptrdiff_t failAt = kNoFail;
  bool valid = true;
};

Expectation expectFor(const std::uint8_t* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const unsigned b = s[i];
    unsigned need = 0;
    unsigned lo = 0x80;  // range of the second byte; later ones are always 80..BF
    unsigned hi = 0xBF;
    if (b <= 0x7F) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b == 0xE0) {
      need = 2, lo = 0xA0;
    } else if (b == 0xED) {
      need = 2, hi = 0x9F;
    } else if (b >= 0xE1 && b <= 0xEF) {
      need = 2;
    } else if (b == 0xF0) {
      need = 3, lo = 0x90;
    } else if (b >= 0xF1 && b <= 0xF3) {
      need = 3;
    } else if (b == 0xF4) {
      need = 3, hi = 0x8F;
    } else {
      return {static_cast<std::ptrdiff_t>(i), false};
    }
    for (unsigned k = 1; k <= need; ++k) {
      if (i + k >= n) return {kNoFail, false};  // truncated: fine until the end
      const unsigned c = s[i + k];
      if (k > 1) lo = 0x80, hi = 0xBF;
      if (c < lo || c > hi) return {static_cast<std::ptrdiff_t>(i + k), false};
    }
    i += need + 1;
  }
  return {kNoFail, true};
}
Expectation expectFor(const Bytes& b) {
  return expectFor(b.data(), b.size());
}

// Checks one byte string every way the validator can be driven. Returns a gtest
// failure describing the first disagreement.
::testing::AssertionResult checkAllWays(const std::uint8_t* data, std::size_t n,
                                        Expectation expect) {
  const std::string_view whole = view(data, n);
  if (isValidUtf8(whole) != expect.valid) return ::testing::AssertionFailure() << "isValidUtf8";
  if (isValidUtf8Reference(whole) != expect.valid)
    return ::testing::AssertionFailure() << "isValidUtf8Reference";
  {
    Utf8Validator v;
    const bool ok = v.feed(whole);
    if (ok != (expect.failAt == kNoFail) || v.failed() == ok || v.isComplete() != expect.valid)
      return ::testing::AssertionFailure() << "single feed";
  }
  // Two feeds, split at every position (both empty halves included).
  for (std::size_t k = 0; k <= n; ++k) {
    Utf8Validator v;
    const bool first = v.feed(whole.substr(0, k));
    const bool firstExpected =
        expect.failAt == kNoFail || expect.failAt >= static_cast<std::ptrdiff_t>(k);
    if (first != firstExpected) return ::testing::AssertionFailure() << "first feed, split " << k;
    const bool second = v.feed(whole.substr(k));
    if (second != (expect.failAt == kNoFail))
      return ::testing::AssertionFailure() << "second feed, split " << k;
    if (v.isComplete() != expect.valid)
      return ::testing::AssertionFailure() << "isComplete, split " << k;
  }
  // Byte by byte: the feed holding the first offending byte is the first to fail.
  {
    Utf8Validator v;
    for (std::size_t i = 0; i < n; ++i) {
      const bool ok = v.feed(whole.substr(i, 1));
      const bool okExpected =
          expect.failAt == kNoFail || static_cast<std::ptrdiff_t>(i) < expect.failAt;
      if (ok != okExpected) return ::testing::AssertionFailure() << "byte feed " << i;
    }
    if (v.isComplete() != expect.valid)
      return ::testing::AssertionFailure() << "isComplete after byte feeds";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult checkAllWays(const Bytes& b, Expectation e) {
  return checkAllWays(b.data(), b.size(), e);
}

Bytes encode(std::uint32_t cp) {
  if (cp < 0x80) return {static_cast<std::uint8_t>(cp)};
  if (cp < 0x800)
    return {static_cast<std::uint8_t>(0xC0 | (cp >> 6)),
            static_cast<std::uint8_t>(0x80 | (cp & 0x3F))};
  if (cp < 0x10000)
    return {static_cast<std::uint8_t>(0xE0 | (cp >> 12)),
            static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
            static_cast<std::uint8_t>(0x80 | (cp & 0x3F))};
  return {static_cast<std::uint8_t>(0xF0 | (cp >> 18)),
          static_cast<std::uint8_t>(0x80 | ((cp >> 12) & 0x3F)),
          static_cast<std::uint8_t>(0x80 | ((cp >> 6) & 0x3F)),
          static_cast<std::uint8_t>(0x80 | (cp & 0x3F))};
}

void append(Bytes& to, const Bytes& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// ---------------------------------------------------------------------------------------
// Markus Kuhn, "UTF-8 decoder capability and stress test", sections 1-5, as byte arrays,
// each with the expected offset of the first offending byte (kNoFail: none) and verdict.
struct KuhnVector {
  const char* id;
  Bytes bytes;
  std::ptrdiff_t failAt;
  bool valid;
};

Bytes lonelyStarts(unsigned first, unsigned last) {
  Bytes out;
  for (unsigned b = first; b <= last; ++b)
    out.insert(out.end(), {static_cast<std::uint8_t>(b), 0x20});
  return out;
}

Bytes allContinuations() {
  Bytes out;
  for (unsigned b = 0x80; b <= 0xBF; ++b)
    out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

const std::vector<KuhnVector>& kuhnVectors() {
  static const std::vector<KuhnVector> vectors = {
      // 1 Some correct UTF-8 text: Greek "kosme".
      {"1", {0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5}, kNoFail, true},
      // 2.1 First possible sequence of a certain length.
      {"2.1.1", {0x00}, kNoFail, true},
      {"2.1.2", {0xC2, 0x80}, kNoFail, true},
      {"2.1.3", {0xE0, 0xA0, 0x80}, kNoFail, true},
      {"2.1.4", {0xF0, 0x90, 0x80, 0x80}, kNoFail, true},
      {"2.1.5", {0xF8, 0x88, 0x80, 0x80, 0x80}, 0, false},
      {"2.1.6", {0xFC, 0x84, 0x80, 0x80, 0x80, 0x80}, 0, false},
      // 2.2 Last possible sequence of a certain length.
      {"2.2.1", {0x7F}, kNoFail, true},
      {"2.2.2", {0xDF, 0xBF}, kNoFail, true},
      {"2.2.3", {0xEF, 0xBF, 0xBF}, kNoFail, true},
      {"2.2.4", {0xF7, 0xBF, 0xBF, 0xBF}, 0, false},
      {"2.2.5", {0xFB, 0xBF, 0xBF, 0xBF, 0xBF}, 0, false},
      {"2.2.6", {0xFD, 0xBF, 0xBF, 0xBF, 0xBF, 0xBF}, 0, false},
      // 2.3 Other boundary conditions.
      {"2.3.1 U+D7FF", {0xED, 0x9F, 0xBF}, kNoFail, true},
      {"2.3.2 U+E000", {0xEE, 0x80, 0x80}, kNoFail, true},
      {"2.3.3 U+FFFD", {0xEF, 0xBF, 0xBD}, kNoFail, true},
      {"2.3.4 U+10FFFF", {0xF4, 0x8F, 0xBF, 0xBF}, kNoFail, true},
      {"2.3.5 U+110000", {0xF4, 0x90, 0x80, 0x80}, 1, false},
      // 3.1 Unexpected continuation bytes.
      {"3.1.1", {0x80}, 0, false},
      {"3.1.2", {0xBF}, 0, false},
      {"3.1.3", {0x80, 0xBF}, 0, false},
      {"3.1.4", {0x80, 0xBF, 0x80}, 0, false},
      {"3.1.5", {0x80, 0xBF, 0x80, 0xBF}, 0, false},
      {"3.1.6", {0x80, 0xBF, 0x80, 0xBF, 0x80}, 0, false},
      {"3.1.7", {0x80, 0xBF, 0x80, 0xBF, 0x80, 0xBF}, 0, false},
      {"3.1.8", {0x80, 0xBF, 0x80, 0xBF, 0x80, 0xBF, 0x80}, 0, false},
      {"3.1.9", allContinuations(), 0, false},
      // 3.2 Lonely start characters, each followed by a space. C0, C1 and F5..FF fail at
      // once; C2..F4 start a sequence that the space breaks (the lists' first entries
      // decide the offset).
      {"3.2.1", lonelyStarts(0xC0, 0xDF), 0, false},
      {"3.2.2", lonelyStarts(0xE0, 0xEF), 1, false},
      {"3.2.3", lonelyStarts(0xF0, 0xF7), 1, false},
      {"3.2.4", lonelyStarts(0xF8, 0xFB), 0, false},
      {"3.2.5", lonelyStarts(0xFC, 0xFD), 0, false},
      // 3.3 Sequences with the last continuation byte missing. Those whose prefix is
      // still viable are only incomplete: no feed fails, isComplete() is false.
      {"3.3.1", {0xC0}, 0, false},
      {"3.3.2", {0xE0, 0x80}, 1, false},
      {"3.3.3", {0xF0, 0x80, 0x80}, 1, false},
      {"3.3.4", {0xF8, 0x80, 0x80, 0x80}, 0, false},
      {"3.3.5", {0xFC, 0x80, 0x80, 0x80, 0x80}, 0, false},
      {"3.3.6", {0xDF}, kNoFail, false},
      {"3.3.7", {0xEF, 0xBF}, kNoFail, false},
      {"3.3.8", {0xF7, 0xBF, 0xBF}, 0, false},
      {"3.3.9", {0xFB, 0xBF, 0xBF, 0xBF}, 0, false},
      {"3.3.10", {0xFD, 0xBF, 0xBF, 0xBF, 0xBF}, 0, false},
      // Not in Kuhn's list: viable truncations of the other lead bytes.
      {"3.3.x E1 80", {0xE1, 0x80}, kNoFail, false},
      {"3.3.x F1 80 80", {0xF1, 0x80, 0x80}, kNoFail, false},
      {"3.3.x F4 8F BF", {0xF4, 0x8F, 0xBF}, kNoFail, false},
      {"3.3.x ED 9F", {0xED, 0x9F}, kNoFail, false},
      // 3.4 Concatenation of the ten incomplete sequences of 3.3.
      {"3.4",
       {0xC0, 0xE0, 0x80, 0xF0, 0x80, 0x80, 0xF8, 0x80, 0x80, 0x80, 0xFC, 0x80, 0x80, 0x80, 0x80,
        0xDF, 0xEF, 0xBF, 0xF7, 0xBF, 0xBF, 0xFB, 0xBF, 0xBF, 0xBF, 0xFD, 0xBF, 0xBF, 0xBF, 0xBF},
       0,
       false},
      // The same without the sequences that fail at their first byte.
      {"3.4 viable heads", {0xDF, 0xEF, 0xBF}, 1, false},
      // 3.5 Impossible bytes.
      {"3.5.1", {0xFE}, 0, false},
      {"3.5.2", {0xFF}, 0, false},
      {"3.5.3", {0xFE, 0xFE, 0xFF, 0xFF}, 0, false},
      // 4.1 Overlong ASCII '/' (U+002F).
      {"4.1.1", {0xC0, 0xAF}, 0, false},
      {"4.1.2", {0xE0, 0x80, 0xAF}, 1, false},
      {"4.1.3", {0xF0, 0x80, 0x80, 0xAF}, 1, false},
      {"4.1.4", {0xF8, 0x80, 0x80, 0x80, 0xAF}, 0, false},
      {"4.1.5", {0xFC, 0x80, 0x80, 0x80, 0x80, 0xAF}, 0, false},
      // 4.2 Maximum overlong sequences.
      {"4.2.1", {0xC1, 0xBF}, 0, false},
      {"4.2.2", {0xE0, 0x9F, 0xBF}, 1, false},
      {"4.2.3", {0xF0, 0x8F, 0xBF, 0xBF}, 1, false},
      {"4.2.4", {0xF8, 0x87, 0xBF, 0xBF, 0xBF}, 0, false},
      {"4.2.5", {0xFC, 0x83, 0xBF, 0xBF, 0xBF, 0xBF}, 0, false},
      // 4.3 Overlong NUL.
      {"4.3.1", {0xC0, 0x80}, 0, false},
      {"4.3.2", {0xE0, 0x80, 0x80}, 1, false},
      {"4.3.3", {0xF0, 0x80, 0x80, 0x80}, 1, false},
      {"4.3.4", {0xF8, 0x80, 0x80, 0x80, 0x80}, 0, false},
      {"4.3.5", {0xFC, 0x80, 0x80, 0x80, 0x80, 0x80}, 0, false},
      // 5.1 Single UTF-16 surrogates.
      {"5.1.1 U+D800", {0xED, 0xA0, 0x80}, 1, false},
      {"5.1.2 U+DB7F", {0xED, 0xAD, 0xBF}, 1, false},
      {"5.1.3 U+DB80", {0xED, 0xAE, 0x80}, 1, false},
      {"5.1.4 U+DBFF", {0xED, 0xAF, 0xBF}, 1, false},
      {"5.1.5 U+DC00", {0xED, 0xB0, 0x80}, 1, false},
      {"5.1.6 U+DF80", {0xED, 0xBE, 0x80}, 1, false},
      {"5.1.7 U+DFFF", {0xED, 0xBF, 0xBF}, 1, false},
      // 5.2 Paired UTF-16 surrogates.
      {"5.2.1", {0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80}, 1, false},
      {"5.2.2", {0xED, 0xA0, 0x80, 0xED, 0xBF, 0xBF}, 1, false},
      {"5.2.3", {0xED, 0xAD, 0xBF, 0xED, 0xB0, 0x80}, 1, false},
      {"5.2.4", {0xED, 0xAD, 0xBF, 0xED, 0xBF, 0xBF}, 1, false},
      {"5.2.5", {0xED, 0xAE, 0x80, 0xED, 0xB0, 0x80}, 1, false},
      {"5.2.6", {0xED, 0xAE, 0x80, 0xED, 0xBF, 0xBF}, 1, false},
      {"5.2.7", {0xED, 0xAF, 0xBF, 0xED, 0xB0, 0x80}, 1, false},
      {"5.2.8", {0xED, 0xAF, 0xBF, 0xED, 0xBF, 0xBF}, 1, false},
      // 5.3 Noncharacters: valid per RFC 3629 (Kuhn's file predates that view).
      {"5.3.1", {0xEF, 0xBF, 0xBE, 0xEF, 0xBF, 0xBF}, kNoFail, true},
      {"5.3.2 U+FDD0", {0xEF, 0xB7, 0x90}, kNoFail, true},
      {"5.3.2 U+FDEF", {0xEF, 0xB7, 0xAF}, kNoFail, true},
      {"5.3.3 U+1FFFE U+1FFFF", {0xF0, 0x9F, 0xBF, 0xBE, 0xF0, 0x9F, 0xBF, 0xBF}, kNoFail, true},
      {"5.3.3 U+10FFFE U+10FFFF", {0xF4, 0x8F, 0xBF, 0xBE, 0xF4, 0x8F, 0xBF, 0xBF}, kNoFail, true},
  };
  return vectors;
}

TEST(Utf8Kuhn, EveryVectorWholeSplitAndByteByByte) {
  for (const KuhnVector& v : kuhnVectors()) {
    SCOPED_TRACE(v.id);
    // The grammar helper must agree with the hand-written expectation, so that it can be
    // trusted for the generated inputs below.
    const Expectation e = expectFor(v.bytes);
    EXPECT_EQ(e.failAt, v.failAt);
    EXPECT_EQ(e.valid, v.valid);
    EXPECT_TRUE(checkAllWays(v.bytes, {v.failAt, v.valid}));
  }
}

TEST(Utf8Kuhn, VectorsInsideAsciiTextExerciseTheVectorPaths) {
  // Kuhn's file embeds each sample in text; 40 ASCII bytes on each side make the vector
  // code (16/32/128-byte steps, overlapping tail load) see it at varying positions.
  const std::string pad = "The quick brown fox jumps over the lazy";
  for (const KuhnVector& v : kuhnVectors()) {
    for (std::size_t lead : {std::size_t{1}, std::size_t{15}, std::size_t{31}, pad.size()}) {
      SCOPED_TRACE(std::string(v.id) + " lead " + std::to_string(lead));
      Bytes b(pad.begin(), pad.begin() + static_cast<std::ptrdiff_t>(lead));
      append(b, v.bytes);
      b.insert(b.end(), pad.begin(), pad.end());
      const Expectation e = expectFor(b);
      if (v.failAt != kNoFail) {
        EXPECT_EQ(e.failAt, static_cast<std::ptrdiff_t>(lead) + v.failAt);
      }
      EXPECT_EQ(e.valid, v.valid);  // truncated sequences fail on the following 'T'
      EXPECT_TRUE(checkAllWays(b, e));
    }
  }
}

TEST(Utf8Kuhn, EachLonelyStartCharacterAlone) {
  for (unsigned lead = 0xC0; lead <= 0xFF; ++lead) {
    SCOPED_TRACE(lead);
    const Bytes b = {static_cast<std::uint8_t>(lead), 0x20};
    const bool startsSequence = (lead >= 0xC2 && lead <= 0xF4);
    EXPECT_TRUE(checkAllWays(b, {startsSequence ? 1 : 0, false}));
  }
}

TEST(Utf8Kuhn, AllNoncharactersAreValid) {
  Bytes b;
  for (std::uint32_t cp = 0xFDD0; cp <= 0xFDEF; ++cp)
    append(b, encode(cp));
  for (std::uint32_t plane = 0; plane <= 0x10; ++plane) {
    append(b, encode((plane << 16) | 0xFFFE));
    append(b, encode((plane << 16) | 0xFFFF));
  }
  EXPECT_TRUE(checkAllWays(b, {kNoFail, true}));
}

TEST(Utf8Encode, HelperProducesKnownSequences) {
  EXPECT_EQ(encode(0x2F), (Bytes{0x2F}));
  EXPECT_EQ(encode(0x7FF), (Bytes{0xDF, 0xBF}));
  EXPECT_EQ(encode(0xFFFD), (Bytes{0xEF, 0xBF, 0xBD}));
  EXPECT_EQ(encode(0x10FFFF), (Bytes{0xF4, 0x8F, 0xBF, 0xBF}));
}

// ---------------------------------------------------------------------------------------
TEST(Utf8FailFast, ChunkWithTheOffendingByteFails) {
  struct Case {
    Bytes first;
    bool firstOk;
  };
  const Case cases[] = {
      {{0xF4, 0x90}, false},                         // above U+10FFFF: known at the second byte
      {{0xF4, 0x8F}, true},                          // still U+10xxxx
      {{0xED, 0xA0}, false},                         // surrogate
      {{0xED, 0x9F}, true},  {{0xE0, 0x80}, false},  // overlong
      {{0xE0, 0xA0}, true},  {{0xF0, 0x8F}, false},  // overlong
      {{0xC0}, false},       {{0xC1}, false},           {{0xF5}, false},
      {{0xFF}, false},       {{'a', 'b', 0x80}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.first));
    Utf8Validator v;
    EXPECT_EQ(v.feed(view(c.first)), c.firstOk);
    EXPECT_EQ(v.failed(), !c.firstOk);
    EXPECT_FALSE(v.isComplete());
  }
}

TEST(Utf8Validator, FailureIsStickyUntilReset) {
  Utf8Validator v;
  EXPECT_TRUE(v.isComplete());
  EXPECT_FALSE(v.failed());
  EXPECT_FALSE(v.feed("\xC0\x80"));
  EXPECT_FALSE(v.feed("valid ascii"));
  EXPECT_FALSE(v.feed(std::string_view{}));
  EXPECT_TRUE(v.failed());
  EXPECT_FALSE(v.isComplete());
  v.reset();
  EXPECT_FALSE(v.failed());
  EXPECT_TRUE(v.feed("\xE2\x82"));  // first two bytes of U+20AC
  EXPECT_FALSE(v.isComplete());
  EXPECT_TRUE(v.feed("\xAC"));
  EXPECT_TRUE(v.isComplete());
  v.reset();  // reset also discards an unfinished sequence
  EXPECT_TRUE(v.feed("\xE2"));
  v.reset();
  EXPECT_TRUE(v.isComplete());
  EXPECT_FALSE(v.feed("\xAC"));
}

TEST(Utf8Validator, EmptyInput) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed(nullptr, 0));
  EXPECT_TRUE(v.isComplete());
  EXPECT_TRUE(isValidUtf8({}));
  EXPECT_TRUE(isValidUtf8Reference({}));
}

// ---------------------------------------------------------------------------------------
// Every string of 1..4 bytes over representatives of all byte classes (both ends of each
// range the grammar distinguishes): covers every transition of both DFAs. Streaming
// byte by byte is skipped for 4-byte strings that fail in their first three bytes (the
// 3-byte pass already covers those feeds).
TEST(Utf8Exhaustive, AllShortSequencesOverClassRepresentatives) {
  constexpr std::array<std::uint8_t, 24> kReps = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                                  0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED,
                                                  0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  std::array<std::uint8_t, 4> buf{};
  std::size_t checked = 0;
  std::size_t wholeOnly = 0;
  for (std::size_t len = 1; len <= 4; ++len) {
    std::size_t combos = 1;
    for (std::size_t i = 0; i < len; ++i)
      combos *= kReps.size();
    for (std::size_t c = 0; c < combos; ++c) {
      std::size_t x = c;
      for (std::size_t i = 0; i < len; ++i, x /= kReps.size())
        buf[i] = kReps[x % kReps.size()];
      const Expectation e = expectFor(buf.data(), len);
      const std::string_view s = view(buf.data(), len);
      ASSERT_EQ(isValidUtf8(s), e.valid) << ::testing::PrintToString(buf) << " len " << len;
      ASSERT_EQ(isValidUtf8Reference(s), e.valid)
          << ::testing::PrintToString(buf) << " len " << len;
      if (len == 4 && e.failAt != kNoFail && e.failAt < 3) {
        ++wholeOnly;  // byte-by-byte feeds of these repeat the 3-byte prefix's checks
        continue;
      }
      Utf8Validator v;
      for (std::size_t i = 0; i < len; ++i) {
        const bool ok = v.feed(s.substr(i, 1));
        ASSERT_EQ(ok, e.failAt == kNoFail || static_cast<std::ptrdiff_t>(i) < e.failAt)
            << ::testing::PrintToString(buf) << " len " << len << " byte " << i;
      }
      ASSERT_EQ(v.isComplete(), e.valid);
      ++checked;
    }
  }
  EXPECT_EQ(checked + wholeOnly, 24u + 24u * 24u + 24u * 24u * 24u + 24u * 24u * 24u * 24u);
  EXPECT_GT(checked, 24u * 24u * 24u + 24u * 24u);  // some 4-byte strings were streamed
}

// ---------------------------------------------------------------------------------------
// Randomized differential tests (fixed seed: failures reproduce).
std::uint32_t randomCodePoint(std::mt19937& rng) {
  static constexpr std::uint32_t kEdges[] = {0x0,    0x7F,   0x80,   0x7FF,   0x800,    0xD7FF,
                                             0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF, 0xFEFF};
  switch (rng() % 6) {
    case 0:
    case 1:
      return rng() % 0x80;
    case 2:
      return 0x80 + rng() % (0x800 - 0x80);
    case 3: {
      const std::uint32_t cp = 0x800 + rng() % (0x10000 - 0x800 - 0x800);
      return cp >= 0xD800 ? cp + 0x800 : cp;  // skip the surrogate block
    }
    case 4:
      return 0x10000 + rng() % (0x110000 - 0x10000);
    default:
      return kEdges[rng() % std::size(kEdges)];
  }
}

Bytes randomText(std::mt19937& rng, std::size_t codePoints) {
  Bytes out;
  for (std::size_t i = 0; i < codePoints; ++i) {
    if (rng() % 8 == 0) {  // an ASCII run long enough for the vector paths
      out.insert(out.end(), rng() % 80, static_cast<std::uint8_t>('a' + rng() % 26));
    }
    append(out, encode(randomCodePoint(rng)));
  }
  return out;
}

void mutate(std::mt19937& rng, Bytes& b) {
  const unsigned count = rng() % 4;
  for (unsigned m = 0; m < count; ++m) {
    const std::size_t pos = b.empty() ? 0 : rng() % b.size();
    switch (rng() % 5) {
      case 0:  // any byte
        if (!b.empty()) b[pos] = static_cast<std::uint8_t>(rng());
        break;
      case 1:  // a byte from the interesting high range
        if (!b.empty()) b[pos] = static_cast<std::uint8_t>(0x80 + rng() % 0x80);
        break;
      case 2:
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<std::uint8_t>(rng()));
        break;
      case 3:
        if (!b.empty()) b.erase(b.begin() + static_cast<std::ptrdiff_t>(pos));
        break;
      default:
        b.resize(pos);
        break;
    }
  }
}

// Feeds `b` in random chunks; checks each verdict against the expectation.
::testing::AssertionResult checkRandomSplits(std::mt19937& rng, const Bytes& b, Expectation e) {
  Utf8Validator v;
  std::size_t pos = 0;
  while (pos < b.size()) {
    const std::size_t len =
        std::min<std::size_t>(b.size() - pos, rng() % 3 == 0 ? rng() % 4 : rng() % 200);
    const bool ok = v.feed(view(b.data() + pos, len));
    pos += len;
    const bool okExpected = e.failAt == kNoFail || static_cast<std::ptrdiff_t>(pos) <= e.failAt;
    if (ok != okExpected) return ::testing::AssertionFailure() << "chunk ending at " << pos;
  }
  if (v.isComplete() != e.valid) return ::testing::AssertionFailure() << "isComplete";
  return ::testing::AssertionSuccess();
}

TEST(Utf8Random, DifferentialAgainstReferenceWithMutationsAndSplits) {
  std::mt19937 rng(20240601);
  std::size_t valid = 0;
  std::size_t invalid = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    Bytes b = randomText(rng, rng() % 40);
    if (iter % 4 != 0) mutate(rng, b);
    const Expectation e = expectFor(b);
    const std::string_view s = view(b);
    ASSERT_EQ(isValidUtf8(s), isValidUtf8Reference(s)) << ::testing::PrintToString(b);
    ASSERT_EQ(isValidUtf8(s), e.valid) << ::testing::PrintToString(b);
    ASSERT_TRUE(checkRandomSplits(rng, b, e)) << ::testing::PrintToString(b);
    ++(e.valid ? valid : invalid);
  }
  // Both outcomes must be well represented, or the test proves little.
  EXPECT_GT(valid, 1000u);
  EXPECT_GT(invalid, 1000u);
}

TEST(Utf8Random, LongValidTextInRandomChunks) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 20; ++iter) {
    const Bytes b = randomText(rng, 2000);
    ASSERT_TRUE(isValidUtf8(view(b)));
    ASSERT_TRUE(isValidUtf8Reference(view(b)));
    ASSERT_TRUE(checkRandomSplits(rng, b, {kNoFail, true}));
  }
}

// A bad (or multi-byte) sequence at every position of a 134-byte window inside long ASCII
// runs, at seven start alignments mod 32: exercises each lane and each step boundary of
// the 16-, 32- and 128-byte ASCII paths and the overlapping tail load.
::testing::AssertionResult checkAsciiRunsWithABadByteAtEveryPosition() {
  struct Insert {
    Bytes bytes;
    std::ptrdiff_t failOffset;  // within `bytes`; kNoFail if valid
  };
  const Insert inserts[] = {
      {{0x80}, 0},                          // stray continuation
      {{0xFF}, 0},                          // impossible byte
      {{0xC0, 0x80}, 0},                    // overlong NUL
      {{0xE0, 0x80, 0x80}, 1},              // overlong, fails at the second byte
      {{0xED, 0xA0, 0x80}, 1},              // surrogate
      {{0xF4, 0x90, 0x80, 0x80}, 1},        // above U+10FFFF
      {{0xF0, 0x9F, 0x98, 0x80}, kNoFail},  // valid emoji U+1F600
      {{0xC3, 0xA9}, kNoFail},              // valid U+00E9
  };
  std::vector<std::uint8_t> storage(512 + 32);
  for (std::size_t align = 0; align < 32; align += 5) {
    for (const std::size_t total : {std::size_t{150}, std::size_t{300}}) {
      // Positions 16..149 cover every lane of the first 128-byte AVX2 step (which starts
      // after the first 16-byte check) and, for total 150, the short tail.
      for (std::size_t pos = 16; pos < 150; ++pos) {
        for (const Insert& ins : inserts) {
          std::uint8_t* base = storage.data() + align;
          std::fill(base, base + total, static_cast<std::uint8_t>('x'));
          if (pos + ins.bytes.size() > total) continue;
          std::copy(ins.bytes.begin(), ins.bytes.end(), base + pos);
          const Expectation e = {ins.failOffset == kNoFail
                                     ? kNoFail
                                     : static_cast<std::ptrdiff_t>(pos) + ins.failOffset,
                                 ins.failOffset == kNoFail};
          const auto where = [&] {
            return ::testing::AssertionFailure()
                   << "align " << align << " total " << total << " pos " << pos << " insert "
                   << ::testing::PrintToString(ins.bytes) << ": ";
          };
          if (expectFor(base, total).failAt != e.failAt) return where() << "expectFor";
          const std::string_view s = view(base, total);
          if (isValidUtf8(s) != e.valid) return where() << "isValidUtf8";
          if (isValidUtf8Reference(s) != e.valid) return where() << "reference";
          // Split right before, at and after the offending byte.
          for (std::size_t k = pos - 1; k <= std::min(pos + 2, total); ++k) {
            Utf8Validator v;
            const bool first = v.feed(s.substr(0, k));
            if (first != (e.failAt == kNoFail || e.failAt >= static_cast<std::ptrdiff_t>(k)))
              return where() << "first feed, split " << k;
            if (v.feed(s.substr(k)) != e.valid) return where() << "second feed, split " << k;
            if (v.isComplete() != e.valid) return where() << "isComplete, split " << k;
          }
        }
      }
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(Utf8Random, AsciiRunsWithABadByteAtEveryPosition) {
  EXPECT_TRUE(checkAsciiRunsWithABadByteAtEveryPosition());
}

TEST(Utf8Random, TruncatedSequenceAtTheEndOfLongAscii) {
  // The overlapping tail load must stop at a lead byte in the last 15 bytes.
  for (std::size_t total = 17; total < 80; ++total) {
    for (std::size_t tail = 1; tail <= 3; ++tail) {
      Bytes b(total, 'y');
      const Bytes euro = {0xE2, 0x82, 0xAC};
      const Bytes emoji = {0xF0, 0x9F, 0x98, 0x80};
      const Bytes& seq = tail < 3 ? euro : emoji;
      std::copy(seq.begin(), seq.begin() + static_cast<std::ptrdiff_t>(tail),
                b.end() - static_cast<std::ptrdiff_t>(tail));
      EXPECT_FALSE(isValidUtf8(view(b))) << total << " " << tail;
      Utf8Validator v;
      EXPECT_TRUE(v.feed(view(b)));
      EXPECT_FALSE(v.isComplete());
      EXPECT_TRUE(v.feed(view(seq.data() + tail, seq.size() - tail)));
      EXPECT_TRUE(v.isComplete());
    }
  }
}

#if defined(__x86_64__)
// The ASCII skipper's SSE2 kernel only runs where AVX2 is missing or disabled, and the
// choice is made once per process: check it in a fresh child started with AERIE_NO_AVX2.
TEST(Utf8Sse2DeathTest, Sse2KernelPassesTheVectorPathChecks) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // re-executes: kernels not yet chosen
  EXPECT_EXIT(
      {
        setenv("AERIE_NO_AVX2", "1", 1);
        std::mt19937 rng(11);
        bool ok = checkAsciiRunsWithABadByteAtEveryPosition();
        for (int i = 0; i < 5 && ok; ++i) {
          const Bytes b = randomText(rng, 2000);
          ok = isValidUtf8(view(b)) && checkRandomSplits(rng, b, {kNoFail, true});
        }
        std::exit(ok ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}
#endif

}  // namespace
}  // namespace aerie::protocol
