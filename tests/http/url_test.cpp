#include "aerie/http/url.hpp"

#include <gtest/gtest.h>

#include <string>

namespace aerie::http {
namespace {

TEST(PercentDecode, DecodesEscapes) {
  EXPECT_EQ(percentDecode("a%20b"), "a b");
  EXPECT_EQ(percentDecode("%41%42%43"), "ABC");
  EXPECT_EQ(percentDecode("%e2%82%ac"), "\xE2\x82\xAC");  // lower-case hex
  EXPECT_EQ(percentDecode("%E2%82%AC"), "\xE2\x82\xAC");
  EXPECT_EQ(percentDecode("%25"), "%");
  EXPECT_EQ(percentDecode("%2525"), "%25");  // decoded once only
  EXPECT_EQ(percentDecode("%2F"), "/");
  EXPECT_EQ(percentDecode(""), "");
  EXPECT_EQ(percentDecode("plain"), "plain");
}

TEST(PercentDecode, PlusIsSpaceOnlyWhenAsked) {
  EXPECT_EQ(percentDecode("a+b"), "a+b");
  EXPECT_EQ(percentDecode("a+b", true), "a b");
  EXPECT_EQ(percentDecode("a%2Bb", true), "a+b");
}

TEST(PercentDecode, RejectsMalformedEscapes) {
  EXPECT_EQ(percentDecode("%"), std::nullopt);
  EXPECT_EQ(percentDecode("a%"), std::nullopt);
  EXPECT_EQ(percentDecode("%4"), std::nullopt);
  EXPECT_EQ(percentDecode("%4g"), std::nullopt);
  EXPECT_EQ(percentDecode("%g4"), std::nullopt);
  EXPECT_EQ(percentDecode("%%41"), std::nullopt);
  EXPECT_EQ(percentDecode("% 41"), std::nullopt);
  EXPECT_EQ(percentDecode("%-1"), std::nullopt);
}

TEST(PercentDecode, RejectsNul) {
  EXPECT_EQ(percentDecode("%00"), std::nullopt);
  EXPECT_EQ(percentDecode("a%00.html"), std::nullopt);
  EXPECT_EQ(percentDecode(std::string("a\0b", 3)), std::nullopt);
  EXPECT_EQ(percentDecode("%01"), "\x01");  // other bytes are the caller's business
}

TEST(SplitTarget, OriginForm) {
  auto t = splitTarget("/a/b?x=1&y=2");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/a/b");
  EXPECT_EQ(t->query, "x=1&y=2");
  t = splitTarget("/");
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(t->query, "");
  t = splitTarget("/p?");
  EXPECT_EQ(t->path, "/p");
  EXPECT_EQ(t->query, "");
  t = splitTarget("/p?a?b");  // '?' may appear in a query
  EXPECT_EQ(t->query, "a?b");
  t = splitTarget("/p%20q?x#frag");
  EXPECT_EQ(t->path, "/p%20q");  // not decoded
  EXPECT_EQ(t->query, "x");
  t = splitTarget("/p#frag?notquery");
  EXPECT_EQ(t->path, "/p");
  EXPECT_EQ(t->query, "");
}

TEST(SplitTarget, AbsoluteFormAndAsterisk) {
  auto t = splitTarget("http://example.com:8080/a/b?q=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/a/b");
  EXPECT_EQ(t->query, "q=1");
  t = splitTarget("https://example.com");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/");
  t = splitTarget("http://example.com?q");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(t->query, "q");
  t = splitTarget("*");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "*");
}

TEST(SplitTarget, RejectsOtherShapes) {
  EXPECT_FALSE(splitTarget(""));
  EXPECT_FALSE(splitTarget("example.com:443"));
  EXPECT_FALSE(splitTarget("relative/path"));
  EXPECT_FALSE(splitTarget("://x/"));
}

TEST(SplitTargetView, ViewsOfTheTargetWithAnEmptyPathForTheRoot) {
  const auto origin = splitTargetView("/a/b?x=1#frag");
  ASSERT_TRUE(origin);
  EXPECT_EQ(origin->path, "/a/b");
  EXPECT_EQ(origin->query, "x=1");
  const auto absolute = splitTargetView("http://host:8080?q");
  ASSERT_TRUE(absolute);
  EXPECT_EQ(absolute->path, "");
  EXPECT_EQ(absolute->query, "q");
  const auto star = splitTargetView("*");
  ASSERT_TRUE(star);
  EXPECT_EQ(star->path, "*");
  EXPECT_FALSE(splitTargetView("host:443"));
  EXPECT_FALSE(splitTargetView("relative/path"));
}

TEST(PercentDecodeInto, ReusesTheOutputAndReportsFailure) {
  std::string out = "old content that is longer";
  ASSERT_TRUE(percentDecodeInto(out, "/a%20b+c"));
  EXPECT_EQ(out, "/a b+c");
  ASSERT_TRUE(percentDecodeInto(out, "a+b", true));
  EXPECT_EQ(out, "a b");
  EXPECT_FALSE(percentDecodeInto(out, "/x%2"));
  EXPECT_FALSE(percentDecodeInto(out, "/x%00y"));
  EXPECT_FALSE(percentDecodeInto(out, "/x%g0"));
}

TEST(NormalizePath, CollapsesDotSegments) {
  EXPECT_EQ(normalizePath("/"), "/");
  EXPECT_EQ(normalizePath("/a/b/c"), "/a/b/c");
  EXPECT_EQ(normalizePath("/a/./b"), "/a/b");
  EXPECT_EQ(normalizePath("/a/../b"), "/b");
  EXPECT_EQ(normalizePath("/a/b/../../c"), "/c");
  EXPECT_EQ(normalizePath("/a//b"), "/a/b");
  EXPECT_EQ(normalizePath("//a"), "/a");
  EXPECT_EQ(normalizePath("/a/"), "/a/");
  EXPECT_EQ(normalizePath("/a/."), "/a/");
  EXPECT_EQ(normalizePath("/a/b/.."), "/a/");
  EXPECT_EQ(normalizePath("/a/.."), "/");
  EXPECT_EQ(normalizePath("/."), "/");
  EXPECT_EQ(normalizePath("/..."), "/...");  // not a dot segment
  EXPECT_EQ(normalizePath("/..a/b.."), "/..a/b..");
  EXPECT_EQ(normalizePath("/.hidden"), "/.hidden");
}

TEST(NormalizePath, RefusesToClimbAboveRoot) {
  EXPECT_EQ(normalizePath("/a/../../etc/passwd"), std::nullopt);
  EXPECT_EQ(normalizePath("/.."), std::nullopt);
  EXPECT_EQ(normalizePath("/../a"), std::nullopt);
  EXPECT_EQ(normalizePath("/a/./../.."), std::nullopt);
  EXPECT_EQ(normalizePath("//.."), std::nullopt);
  // Decoded "%2e%2e" is ".." too: normalisation runs after decoding.
  EXPECT_EQ(normalizePath(*percentDecode("/%2e%2e/etc/passwd")), std::nullopt);
  EXPECT_EQ(normalizePath(*percentDecode("/a%2F..%2F..%2Fetc")), std::nullopt);
}

TEST(NormalizePath, RefusesRelativePathsAndNul) {
  EXPECT_EQ(normalizePath(""), std::nullopt);
  EXPECT_EQ(normalizePath("a/b"), std::nullopt);
  EXPECT_EQ(normalizePath(std::string("/a\0b", 4)), std::nullopt);
}

TEST(ParseQuery, SplitsAndDecodes) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(parseQuery("a=1&b=x+y&c"), (Pairs{{"a", "1"}, {"b", "x y"}, {"c", ""}}));
  EXPECT_EQ(parseQuery(""), Pairs{});
  EXPECT_EQ(parseQuery("&&a=1&&"), (Pairs{{"a", "1"}}));
  EXPECT_EQ(parseQuery("k=a=b"), (Pairs{{"k", "a=b"}}));
  EXPECT_EQ(parseQuery("%6B%3D=%26"), (Pairs{{"k=", "&"}}));
  EXPECT_EQ(parseQuery("=v"), (Pairs{{"", "v"}}));
  EXPECT_EQ(parseQuery("a=1&a=2"), (Pairs{{"a", "1"}, {"a", "2"}}));
  // A malformed pair is skipped, the others kept.
  EXPECT_EQ(parseQuery("a=%zz&b=2&c=%00&d%=4"), (Pairs{{"b", "2"}}));
}

}  // namespace
}  // namespace aerie::http
