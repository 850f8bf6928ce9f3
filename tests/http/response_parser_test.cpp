// The client's HTTP response parser: heads, the three body framings, where consumption
// stops (bytes after a 101 or a CONNECT 200 belong to the caller), every failure with its
// error text, and every way of splitting the input. Each response goes through
// parseAllWays(): whole, byte by byte, cut at every position and at every pair of
// positions, with the same outcome each time.
#include "aerie/http/response_parser.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace aerie::http {
namespace {

using State = ResponseParser::State;

/// What the parser is told besides the bytes: the request it answers, whether the peer
/// closes after the last byte, the limits.
struct Exchange {
  std::string_view method = "GET";
  bool closeAtEnd = false;  // finish() after the last piece, as on a peer's close
  ResponseParserLimits limits{};
};

struct Outcome {
  State state = State::Head;
  std::size_t consumed = 0;  // bytes the parser used, over all pieces
  bool headComplete = false;
  int status = 0;
  int versionMinor = 0;
  std::string reason;
  std::string headers;  // "{name=value}" per field, in order
  std::string body;
  bool truncated = false;
  std::string error;

  std::string describe() const {
    std::string out = "state " + std::to_string(static_cast<int>(state));
    out.append(" used ").append(std::to_string(consumed));
    out.append(headComplete ? " head " : " nohead ").append(std::to_string(status));
    out.append(" 1.").append(std::to_string(versionMinor)).append(" '").append(reason);
    out.append("' ").append(headers).append(" body '").append(body).append("'");
    out.append(truncated ? " truncated" : "").append(" error '").append(error).append("'");
    return out;
  }
};

/// Feeds `wire` cut at `cuts` (ascending, duplicates allowed) the way the client does:
/// piece after piece until the parser leaves bytes unused, which it may only do once the
/// response is complete or failed.
Outcome parsePieces(std::string_view wire, std::vector<std::size_t> cuts,
                    const Exchange& exchange) {
  ResponseParser parser(exchange.limits);
  parser.setRequestMethod(exchange.method);
  cuts.push_back(wire.size());
  Outcome out;
  std::size_t start = 0;
  for (const std::size_t cut : cuts) {
    const std::string_view piece = wire.substr(start, cut - start);
    const std::size_t used = parser.feed(piece);
    EXPECT_LE(used, piece.size());
    out.consumed += used;
    start = cut;
    if (used < piece.size()) {
      EXPECT_TRUE(parser.state() == State::Complete || parser.state() == State::Failed);
      EXPECT_EQ(parser.feed(wire.substr(out.consumed)), 0u) << "used bytes after stopping";
      break;
    }
  }
  if (exchange.closeAtEnd) parser.finish();
  out.state = parser.state();
  out.headComplete = parser.headComplete();
  out.status = parser.status();
  out.versionMinor = parser.versionMinor();
  out.reason = std::string(parser.reason());
  for (const HeaderField& field : parser.headers()) {
    out.headers.append("{").append(field.name).append("=").append(field.value).append("}");
  }
  out.body = parser.body();
  out.truncated = parser.bodyTruncated();
  out.error = std::string(parser.error());
  return out;
}

/// Whole, byte by byte, cut at every position and (for short inputs) at every pair of
/// positions: the outcome must be the same.
Outcome parseAllWays(std::string_view wire, const Exchange& exchange = {}) {
  const Outcome whole = parsePieces(wire, {}, exchange);
  const std::string expected = whole.describe();
  std::vector<std::size_t> bytewise;
  for (std::size_t i = 1; i < wire.size(); ++i)
    bytewise.push_back(i);
  EXPECT_EQ(parsePieces(wire, bytewise, exchange).describe(), expected) << "byte by byte";
  constexpr std::size_t kMaxPairs = 300;
  for (std::size_t i = 0; i <= wire.size(); ++i) {
    EXPECT_EQ(parsePieces(wire, {i}, exchange).describe(), expected) << "cut at " << i;
    for (std::size_t j = i; wire.size() <= kMaxPairs && j <= wire.size(); ++j) {
      EXPECT_EQ(parsePieces(wire, {i, j}, exchange).describe(), expected)
          << "cut at " << i << " and " << j;
    }
  }
  return whole;
}

constexpr std::string_view k101 =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

TEST(ResponseParser, SwitchingProtocolsStopsRightAfterTheHead) {
  // A text frame "hello" and a ping, sent in the same segment as the 101.
  const std::string frames = std::string("\x81\x05hello\x89\x00", 9);
  const Outcome o = parseAllWays(std::string(k101) + frames);
  EXPECT_EQ(o.state, State::Complete);
  EXPECT_TRUE(o.headComplete);
  EXPECT_EQ(o.status, 101);
  EXPECT_EQ(o.reason, "Switching Protocols");
  EXPECT_EQ(o.versionMinor, 1);
  EXPECT_EQ(o.consumed, k101.size()) << "the WebSocket frames after the head were used";
  EXPECT_EQ(o.headers,
            "{Upgrade=websocket}{Connection=Upgrade}"
            "{Sec-WebSocket-Accept=s3pPLMBiTxaQ9kYGzzhZRbK+xOo=}");
  EXPECT_EQ(o.body, "");

  ResponseParser parser;
  parser.feed(k101);
  EXPECT_EQ(parser.headers().get("upgrade").value_or(""), "websocket");
  EXPECT_TRUE(parser.headers().hasToken("connection", "upgrade"));
}

TEST(ResponseParser, ContentLengthBodyEndsAtItsLength) {
  const std::string response =
      "HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\nX-Denied: yes\r\n\r\ngo away";
  const Outcome o = parseAllWays(response + "NEXT");
  EXPECT_EQ(o.state, State::Complete);
  EXPECT_EQ(o.status, 403);
  EXPECT_EQ(o.reason, "Forbidden");
  EXPECT_EQ(o.body, "go away");
  EXPECT_EQ(o.consumed, response.size());
  EXPECT_FALSE(o.truncated);
}

TEST(ResponseParser, ZeroContentLengthCompletesWithTheHead) {
  const std::string head = "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n";
  const Outcome o = parseAllWays(head + "x");
  EXPECT_EQ(o.state, State::Complete);
  EXPECT_EQ(o.consumed, head.size());
}

TEST(ResponseParser, RepeatedContentLengthsThatAgree) {
  const Outcome o =
      parseAllWays("HTTP/1.1 400 Bad\r\nContent-Length: 3\r\ncontent-length: 003\r\n\r\nabc");
  EXPECT_EQ(o.state, State::Complete) << o.error;
  EXPECT_EQ(o.body, "abc");
}

TEST(ResponseParser, ChunkedBodyWithExtensionsAndTrailers) {
  const std::string response =
      "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "4;ext=1\r\nbad \r\n"
      "8 ; a=\"q \\\" \"\r\nrequest!\r\n"
      "A\r\n, go away\n\r\n"
      "0\r\nX-Trailer: t\r\nX-Other:\r\n\r\n";
  const Outcome o = parseAllWays(response + "NEXT");
  EXPECT_EQ(o.state, State::Complete) << o.error;
  EXPECT_EQ(o.status, 400);
  EXPECT_EQ(o.body, "bad request!, go away\n");
  EXPECT_EQ(o.consumed, response.size());
  EXPECT_EQ(o.headers, "{Transfer-Encoding=Chunked}") << "trailers are not kept";
}

TEST(ResponseParser, ChunkedBodyWithoutTrailers) {
  const std::string response =
      "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n00\r\n\r\n";
  const Outcome o = parseAllWays(response);
  EXPECT_EQ(o.state, State::Complete) << o.error;
  EXPECT_EQ(o.body, "abc");
  EXPECT_EQ(o.consumed, response.size());
}

TEST(ResponseParser, BodyUntilClose) {
  const std::string response =
      "HTTP/1.0 500 Oops\r\nContent-Type: text/plain\r\n\r\nsomething broke";
  const Outcome open = parseAllWays(response);
  EXPECT_EQ(open.state, State::Body) << "the body runs until the connection closes";
  EXPECT_EQ(open.consumed, response.size());
  EXPECT_EQ(open.versionMinor, 0);
  const Outcome closed = parseAllWays(response, {.closeAtEnd = true});
  EXPECT_EQ(closed.state, State::Complete);
  EXPECT_EQ(closed.body, "something broke");
  EXPECT_EQ(closed.error, "");
}

TEST(ResponseParser, ConnectSuccessHasNoBodyAndKeepsTheTunnelBytes) {
  const std::string head =
      "HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\nContent-Length: 5\r\n\r\n";
  const Outcome o = parseAllWays(head + "tunnelled bytes", {.method = "CONNECT"});
  EXPECT_EQ(o.state, State::Complete);
  EXPECT_EQ(o.status, 200);
  EXPECT_EQ(o.consumed, head.size()) << "Content-Length is ignored on a CONNECT 2xx";
  EXPECT_EQ(o.body, "");
  // The same 200 to a GET has a body.
  const Outcome get = parseAllWays(head + "tunnelled bytes");
  EXPECT_EQ(get.state, State::Complete);
  EXPECT_EQ(get.body, "tunne");
}

TEST(ResponseParser, ConnectRefusalHasABody) {
  const std::string response =
      "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n"
      "Content-Length: 6\r\n\r\ndenied";
  const Outcome o = parseAllWays(response, {.method = "CONNECT"});
  EXPECT_EQ(o.state, State::Complete);
  EXPECT_EQ(o.status, 407);
  EXPECT_EQ(o.body, "denied");
}

TEST(ResponseParser, StatusesWithoutBodyIgnoreFramingFields) {
  for (const char* status : {"100 Continue", "101 Switching Protocols", "204 No Content",
                             "304 Not Modified", "199 Whatever"}) {
    const std::string head = std::string("HTTP/1.1 ") + status +
                             "\r\nContent-Length: nonsense\r\nTransfer-Encoding: gzip\r\n\r\n";
    const Outcome o = parseAllWays(head + "xxxxx");
    EXPECT_EQ(o.state, State::Complete) << status << ": " << o.error;
    EXPECT_EQ(o.consumed, head.size()) << status;
    EXPECT_EQ(o.body, "") << status;
  }
}

TEST(ResponseParser, AnswerToHeadHasNoBody) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  const Outcome o = parseAllWays(head + "0123456789", {.method = "HEAD"});
  EXPECT_EQ(o.state, State::Complete);
  EXPECT_EQ(o.consumed, head.size());
}

