// libFuzzer target for the client's HTTP response parser (http/response_parser.hpp).
//
// Input: byte 0 picks the request method (CONNECT or GET) and whether the peer closes at
// the end, byte 1 the split size; the rest is the server's bytes. Parsed whole and split,
// both runs must agree; consumption never exceeds the input and stops for good once the
// response is complete or failed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "aerie/http/response_parser.hpp"

#define FUZZ_CHECK(condition)           \
  do {                                  \
    if (!(condition)) __builtin_trap(); \
  } while (0)

namespace {

using aerie::http::ResponseParser;

struct Result {
  ResponseParser::State state;
  std::size_t consumed = 0;
  int status = 0;
  std::string body;
};

Result run(std::string_view wire, std::size_t step, bool connect, bool close) {
  ResponseParser parser(aerie::http::ResponseParserLimits{2048, 512});
  parser.setRequestMethod(connect ? "CONNECT" : "GET");
  std::size_t offset = 0;
  while (offset < wire.size()) {
    const std::size_t n = std::min(step, wire.size() - offset);
    const std::size_t used = parser.feed(wire.substr(offset, n));
    FUZZ_CHECK(used <= n);
    offset += used;
    const auto state = parser.state();
    if (state == ResponseParser::State::Complete || state == ResponseParser::State::Failed) {
      FUZZ_CHECK(parser.feed(wire.substr(offset)) == 0);  // done for good
      break;
    }
    FUZZ_CHECK(used == n);  // still parsing: every byte was used
  }
  if (close) parser.finish();
  FUZZ_CHECK(parser.body().size() <= 512);
  if (parser.state() == ResponseParser::State::Failed) FUZZ_CHECK(!parser.error().empty());
  if (parser.headComplete()) FUZZ_CHECK(parser.status() >= 100 && parser.status() <= 999);
  return {parser.state(), offset, parser.status(), parser.body()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool connect = (data[0] & 1) != 0;
  const bool close = (data[0] & 2) != 0;
  const std::size_t step = 1 + data[1] % 64;
  const std::string_view wire(reinterpret_cast<const char*>(data) + 2, size - 2);
  const Result whole = run(wire, wire.size() + 1, connect, close);
  const Result split = run(wire, step, connect, close);
  FUZZ_CHECK(whole.state == split.state);
  FUZZ_CHECK(whole.consumed == split.consumed);
  FUZZ_CHECK(whole.status == split.status);
  FUZZ_CHECK(whole.body == split.body);
  return 0;
}
