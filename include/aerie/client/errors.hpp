// What a failed connect() or a closed client Connection throws. Every error says what
// happened in its what(); the types let a caller react to each case.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "aerie/http/headers.hpp"

namespace aerie::client {

/// Base of every client error.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The URL or an option cannot be used (bad scheme, fragment, malformed proxy, wss://
/// before TLS is built...). Nothing was sent.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// The host name could not be resolved.
class DnsError : public Error {
 public:
  using Error::Error;
};

/// No TCP connection: refused, unreachable, or every resolved address failed.
class ConnectError : public Error {
 public:
  using Error::Error;
};

/// The TLS handshake failed: what() says why, e.g. "certificate verification failed:
/// certificate has expired", "... unable to get local issuer certificate" (unknown CA),
/// "... hostname mismatch", or the server's alert.
class TlsError : public Error {
 public:
  using Error::Error;
};

/// The connect or handshake timeout ran out.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

/// The HTTP proxy refused the CONNECT tunnel (status() is its answer, 0 if it sent none).
class ProxyError : public Error {
 public:
  ProxyError(const std::string& what, int status) : Error(what), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

/// The server answered the upgrade request with something other than a valid 101: a
/// denial (status(), headers() and body() hold its response), a wrong Sec-WebSocket-Accept,
/// or a subprotocol or extension we did not offer.
class HandshakeError : public Error {
 public:
  HandshakeError(const std::string& what, int status, http::Headers headers, std::string body)
      : Error(what), status_(status), headers_(std::move(headers)), body_(std::move(body)) {}
  int status() const noexcept { return status_; }
  const http::Headers& headers() const noexcept { return headers_; }
  const std::string& body() const noexcept { return body_; }

 private:
  int status_;
  http::Headers headers_;
  std::string body_;
};

/// send() on a connection that is closing or closed.
class ConnectionClosed : public Error {
 public:
  ConnectionClosed(const std::string& what, std::uint16_t code) : Error(what), code_(code) {}
  std::uint16_t closeCode() const noexcept { return code_; }

 private:
  std::uint16_t code_;
};

}  // namespace aerie::client
