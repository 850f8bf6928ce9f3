// Bodies (Content-Length and chunked), pipelining, body limits and request smuggling
// shapes. Every input goes through parseAllWays(): whole, byte by byte and in random
// splits, with the same outcome.
#include <gtest/gtest.h>

#include <string>

#include "aerie/http/request_parser.hpp"
#include "parse_helpers.hpp"

namespace aerie::http {
namespace {

using test::parseAllWays;
using test::statusOf;
using Event = RequestParser::Event;

std::string post(std::string_view fields, std::string_view body = {}) {
  return "POST /upload HTTP/1.1\r\nHost: h\r\n" + std::string(fields) + "\r\n" + std::string(body);
}

std::string chunked(std::string_view body) {
  return post("Transfer-Encoding: chunked\r\n", body);
}

TEST(RequestParserBody, ContentLengthBody) {
  const auto out = parseAllWays(post("Content-Length: 11\r\n", "hello world"));
  ASSERT_TRUE(out.ok()) << out.reason;
  EXPECT_EQ(out.trace, "HM");
  EXPECT_EQ(out.bodies[0], "hello world");
}

TEST(RequestParserBody, ZeroContentLengthAndNoFramingMeanNoBody) {
  auto out = parseAllWays(post("Content-Length: 0\r\n"));
  EXPECT_EQ(out.trace, "HM");
  EXPECT_EQ(out.bodies[0], "");
  out = parseAllWays(post(""));
  EXPECT_EQ(out.trace, "HM");
}

TEST(RequestParserBody, IncompleteBodyWaitsForMore) {
  const auto out = parseAllWays(post("Content-Length: 10\r\n", "12345"));
  EXPECT_TRUE(out.ok());
  EXPECT_EQ(out.trace, "H");
  EXPECT_EQ(out.bodies[0], "12345");
}

TEST(RequestParserBody, ReportsFramingAfterTheHead) {
  RequestParser parser;
  ASSERT_EQ(parser.feed(post("Content-Length: 3\r\n", "abc")).event, Event::HeadComplete);
  EXPECT_EQ(parser.bodyKind(), RequestParser::BodyKind::ContentLength);
  EXPECT_EQ(parser.contentLength(), 3u);
  RequestParser chunkedParser;
  ASSERT_EQ(chunkedParser.feed(chunked("")).event, Event::HeadComplete);
  EXPECT_EQ(chunkedParser.bodyKind(), RequestParser::BodyKind::Chunked);
  EXPECT_EQ(chunkedParser.contentLength(), std::nullopt);
}

TEST(RequestParserBody, BodyChunksViewTheCallersBuffer) {
  const std::string input = post("Content-Length: 5\r\n", "hello");
  RequestParser parser;
  auto r = parser.feed(input);
  ASSERT_EQ(r.event, Event::HeadComplete);
  r = parser.feed(input.data() + r.consumed, input.size() - r.consumed);
  ASSERT_EQ(r.event, Event::BodyChunk);
  EXPECT_EQ(r.body.data(), input.data() + input.size() - 5);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(parser.bodyBytesReceived(), 5u);
  EXPECT_EQ(parser.feed(nullptr, 0).event, Event::MessageComplete);
}

TEST(RequestParserBody, ChunkedBodyWithExtensionsAndTrailers) {
  const auto out =
      parseAllWays(chunked("5\r\nhello\r\n"
                           "6;name=value;flag\r\n world\r\n"
                           "A ; q=\"quoted; \\\"string\\\"\"\r\n0123456789\r\n"
                           "000\r\n"
                           "X-Checksum: abc\r\n"
                           "X-Other:\tv\r\n"
                           "\r\n"));
  ASSERT_TRUE(out.ok()) << out.reason;
  EXPECT_EQ(out.trace, "HM");
  EXPECT_EQ(out.bodies[0], "hello world0123456789");
  EXPECT_FALSE(out.heads[0].headers.contains("x-checksum"));  // trailers are discarded
}

TEST(RequestParserBody, ChunkSizesAreHexEitherCase) {
  const std::string data(26, 'x');
  auto out = parseAllWays(chunked("1a\r\n" + data + "\r\n0\r\n\r\n"));
  EXPECT_EQ(out.bodies[0], data);
  out = parseAllWays(chunked("1A\r\n" + data + "\r\n0\r\n\r\n"));
  EXPECT_EQ(out.bodies[0], data);
  out = parseAllWays(chunked("0000000000000001\r\nx\r\n0\r\n\r\n"));  // 16 digits
  EXPECT_EQ(out.bodies[0], "x");
}

TEST(RequestParserBody, IncompleteChunkedBodyWaitsForMore) {
  EXPECT_EQ(parseAllWays(chunked("5\r\nhello\r\n0\r\n")).trace, "H");
  EXPECT_EQ(parseAllWays(chunked("5\r\nhello\r\n0\r\nA: b\r\n")).trace, "H");
  EXPECT_EQ(parseAllWays(chunked("5\r\nhel")).trace, "H");
}

TEST(RequestParserBody, RejectsMalformedChunkLines) {
  EXPECT_EQ(statusOf(chunked("\r\n")), 400);  // no size
  EXPECT_EQ(statusOf(chunked(";ext\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("g\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("-5\r\nhello\r\n0\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("+5\r\nhello\r\n0\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("0x5\r\nhello\r\n0\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("00000000000000001\r\nx\r\n0\r\n\r\n")), 400);  // 17 digits
  EXPECT_EQ(statusOf(chunked("5 \r\nhello\r\n0\r\n\r\n")), 400);             // BWS only before ';'
  EXPECT_EQ(statusOf(chunked("5 5\r\nhello\r\n0\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("5\nhello\r\n0\r\n\r\n")), 400);         // bare LF
  EXPECT_EQ(statusOf(chunked("5\rhello\r\n0\r\n\r\n")), 400);         // bare CR
  EXPECT_EQ(statusOf(chunked("5;a\nb\r\nhello\r\n0\r\n\r\n")), 400);  // LF inside extension
  EXPECT_EQ(statusOf(chunked(std::string("5;a\0\r\nhello\r\n0\r\n\r\n", 18))), 400);
  EXPECT_EQ(statusOf(chunked("5;a\x7F\r\nhello\r\n0\r\n\r\n")), 400);
}

TEST(RequestParserBody, RejectsMissingCrlfAfterChunkData) {
  EXPECT_EQ(statusOf(chunked("5\r\nhelloX\r\n0\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("5\r\nhello\n0\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("5\r\nhello\rX0\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("5\r\nhello0\r\n\r\n")), 400);
}

TEST(RequestParserBody, ValidatesTrailers) {
  EXPECT_EQ(statusOf(chunked("0\r\nA: b\n\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("0\r\nA: b\r\n\n")), 400);
  EXPECT_EQ(statusOf(chunked("0\r\nA: b\r\n c\r\n\r\n")), 400);  // obs-fold
  EXPECT_EQ(statusOf(chunked("0\r\nA : b\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("0\r\n: b\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(chunked("0\r\nA\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(chunked(std::string("0\r\nA: \0\r\n\r\n", 11))), 400);
  EXPECT_EQ(statusOf(chunked("0\r\nA: b\rc\r\n\r\n")), 400);
}

TEST(RequestParserBody, TrailerSectionIsBoundedByMaxHeaderSize) {
  ParserLimits limits;
  limits.maxHeaderSize = 100;
  // Trailer section = "X: " + value + "\r\n" + "\r\n".
  const auto withTrailers = [](std::size_t size) {
    return chunked("0\r\nX: " + std::string(size - 7, 'v') + "\r\n\r\n");
  };
  EXPECT_EQ(statusOf(withTrailers(100), limits), 0);
  EXPECT_EQ(statusOf(withTrailers(101), limits), 431);
}

TEST(RequestParserBody, ChunkLineIsBounded) {
  ParserLimits limits;
  limits.maxChunkLineSize = 32;
  const auto withExtension = [](std::size_t lineSize) {  // "5;" + name
    return chunked("5;" + std::string(lineSize - 2, 'e') + "\r\nhello\r\n0\r\n\r\n");
  };
  EXPECT_EQ(statusOf(withExtension(32), limits), 0);
  EXPECT_EQ(statusOf(withExtension(33), limits), 400);
}

TEST(RequestParserBody, PipelinedRequestsInOneBuffer) {
  const std::string first = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = post("Content-Length: 3\r\n", "abc");
  const std::string third = chunked("2\r\nde\r\n0\r\n\r\n");
  const std::string fourth = "GET /d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  const std::string input = first + second + third + fourth;
  const auto out = parseAllWays(input);
  ASSERT_TRUE(out.ok()) << out.reason;
  EXPECT_EQ(out.trace, "HMHMHMHM");
  ASSERT_EQ(out.heads.size(), 4u);
  EXPECT_EQ(out.heads[0].target, "/a");
  EXPECT_EQ(out.heads[1].method, "POST");
  EXPECT_EQ(out.bodies[1], "abc");
  EXPECT_EQ(out.bodies[2], "de");
  EXPECT_EQ(out.heads[3].target, "/d");
  EXPECT_FALSE(out.heads[3].keepAlive());
  EXPECT_EQ(out.headEnds[0], first.size());
  EXPECT_EQ(out.headEnds[1], second.size() - 3 + first.size());
  EXPECT_EQ(out.headEnds[3], input.size());
}

TEST(RequestParserBody, PipelinedRequestFollowedByAPartialOne) {
  const auto out = parseAllWays(post("Content-Length: 2\r\n", "okGET /next HTTP/1.1\r\nHo"));
  EXPECT_TRUE(out.ok());
  EXPECT_EQ(out.trace, "HM");
  EXPECT_EQ(out.bodies[0], "ok");
}

TEST(RequestParserBody, ErrorInASecondPipelinedRequest) {
  const auto out = parseAllWays(post("Content-Length: 2\r\n", "okGET / HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(out.trace, "HME400");  // the second head lacks Host: no HeadComplete for it
}

TEST(RequestParserBody, ReleaseMemoryBetweenAndDuringMessages) {
  const std::string first = post("Content-Length: 3\r\n", "abc");
  const std::string second =
      "GET /second HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(600, 'x') + "\r\n\r\n";
  RequestParser parser;
  parser.releaseMemory();  // nothing to free yet: harmless
  auto r = parser.feed(first);
  ASSERT_EQ(r.event, Event::HeadComplete);
  parser.releaseMemory();  // mid-message: the head must survive
  EXPECT_EQ(parser.head().method, "POST");
  r = parser.feed(first.data() + r.consumed, 3);
  ASSERT_EQ(r.event, Event::BodyChunk);
  EXPECT_EQ(r.body, "abc");
  ASSERT_EQ(parser.feed(nullptr, 0).event, Event::MessageComplete);
  parser.releaseMemory();  // idle keep-alive connection
  EXPECT_EQ(parser.head().headers.size(), 0u);
  // A head cut in the middle of a line keeps its partial line.
  EXPECT_EQ(parser.feed(second.data(), 40).event, Event::NeedMore);
  parser.releaseMemory();
  r = parser.feed(second.data() + 40, second.size() - 40);
  ASSERT_EQ(r.event, Event::HeadComplete);
  EXPECT_EQ(parser.head().target, "/second");
  EXPECT_EQ(parser.head().headers.get("x-long"), std::string(600, 'x'));
}

// --- body limits ----------------------------------------------------------------------

TEST(RequestParserBodyLimits, ContentLengthAtAndPastTheLimit) {
  ParserLimits limits;
  limits.maxBodySize = 16;
  EXPECT_EQ(parseAllWays(post("Content-Length: 16\r\n", std::string(16, 'b')), limits).trace, "HM");
  // 413 right after the head, before any body byte is read.
  const auto out = parseAllWays(post("Content-Length: 17\r\n", std::string(17, 'b')), limits);
  EXPECT_EQ(out.trace, "HE413");
  EXPECT_EQ(out.bodies[0], "");
  EXPECT_EQ(statusOf(post("Content-Length: 131073\r\n")), 413);  // default 128 KiB
}

TEST(RequestParserBodyLimits, ChunkedTotalAtAndPastTheLimit) {
  ParserLimits limits;
  limits.maxBodySize = 16;
  const std::string ten(10, 'a');
  const std::string six(6, 'b');
  auto out = parseAllWays(chunked("a\r\n" + ten + "\r\n6\r\n" + six + "\r\n0\r\n\r\n"), limits);
  EXPECT_EQ(out.trace, "HM");
  EXPECT_EQ(out.bodies[0], ten + six);
  // The size line of the chunk that crosses the limit fails, before its data is read.
  out = parseAllWays(chunked("a\r\n" + ten + "\r\n7\r\n" + six + "b\r\n0\r\n\r\n"), limits);
  EXPECT_EQ(out.trace, "HE413");
  EXPECT_EQ(out.bodies[0], ten);
  // A huge size fails on its first digits, not when its data would arrive.
  RequestParser parser;
  ASSERT_EQ(parser.feed(chunked("")).event, Event::HeadComplete);
  const auto r = parser.feed("fffff");
  EXPECT_EQ(r.status, 413);
}

TEST(RequestParserBodyLimits, SetMaxBodySizeAfterTheHeadAppliesToThisRequest) {
  ParserLimits limits;
  limits.maxBodySize = 4;
  const std::string body(10, 'x');
  const std::string input =
      post("Content-Length: 10\r\n", body) + post("Content-Length: 10\r\n", body);
  RequestParser parser(limits);
  auto r = parser.feed(input);
  ASSERT_EQ(r.event, Event::HeadComplete);
  parser.setMaxBodySize(10);  // a route allowing more
  std::size_t offset = r.consumed;
  r = parser.feed(input.data() + offset, input.size() - offset);
  ASSERT_EQ(r.event, Event::BodyChunk);
  EXPECT_EQ(r.body, body);
  offset += r.consumed;
  EXPECT_EQ(parser.feed(input.data() + offset, input.size() - offset).event,
            Event::MessageComplete);
  // The next request starts again with the configured limit.
  r = parser.feed(input.data() + offset, input.size() - offset);
  ASSERT_EQ(r.event, Event::HeadComplete);
  EXPECT_EQ(parser.maxBodySize(), 4u);
  offset += r.consumed;
  r = parser.feed(input.data() + offset, input.size() - offset);
  EXPECT_EQ(r.status, 413);
}

TEST(RequestParserBodyLimits, LoweringTheLimitForChunked) {
  RequestParser parser;
  ASSERT_EQ(parser.feed(chunked("")).event, Event::HeadComplete);
  parser.setMaxBodySize(3);
  EXPECT_EQ(parser.feed("3\r\nabc").event, Event::BodyChunk);
  EXPECT_EQ(parser.feed("\r\n").event, Event::NeedMore);
  EXPECT_EQ(parser.feed("1\r\n").status, 413);
}

// --- smuggling shapes -----------------------------------------------------------------

TEST(RequestParserSmuggling, ContentLengthAndTransferEncodingTogether) {
  EXPECT_EQ(statusOf(post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")),
            400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n")),
            400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n")), 400);
}

TEST(RequestParserSmuggling, TransferEncodingMustEndInChunkedOnce) {
  EXPECT_EQ(statusOf(post("Transfer-Encoding: chunked, identity\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: identity\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: gzip\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: chunked, chunked\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: chunked,\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: ,chunked\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding:\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: chunked;q=1\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: \"chunked\"\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: chunked\x0B\r\n")), 400);  // VT
}

TEST(RequestParserSmuggling, UnknownOrUnimplementedCodingsAre501) {
  EXPECT_EQ(statusOf(post("Transfer-Encoding: foo\r\n")), 501);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: xchunked\r\n")), 501);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: foo, chunked\r\n")), 501);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: gzip, chunked\r\n")), 501);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: chunked, foo\r\n")), 501);
}

TEST(RequestParserSmuggling, ChunkedSpellingsAccepted) {
  for (const char* te : {"chunked", "Chunked", "CHUNKED", "  chunked\t"}) {
    const auto out =
        parseAllWays(post("Transfer-Encoding:" + std::string(te) + "\r\n", "1\r\nz\r\n0\r\n\r\n"));
    EXPECT_EQ(out.trace, "HM") << te;
    EXPECT_EQ(out.bodies[0], "z") << te;
  }
}

TEST(RequestParserSmuggling, TransferEncodingInHttp10) {
  EXPECT_EQ(statusOf("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
}

TEST(RequestParserSmuggling, TransferEncodingWithObsFold) {
  EXPECT_EQ(statusOf(post("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(post("Transfer-Encoding: gzip,\r\n chunked\r\n", "0\r\n\r\n")), 400);
}

TEST(RequestParserSmuggling, WhitespaceBeforeColonInFramingFields) {
  EXPECT_EQ(statusOf(post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n")), 400);
  EXPECT_EQ(statusOf(post("Content-Length : 5\r\n", "hello")), 400);
}

TEST(RequestParserSmuggling, DuplicateContentLength) {
  EXPECT_EQ(statusOf(post("Content-Length: 5, 6\r\n", "hello")), 400);
  EXPECT_EQ(statusOf(post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello")), 400);
  // Identical values are one length (RFC 9110 8.6).
  auto out = parseAllWays(post("Content-Length: 5, 5\r\n", "hello"));
  EXPECT_EQ(out.trace, "HM");
  EXPECT_EQ(out.bodies[0], "hello");
  out = parseAllWays(post("Content-Length: 5\r\ncontent-length: 005\r\n", "hello"));
  EXPECT_EQ(out.trace, "HM");
  EXPECT_EQ(out.bodies[0], "hello");
}

TEST(RequestParserSmuggling, InvalidContentLength) {
  for (const char* cl : {"+5", "-5", "5 5", "5\t5", "5.0", "0x5", "5a", "", " ", "5,", ",5", "5,,5",
                         "\"5\"", "18446744073709551616", "99999999999999999999999"}) {
    EXPECT_EQ(statusOf(post("Content-Length: " + std::string(cl) + "\r\n", "hello")), 400)
        << "'" << cl << "'";
  }
  // Surrounding OWS is not part of the value.
  const auto out = parseAllWays(post("Content-Length: \t5 \r\n", "hello"));
  EXPECT_EQ(out.trace, "HM");
  // The largest representable value parses, then exceeds any sane limit.
  EXPECT_EQ(statusOf(post("Content-Length: 18446744073709551615\r\n")), 413);
}

TEST(RequestParserSmuggling, BodyBytesAreNeverReadAsAnotherRequest) {
  // With strict CL the embedded request is body, not a second request.
  const std::string smuggled = "GET /admin HTTP/1.1\r\nHost: h\r\n\r\n";
  const auto out =
      parseAllWays(post("Content-Length: " + std::to_string(smuggled.size()) + "\r\n", smuggled));
  EXPECT_EQ(out.trace, "HM");
  EXPECT_EQ(out.bodies[0], smuggled);
}

}  // namespace
}  // namespace aerie::http
