#include "aerie/http/response_head.hpp"

#include <gtest/gtest.h>

#include <string>

#include "aerie/http/status.hpp"

namespace aerie::http {
namespace {

TEST(ReasonPhrase, CommonCodes) {
  EXPECT_EQ(reasonPhrase(101), "Switching Protocols");
  EXPECT_EQ(reasonPhrase(200), "OK");
  EXPECT_EQ(reasonPhrase(304), "Not Modified");
  EXPECT_EQ(reasonPhrase(400), "Bad Request");
  EXPECT_EQ(reasonPhrase(404), "Not Found");
  EXPECT_EQ(reasonPhrase(413), "Content Too Large");
  EXPECT_EQ(reasonPhrase(414), "URI Too Long");
  EXPECT_EQ(reasonPhrase(426), "Upgrade Required");
  EXPECT_EQ(reasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reasonPhrase(501), "Not Implemented");
  EXPECT_EQ(reasonPhrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reasonPhrase(599), "");
  EXPECT_EQ(reasonPhrase(0), "");
  static_assert(reasonPhrase(200) == "OK");
}

TEST(WriteResponseHead, SerialisesStatusLineAndFields) {
  Headers headers;
  headers.add("Content-Type", "text/plain");
  headers.add("Content-Length", "2");
  std::string out = "prefix|";
  ASSERT_TRUE(writeResponseHead(out, 200, headers));
  EXPECT_EQ(out, "prefix|HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n");
}

TEST(WriteResponseHead, UnknownCodeHasEmptyReason) {
  std::string out;
  ASSERT_TRUE(writeResponseHead(out, 299, Headers{}));
  EXPECT_EQ(out, "HTTP/1.1 299 \r\n\r\n");
}

TEST(WriteResponseHead, SwitchingProtocols) {
  Headers headers;
  headers.add("Upgrade", "websocket");
  headers.add("Connection", "Upgrade");
  headers.add("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  std::string out;
  ASSERT_TRUE(writeResponseHead(out, 101, headers));
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

TEST(WriteResponseHead, RefusesInjectionAndBadStatus) {
  std::string out = "keep";
  Headers injected;
  injected.add("X", "a\r\nSet-Cookie: evil=1");
  EXPECT_FALSE(writeResponseHead(out, 200, injected));
  Headers badName;
  badName.add("Bad Name", "v");
  EXPECT_FALSE(writeResponseHead(out, 200, badName));
  Headers lf;
  lf.add("X", "a\nb");
  EXPECT_FALSE(writeResponseHead(out, 200, lf));
  EXPECT_FALSE(writeResponseHead(out, 99, Headers{}));
  EXPECT_FALSE(writeResponseHead(out, 1000, Headers{}));
  EXPECT_FALSE(writeResponseHead(out, -200, Headers{}));
  EXPECT_EQ(out, "keep");  // nothing appended on failure
}

TEST(WriteResponseHead, ServerFieldsFollowTheApplicationsAndReplaceTheirNamesakes) {
  Headers headers;
  headers.add("date", "Thu, 01 Jan 1970 00:00:00 GMT");
  headers.add("X-App", "1");
  headers.add("CONTENT-LENGTH", "999");
  headers.add("Transfer-Encoding", "gzip");
  headers.add("Connection", "keep-alive");
  ServerFields server;
  server.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  server.server = "aerie";
  server.contentType = "text/plain";
  server.contentLength = 18446744073709551615u;
  server.connection = "close";
  std::string out = "prefix|";
  ASSERT_TRUE(writeResponseHead(out, 200, headers, server));
  EXPECT_EQ(out,
            "prefix|HTTP/1.1 200 OK\r\nX-App: 1\r\nTransfer-Encoding: gzip\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: aerie\r\nContent-Type: text/plain\r\n"
            "Content-Length: 18446744073709551615\r\nConnection: close\r\n\r\n");
}

TEST(WriteResponseHead, UnsetServerFieldsLeaveTheApplicationsAlone) {
  Headers headers;
  headers.add("Date", "x");
  headers.add("Content-Length", "0");
  headers.add("Connection", "upgrade");
  ServerFields server;
  server.chunked = true;  // replaces only Transfer-Encoding
  std::string out;
  ASSERT_TRUE(writeResponseHead(out, 404, headers, server));
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\nDate: x\r\nContent-Length: 0\r\nConnection: upgrade\r\n"
            "Transfer-Encoding: chunked\r\n\r\n");
  ServerFields zero;
  zero.contentLength = 0;
  out.clear();
  ASSERT_TRUE(writeResponseHead(out, 200, Headers{}, zero));
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST(WriteResponseHead, ApplicationFieldsAreStillValidatedBesideServerFields) {
  Headers injected;
  injected.add("X", "a\r\nSet-Cookie: evil=1");
  ServerFields server;
  server.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  std::string out = "keep";
  EXPECT_FALSE(writeResponseHead(out, 200, injected, server));
  EXPECT_EQ(out, "keep");
}

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(formatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110 example
  EXPECT_EQ(formatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(formatHttpDate(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(formatHttpDate(4102444799), "Thu, 31 Dec 2099 23:59:59 GMT");
  EXPECT_EQ(formatHttpDate(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(HttpDate, ParsesImfFixdate) {
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(parseHttpDate("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
  EXPECT_EQ(parseHttpDate("Sat, 31 Dec 2016 23:59:60 GMT"), 1483228800);  // leap second
}

// RFC 9110 5.6.7: recipients accept the two obsolete forms as well (its own examples).
TEST(HttpDate, ParsesObsoleteRfc850AndAsctimeForms) {
  const std::time_t now2026 = 1795000000;  // 2026-11-18
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", now2026), 784111777);
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parseHttpDate("Sun Nov 06 08:49:37 1994"), 784111777);
  EXPECT_EQ(parseHttpDate("Tue Feb 29 00:00:00 2000"), 951782400);
  EXPECT_EQ(parseHttpDate("Wednesday, 01-Jan-70 00:00:00 GMT", now2026),  // 2070, not 1970
            parseHttpDate("Wed, 01 Jan 2070 00:00:00 GMT"));
  // Two-digit years: not more than 50 years ahead of now, else the century before.
  EXPECT_EQ(parseHttpDate("Wednesday, 31-Dec-75 23:59:59 GMT", now2026),
            parseHttpDate("Wed, 31 Dec 2075 23:59:59 GMT"));
  EXPECT_EQ(parseHttpDate("Friday, 01-Jan-77 00:00:00 GMT", now2026),
            parseHttpDate("Sat, 01 Jan 1977 00:00:00 GMT"));
  EXPECT_EQ(parseHttpDate("Monday, 01-Jan-24 00:00:00 GMT", now2026),
            parseHttpDate("Mon, 01 Jan 2024 00:00:00 GMT"));
}

TEST(HttpDate, RejectsMalformedObsoleteForms) {
  EXPECT_EQ(parseHttpDate("Sun, 06-Nov-94 08:49:37 GMT"), std::nullopt);       // short weekday
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-1994 08:49:37 GMT"), std::nullopt);  // 4-digit year
  EXPECT_EQ(parseHttpDate("Sunday, 06 Nov 94 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sunday, 06-Nov-94 08:49:37 UTC"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Funday, 06-Nov-94 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sunday, 31-Nov-94 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sunday,"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun Nov 6 08:49:37 1994"), std::nullopt);  // day not padded
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 94"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:37 1994 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun Nov  0 08:49:37 1994"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun Nox  6 08:49:37 1994"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun Nov  6 08:49:3x 1994"), std::nullopt);
}

TEST(HttpDate, RejectsOtherForms) {
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 UTC"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT "), std::nullopt);
  EXPECT_EQ(parseHttpDate("sun, 06 Nov 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun, 06 nov 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun, 6 Nov 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 8:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun, 00 Nov 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun, 31 Nov 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun, 29 Feb 1900 08:49:37 GMT"), std::nullopt);  // not leap
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 24:00:00 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:60:00 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:61 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 19x4 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate("Xyz, 06 Nov 1994 08:49:37 GMT"), std::nullopt);
  EXPECT_EQ(parseHttpDate(""), std::nullopt);
}

TEST(HttpDate, RoundTrips) {
  for (std::time_t t : {std::time_t{0}, std::time_t{784111777}, std::time_t{951782399},
                        std::time_t{951782400}, std::time_t{1709251199}, std::time_t{1709251200},
                        std::time_t{2147483647}, std::time_t{4102444800}, std::time_t{-86400}}) {
    const std::string text = formatHttpDate(t);
    EXPECT_EQ(text.size(), 29u);
    EXPECT_EQ(parseHttpDate(text), t) << text;
  }
  for (std::time_t t = 0; t < 4102444800; t += 86400 * 37 + 3631) {
    ASSERT_EQ(parseHttpDate(formatHttpDate(t)), t);
  }
}

TEST(DateCache, FormatsAndCaches) {
  DateCache cache;
  const std::string_view first = cache.at(784111777);
  EXPECT_EQ(first, "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(cache.at(784111778), "Sun, 06 Nov 1994 08:49:38 GMT");
  const std::string_view now = cache.now();
  ASSERT_EQ(now.size(), 29u);
  const auto parsed = parseHttpDate(now);
  ASSERT_TRUE(parsed);
  EXPECT_LE(*parsed, std::time(nullptr));
  EXPECT_GE(*parsed + 5, std::time(nullptr));
}

}  // namespace
}  // namespace aerie::http
