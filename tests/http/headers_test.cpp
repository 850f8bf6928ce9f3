#include "aerie/http/headers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "aerie/http/request_head.hpp"

namespace aerie::http {
namespace {

std::string dump(const Headers& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    out += std::string(name) + "=" + std::string(value) + ";";
  }
  return out;
}

TEST(Iequals, ComparesAsciiCaseInsensitively) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Host", "Hos"));
  EXPECT_FALSE(iequals("Host", "Hosu"));
  EXPECT_FALSE(iequals("a", "\x41\x01"));
  // Only letters fold: '@' (0x40) and '`' (0x60) differ by 0x20 but are not letters.
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_FALSE(iequals("\xC9", "\xE9"));  // no Latin-1 folding
}

TEST(Iequals, AgreesWithTheBytewiseRuleForEveryPairOfBytesAtEveryWordPosition) {
  // iequals works a word at a time: check it against the byte rule for all 65,536 byte
  // pairs, at positions in the first word, at a word edge and in the tail.
  const auto lower = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
  for (const std::size_t length : {1u, 8u, 9u, 17u}) {
    for (const std::size_t at : {std::size_t{0}, length / 2, length - 1}) {
      std::string a(length, 'k');
      std::string b(length, 'K');
      for (int x = 0; x < 256; ++x) {
        for (int y = 0; y < 256; ++y) {
          a[at] = static_cast<char>(x);
          b[at] = static_cast<char>(y);
          const bool expected =
              lower(static_cast<unsigned char>(x)) == lower(static_cast<unsigned char>(y));
          ASSERT_EQ(iequals(a, b), expected) << length << " " << at << " " << x << " " << y;
        }
      }
    }
  }
}

TEST(HeaderValidity, NamesAndValues) {
  EXPECT_TRUE(isValidFieldName("X-Custom_1"));
  EXPECT_FALSE(isValidFieldName(""));
  EXPECT_FALSE(isValidFieldName("Bad Name"));
  EXPECT_FALSE(isValidFieldName("Bad:Name"));
  EXPECT_FALSE(isValidFieldName("Bad\r\nName"));
  EXPECT_TRUE(isValidFieldValue(""));
  EXPECT_TRUE(isValidFieldValue("a b\tc \xE9"));
  EXPECT_FALSE(isValidFieldValue("a\r\nSet-Cookie: x"));
  EXPECT_FALSE(isValidFieldValue("a\nb"));
  EXPECT_FALSE(isValidFieldValue(std::string("a\0b", 3)));
  EXPECT_FALSE(isValidFieldValue(" leading"));
  EXPECT_FALSE(isValidFieldValue("trailing\t"));
}

TEST(Headers, AddKeepsOrderAndDuplicates) {
  Headers h;
  h.add("Host", "example.com");
  h.add("Accept", "a");
  h.add("accept", "b");
  EXPECT_EQ(h.size(), 3u);
  EXPECT_FALSE(h.empty());
  EXPECT_EQ(dump(h), "Host=example.com;Accept=a;accept=b;");
  EXPECT_EQ(h.get("ACCEPT"), "a");
  EXPECT_EQ(h.get("missing"), std::nullopt);
  ASSERT_EQ(h.getAll("accept").size(), 2u);
  EXPECT_EQ(h.getAll("accept")[1], "b");
  EXPECT_EQ(h.combined("Accept"), "a, b");
  EXPECT_EQ(h.combined("missing"), "");
  EXPECT_EQ(h.count("accept"), 2u);
  EXPECT_TRUE(h.contains("host"));
  EXPECT_FALSE(h.contains("hos"));
}

TEST(Headers, SetReplacesAllAtTheFirstPosition) {
  Headers h;
  h.add("A", "1");
  h.add("B", "2");
  h.add("a", "3");
  h.add("C", "4");
  h.set("A", "new");
  EXPECT_EQ(dump(h), "A=new;B=2;C=4;");
  h.set("D", "5");
  EXPECT_EQ(dump(h), "A=new;B=2;C=4;D=5;");
}

TEST(Headers, RemoveDropsAllMatches) {
  Headers h;
  h.add("A", "1");
  h.add("B", "2");
  h.add("a", "3");
  EXPECT_EQ(h.remove("A"), 2u);
  EXPECT_EQ(dump(h), "B=2;");
  EXPECT_EQ(h.remove("A"), 0u);
  EXPECT_EQ(h.remove("b"), 1u);
  EXPECT_TRUE(h.empty());
}

TEST(Headers, ClearKeepsCapacityForReuse) {
  Headers h;
  h.add("Name", std::string(100, 'x'));
  h.clear();
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.storedBytes(), 0u);
  h.add("A", "b");
  EXPECT_EQ(dump(h), "A=b;");
}

TEST(Headers, HasTokenMatchesListElements) {
  Headers h;
  h.add("Connection", "keep-alive, Upgrade");
  h.add("Upgrade", "websocket");
  h.add("X", "a,b ,\tc");
  EXPECT_TRUE(h.hasToken("connection", "upgrade"));
  EXPECT_TRUE(h.hasToken("connection", "KEEP-ALIVE"));
  EXPECT_FALSE(h.hasToken("connection", "close"));
  EXPECT_FALSE(h.hasToken("connection", "upgrad"));
  EXPECT_TRUE(h.hasToken("upgrade", "WebSocket"));
  EXPECT_TRUE(h.hasToken("x", "a"));
  EXPECT_TRUE(h.hasToken("x", "b"));
  EXPECT_TRUE(h.hasToken("x", "c"));
  EXPECT_FALSE(h.hasToken("missing", "a"));
}

