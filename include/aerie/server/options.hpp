// Server-wide options (Aerys's Options). docs/options.md lists every default.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace aerie {

struct ServerOptions {
  /// Worker threads, each with its own event loop and SO_REUSEPORT listener (0 = cores).
  unsigned workers = 0;
  /// Open connections at most (HTTP and WebSocket); more are refused with 503.
  std::size_t maxConnections = 1000;
  /// Open connections per client address (IPv4 /32, IPv6 /56); more get 503.
  std::size_t connectionsPerIp = 30;
  /// listen() backlog.
  int socketBacklog = 1024;
  /// How long a graceful stop waits for clients to close before dropping them.
  std::chrono::milliseconds shutdownTimeout{3'000};
  /// Largest request head (request line + headers): 431 beyond.
  std::size_t maxHeaderSize = 32 * 1024;
  /// Largest request body: 413 beyond.
  std::size_t maxBodySize = 128 * 1024;
  /// Request line limit: 414 beyond.
  std::size_t maxRequestLineSize = 8 * 1024;
  /// Keep-alive connections idle for this long are closed.
  std::chrono::milliseconds keepAliveTimeout{15'000};
  /// A request head must arrive within this time (slowloris): 408 then close.
  std::chrono::milliseconds headerTimeout{10'000};
  /// Requests served on one connection before it is closed (0 = unlimited).
  std::size_t maxRequestsPerConnection = 1000;
  /// gzip (or deflate) Content-Encoding for responses of compressible types (text/*, JSON,
  /// JavaScript, XML, SVG) when the client's Accept-Encoding allows, whole and streamed
  /// bodies alike; Vary: Accept-Encoding is added to those types' responses.
  bool compressResponses = true;
  /// Whole bodies shorter than this are sent as they are (860 B: below, a gzip header and
  /// the CPU cost outweigh the saving).
  std::size_t compressionMinimumLength = 860;
  /// Methods the server accepts; any other is answered 501 before a responder runs (TRACE
  /// and CONNECT are left out on purpose: cross-site tracing, proxying).
  std::vector<std::string> allowedMethods{"GET",    "HEAD",  "POST",   "PUT",
                                          "DELETE", "PATCH", "OPTIONS"};
  /// Content-Type of a body whose responder set none.
  std::string defaultContentType = "text/html; charset=utf-8";
  /// The Server header's value; empty: no Server header.
  const char* serverToken = "aerie";
  /// run() stops the server gracefully on SIGINT/SIGTERM. start() blocks both signals in
  /// the calling thread and the workers until run() takes them, so one that arrives in
  /// between is not lost; after run() returns they stay blocked in its thread, so a
  /// repeated signal cannot kill the process during its exit. Set false when embedding
  /// with start()/stop() and your own signal handling.
  bool handleSignals = true;
};

}  // namespace aerie