TEST(ResponseParser, StatusLineVariants) {
  struct Case {
    std::string_view line;
    int status;
    int minor;
    std::string_view reason;
  };
  const Case cases[] = {
      {"HTTP/1.1 101", 101, 1, ""},  // no SP before the empty reason: accepted
      {"HTTP/1.1 101 ", 101, 1, ""},
      {"HTTP/1.0 404 Not Found", 404, 0, "Not Found"},
      {"HTTP/1.2 503 Later  ", 503, 2, "Later  "},
      {"HTTP/1.1 999 \tobs-text \xc3\xa9", 999, 1, "\tobs-text \xc3\xa9"},
      {"HTTP/1.1 200 a:b HTTP/1.1 200", 200, 1, "a:b HTTP/1.1 200"},
  };
  for (const Case& c : cases) {
    const Outcome o = parseAllWays(std::string(c.line) + "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(o.state, State::Complete) << c.line << ": " << o.error;
    EXPECT_EQ(o.status, c.status) << c.line;
    EXPECT_EQ(o.versionMinor, c.minor) << c.line;
    EXPECT_EQ(o.reason, c.reason) << c.line;
  }
}

TEST(ResponseParser, FieldValuesAreTrimmedAndDuplicatesKept) {
  const Outcome o = parseAllWays(
      "HTTP/1.1 101 x\r\nA:  \t one \t \r\nEmpty:\r\nBlank: \t \r\na: two\r\n"
      "Obs: caf\xc3\xa9\r\nTricky: x:y\r\n\r\n");
  EXPECT_EQ(o.state, State::Complete) << o.error;
  EXPECT_EQ(o.headers, "{A=one}{Empty=}{Blank=}{a=two}{Obs=caf\xc3\xa9}{Tricky=x:y}");
}

TEST(ResponseParser, BodyIsKeptUpToTheLimitAndTheRestSkipped) {
  const Exchange small{.limits = {.maxBodySize = 4}};
  const std::string length = "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n0123456789";
  Outcome o = parseAllWays(length + "NEXT", small);
  EXPECT_EQ(o.state, State::Complete);
  EXPECT_EQ(o.consumed, length.size());
  EXPECT_EQ(o.body, "0123");
  EXPECT_TRUE(o.truncated);

  o = parseAllWays(
      "HTTP/1.1 500 x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n",
      small);
  EXPECT_EQ(o.state, State::Complete) << o.error;
  EXPECT_EQ(o.body, "abcd");
  EXPECT_TRUE(o.truncated);

  o = parseAllWays("HTTP/1.1 500 x\r\n\r\nabcdefgh",
                   {.closeAtEnd = true, .limits = {.maxBodySize = 4}});
  EXPECT_EQ(o.state, State::Complete);
  EXPECT_EQ(o.body, "abcd");
  EXPECT_TRUE(o.truncated);

  o = parseAllWays("HTTP/1.1 500 x\r\nContent-Length: 4\r\n\r\nabcd", small);
  EXPECT_EQ(o.body, "abcd");
  EXPECT_FALSE(o.truncated) << "exactly at the limit";
}

TEST(ResponseParser, HeadExactlyAtTheLimitIsAccepted) {
  const std::string head = "HTTP/1.1 101 x\r\nUpgrade: websocket\r\n\r\n";
  Outcome o = parseAllWays(head, {.limits = {.maxHeadSize = head.size()}});
  EXPECT_EQ(o.state, State::Complete) << o.error;
  o = parseAllWays(head, {.limits = {.maxHeadSize = head.size() - 1}});
  EXPECT_EQ(o.state, State::Failed);
  EXPECT_EQ(o.error, "response head larger than " + std::to_string(head.size() - 1) + " bytes");
  EXPECT_EQ(o.consumed, head.size()) << "the byte past the limit is the last one used";
}

TEST(ResponseParser, HeadOverTheLimitFailsWithoutWaitingForItsEnd) {
  // The line never ends: the parser gives up as soon as the limit is passed.
  const std::string wire = "HTTP/1.1 101 x\r\nX-Long: " + std::string(200, 'a');
  const Outcome o = parseAllWays(wire, {.limits = {.maxHeadSize = 64}});
  EXPECT_EQ(o.state, State::Failed);
  EXPECT_EQ(o.error, "response head larger than 64 bytes");
  EXPECT_EQ(o.consumed, 65u);
}

TEST(ResponseParser, NotHttpFailsAtTheFirstLine) {
  // An SSH server speaks first and then waits: no empty line will ever come.
  const std::string banner = "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n";
  const Outcome o = parseAllWays(banner);
  EXPECT_EQ(o.state, State::Failed);
  EXPECT_EQ(o.error, "malformed status line 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3'");
  EXPECT_EQ(o.consumed, banner.size());
  EXPECT_FALSE(o.headComplete);
}

struct BadCase {
  const char* name;
  std::string used;  // what the parser uses: up to the byte that shows the failure
  std::string rest;  // what follows, left unused
  std::string error;
  Exchange exchange{};
};

constexpr std::string_view k403Chunked = "HTTP/1.1 403 x\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string chunked(std::string_view body) {
  return std::string(k403Chunked) + std::string(body);
}