TEST(Headers, ManyFieldsSurviveArenaGrowth) {
  Headers h;
  for (int i = 0; i < 200; ++i)
    h.add("X-" + std::to_string(i), std::string(i, 'v'));
  ASSERT_EQ(h.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(h.get("x-" + std::to_string(i)), std::string(i, 'v')) << i;
  }
}

TEST(Headers, CopiesAndMovesKeepValidViews) {
  // Small enough to live in the string's inline (SSO) buffer, where a move copies bytes.
  Headers small;
  small.add("A", "b");
  Headers copied(small);
  Headers moved(std::move(small));
  EXPECT_EQ(dump(copied), "A=b;");
  EXPECT_EQ(dump(moved), "A=b;");
  EXPECT_TRUE(small.empty());  // NOLINT(bugprone-use-after-move): documented state

  Headers big;
  for (int i = 0; i < 50; ++i)
    big.add("Name" + std::to_string(i), "value" + std::to_string(i));
  Headers assigned;
  assigned.add("Old", "x");
  assigned = big;
  Headers moveAssigned;
  moveAssigned = std::move(big);
  EXPECT_EQ(assigned.get("name49"), "value49");
  EXPECT_EQ(moveAssigned.get("name49"), "value49");
  EXPECT_EQ(assigned.size(), 50u);

  Headers smallTarget;
  Headers smallSource;
  smallSource.add("K", "v");
  smallTarget = std::move(smallSource);
  EXPECT_EQ(dump(smallTarget), "K=v;");

  // Copies are independent.
  assigned.set("name0", "changed");
  EXPECT_EQ(moveAssigned.get("name0"), "value0");
}

TEST(Headers, ArgumentsMayViewTheSameObject) {
  Headers h;
  h.add("Source", "some value that is long enough to matter");
  for (int i = 0; i < 40; ++i) {  // forces growth while the argument views the old arena
    h.add(*h.get("source"), *h.get("source"));
  }
  EXPECT_EQ(h.size(), 41u);
  EXPECT_EQ(h[40].name, "some value that is long enough to matter");
  h.set("Source", *h.get("source"));
  EXPECT_EQ(h.get("source"), "some value that is long enough to matter");
}

TEST(Headers, RepeatedSetDoesNotGrowWithoutBound) {
  Headers h;
  h.add("Keep", "k");
  for (int i = 0; i < 10000; ++i)
    h.set("Counter", std::to_string(i) + std::string(50, 'x'));
  EXPECT_EQ(h.get("counter"), "9999" + std::string(50, 'x'));
  EXPECT_EQ(h.get("keep"), "k");
  EXPECT_LT(h.storedBytes(), 4096u);
  for (int i = 0; i < 10000; ++i) {
    h.add("Tmp", std::string(60, 't'));
    h.remove("tmp");
  }
  EXPECT_LT(h.storedBytes(), 4096u);
  EXPECT_EQ(dump(h), "Keep=k;Counter=9999" + std::string(50, 'x') + ";");
}

TEST(Headers, SwapExchangesFieldsWhateverTheArenaSize) {
  Headers big;
  for (int i = 0; i < 30; ++i)
    big.add("Name-" + std::to_string(i), std::string(40, static_cast<char>('a' + i % 26)));
  Headers small;
  small.add("A", "b");  // 2 bytes: the arena is still a short (in-object) string
  Headers empty;
  big.swap(small);
  ASSERT_EQ(big.size(), 1u);
  EXPECT_EQ(big.get("a"), "b");
  ASSERT_EQ(small.size(), 30u);
  EXPECT_EQ(small.get("name-29"), std::string(40, 'd'));
  swap(small, empty);
  EXPECT_TRUE(small.empty());
  ASSERT_EQ(empty.size(), 30u);
  EXPECT_EQ(empty[0].value, std::string(40, 'a'));
  small.add("After", "swap");  // the swapped-in storage is usable
  EXPECT_EQ(small.get("after"), "swap");
  big.swap(big);
  EXPECT_EQ(big.get("a"), "b");
}

TEST(RequestHead, KeepAliveFollowsVersionAndConnection) {
  RequestHead head;
  head.versionMinor = 1;
  EXPECT_TRUE(head.keepAlive());
  head.headers.add("Connection", "Upgrade");
  EXPECT_TRUE(head.keepAlive());
  head.headers.add("Connection", "keep-alive, Close");
  EXPECT_FALSE(head.keepAlive());

  RequestHead old;
  old.versionMinor = 0;
  EXPECT_FALSE(old.keepAlive());
  old.headers.add("Connection", "Keep-Alive");
  EXPECT_TRUE(old.keepAlive());
  old.headers.add("Connection", "close");
  EXPECT_FALSE(old.keepAlive());

  old.clear();
  EXPECT_TRUE(old.headers.empty());
  EXPECT_EQ(old.versionMinor, 1);
}

}  // namespace
}  // namespace aerie::http
