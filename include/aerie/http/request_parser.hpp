// Incremental, strict, sans-IO HTTP/1.1 request parser (RFC 9110 / RFC 9112).
//
// The server feeds whatever bytes a read produced; the parser reports one event per
// feed() call and says how many bytes it used. Contract:
//
//   while (true) {
//     auto r = parser.feed(data, size);        // size may be 0
//     data += r.consumed; size -= r.consumed;
//     switch (r.event) {
//       case Event::NeedMore: return;          // every byte was used: read more
//       case Event::HeadComplete: ...          // parser.head(); the rest of `data` is the
//                                              // body, a pipelined request or (after an
//                                              // upgrade) WebSocket frames
//       case Event::BodyChunk: ...             // r.body views `data`: no copy
//       case Event::MessageComplete: ...       // the next feed() starts the next request
//       case Event::Error: ...                 // answer r.status, then close
//     }
//   }
//
// - Call feed() until it returns NeedMore (or Error): NeedMore is the only event that
//   means "all bytes used". A request without body reports HeadComplete and then, on the
//   next call (even with size 0), MessageComplete; so does the end of a Content-Length
//   body after its last BodyChunk.
// - After MessageComplete the next feed() starts the next (pipelined) request by itself;
//   that call clears head(). Take the head with takeHead() at HeadComplete if the request
//   outlives it. reset() abandons the current message.
// - Errors are sticky: every later feed() repeats the same error with consumed 0. The
//   connection must be closed after answering (the framing is lost).
//
// Strictness (each is a test in tests/http/):
// - Line endings are CRLF only. A bare LF is NOT accepted as a line terminator anywhere
//   (request line, fields, chunk lines, trailers) and a bare CR is an invalid character:
//   both give 400. RFC 9112 2.2 allows recognising a bare LF, but disagreement between
//   a front proxy and the server about line ends is a request smuggling vector, and no
//   browser or WebSocket client sends bare LFs.
// - Empty lines (CRLF) before the request line are skipped (RFC 9112 2.2); they do not
//   count toward the head size.
// - Request line: method SP request-target SP HTTP-version, single spaces. The method is a
//   token; the target is visible ASCII only (0x21-0x7E) and must be origin-form ("/..."),
//   absolute-form ("scheme://..."), "*" (OPTIONS only) or authority-form (CONNECT only).
//   HTTP-version must read "HTTP/d.d": other syntax is 400, versions other than 1.0 and
//   1.1 are 505.
// - Fields: token name immediately followed by ':' (whitespace before the colon: 400),
//   values of VCHAR / obs-text / SP / HTAB (CR, LF, NUL and other controls: 400), no
//   obs-fold (a line starting with SP/HTAB: 400). Leading/trailing OWS is stripped.
// - HTTP/1.1 requests need exactly one Host field (none or several: 400).
// - Framing: Content-Length is 1*DIGIT; "5, 5" or repeated identical fields are one
//   length, differing values are 400, as are a sign, inner spaces, an empty element or a
//   value beyond 2^64-1. Transfer-Encoding and Content-Length together: 400.
//   Transfer-Encoding in an HTTP/1.0 request: 400. Transfer-Encoding must be a list whose
//   final element is "chunked", once: an unknown coding anywhere is 501; a list that
//   does not end in chunked (e.g. "chunked, identity") or repeats it is 400; a known
//   coding before chunked (e.g. "gzip, chunked") is 501, as decoding is not implemented.
// - Chunked: 1-16 hex digits, then optional extensions (";..."; skipped, but control
//   characters are 400), then CRLF; data must be followed by CRLF. Trailers are parsed
//   for syntax and discarded.
//
// Limits (ParserLimits):
// - maxRequestLineSize: bytes of the request line without its CRLF; above it 414. The
//   request line must also leave room for its CRLF within maxHeaderSize, so the
//   effective bound is min(maxRequestLineSize, maxHeaderSize - 2).
// - maxHeaderSize: bytes of the head from the request line through the empty line that
//   ends it, all CRLFs included; above it 431. It also bounds the trailer section.
// - maxHeaderCount: number of header fields; above it 431.
// - maxBodySize: body bytes (after dechunking). A Content-Length above it is 413 before
//   any body byte is read; a chunked body is 413 as soon as a chunk size makes the total
//   exceed it. The check happens at the first feed() after HeadComplete (a feed() of no
//   bytes is enough), so a route can change the limit for this request with
//   setMaxBodySize() in between: the server routes the request and only then pulls the
//   body (docs/server.md, "Request bodies").
// - maxChunkLineSize: a chunk-size line with its extensions, without CRLF; above it 400.
// All checks are made on every piece of input in the same way, so the outcome (events,
// head, body bytes, error status) does not depend on how the input is split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aerie/http/request_head.hpp"

namespace aerie::http {

struct ParserLimits {
  std::size_t maxRequestLineSize = 8192;
  std::size_t maxHeaderSize = 32768;
  std::size_t maxHeaderCount = 100;
  std::uint64_t maxBodySize = std::uint64_t{128} * 1024;
  std::size_t maxChunkLineSize = 4096;
};

class RequestParser {
 public:
  enum class Event : std::uint8_t { NeedMore, HeadComplete, BodyChunk, MessageComplete, Error };

  enum class BodyKind : std::uint8_t { None, ContentLength, Chunked };

