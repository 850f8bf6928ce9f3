// A client connection's limits and timings: the server's (websocket::Options), with
// client defaults where a client's needs differ. Documented in docs/options.md.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace aerie::client {

struct Options {
  // A user-declared constructor on purpose: GCC 12 miscompiles *aggregate* temporaries with
  // string members inside a co_await expression (`co_await connect(url, Options{})` freed a
  // bitwise copy). As a non-aggregate the same code is correct.
  Options() noexcept {}  // NOLINT(modernize-use-equals-default)

  /// Largest frame payload accepted from the server; larger closes with 1009.
  std::uint64_t maxFrameSize = 16 * 1024 * 1024;
  /// Largest message accepted (all its frames); larger closes with 1009. 0 = unlimited,
  /// for streaming very large messages with Message::read().
  std::uint64_t maxMessageSize = 16 * 1024 * 1024;
  /// Validate text messages and close reasons as UTF-8 (1007 on failure).
  bool validateUtf8 = true;
  /// Refuse binary messages from the server with 1003.
  bool textOnly = false;
  /// Outgoing messages are split into frames of at most this many payload bytes (0 = never).
  std::size_t autoFrameSize = 64 * 1024 - 14;
  /// Ping the server when nothing was read from it for this long (zero = never).
  std::chrono::milliseconds heartbeatPeriod{10'000};
  /// More unanswered pings than this close the connection with 1008.
  std::uint32_t queuedPingLimit = 3;
  /// How long a close handshake may take before the TCP connection is dropped.
  std::chrono::milliseconds closePeriod{3'000};
  /// send() suspends while more than this many bytes wait to be written...
  std::size_t highWaterMark = 1024 * 1024;
  /// ...and resumes once fewer than this many do.
  std::size_t lowWaterMark = 256 * 1024;
  /// Reading from the server pauses while this many received bytes wait for the
  /// application: messages receive() has not taken yet, or the unread part of a message
  /// being streamed with read(). 0 = never pause (maxMessageSize still bounds a message).
  std::size_t receiveWindow = 1024 * 1024;
  /// Offer permessage-deflate (RFC 7692), as browsers do. The server decides whether it is
  /// used; turn it off for incompressible traffic (already compressed or encrypted data).
  bool perMessageDeflate = true;
  /// Ask for no context takeover both ways. Our compressor is then the thread's shared one
  /// (no per-connection deflate state, ~260 KiB saved per connection) and the inflater is
  /// freed after 5 s without traffic; messages compress less (no history between them).
  /// Off: each connection keeps its own compressor, which remembers earlier messages.
  bool deflateNoContextTakeover = false;
  /// The window our compressor uses (9..15; 8 is offered as 9, as zlib cannot do 8).
  /// Memory of a per-connection compressor: 2^(bits+2) + 2^(memLevel+9) bytes.
  int deflateWindowBits = 15;
  /// zlib's memLevel for a per-connection compressor (1..9): less memory, less speed.
  int deflateMemLevel = 8;
  /// Messages shorter than this are sent uncompressed.
  std::size_t compressionThreshold = 64;
};

}  // namespace aerie::client
