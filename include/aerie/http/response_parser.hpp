// Incremental, sans-IO HTTP/1.1 response parser, for the client: the server's answer to
// the WebSocket upgrade request and an HTTP proxy's answer to CONNECT.
//
// feed() takes whatever a read produced and returns how many bytes it used. It stops
// right after the head of a response without a body (1xx such as 101, 204, 304, a 2xx
// answer to CONNECT, any answer to HEAD) and right after the end of a body: whatever
// follows (WebSocket frames that came in the same segment as the 101, tunnelled bytes)
// stays with the caller. Once Complete or Failed, feed() uses nothing. The outcome
// (state, bytes used, head, body, error) does not depend on how the input is split.
// One parser reads one response: after a 100 Continue, start a new one for the next.
//
// Strictness, the same as the server's RequestParser (request_parser.hpp):
// - Lines end in CRLF. A bare LF is not a line end and a bare CR is not allowed anywhere
//   (head, chunk lines, trailers): both fail as soon as they arrive. RFC 9112 2.2 lets a
//   recipient accept a bare LF, but parsers that disagree about line ends can be made to
//   disagree about where a response ends, and servers do not send them.
// - Status line: "HTTP/1.d SP 3DIGIT SP reason"; the reason may be empty. RFC 9112 4
//   requires the SP before an empty reason, but servers often omit it, so "HTTP/1.1 101"
//   is accepted too. The code is 100-999; the reason is VCHAR / obs-text / SP / HTAB.
//   Other major versions fail with their own error.
// - Fields: a token name directly followed by ':' (whitespace before the colon fails),
//   values of VCHAR / obs-text / SP / HTAB with surrounding OWS stripped, no obs-fold.
//   Each line is checked when its CRLF arrives, so a peer that is not speaking HTTP
//   fails at its first line instead of after maxHeadSize bytes or a timeout.
// - Framing (RFC 9112 6.3), only for responses that can have a body: Content-Length is
//   1*DIGIT below 2^64 and repeated fields must agree; Transfer-Encoding must be exactly
//   "chunked" (other codings are not implemented); both together fail. Without either,
//   the body runs until the connection closes (finish()). Responses without a body
//   ignore these fields, as RFC 9112 6.3 and RFC 9110 9.3.6 (CONNECT) require.
// - Chunked: 1-16 hex digits, optional BWS and extensions (skipped; control characters
//   fail), CRLF; data followed by CRLF; trailer fields are checked like header fields
//   and discarded.
//
// Limits (ResponseParserLimits):
// - maxHeadSize bounds the head, status line through the empty line, CRLFs included:
//   the first byte past it fails, without waiting for the line to end. It bounds the
//   trailer section (the lines after the last chunk, through the empty line) as well.
// - maxBodySize bounds the body kept in body(): a longer body is still read to its end
//   (so the response completes and the status stays usable), but only its first
//   maxBodySize bytes are kept and bodyTruncated() is set. The body is only kept for
//   error reports, where a cut-off text is more useful than a failure.
// - A chunk-size line, extensions included, has at most 4096 bytes before its CRLF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "aerie/http/headers.hpp"

namespace aerie::http {

struct ResponseParserLimits {
  std::size_t maxHeadSize = 16 * 1024;  // status line + fields + empty line
  std::size_t maxBodySize = 64 * 1024;  // kept for error reports; the rest is skipped
};

class ResponseParser {
 public:
  enum class State { Head, Body, Complete, Failed };

  explicit ResponseParser(ResponseParserLimits limits = {}) : limits_(limits) {}

  /// The method of the request this answers (default "GET"): no body follows a 2xx answer
  /// to CONNECT (the tunnel starts right after the head) nor any answer to HEAD. Call
  /// before the head is complete.
  void setRequestMethod(std::string_view method) noexcept;

  /// Feeds bytes; returns how many were used. All of them while the state stays Head or
  /// Body; fewer once the response is Complete (the rest is not part of it) or Failed.
  std::size_t feed(std::string_view data);

  /// The peer closed the connection: completes a body delimited by the close and fails a
  /// response cut short (in its head, or before the end of a framed body). No effect once
  /// Complete or Failed.
  void finish();

  State state() const noexcept { return state_; }
  /// The head was read in full and is valid; stays true if the body fails afterwards, so
  /// that status() and headers() can still be reported.
  bool headComplete() const noexcept { return headComplete_; }

  /// The status line and fields; meaningful once headComplete().
  int status() const noexcept { return status_; }
  std::string_view reason() const noexcept { return reason_; }
  int versionMinor() const noexcept { return versionMinor_; }
  const Headers& headers() const noexcept { return headers_; }

  /// The body, dechunked: at most maxBodySize bytes of it; bodyTruncated() tells if more
  /// came (and was skipped).
  const std::string& body() const noexcept { return body_; }
  bool bodyTruncated() const noexcept { return truncated_; }

  /// Why it failed, for humans; empty unless Failed.
  std::string_view error() const noexcept { return error_; }

 private:
  enum class Step {
    StatusLine,
    FieldLine,
    LengthBody,
    UntilCloseBody,
    ChunkSizeLine,
    ChunkData,
    ChunkDataEnd,
    TrailerLine,
  };
  enum class LineResult { Partial, Complete, TooLong, BareCr, BareLf };

  LineResult readLine(std::string_view data, std::size_t& pos, std::size_t maxBytes);
  std::size_t lineBudget() const noexcept;
  void failLine(LineResult result);
  void onLine(std::string_view line);
  void onChunkDataEnd(char c);
  bool parseStatusLine(std::string_view line);
  bool parseFieldLine(std::string_view line, bool isTrailer);
  bool finishHead();
  bool parseChunkSizeLine(std::string_view line);
  void keep(std::string_view bytes);
  bool fail(std::string message);

  ResponseParserLimits limits_;
  bool connectRequest_ = false;
  bool headRequest_ = false;
  State state_ = State::Head;
  Step step_ = Step::StatusLine;
  bool headComplete_ = false;
  std::string line_;              // the line being read, without its line end
  bool lineCr_ = false;           // line_ is followed by a CR that awaits its LF
  std::size_t sectionBytes_ = 0;  // head or trailer section: bytes of its completed lines
  int status_ = 0;
  int versionMinor_ = 0;
  std::string reason_;
  Headers headers_;
  std::uint64_t contentLength_ = 0;
  std::uint64_t remaining_ = 0;  // bytes left of the Content-Length body or of the chunk
  std::string body_;
  bool truncated_ = false;
  std::string error_;
};

}  // namespace aerie::http
