// Range, If-None-Match and Accept-Encoding rules for static files (RFC 9110 14, 13.1.2,
// 12.5.3).
#include "aerie/http/static_file_rules.hpp"

#include <gtest/gtest.h>

namespace aerie::http {
namespace {

using Kind = RangeRequest::Kind;

TEST(Range, SingleRangesInEveryForm) {
  auto single = [](std::string_view header, std::uint64_t size, std::uint64_t first,
                   std::uint64_t last) {
    const RangeRequest r = parseRange(header, size);
    EXPECT_EQ(r.kind, Kind::Single) << header;
    EXPECT_EQ(r.range.first, first) << header;
    EXPECT_EQ(r.range.last, last) << header;
  };
  single("bytes=0-0", 100, 0, 0);
  single("bytes=10-19", 100, 10, 19);
  single("bytes=90-", 100, 90, 99);
  single("bytes=90-1000", 100, 90, 99);  // clipped to the end
  single("bytes=-10", 100, 90, 99);      // suffix
  single("bytes=-1000", 100, 0, 99);     // suffix longer than the file: all of it
  single("BYTES= 5 - 6 ", 100, 5, 6);    // unit case-insensitive, blanks tolerated
}

TEST(Range, UnsatisfiableAndIgnored) {
  EXPECT_EQ(parseRange("bytes=100-", 100).kind, Kind::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=200-300", 100).kind, Kind::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=-0", 100).kind, Kind::Unsatisfiable);
  EXPECT_EQ(parseRange("bytes=0-", 0).kind, Kind::Unsatisfiable);  // an empty file
  // Malformed, other units and several ranges: the whole file (200).
  for (const char* header : {"", "bytes=", "bytes=a-b", "bytes=5-1", "items=0-1", "bytes=1",
                             "bytes=0-1,5-6", "bytes=--1", "bytes=+1-2", "bytes=0-1-2",
                             "bytes=99999999999999999999-"}) {
    EXPECT_EQ(parseRange(header, 100).kind, Kind::Whole) << header;
  }
}

TEST(IfNoneMatch, ListsWeakTagsAndStar) {
  EXPECT_TRUE(ifNoneMatchMatches("\"a\"", "\"a\""));
  EXPECT_TRUE(ifNoneMatchMatches("\"x\", \"a\"", "\"a\""));
  EXPECT_TRUE(ifNoneMatchMatches("W/\"a\"", "\"a\""));  // weak comparison
  EXPECT_TRUE(ifNoneMatchMatches("*", "\"a\""));
  EXPECT_FALSE(ifNoneMatchMatches("\"b\"", "\"a\""));
  EXPECT_FALSE(ifNoneMatchMatches("a", "\"a\""));  // unquoted is not the tag
  EXPECT_FALSE(ifNoneMatchMatches("", "\"a\""));
}

TEST(AcceptEncoding, QValuesAndWildcards) {
  EXPECT_TRUE(acceptsEncoding("gzip, deflate, br", "br"));
  EXPECT_TRUE(acceptsEncoding("GZIP", "gzip"));
  EXPECT_TRUE(acceptsEncoding("br;q=0.5", "br"));
  EXPECT_FALSE(acceptsEncoding("br;q=0", "br"));
  EXPECT_FALSE(acceptsEncoding("br;q=0.000", "br"));
  EXPECT_FALSE(acceptsEncoding("gzip", "br"));
  EXPECT_FALSE(acceptsEncoding("", "gzip"));
  EXPECT_TRUE(acceptsEncoding("*", "br"));
  EXPECT_FALSE(acceptsEncoding("*, br;q=0", "br"));  // explicit refusal beats the wildcard
  EXPECT_FALSE(acceptsEncoding("*;q=0", "gzip"));
  EXPECT_FALSE(acceptsEncoding("brotli", "br"));
}

}  // namespace
}  // namespace aerie::http