TEST(ResponseParser, EveryFailureHasItsReason) {
  const std::string kBareLfInHead = "bare LF in the response head (lines must end in CRLF)";
  const std::string kFolding = "obsolete line folding (a header line starting with whitespace)";
  const std::vector<BadCase> cases = {
      // Status line: checked as soon as its CRLF arrives.
      {"not http", "SSH-2.0-OpenSSH\r\n", "\r\n", "malformed status line 'SSH-2.0-OpenSSH'"},
      {"lower-case name", "http/1.1 101 x\r\n", "\r\n", "malformed status line 'http/1.1 101 x'"},
      {"no minor version", "HTTP/2 101 x\r\n", "\r\n", "malformed status line 'HTTP/2 101 x'"},
      {"http/2", "HTTP/2.0 101 x\r\n", "\r\n", "unsupported HTTP version 'HTTP/2.0'"},
      {"two-digit code", "HTTP/1.1 10 x\r\n", "\r\n", "malformed status line 'HTTP/1.1 10 x'"},
      {"four-digit code", "HTTP/1.1 1010 x\r\n", "\r\n", "malformed status line 'HTTP/1.1 1010 x'"},
      {"letter in code", "HTTP/1.1 1x1 x\r\n", "\r\n", "malformed status line 'HTTP/1.1 1x1 x'"},
      {"no space after code", "HTTP/1.1 101x\r\n", "\r\n", "malformed status line 'HTTP/1.1 101x'"},
      {"two spaces", "HTTP/1.1  101 x\r\n", "\r\n", "malformed status line 'HTTP/1.1  101 x'"},
      {"tab separator", "HTTP/1.1\t101 x\r\n", "\r\n",
       "malformed status line 'HTTP/1.1\\x09101 x'"},
      {"code below 100", "HTTP/1.1 099 x\r\n", "\r\n", "status code '099' below 100"},
      {"empty line first", "\r\n", "HTTP/1.1 101 x\r\n\r\n", "malformed status line ''"},
      {"control in reason", "HTTP/1.1 101 a\x01z\r\n", "\r\n",
       "invalid character in the reason phrase 'a\\x01z'"},
      {"NUL in reason", std::string("HTTP/1.1 101 a\0z\r\n", 18), "\r\n",
       "invalid character in the reason phrase 'a\\x00z'"},
      {"long line quoted in part", "HTTP/1.1 " + std::string(80, 'x') + "\r\n", "\r\n",
       "malformed status line 'HTTP/1.1 " + std::string(55, 'x') + "'..."},
      // Line ends: a bare LF or CR fails at once.
      {"bare LF ends the status line", "HTTP/1.1 101 x\n", "\n", kBareLfInHead},
      {"bare LF ends a field", "HTTP/1.1 101 x\r\nA: b\n", "\r\n", kBareLfInHead},
      {"bare LF ends the head", "HTTP/1.1 101 x\r\nA: b\r\n\n", "", kBareLfInHead},
      {"bare CR in the status line", "HTTP/1.1 101 x\ry", "\r\n\r\n",
       "bare CR in the response head"},
      {"bare CR in a value", "HTTP/1.1 101 x\r\nA: b\rc", "\r\n\r\n",
       "bare CR in the response head"},
      {"CR CR LF", "HTTP/1.1 101 x\r\r", "\n\r\n", "bare CR in the response head"},
      // Fields: each is checked as soon as its CRLF arrives.
      {"obs-fold", "HTTP/1.1 101 x\r\nA: b\r\n c\r\n", "\r\n", kFolding},
      {"space before the first field", "HTTP/1.1 101 x\r\n A: b\r\n", "\r\n", kFolding},
      {"space before colon", "HTTP/1.1 101 x\r\nA : b\r\n", "\r\n",
       "whitespace before the colon in 'A : b'"},
      {"tab before colon", "HTTP/1.1 101 x\r\nA\t: b\r\n", "\r\n",
       "whitespace before the colon in 'A\\x09: b'"},
      {"no colon", "HTTP/1.1 101 x\r\nnocolon\r\n", "\r\n",
       "header line without a colon 'nocolon'"},
      {"empty name", "HTTP/1.1 101 x\r\n: b\r\n", "\r\n", "header line without a name ': b'"},
      {"separator in name", "HTTP/1.1 101 x\r\nA(b): c\r\n", "\r\n", "invalid header name 'A(b)'"},
      {"space in name", "HTTP/1.1 101 x\r\nA b: c\r\n", "\r\n", "invalid header name 'A b'"},
      {"control in value", "HTTP/1.1 101 x\r\nA: b\x01\r\n", "\r\n",
       "invalid character in the value of header 'A'"},
      {"DEL in value", "HTTP/1.1 101 x\r\nA: b\x7f\r\n", "\r\n",
       "invalid character in the value of header 'A'"},
      // Framing: decided at the end of the head.
      {"negative length", "HTTP/1.1 403 x\r\nContent-Length: -1\r\n\r\n", "x",
       "invalid Content-Length '-1'"},
      {"plus sign", "HTTP/1.1 403 x\r\nContent-Length: +1\r\n\r\n", "x",
       "invalid Content-Length '+1'"},
      {"length list", "HTTP/1.1 403 x\r\nContent-Length: 1, 1\r\n\r\n", "x",
       "invalid Content-Length '1, 1'"},
      {"empty length", "HTTP/1.1 403 x\r\nContent-Length:\r\n\r\n", "x",
       "invalid Content-Length ''"},
      {"length past 2^64", "HTTP/1.1 403 x\r\nContent-Length: 18446744073709551616\r\n\r\n", "x",
       "invalid Content-Length '18446744073709551616'"},
      {"conflicting lengths", "HTTP/1.1 403 x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       "x", "conflicting Content-Length values 1 and 2"},
      {"length and chunked",
       "HTTP/1.1 403 x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "x",
       "both Content-Length and Transfer-Encoding"},
      {"gzip", "HTTP/1.1 403 x\r\nTransfer-Encoding: gzip\r\n\r\n", "x",
       "unsupported Transfer-Encoding 'gzip' (only chunked is implemented)"},
      {"gzip then chunked", "HTTP/1.1 403 x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "x",
       "unsupported Transfer-Encoding 'gzip, chunked' (only chunked is implemented)"},
      {"chunked twice",
       "HTTP/1.1 403 x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "x",
       "unsupported Transfer-Encoding 'chunked, chunked' (only chunked is implemented)"},
      // Chunked body.
      {"chunk size not hex", chunked("zz\r\n"), "0\r\n\r\n", "invalid chunk-size line 'zz'"},
      {"chunk size missing", chunked(";x\r\n"), "0\r\n\r\n", "invalid chunk-size line ';x'"},
      {"space after size", chunked("4 \r\n"), "abcd\r\n", "invalid chunk-size line '4 '"},
      {"sign in size", chunked("+4\r\n"), "abcd\r\n", "invalid chunk-size line '+4'"},
      {"chunk size of 17 digits", chunked("00000000000000001\r\n"), "x\r\n",
       "chunk size '00000000000000001' too large"},
      {"control in extension", chunked("4;a=\x01\r\n"), "abcd\r\n",
       "invalid character in a chunk extension ';a=\\x01'"},
      {"chunk longer than its size", chunked("1\r\nab"), "\r\n0\r\n\r\n",
       "chunk data longer than its chunk size"},
      {"bare LF after data", chunked("1\r\na\n"), "0\r\n\r\n",
       "bare LF after chunk data (lines must end in CRLF)"},
      {"bare CR after data", chunked("1\r\na\rx"), "\r\n0\r\n\r\n", "bare CR after chunk data"},
      {"bare LF after size", chunked("1\n"), "a\r\n",
       "bare LF in the chunked body (lines must end in CRLF)"},
      {"bare CR in size line", chunked("1\rx"), "\na\r\n", "bare CR in the chunked body"},
      {"chunk-size line too long", chunked("1;" + std::string(4097, 'e')), "\r\na\r\n",
       "chunk-size line longer than 4096 bytes"},
      {"trailer without colon", chunked("0\r\nbad trailer\r\n"), "\r\n",
       "trailer line without a colon 'bad trailer'"},
      {"folded trailer", chunked("0\r\nT: 1\r\n 2\r\n"), "\r\n",
       "obsolete line folding (a trailer line starting with whitespace)"},
      {"trailer with bad name", chunked("0\r\nT@: 1\r\n"), "\r\n", "invalid trailer name 'T@'"},
      {"bare LF in trailers", chunked("0\r\nT: 1\n"), "\r\n",
       "bare LF in the trailer section (lines must end in CRLF)"},
      // The limits count line ends too and fail at the first byte past them: a chunk-size
      // line may have 4096 bytes before its CRLF; the trailer section after "0\r\n" has
      // maxHeadSize bytes of its own, 64 here.
      {"trailers over the limit",
       chunked("0\r\nT: " + std::string(62, 't')),
       "\r\n\r\n",
       "trailer section larger than 64 bytes",
       {.limits = {.maxHeadSize = 64}}},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Outcome o = parseAllWays(c.used + c.rest, c.exchange);
    EXPECT_EQ(o.state, State::Failed);
    EXPECT_EQ(o.error, c.error);
    EXPECT_EQ(o.consumed, c.used.size());
  }
}

TEST(ResponseParser, FailureAfterTheHeadKeepsTheStatus) {
  const Outcome o = parseAllWays(chunked("zz\r\n"));
  EXPECT_EQ(o.state, State::Failed);
  EXPECT_TRUE(o.headComplete) << "a caller can still report the 403";
  EXPECT_EQ(o.status, 403);
}

TEST(ResponseParser, FailureAndCompletionAreFinal) {
  ResponseParser failed;
  EXPECT_EQ(failed.feed("HTTP/1.1 1x1\r\nmore"), 14u);
  EXPECT_EQ(failed.state(), State::Failed);
  EXPECT_EQ(failed.feed("HTTP/1.1 101 x\r\n\r\n"), 0u);
  failed.finish();
  EXPECT_EQ(failed.state(), State::Failed);
  EXPECT_EQ(failed.error(), "malformed status line 'HTTP/1.1 1x1'");

  ResponseParser complete;
  EXPECT_EQ(complete.feed(k101), k101.size());
  EXPECT_EQ(complete.feed("\x81\x00"), 0u);
  complete.finish();
  EXPECT_EQ(complete.state(), State::Complete);
  EXPECT_EQ(complete.error(), "");
}

TEST(ResponseParser, NothingToFeed) {
  ResponseParser parser;
  EXPECT_EQ(parser.feed(""), 0u);
  EXPECT_EQ(parser.state(), State::Head);
  EXPECT_FALSE(parser.headComplete());
}

TEST(ResponseParser, ClosedEarlyFails) {
  struct Case {
    const char* name;
    std::string wire;
    std::string error;
  };
  const Case cases[] = {
      {"no bytes", "", "the connection closed before any response"},
      {"inside the status line", "HTTP/1.1 101 Swi",
       "the connection closed inside the response head"},
      {"after a CR", "HTTP/1.1 101 x\r", "the connection closed inside the response head"},
      {"inside the fields", "HTTP/1.1 101 x\r\nUpgrade: websocket\r\n",
       "the connection closed inside the response head"},
      {"inside a length body", "HTTP/1.1 403 x\r\nContent-Length: 10\r\n\r\nabc",
       "the connection closed after 3 of 10 body bytes"},
      {"before a length body", "HTTP/1.1 403 x\r\nContent-Length: 10\r\n\r\n",
       "the connection closed after 0 of 10 body bytes"},
      {"inside chunk data", chunked("5\r\nab"), "the connection closed inside the chunked body"},
      {"before the last chunk", chunked("1\r\na\r\n"),
       "the connection closed inside the chunked body"},
      {"inside the trailers", chunked("0\r\nT: 1\r\n"),
       "the connection closed inside the chunked body"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Outcome o = parseAllWays(c.wire, {.closeAtEnd = true});
    EXPECT_EQ(o.state, State::Failed);
    EXPECT_EQ(o.error, c.error);
  }
}

}  // namespace
}  // namespace aerie::http