  struct Result {
    Event event = Event::NeedMore;
    std::size_t consumed = 0;  // bytes of this feed() used; always <= size
    std::string_view body;     // BodyChunk: a view into the fed data
    int status = 0;            // Error: the HTTP status to answer with
    std::string_view reason;   // Error: short text (static storage) for logs/responses
  };

  explicit RequestParser(const ParserLimits& limits = {});

  Result feed(const char* data, std::size_t size);
  Result feed(std::string_view data) { return feed(data.data(), data.size()); }

  /// The head of the current request; complete once HeadComplete was reported.
  const RequestHead& head() const noexcept { return head_; }
  RequestHead& head() noexcept { return head_; }
  /// Moves the head out (for a request that outlives the next feed()).
  RequestHead takeHead() noexcept { return std::move(head_); }
  /// Hands the head to `into` without allocating once both have been used: the request
  /// line is copied into its strings, the header fields exchange storage with those `into`
  /// held (this parser clears them when the next request starts).
  void handHeadTo(RequestHead& into);

  /// After HeadComplete: how the body is framed.
  BodyKind bodyKind() const noexcept { return bodyKind_; }
  /// After HeadComplete: the Content-Length, if the body is framed by one.
  std::optional<std::uint64_t> contentLength() const noexcept;
  /// After HeadComplete: an HTTP/1.1 request with "Expect: 100-continue" (RFC 9110 10.1.1:
  /// ignored for HTTP/1.0). The server decides whether to send 100 Continue.
  bool expectsContinue() const noexcept { return expectsContinue_; }
  /// Body bytes delivered so far for the current request (after dechunking).
  std::uint64_t bodyBytesReceived() const noexcept { return bodyReceived_; }

  /// Body limit for the current request only (the next request starts again with
  /// limits().maxBodySize). Effective for a Content-Length when set before the first
  /// feed() after HeadComplete, for chunked bodies from the next chunk size on.
  void setMaxBodySize(std::uint64_t maxBodySize) noexcept { bodyLimit_ = maxBodySize; }
  std::uint64_t maxBodySize() const noexcept { return bodyLimit_; }

  const ParserLimits& limits() const noexcept { return limits_; }

  /// Abandons the current message (and any error) and waits for a new request.
  void reset() noexcept;

  /// Frees the storage kept for reuse (head arena, line buffer), for idle keep-alive
  /// connections: an idle parser then owns no heap memory. Between messages (after
  /// MessageComplete, or before any byte of the next request) it also clears head();
  /// in the middle of a message it only trims what is unused.
  void releaseMemory() noexcept;

  /// True between HeadComplete and MessageComplete.
  bool inBody() const noexcept;

 private:
  enum class State : std::uint8_t {
    RequestLine,
    HeaderLines,
    BodyStart,  // head reported; framing checked on the next feed()
    Identity,
    IdentityEnd,  // last Content-Length byte reported; MessageComplete next
    ChunkSize,
    ChunkSizeWs,
    ChunkExt,
    ChunkSizeLf,
    ChunkData,
    ChunkDataCr,
    ChunkDataLf,
    TrailerLineStart,
    TrailerName,
    TrailerValue,
    TrailerLineLf,
    TrailerEndLf,
    Done,
    Failed,
  };

  struct Failure {
    int status = 0;
    std::string_view reason;
    explicit operator bool() const noexcept { return status != 0; }
  };

  Result feedHead(const char* data, std::size_t size);
  Result startBody(const char* data, std::size_t size);
  Result feedIdentity(const char* data, std::size_t size);
  Result feedChunked(const char* data, std::size_t size);
  Result fail(Failure failure, std::size_t consumed) noexcept;

  Failure checkLineLimits(std::size_t lineBytes, bool endsWithCr, bool complete) const noexcept;
  Failure parseRequestLine(std::string_view line);
  Failure parseHeaderLine(std::string_view line);
  Failure parseContentLength(std::string_view value) noexcept;
  Failure parseTransferEncoding(std::string_view value) noexcept;
  Failure finishHead() noexcept;
  void startMessage() noexcept;

  ParserLimits limits_;
  RequestHead head_;
  std::string partial_;  // an unfinished head line carried between feed() calls
  State state_ = State::RequestLine;
  BodyKind bodyKind_ = BodyKind::None;
  bool expectsContinue_ = false;
  bool hasContentLength_ = false;
  bool hasTransferEncoding_ = false;
  bool teUnknown_ = false;      // a coding we do not know
  bool teOtherKnown_ = false;   // gzip/deflate/compress/identity: known, not implemented
  bool teLastChunked_ = false;  // the last list element so far is "chunked"
  std::uint8_t chunkDigits_ = 0;
  std::uint32_t teChunkedCount_ = 0;
  std::uint32_t hostCount_ = 0;
  std::size_t headBytes_ = 0;     // head bytes of completed lines
  std::size_t sectionBytes_ = 0;  // chunk line or trailer section bytes so far
  std::uint64_t contentLength_ = 0;
  std::uint64_t bodyLimit_ = 0;
  std::uint64_t bodyReceived_ = 0;
  std::uint64_t remaining_ = 0;  // of the Content-Length body or of the current chunk
  std::uint64_t chunkSize_ = 0;
  Failure failure_;
};

}  // namespace aerie::http
