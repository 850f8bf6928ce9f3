// Incremental, sans-IO HTTP/1.1 response parser, for the client: the server's answer to
// the WebSocket upgrade request and an HTTP proxy's answer to CONNECT.
//
// feed() returns how many bytes it used. It stops right after the head of a response
// without a body (1xx such as 101, 204, 304, a 2xx answer to CONNECT) and right after
// the end of a body: whatever follows (WebSocket frames that came in the same segment as
// the 101, tunnelled bytes) stays with the caller.
//
// Strictness: CRLF line ends; status line "HTTP/1.x SP 3DIGIT [SP reason]" (servers that
// omit the SP before an empty reason are accepted); field names are tokens directly
// followed by ':', values without control characters, no obs-fold. Content-Length is
// digits only, repeated values must agree; Content-Length with Transfer-Encoding, or a
// Transfer-Encoding other than chunked, fails. Without either, the body runs until the
// connection closes (finish()).
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

  /// The request this answers: a 2xx answer to CONNECT has no body. Default "GET".
  void setRequestMethod(std::string_view method) { connect_ = method == "CONNECT"; }

  /// Feeds bytes; returns how many were used (fewer than given once Complete or Failed).
  std::size_t feed(std::string_view data);
  /// The peer closed the connection: completes a body delimited by the close, fails a
  /// response cut short.
  void finish();

  State state() const noexcept { return state_; }
  bool headComplete() const noexcept { return state_ == State::Body || state_ == State::Complete; }
  int status() const noexcept { return status_; }
  std::string_view reason() const noexcept { return reason_; }
  int versionMinor() const noexcept { return versionMinor_; }
  const Headers& headers() const noexcept { return headers_; }
  /// The body (at most maxBodySize bytes of it; bodyTruncated() tells if more came).
  const std::string& body() const noexcept { return body_; }
  bool bodyTruncated() const noexcept { return truncated_; }
  /// Why it failed.
  std::string_view error() const noexcept { return error_; }

 private:
  enum class Framing { None, Length, Chunked, UntilClose };
  enum class ChunkState { Size, Data, DataEnd, Trailer };

  std::size_t feedHead(std::string_view data);
  bool parseHead(std::string_view head);
  std::size_t feedBody(std::string_view data);
  std::size_t feedChunked(std::string_view data);
  void keep(std::string_view bytes);
  std::size_t fail(std::string message, std::size_t consumed);

  ResponseParserLimits limits_;
  bool connect_ = false;
  State state_ = State::Head;
  std::string head_;
  int status_ = 0;
  int versionMinor_ = 1;
  std::string reason_;
  Headers headers_;
  Framing framing_ = Framing::None;
  std::uint64_t remaining_ = 0;  // Length: body bytes; Chunked: bytes of the current chunk
  ChunkState chunkState_ = ChunkState::Size;
  std::string line_;  // a chunk-size or trailer line in progress
  std::string body_;
  bool truncated_ = false;
  std::string error_;
};

}  // namespace aerie::http
