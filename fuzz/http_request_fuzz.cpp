// libFuzzer target for aerie::http::RequestParser.
//
// Input: byte 0 selects how the rest is cut into feed() pieces (and, with its top bit,
// small limits so the limit paths are reached); the rest is the request stream. The
// stream is parsed once whole and once in pieces, and the two runs must agree exactly
// (events, heads, body bytes, error status). Every run checks the contract invariants:
// consumed <= size, NeedMore consumes everything, no HeadComplete twice without a
// MessageComplete, body chunks only inside a message, viewing the fed data and summing
// to the Content-Length, errors sticky with a known status.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "aerie/http/request_parser.hpp"

namespace {

using aerie::http::ParserLimits;
using aerie::http::RequestParser;
using Event = RequestParser::Event;

void check(bool condition) {
  if (!condition) __builtin_trap();
}

struct Run {
  std::string trace;  // events and heads, body bytes: everything but the chunking
  int status = 0;
};

// Piece sizes from a small LCG seeded by the mode byte: low nibble 0 feeds everything at
// once, 9 feeds byte by byte, the others cut pieces of 1..2^k bytes.
class Pieces {
 public:
  Pieces(std::uint8_t mode, std::size_t size) : state_(mode * 2654435761u + 1) {
    maxPiece_ = (mode & 0x0F) == 0 ? size : static_cast<std::size_t>(1u << ((mode & 0x0F) % 9));
  }
  std::size_t next() {
    state_ = state_ * 1103515245u + 12345u;
    return 1 + static_cast<std::size_t>((state_ >> 8) % (maxPiece_ == 0 ? 1 : maxPiece_));
  }

 private:
  std::uint32_t state_;
  std::size_t maxPiece_;
};

void appendHead(std::string& trace, const aerie::http::RequestHead& head) {
  trace.append("H[").append(head.method).append(" ").append(head.target).append(" ");
  trace.append(std::to_string(head.versionMajor)).append(".");
  trace.append(std::to_string(head.versionMinor));
  for (const auto& field : head.headers) {
    trace.append("|").append(field.name).append(":").append(field.value);
  }
  trace += "]";
}

void appendBody(std::string& trace, const std::string& body) {
  trace.append("B").append(std::to_string(body.size())).append(":").append(body).append("M");
}

Run parse(std::string_view input, const ParserLimits& limits, Pieces* pieces) {
  RequestParser parser(limits);
  Run run;
  bool inMessage = false;
  std::uint64_t bodyBytes = 0;
  std::string body;
  std::size_t start = 0;
  bool last = false;
  while (!last) {
    std::size_t end = input.size();
    if (pieces != nullptr) end = std::min(input.size(), start + pieces->next());
    last = end == input.size();
    const char* data = input.data() + start;
    std::size_t size = end - start;
    // At most one zero-consumption event (MessageComplete after a head or body end)
    // follows each consuming one: bound the loop to catch a parser that stops advancing.
    std::size_t budget = 2 * size + 4;
    while (true) {
      check(budget-- > 0);
      const RequestParser::Result r = parser.feed(data, size);
      check(r.consumed <= size);
      if (r.event == Event::NeedMore) {
        check(r.consumed == size);
        break;
      }
      if (r.event == Event::Error) {
        check(r.status == 400 || r.status == 413 || r.status == 414 || r.status == 431 ||
              r.status == 501 || r.status == 505);
        check(!r.reason.empty());
        const RequestParser::Result again = parser.feed(data, size);
        check(again.event == Event::Error && again.status == r.status && again.consumed == 0);
        run.status = r.status;
        run.trace.append("E").append(std::to_string(r.status));
        return run;
      }
      switch (r.event) {
        case Event::HeadComplete: {
          check(!inMessage);
          inMessage = true;
          bodyBytes = 0;
          body.clear();
          const auto& head = parser.head();
          check(!head.method.empty() && !head.target.empty());
          check(head.versionMajor == 1 && (head.versionMinor == 0 || head.versionMinor == 1));
          check(head.headers.size() <= limits.maxHeaderCount);
          appendHead(run.trace, head);
          break;
        }
        case Event::BodyChunk:
          check(inMessage);
          check(!r.body.empty());
          check(r.body.data() >= data && r.body.data() + r.body.size() == data + r.consumed);
          bodyBytes += r.body.size();
          body.append(r.body);
          check(bodyBytes == parser.bodyBytesReceived());
          check(bodyBytes <= parser.maxBodySize());
          if (auto length = parser.contentLength()) check(bodyBytes <= *length);
          break;
        case Event::MessageComplete:
          check(inMessage);
          inMessage = false;
          if (auto length = parser.contentLength()) check(bodyBytes == *length);
          check(bodyBytes == parser.bodyBytesReceived());
          appendBody(run.trace, body);
          break;
        default:
          check(false);
      }
      data += r.consumed;
      size -= r.consumed;
    }
    start = end;
  }
  // Flush a MessageComplete that needs no bytes.
  const RequestParser::Result r = parser.feed(nullptr, 0);
  if (r.event == Event::MessageComplete) {
    check(inMessage);
    appendBody(run.trace, body);
  } else if (r.event == Event::Error) {
    run.trace.append("E").append(std::to_string(r.status));
    run.status = r.status;
  }
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  ParserLimits limits;
  if ((mode & 0x80) != 0) {
    limits.maxRequestLineSize = 48;
    limits.maxHeaderSize = 192;
    limits.maxHeaderCount = 6;
    limits.maxBodySize = 40;
    limits.maxChunkLineSize = 24;
  }
  const Run whole = parse(input, limits, nullptr);
  Pieces pieces(mode, input.size());
  const Run split = parse(input, limits, &pieces);
  check(whole.status == split.status);
  check(whole.trace == split.trace);
  return 0;
}
