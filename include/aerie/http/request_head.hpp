// The parsed head of an HTTP/1.x request: request line and header fields.
#pragma once

#include <string>

#include "aerie/http/headers.hpp"

namespace aerie::http {

struct RequestHead {
  std::string method;  // case-sensitive token as received ("GET")
  std::string target;  // request-target as received, still percent-encoded (see url.hpp)
  int versionMajor = 1;
  int versionMinor = 1;
  Headers headers;

  /// Whether the connection persists after this request (RFC 9112 9.3): HTTP/1.1 unless
  /// a Connection "close" token is present; HTTP/1.0 only with a "keep-alive" token (and
  /// no "close").
  bool keepAlive() const noexcept;

  /// Empties the head, keeping the storage for the next request.
  void clear() noexcept;
};

}  // namespace aerie::http
