// A response as responders build it (seed: Aerys\Response).
//
// A responder "starts" the response by calling send() or by setting a status (as the
// websocket responder does with 101 or a handshake denial); the first responder of a
// Host that starts the response wins and later ones are skipped (seed 002's note).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "aerie/core/task.hpp"
#include "aerie/http/headers.hpp"

namespace aerie::http {

/// Takes over a connection after a 101 response (the websocket responder installs one).
class Upgrade {
 public:
  virtual ~Upgrade() = default;
};

class Response;

/// An open file descriptor that response bodies are sent from; closed when the last
/// reference goes (root() keeps a few per thread, and every response being sent holds one).
class OpenFile {
 public:
  /// Takes ownership of `fd` (a regular file opened for reading).
  explicit OpenFile(int fd) noexcept : fd_(fd) {}
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

/// A body taken from a file: `length` bytes of `file` from `offset`.
struct FileBody {
  std::shared_ptr<const OpenFile> file;  // null: the body is body()
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

/// Where a streamed body goes: the server's HTTP session (without one, in unit tests, the
/// chunks are collected in body()).
class BodySink {
 public:
  virtual ~BodySink() = default;
  /// Sends the head (first call) and `chunk`; `last` ends the body. Completes once the
  /// bytes are queued and the connection's backlog is below its limit (backpressure).
  /// Throws std::runtime_error when the client is gone.
  virtual Task<> writeBody(Response& response, std::string chunk, bool last) = 0;
};

class Response {
 public:
  int status() const noexcept { return status_; }
  void setStatus(int status) noexcept {
    status_ = status;
    started_ = true;
  }
  Headers& headers() noexcept { return headers_; }
  const Headers& headers() const noexcept { return headers_; }
  void setHeader(std::string_view name, std::string_view value) { headers_.set(name, value); }
  void addHeader(std::string_view name, std::string_view value) { headers_.add(name, value); }
  /// Set-Cookie with attributes, e.g. setCookie("sid", "abc", "Path=/; HttpOnly").
  void setCookie(std::string_view name, std::string_view value, std::string_view attributes = {});

  /// Sends the whole response with this body (Content-Length is set).
  // send() and sendFile() never wait (the server writes the response when the responder
  // returns): they hand back a finished Task instead of running a coroutine frame each.
  Task<> send(std::string body) {
    body_ = std::move(body);
    started_ = true;
    return Task<>::ready();
  }

  /// Sends the whole response with `length` bytes of `file` from `offset` as its body
  /// (Content-Length is set). The server sends them from the descriptor: sendfile(2) on
  /// plain TCP, pieces of 64 KiB through TLS, in both cases only as fast as the client
  /// reads; the bytes are never all in memory. The file must not shrink meanwhile: if it
  /// does, the connection is closed where the file ended (the length was promised). Such a
  /// body is not compressed on the fly (ServerOptions::compressResponses). body() stays empty.
  Task<> sendFile(std::shared_ptr<const OpenFile> file, std::uint64_t offset,
                  std::uint64_t length) {
    fileBody_ = FileBody{std::move(file), offset, length};
    started_ = true;
    return Task<>::ready();
  }
  /// The body set by sendFile() (its `file` is null otherwise).
  const FileBody& fileBody() const noexcept { return fileBody_; }

  /// Streams the body: the head goes out with the first write(), each chunk as it is
  /// written (chunked transfer encoding unless a Content-Length header was set; an HTTP/1.0
  /// client gets the body delimited by closing the connection). The task suspends while
  /// the client is slow (more than 1 MiB waiting) and throws std::runtime_error if it left.
  /// Headers and status cannot change after the first write().
  Task<> write(std::string chunk);
  /// Ends a streamed body (optionally with a last chunk). A responder that returns without
  /// it ends the body implicitly.
  Task<> end(std::string lastChunk = {});
  bool streaming() const noexcept { return streaming_; }
  bool ended() const noexcept { return ended_; }
  void setBodySink(BodySink* sink) noexcept { sink_ = sink; }

  /// True once a responder started this response.
  bool started() const noexcept { return started_; }
  const std::string& body() const noexcept { return body_; }
  std::string& body() noexcept { return body_; }

  /// The server answers 503 and closes if the response is not ready by then (the
  /// websocket responder bounds onHandshake with it). Default: no deadline.
  void setDeadline(std::chrono::steady_clock::time_point deadline) noexcept {
    deadline_ = deadline;
  }
  std::chrono::steady_clock::time_point deadline() const noexcept { return deadline_; }

  void setUpgrade(std::shared_ptr<Upgrade> upgrade) { upgrade_ = std::move(upgrade); }

  /// Server internals: back to a fresh response for the next request on the connection,
  /// keeping the storage of the headers and of a small body.
  void reset() noexcept;
  const std::shared_ptr<Upgrade>& upgrade() const noexcept { return upgrade_; }

 private:
  int status_ = 200;
  bool started_ = false;
  Headers headers_;
  std::string body_;
  FileBody fileBody_;
  std::shared_ptr<Upgrade> upgrade_;
  std::chrono::steady_clock::time_point deadline_{};
  BodySink* sink_ = nullptr;
  bool streaming_ = false;
  bool ended_ = false;
};

}  // namespace aerie::http
