// Test driver for RequestParser: feeds an input in given pieces, follows the documented
// contract (call feed() until NeedMore), and records a split-independent outcome, so
// that each request can be checked whole, byte by byte and in random splits.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/http/request_parser.hpp"

namespace aerie::http::test {

struct Outcome {
  std::string trace;                  // "H" head, "M" message complete, "E<status>" error
  std::vector<RequestHead> heads;     // copies taken at HeadComplete
  std::vector<std::string> bodies;    // one per HeadComplete, chunks concatenated
  std::vector<std::size_t> headEnds;  // absolute input offsets where heads ended
  std::vector<bool> expectsContinue;
  int status = 0;
  std::string reason;
  std::size_t fedUntilNeedMore = 0;  // absolute offset of all consumed input

  bool ok() const { return status == 0; }

  // Everything the parser reports except the way the body was cut into chunks.
  std::string describe() const {
    // Appends only: GCC 12 at -O3 warns falsely (-Wrestrict) on "literal" + std::string.
    std::string out = trace;
    out.append("|").append(std::to_string(status)).append(" ").append(reason);
    for (std::size_t i = 0; i < heads.size(); ++i) {
      const RequestHead& h = heads[i];
      out.append("\n[").append(h.method).append(" ").append(h.target).append(" ");
      out.append(std::to_string(h.versionMajor)).append(".");
      out.append(std::to_string(h.versionMinor)).append(" @");
      out.append(std::to_string(headEnds[i])).append("]");
      for (const HeaderField& f : h.headers) {
        out.append("{").append(f.name).append("=").append(f.value).append("}");
      }
      if (i < bodies.size()) out.append(" body=").append(bodies[i]);
    }
    return out;
  }
};

/// Feeds `input` split at `cuts` (ascending offsets, duplicates allowed).
inline Outcome parsePieces(std::string_view input, std::vector<std::size_t> cuts,
                           const ParserLimits& limits = {}) {
  RequestParser parser(limits);
  Outcome out;
  cuts.push_back(input.size());
  std::size_t start = 0;
  bool flushed = false;
  for (std::size_t c = 0; c <= cuts.size(); ++c) {
    // The final round feeds nothing: it collects a pending MessageComplete.
    const std::size_t end = c < cuts.size() ? std::min(cuts[c], input.size()) : input.size();
    if (c == cuts.size()) flushed = true;
    const char* data = input.data() + start;
    std::size_t size = end - start;
    std::size_t offset = start;
    while (true) {
      const RequestParser::Result r = parser.feed(data, size);
      EXPECT_LE(r.consumed, size);
      data += r.consumed;
      size -= r.consumed;
      offset += r.consumed;
      using Event = RequestParser::Event;
      if (r.event == Event::NeedMore) {
        EXPECT_EQ(size, 0u);
        out.fedUntilNeedMore = offset;
        break;
      }
      if (r.event == Event::Error) {
        out.trace.append("E").append(std::to_string(r.status));
        out.status = r.status;
        out.reason = std::string(r.reason);
        return out;
      }
      if (r.event == Event::HeadComplete) {
        out.trace += "H";
        out.heads.push_back(parser.head());
        out.headEnds.push_back(offset);
        out.bodies.emplace_back();
        out.expectsContinue.push_back(parser.expectsContinue());
      } else if (r.event == Event::BodyChunk) {
        // Zero copy: the chunk lies inside the fed piece, right before `data`.
        EXPECT_EQ(r.body.data() + r.body.size(), data);
        EXPECT_FALSE(r.body.empty());
        if (!out.bodies.empty()) out.bodies.back().append(r.body);
      } else if (r.event == Event::MessageComplete) {
        out.trace += "M";
      }
    }
    start = end;
    if (flushed) break;
  }
  return out;
}

inline Outcome parseWhole(std::string_view input, const ParserLimits& limits = {}) {
  return parsePieces(input, {}, limits);
}

inline Outcome parseBytewise(std::string_view input, const ParserLimits& limits = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < input.size(); ++i)
    cuts.push_back(i);
  return parsePieces(input, cuts, limits);
}

inline Outcome parseRandomSplits(std::string_view input, unsigned seed,
                                 const ParserLimits& limits = {}) {
  std::mt19937 rng(seed);
  std::vector<std::size_t> cuts;
  if (!input.empty()) {
    std::uniform_int_distribution<std::size_t> count(1, 6);
    std::uniform_int_distribution<std::size_t> where(0, input.size());
    for (std::size_t n = count(rng); n > 0; --n)
      cuts.push_back(where(rng));
  }
  std::sort(cuts.begin(), cuts.end());
  return parsePieces(input, cuts, limits);
}

/// Parses whole, byte by byte and in random splits; expects the same outcome each time.
inline Outcome parseAllWays(std::string_view input, const ParserLimits& limits = {}) {
  const Outcome whole = parseWhole(input, limits);
  const std::string expected = whole.describe();
  EXPECT_EQ(parseBytewise(input, limits).describe(), expected) << "byte by byte";
  for (unsigned seed = 1; seed <= 12; ++seed) {
    EXPECT_EQ(parseRandomSplits(input, seed, limits).describe(), expected) << "seed " << seed;
  }
  return whole;
}

/// The HTTP status an input is rejected with (0 if accepted), checked all ways.
inline int statusOf(std::string_view input, const ParserLimits& limits = {}) {
  return parseAllWays(input, limits).status;
}

}  // namespace aerie::http::test
