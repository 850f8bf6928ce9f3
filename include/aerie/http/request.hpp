// A request as responders see it (seed: Aerys\Request).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aerie/core/task.hpp"
#include "aerie/http/headers.hpp"
#include "aerie/http/request_head.hpp"

namespace aerie::http {

/// Thrown by Request::read() and Request::body() when the body cannot be read to its end:
/// status() is 413 (larger than the limit), 400 (malformed chunked framing, or the client
/// closed the connection in the middle of it) or 408 (not received in time). A responder
/// may catch it and answer with its own error status; one that lets it escape gets that
/// status as the response. Either way the connection closes after the response.
class BodyError : public std::runtime_error {
 public:
  BodyError(int status, const std::string& what) : std::runtime_error(what), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

/// Where a request body comes from: the server's HTTP session (without one, in unit tests,
/// read() hands out what setBody() stored).
class BodySource {
 public:
  virtual ~BodySource() = default;
  /// The next piece of the body; nullopt at its end. Throws BodyError.
  virtual Task<std::optional<std::string>> readBody() = 0;
  /// The body limit for this request changed (Request::setMaxBodySize()).
  virtual void bodyLimitChanged(std::uint64_t maxBodySize) = 0;
};

class Request {
 public:
  Request(RequestHead head, std::string path, std::string query, std::string remoteAddress);
  /// An empty request, to be filled by the server (mutableHead() and prepare()).
  Request() = default;

  std::string_view method() const noexcept { return head_.method; }
  /// The request target as sent ("/chat?room=1").
  std::string_view target() const noexcept { return head_.target; }
  /// The path, percent-decoded once.
  std::string_view path() const noexcept { return path_; }
  /// The raw query string (after '?', not decoded).
  std::string_view query() const noexcept { return query_; }
  /// A query parameter, decoded; empty if absent.
  std::string queryParam(std::string_view name) const;
  int versionMajor() const noexcept { return head_.versionMajor; }
  int versionMinor() const noexcept { return head_.versionMinor; }

  /// The first value of a header (case-insensitive name); empty if absent.
  std::string_view header(std::string_view name) const noexcept;
  /// Every value of a repeated header.
  std::vector<std::string_view> headerArray(std::string_view name) const;
  const Headers& headers() const noexcept { return head_.headers; }
  /// A cookie's value from the Cookie header(s); empty if absent.
  std::string_view cookie(std::string_view name) const noexcept;

  /// A route parameter ("/user/{id}" -> param("id")); empty if absent.
  std::string_view param(std::string_view name) const noexcept;
  const std::vector<std::pair<std::string, std::string>>& params() const noexcept {
    return params_;
  }

  /// "127.0.0.1:54321", "[::1]:54321" or the Unix socket path.
  std::string_view remoteAddress() const noexcept { return remoteAddress_; }

  // ---- The body --------------------------------------------------------------------------
  // Responders run as soon as the head has arrived; the body is read from the client only
  // when the responder asks for it, in one of two ways (not both):
  //
  //   std::string all = co_await req.body();              // the whole body, buffered
  //
  //   while (std::optional<std::string> chunk = co_await req.read()) {
  //     consume(*chunk);                                   // as it arrives
  //   }
  //
  // read() returns what has arrived so far (at least one byte, dechunked; at most about one
  // socket read's worth) and nullopt at the end of the body (at once for a request without
  // one). The client's socket is only read while the responder waits in read(): a slow
  // consumer slows the upload down instead of filling memory. The first read() of a
  // request with "Expect: 100-continue" sends "100 Continue"; a responder that answers
  // without reading never makes the client send the body. Both throw BodyError once the
  // body exceeds maxBodySize() (413; a declared Content-Length over it fails the first
  // read() before any byte is read) or is malformed. A body the responder leaves unread
  // is discarded after the response (or the connection closes; see docs/server.md).
  // Only valid while the responder runs (the request is gone afterwards).

  /// The whole body (what is left of it if read() took some). Throws BodyError.
  Task<std::string> body();
  /// The next piece of the body as it arrives; nullopt at its end. Throws BodyError.
  Task<std::optional<std::string>> read();
  /// The body limit for this request: ServerOptions::maxBodySize unless a route set its
  /// own (RouteOptions::maxBodySize). Must be set before the body is first read to apply to
  /// a Content-Length; for a chunked body it applies from the next chunk on.
  std::uint64_t maxBodySize() const noexcept { return maxBodySize_; }
  void setMaxBodySize(std::uint64_t maxBodySize);
  /// The declared Content-Length; nullopt for a chunked body or none.
  std::optional<std::uint64_t> contentLength() const noexcept { return contentLength_; }
  /// The declared Content-Length exceeds maxBodySize(): the body will fail with 413, so a
  /// responder (the Router does) can answer 413 without reading it.
  bool bodyTooLarge() const noexcept { return contentLength_ && *contentLength_ > maxBodySize_; }

  // Server internals.
  const RequestHead& head() const noexcept { return head_; }
  RequestHead& mutableHead() noexcept { return head_; }
  /// Readies the request for the head now in mutableHead(), keeping the storage of the
  /// previous request on the connection (so that keep-alive requests allocate nothing):
  /// path (percent-decoded once; the raw path if decoding fails) and query from the
  /// target, the remote address, and no body, route parameters or body source yet.
  void prepare(std::string_view remoteAddress);
  /// After the response: drops the body, parameters and body source (a large body's
  /// storage is freed rather than kept for the next request).
  void recycle() noexcept;
  void setParams(std::vector<std::pair<std::string, std::string>> params) {
    params_ = std::move(params);
  }
  /// A body already at hand (unit tests; a Request without a BodySource).
  void setBody(std::string body) {
    body_ = std::move(body);
    bodyTaken_ = false;
  }
  void setBodySource(BodySource* source, std::optional<std::uint64_t> contentLength,
                     std::uint64_t maxBodySize) noexcept {
    source_ = source;
    contentLength_ = contentLength;
    maxBodySize_ = maxBodySize;
  }

 private:
  RequestHead head_;
  std::string path_;
  std::string query_;
  std::string remoteAddress_;
  std::string body_;
  bool bodyTaken_ = false;
  BodySource* source_ = nullptr;
  std::optional<std::uint64_t> contentLength_;
  std::uint64_t maxBodySize_ = std::uint64_t{128} * 1024;
  std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace aerie::http
