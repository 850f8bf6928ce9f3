// libFuzzer target for the client's HTTP response parser (http/response_parser.hpp).
//
// Input: byte 0 picks the request method (bit 0: CONNECT, else bit 2: HEAD, else GET) and
// whether the peer closes at the end (bit 1); byte 1 a piece size and a cut position; the
// rest is the server's bytes. Parsed whole, in pieces and cut in two, all runs must agree
// (state, bytes used, head, body, error). Bytes used never exceed the input, every byte is
// used while the response is unfinished, nothing is used once it is complete or failed,
// and a complete response needs no byte past the ones it used.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/http/response_parser.hpp"

#define FUZZ_CHECK(condition)           \
  do {                                  \
    if (!(condition)) __builtin_trap(); \
  } while (0)

namespace {

using aerie::http::ResponseParser;

constexpr std::size_t kMaxHead = 2048;
constexpr std::size_t kMaxBody = 512;

struct Options {
  std::string_view method;
  bool close = false;
};

struct Result {
  ResponseParser::State state = ResponseParser::State::Head;
  std::size_t consumed = 0;
  bool headComplete = false;
  int status = 0;
  std::string reason;
  std::string headers;
  std::string body;
  bool truncated = false;
  std::string error;

  bool operator==(const Result&) const = default;
};

bool finished(ResponseParser::State state) {
  return state == ResponseParser::State::Complete || state == ResponseParser::State::Failed;
}

/// Feeds `wire` cut at `cuts` (ascending) until the parser stops using bytes.
Result run(std::string_view wire, std::vector<std::size_t> cuts, const Options& options) {
  ResponseParser parser(aerie::http::ResponseParserLimits{kMaxHead, kMaxBody});
  parser.setRequestMethod(options.method);
  cuts.push_back(wire.size());
  std::size_t offset = 0;
  std::size_t start = 0;
  for (const std::size_t cut : cuts) {
    const std::string_view piece = wire.substr(start, cut - start);
    start = cut;
    const std::size_t used = parser.feed(piece);
    FUZZ_CHECK(used <= piece.size());
    offset += used;
    if (finished(parser.state())) {
      FUZZ_CHECK(parser.feed(wire.substr(offset)) == 0);  // done for good
      break;
    }
    FUZZ_CHECK(used == piece.size());  // still parsing: every byte was used
  }
  if (options.close) parser.finish();

  Result result;
  result.state = parser.state();
  result.consumed = offset;
  result.headComplete = parser.headComplete();
  result.status = parser.status();
  result.reason = std::string(parser.reason());
  for (const auto& field : parser.headers()) {
    result.headers.append(field.name).append(":").append(field.value).append("\n");
  }
  result.body = parser.body();
  result.truncated = parser.bodyTruncated();
  result.error = std::string(parser.error());

  FUZZ_CHECK(result.body.size() <= kMaxBody);
  FUZZ_CHECK(!result.truncated || result.body.size() == kMaxBody);
  FUZZ_CHECK((result.state == ResponseParser::State::Failed) == !result.error.empty());
  if (result.headComplete) {
    FUZZ_CHECK(result.status >= 100 && result.status <= 999);
    FUZZ_CHECK(result.consumed >= 4);  // at least the CRLF CRLF of the head
  }
  if (result.state == ResponseParser::State::Complete) FUZZ_CHECK(result.headComplete);
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Options options;
  options.method = (data[0] & 1) != 0 ? "CONNECT" : (data[0] & 4) != 0 ? "HEAD" : "GET";
  options.close = (data[0] & 2) != 0;
  const std::size_t step = 1 + data[1] % 64;
  const std::string_view wire(reinterpret_cast<const char*>(data) + 2, size - 2);

  const Result whole = run(wire, {}, options);
  std::vector<std::size_t> pieces;
  for (std::size_t cut = step; cut < wire.size(); cut += step)
    pieces.push_back(cut);
  FUZZ_CHECK(run(wire, pieces, options) == whole);
  const std::size_t cut = (static_cast<std::size_t>(data[1]) * 131) % (wire.size() + 1);
  FUZZ_CHECK(run(wire, {cut}, options) == whole);

  // A complete response was decided by the bytes it used: the same prefix alone gives
  // the same answer (with the close, if the body ran until it).
  if (whole.state == ResponseParser::State::Complete) {
    FUZZ_CHECK(run(wire.substr(0, whole.consumed), {}, options) == whole);
  }
  return 0;
}
