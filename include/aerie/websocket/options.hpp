// Per-websocket limits and timings. Defaults follow Aerys, except where its successor
// amphp/websocket-server fixed them (UTF-8 validation on, as RFC 6455 requires).
// Every option is documented with its default in docs/options.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace aerie::ws {

struct Options {
  /// Largest frame payload accepted; larger frames close with 1009.
  std::uint64_t maxFrameSize = 2 * 1024 * 1024;
  /// Largest message accepted (all its frames); larger close with 1009.
  std::uint64_t maxMessageSize = 2 * 1024 * 1024;
  /// Reading from a client pauses once it sent this many bytes within a minute (0 = no limit).
  std::uint64_t maxBytesPerMinute = 8 * 1024 * 1024;
  /// Reading from a client pauses once it sent this many frames within a second (0 = no limit).
  std::uint32_t maxFramesPerSecond = 100;
  /// Outgoing messages are split into frames of at most this many payload bytes (0 = never).
  std::size_t autoFrameSize = 64 * 1024 - 9;
  /// The server pings a client that sent nothing for this long (zero = no heartbeat).
  std::chrono::milliseconds heartbeatPeriod{10'000};
  /// More unanswered pings than this close the client with 1008.
  std::uint32_t queuedPingLimit = 3;
  /// How long a close handshake may take before the TCP connection is dropped.
  std::chrono::milliseconds closePeriod{3'000};
  /// Validate text messages and close reasons as UTF-8 (1007 on failure).
  bool validateUtf8 = true;
  /// Refuse binary messages with 1003.
  bool textOnly = false;
  /// onHandshake must decide within this time, else the client gets 503 and is closed.
  /// (The request itself must arrive within ServerOptions::headerTimeout.)
  std::chrono::milliseconds handshakeTimeout{10'000};
  /// Close (1001) a client that neither sent nor received anything for this long (zero = never).
  std::chrono::milliseconds idleTimeout{0};
  /// send() suspends while more than this many bytes wait to be written to the client...
  std::size_t highWaterMark = 1024 * 1024;
  /// ...and resumes once fewer than this many do.
  std::size_t lowWaterMark = 256 * 1024;
  /// A client with more than this many bytes waiting is a slow consumer: closed with 1008.
  std::size_t maxBackpressure = 16 * 1024 * 1024;
  /// While a handler streams a message with read(), reading from the client pauses once
  /// this many received bytes wait for it, and resumes when read() takes them (0 = never:
  /// only maxMessageSize bounds what waits). buffer() needs the whole message: no pause.
  std::size_t streamWindow = 1024 * 1024;
  /// Accept permessage-deflate (RFC 7692) when the client offers it (every browser does).
  /// See docs/options.md for the memory cost of each mode.
  bool perMessageDeflate = true;
  /// Shared mode (true): both directions without context takeover, so no zlib state is kept
  /// per connection between messages (the server answers server_no_context_takeover and
  /// client_no_context_takeover). Dedicated mode (false): the server keeps its compression
  /// context per connection (better ratio, ~deflateWindowBits-sized memory per client).
  bool deflateNoContextTakeover = true;
  /// The largest window the server compresses with (9..15; the client may ask for less).
  int deflateWindowBits = 15;
  /// zlib memLevel of dedicated compressors (1..9: memory vs speed).
  int deflateMemLevel = 8;
  /// Messages shorter than this are sent uncompressed.
  std::size_t compressionThreshold = 64;
};

}  // namespace aerie::ws
