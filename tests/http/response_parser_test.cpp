// The client's HTTP response parser: heads, the three body framings, where consumption
// stops (bytes after a 101 or a CONNECT 200 belong to the caller), failures, and every way
// of splitting the input.
#include "aerie/http/response_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aerie::http {
namespace {

struct Outcome {
  ResponseParser::State state;
  std::size_t consumed = 0;
  int status = 0;
  std::string body;
  std::string error;
};

/// Feeds `wire` in pieces of `step` bytes (0 = whole) until the parser stops consuming.
Outcome parse(std::string_view wire, std::size_t step = 0, bool closeAtEnd = false,
              std::string_view method = "GET") {
  ResponseParser parser;
  parser.setRequestMethod(method);
  std::size_t offset = 0;
  while (offset < wire.size() && parser.state() != ResponseParser::State::Complete &&
         parser.state() != ResponseParser::State::Failed) {
    const std::size_t n = step == 0 ? wire.size() - offset : std::min(step, wire.size() - offset);
    const std::size_t used = parser.feed(wire.substr(offset, n));
    offset += used;
    if (used < n) break;
  }
  if (closeAtEnd) parser.finish();
  return {parser.state(), offset, parser.status(), parser.body(), std::string(parser.error())};
}

/// The same outcome for every split size.
Outcome parseEverySplit(std::string_view wire, bool closeAtEnd = false,
                        std::string_view method = "GET") {
  const Outcome whole = parse(wire, 0, closeAtEnd, method);
  for (std::size_t step = 1; step <= wire.size(); ++step) {
    const Outcome split = parse(wire, step, closeAtEnd, method);
    EXPECT_EQ(split.state, whole.state) << "step " << step;
    EXPECT_EQ(split.consumed, whole.consumed) << "step " << step;
    EXPECT_EQ(split.status, whole.status) << "step " << step;
    EXPECT_EQ(split.body, whole.body) << "step " << step;
  }
  return whole;
}

constexpr std::string_view k101 =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

TEST(ResponseParser, SwitchingProtocolsStopsRightAfterTheHead) {
  const std::string frames = "\x81\x05hello";
  const std::string wire = std::string(k101) + frames;
  const Outcome o = parseEverySplit(wire);
  EXPECT_EQ(o.state, ResponseParser::State::Complete);
  EXPECT_EQ(o.status, 101);
  EXPECT_EQ(o.consumed, k101.size()) << "the WebSocket frames after the head were eaten";

  ResponseParser parser;
  parser.feed(k101);
  EXPECT_EQ(parser.reason(), "Switching Protocols");
  EXPECT_EQ(parser.versionMinor(), 1);
  EXPECT_EQ(parser.headers().get("upgrade").value_or(""), "websocket");
  EXPECT_EQ(parser.headers().get("Sec-WebSocket-Accept").value_or(""),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ResponseParser, ContentLengthBody) {
  const std::string wire =
      "HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\nX-Denied: yes\r\n\r\ngo awayEXTRA";
  const Outcome o = parseEverySplit(wire);
  EXPECT_EQ(o.state, ResponseParser::State::Complete);
  EXPECT_EQ(o.status, 403);
  EXPECT_EQ(o.body, "go away");
  EXPECT_EQ(o.consumed, wire.size() - 5);
}

TEST(ResponseParser, ChunkedBodyWithExtensionsAndTrailers) {
  const std::string wire =
      "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;ext=1\r\nbad \r\n8\r\nrequest!\r\n0\r\nX-Trailer: t\r\n\r\n";
  const Outcome o = parseEverySplit(wire);
  EXPECT_EQ(o.state, ResponseParser::State::Complete) << o.error;
  EXPECT_EQ(o.body, "bad request!");
  EXPECT_EQ(o.consumed, wire.size());
}

TEST(ResponseParser, BodyUntilClose) {
  const std::string wire = "HTTP/1.0 500 Oops\r\nContent-Type: text/plain\r\n\r\nsomething broke";
  const Outcome open = parse(wire);
  EXPECT_EQ(open.state, ResponseParser::State::Body);
  const Outcome closed = parseEverySplit(wire, /*closeAtEnd=*/true);
  EXPECT_EQ(closed.state, ResponseParser::State::Complete);
  EXPECT_EQ(closed.body, "something broke");
}

TEST(ResponseParser, ConnectSuccessHasNoBodyAndKeepsTheTunnelBytes) {
  const std::string head = "HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n";
  const Outcome o = parseEverySplit(head + "tunnelled", false, "CONNECT");
  EXPECT_EQ(o.state, ResponseParser::State::Complete);
  EXPECT_EQ(o.status, 200);
  EXPECT_EQ(o.consumed, head.size());
  // The same 200 to a GET would have a body until close.
  EXPECT_EQ(parse(head + "tunnelled").state, ResponseParser::State::Body);
}

TEST(ResponseParser, NoBodyStatuses) {
  for (const char* status : {"204 No Content", "304 Not Modified", "100 Continue"}) {
    const std::string wire =
        std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 5\r\n\r\nxxxxx";
    const Outcome o = parse(wire);
    EXPECT_EQ(o.state, ResponseParser::State::Complete) << status;
    EXPECT_TRUE(o.body.empty()) << status;
  }
}

TEST(ResponseParser, StatusLineWithoutReason) {
  EXPECT_EQ(parse("HTTP/1.1 101\r\n\r\n").status, 101);
  EXPECT_EQ(parse("HTTP/1.1 101 \r\n\r\n").status, 101);
}

TEST(ResponseParser, BodyKeptUpToTheLimit) {
  ResponseParser parser(ResponseParserLimits{16 * 1024, 4});
  const std::string wire = "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n0123456789";
  EXPECT_EQ(parser.feed(wire), wire.size());
  EXPECT_EQ(parser.state(), ResponseParser::State::Complete);
  EXPECT_EQ(parser.body(), "0123");
  EXPECT_TRUE(parser.bodyTruncated());
}

struct BadCase {
  const char* name;
  std::string wire;
  const char* errorWord;
};

TEST(ResponseParser, MalformedResponsesFailWithAReason) {
  const std::vector<BadCase> cases = {
      {"not http", "SSH-2.0-OpenSSH\r\n\r\n", "status line"},
      {"http/2 line", "HTTP/2 101 x\r\n\r\n", "status line"},
      {"short code", "HTTP/1.1 10 x\r\n\r\n", "status line"},
      {"letters in code", "HTTP/1.1 1x1 x\r\n\r\n", "status line"},
      {"no space", "HTTP/1.1 101x\r\n\r\n", "status line"},
      {"obs-fold", "HTTP/1.1 101 x\r\nA: b\r\n c\r\n\r\n", "folding"},
      {"space before colon", "HTTP/1.1 101 x\r\nA : b\r\n\r\n", "header"},
      {"no colon", "HTTP/1.1 101 x\r\nnocolon\r\n\r\n", "header"},
      {"control in value", "HTTP/1.1 101 x\r\nA: b\x01\r\n\r\n", "invalid"},
      {"bad length", "HTTP/1.1 403 x\r\nContent-Length: -1\r\n\r\n", "Content-Length"},
      {"conflicting lengths", "HTTP/1.1 403 x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       "conflicting"},
      {"length and chunked",
       "HTTP/1.1 403 x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "both"},
      {"gzip coding", "HTTP/1.1 403 x\r\nTransfer-Encoding: gzip\r\n\r\n", "Transfer-Encoding"},
      {"bad chunk size", "HTTP/1.1 403 x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk"},
      {"chunk overrun", "HTTP/1.1 403 x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "chunk"},
  };
  for (const BadCase& c : cases) {
    const Outcome o = parse(c.wire);
    EXPECT_EQ(o.state, ResponseParser::State::Failed) << c.name;
    EXPECT_NE(o.error.find(c.errorWord), std::string::npos) << c.name << ": " << o.error;
    for (std::size_t step = 1; step < c.wire.size(); ++step) {
      EXPECT_EQ(parse(c.wire, step).state, ResponseParser::State::Failed)
          << c.name << " split by " << step;
    }
  }
}

TEST(ResponseParser, HeadOverTheLimitFails) {
  ResponseParser parser(ResponseParserLimits{64, 1024});
  const std::string wire = "HTTP/1.1 101 x\r\nX-Long: " + std::string(100, 'a') + "\r\n\r\n";
  parser.feed(wire);
  EXPECT_EQ(parser.state(), ResponseParser::State::Failed);
  EXPECT_NE(parser.error().find("larger than 64"), std::string_view::npos) << parser.error();
}

TEST(ResponseParser, ClosedEarlyFails) {
  ResponseParser head;
  head.feed("HTTP/1.1 101 Swi");
  head.finish();
  EXPECT_EQ(head.state(), ResponseParser::State::Failed);
  ResponseParser body;
  body.feed("HTTP/1.1 403 x\r\nContent-Length: 10\r\n\r\nabc");
  body.finish();
  EXPECT_EQ(body.state(), ResponseParser::State::Failed);
  EXPECT_NE(body.error().find("body"), std::string_view::npos);
}

}  // namespace
}  // namespace aerie::http
