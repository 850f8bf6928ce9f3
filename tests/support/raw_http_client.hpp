// A blocking raw-socket HTTP/1.1 client for tests that need to see the bytes: pipelining,
// exact heads, connection reuse and closing. Reads Content-Length and chunked bodies.
#pragma once

#include <cstdint>
#include <string>

namespace aerie::test {

struct RawHttpResponse {
  int status = 0;    // 0: the connection ended before a whole response
  std::string head;  // status line and fields, each ending in CRLF
  std::string body;
  /// Whether the head holds exactly this line ("Name: value").
  bool has(const std::string& headerLine) const {
    return head.find(headerLine + "\r\n") != std::string::npos;
  }
  /// How many fields called `name` (as written, case-sensitive) the head holds.
  int count(const std::string& name) const;
};

class RawHttpClient {
 public:
  /// Connects to 127.0.0.1:port (receive timeout 20 s).
  explicit RawHttpClient(std::uint16_t port);
  ~RawHttpClient();
  RawHttpClient(const RawHttpClient&) = delete;
  RawHttpClient& operator=(const RawHttpClient&) = delete;
  int fd() const { return fd_; }

  void send(const std::string& bytes);
  /// One response (Content-Length or chunked body; 1xx: head only); status 0 on EOF.
  /// A response to HEAD has no body: pass `head` true for it.
  RawHttpResponse read(bool head = false);
  /// True if the server closed the connection (EOF) with nothing more to read.
  bool closedByServer();

 private:
  bool fill();

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace aerie::test
