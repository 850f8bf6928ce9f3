// The server routes a request before its body is parsed, then sets the route's body limit
// and pulls the body on demand. What it relies on: after HeadComplete nothing of the body
// is parsed until the next feed(); a feed() of no bytes already applies the limit to a
// declared Content-Length (413 with nothing consumed); a route may raise the limit above
// ParserLimits::maxBodySize; the bytes after the head stay unconsumed until fed.
#include <gtest/gtest.h>

#include <string>

#include "aerie/http/request_parser.hpp"

namespace aerie::http {
namespace {

using Event = RequestParser::Event;

ParserLimits smallLimits() {
  ParserLimits limits;
  limits.maxBodySize = 10;
  return limits;
}

TEST(RequestParserDeferredLimit, AnEmptyFeedAfterTheHeadChecksTheDeclaredLength) {
  RequestParser parser(smallLimits());
  const std::string head = "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n";
  const auto r = parser.feed(head + "hello");
  ASSERT_EQ(r.event, Event::HeadComplete);
  EXPECT_EQ(r.consumed, head.size());  // the body bytes are left to the caller
  EXPECT_EQ(parser.contentLength(), 11u);
  const auto checked = parser.feed(nullptr, 0);
  EXPECT_EQ(checked.event, Event::Error);
  EXPECT_EQ(checked.status, 413);
  EXPECT_EQ(checked.consumed, 0u);
}

TEST(RequestParserDeferredLimit, WithinTheLimitAnEmptyFeedWaitsForTheBody) {
  RequestParser parser(smallLimits());
  ASSERT_EQ(parser.feed("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n").event,
            Event::HeadComplete);
  EXPECT_EQ(parser.feed(nullptr, 0).event, Event::NeedMore);
  const auto r = parser.feed("0123456789");
  EXPECT_EQ(r.event, Event::BodyChunk);
  EXPECT_EQ(r.body, "0123456789");
  EXPECT_EQ(parser.feed(nullptr, 0).event, Event::MessageComplete);
}

TEST(RequestParserDeferredLimit, ARouteMayRaiseTheLimitAboveTheServers) {
  RequestParser parser(smallLimits());
  const std::string body(5000, 'b');
  ASSERT_EQ(parser.feed("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n").event,
            Event::HeadComplete);
  parser.setMaxBodySize(1 << 20);
  const auto r = parser.feed(body);
  EXPECT_EQ(r.event, Event::BodyChunk);
  EXPECT_EQ(r.body.size(), body.size());
  EXPECT_EQ(parser.feed(nullptr, 0).event, Event::MessageComplete);
  // Chunked on the next request, back to the configured limit: 11 bytes are too many.
  ASSERT_EQ(parser.feed("POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").event,
            Event::HeadComplete);
  EXPECT_EQ(parser.maxBodySize(), 10u);
  EXPECT_EQ(parser.feed("b\r\n").status, 413);
}

TEST(RequestParserDeferredLimit, NoBodyCompletesWithoutConsumingTheNextRequest) {
  RequestParser parser(smallLimits());
  const std::string next = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  const auto r = parser.feed(first + next);
  ASSERT_EQ(r.event, Event::HeadComplete);
  EXPECT_EQ(parser.bodyKind(), RequestParser::BodyKind::None);
  const auto done = parser.feed(next);
  EXPECT_EQ(done.event, Event::MessageComplete);
  EXPECT_EQ(done.consumed, 0u);
  EXPECT_EQ(parser.feed(next).event, Event::HeadComplete);
  EXPECT_EQ(parser.head().target, "/b");
}

}  // namespace
}  // namespace aerie::http
