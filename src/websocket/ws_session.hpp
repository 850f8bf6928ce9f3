// A WebSocket connection on the server: the protocol parser's sink, the close handshake,
// heartbeats, rate limits and backpressure for one client.
#pragma once

#include <any>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/protocol/deflate_codec.hpp"
#include "aerie/protocol/parser.hpp"
#include "aerie/protocol/permessage_deflate.hpp"
#include "aerie/websocket/client_id.hpp"
#include "aerie/websocket/message.hpp"
#include "server/connection.hpp"
#include "server/millis_stamp.hpp"
#include "websocket/client_stats.hpp"
#include "websocket/fan_out_wait.hpp"

namespace aerie::detail {

class WebsocketApp;
class WsSession;

/// The parser's sink: forwards to the session (which is incomplete where the parser member
/// is declared, so it cannot be the sink type itself).
struct WsParserSink {
  WsSession* session;
  void onMessageBegin(protocol::Opcode opcode, bool compressed);
  void onMessageData(std::span<const char> chunk, bool fin);
  void onPing(std::span<const char> payload);
  void onPong(std::span<const char> payload);
  void onClose(std::uint16_t code, std::string_view reason);
};

class WsSession final : public Session, public ws::detail::MessageFlow {
 public:
  WsSession(Connection& connection, std::shared_ptr<WebsocketApp> app, ClientId id,
            ClientStats& stats, std::optional<protocol::DeflateParameters> deflate = std::nullopt);
  ~WsSession() override;

  ClientId id() const noexcept { return id_; }
  Connection& connection() noexcept { return connection_; }

  /// Called once onOpen's task finished: messages are handed over from now on.
  void opened();
  /// Bytes that arrived with the handshake (before onOpen finished), parsed once opened.
  void setPending(std::string bytes) {
    if (!bytes.empty()) cold().pending = std::move(bytes);
  }

  // Endpoint operations (on this session's thread).
  void sendMessage(protocol::Opcode opcode, std::string_view payload);
  /// Negotiated shared-mode compression that accepts frames compressed (once, for many
  /// recipients) by MessageDeflater::sharedForThisThread(windowBits).
  bool takesSharedFrames(int windowBits) const noexcept;
  /// Frames serialised once for many recipients.
  void sendPrepared(std::string_view frames, std::uint32_t frameCount);
  /// One fragment of a streamed message (Endpoint::stream()).
  void sendFragment(std::uint64_t stream, bool binary, bool first, bool fin,
                    std::string_view chunk);
  void close(std::uint16_t code, std::string_view reason);
  bool saturated() const noexcept;
  void addDrainWaiter(std::coroutine_handle<> waiter) { cold().drainWaiters.push_back(waiter); }
  /// A broadcast waiting for this (saturated) client to drain or leave.
  void addFanOutWaiter(std::shared_ptr<ws::detail::FanOutWait> wait) {
    cold().fanOutWaiters.push_back(std::move(wait));
  }

  // Session
  void onBytes(char* data, std::size_t size) override;
  void onEof() override;
  void onBelowLowWater() override;
  void onTick(std::chrono::steady_clock::time_point now) override;
  void onClosed() override;
  void shutdownGracefully() override;

  // MessageFlow: a streaming onData took data.
  void messageConsumed() noexcept override;

  // Parser sink
  void onMessageBegin(protocol::Opcode opcode, bool compressed);
  void onMessageData(std::span<const char> chunk, bool fin);
  void onPing(std::span<const char> payload);
  void onPong(std::span<const char> payload);
  void onClose(std::uint16_t code, std::string_view reason);

 private:
  void parse(char* data, std::size_t size);
  /// The parser's part of parse() (also for bytes a rate limit held back in cold().pending).
  void parseFrames(char* data, std::size_t size);
  void sendControl(protocol::Opcode opcode, std::span<const char> payload);
  void sendClose(std::uint16_t code, std::string_view reason);
  void finishClose();
  void countSent(std::size_t bytes, std::uint32_t frames, bool data);
  /// Queues frames for the client now (the stream rules allow it).
  void writeFrames(std::string_view frames, std::uint32_t frameCount, bool message);
  /// A stream ended: sends what waited for it, in order, up to the next unfinished stream.
  void drainDeferred();
  void checkBackpressure();
  void checkRateLimits();
  void releaseFanOutWaiters() noexcept;
  /// The compressor for a message of `size` bytes, if it should be compressed.
  protocol::PayloadCompressor* compressorFor(std::size_t size);
  /// The compressor of a streamed message (nullptr: the stream goes plain). `first` decides.
  protocol::MessageDeflater* streamDeflater(std::uint64_t stream, bool first);
  /// A streamed message holds the dedicated (context takeover) compressor.
  bool dedicatedDeflaterStreaming() const noexcept;
  void endStreamDeflater(std::uint64_t stream);
  /// The parser, made now if the client had none (see parser_).
  protocol::Parser<WsParserSink>& parser();
  /// Opening, rate-limited or a streaming reader behind: no reading from the client.
  bool readingBlocked() const noexcept;
  void resumeReadingIfAllowed();
  /// The current message is complete or failed: no more flow control for it.
  void detachMessage() noexcept;

  Connection& connection_;
  std::shared_ptr<WebsocketApp> app_;
  ClientId id_;
  // In the app's registry, which keeps it until onClose finished; onClosed() points it at
  // a scratch copy before it reports the close.
  ClientStats* stats_;
  WsParserSink sink_{this};
  // Made at the first read and dropped once the client has been quiet for a second with no
  // frame in progress (tick()): an idle client holds no parser (176 bytes; issue 10).
  std::unique_ptr<protocol::Parser<WsParserSink>> parser_;
  // permessage-deflate, when negotiated (what is used of its parameters after the
  // constructor is among the flags below).
  std::unique_ptr<protocol::MessageInflater> inflater_;
  std::unique_ptr<protocol::MessageDeflater> deflater_;  // dedicated mode only
  std::shared_ptr<ws::detail::MessageState> message_;    // in progress

  // Streamed messages: while one is unfinished, everything else for this client waits
  // here (frames of two messages must not interleave).
  struct Deferred {
    std::uint64_t stream = 0;  // 0: a whole message
    std::string frames;
    std::uint32_t frameCount = 0;
    bool fin = true;
  };
  // Compressed streams: the dedicated compressor (context takeover) or one of their own.
  struct StreamDeflater {
    std::uint64_t stream = 0;
    protocol::MessageDeflater* deflater = nullptr;
    std::unique_ptr<protocol::MessageDeflater> owned;
  };

  // What most clients never need, allocated the first time one does: the bytes that arrived
  // while onOpen ran or beyond a rate limit, waiters for backpressure, streams and what
  // waits behind them, the close reason. An idle client holds one pointer instead (issue
  // 10: memory per idle connection).
  struct Cold {
    std::string pending;
    std::vector<std::coroutine_handle<>> drainWaiters;
    std::vector<std::shared_ptr<ws::detail::FanOutWait>> fanOutWaiters;
    std::vector<StreamDeflater> streamDeflaters;
    std::vector<Deferred> deferred;
    std::uint64_t activeStream = 0;  // the unfinished streamed message, 0: none
    std::size_t deferredHead = 0;    // deferred[0, head) were sent
    std::size_t deferredBytes = 0;
    std::string closeReason;
  };
  Cold& cold() {
    if (!cold_) cold_ = std::make_unique<Cold>();
    return *cold_;
  }
  bool hasPending() const noexcept { return cold_ && !cold_->pending.empty(); }
  std::size_t deferredBytes() const noexcept { return cold_ ? cold_->deferredBytes : 0; }
  std::uint64_t activeStream() const noexcept { return cold_ ? cold_->activeStream : 0; }
  void setActiveStream(std::uint64_t stream) {
    if (stream != 0 || cold_) cold().activeStream = stream;
  }
  std::unique_ptr<Cold> cold_;

  bool opening_ = true;
  bool closeSent_ = false;
  bool closeReceived_ = false;
  bool finished_ = false;
  bool rateLimited_ = false;
  bool streamPaused_ = false;  // a streaming reader has streamWindow bytes waiting
  bool peerFinished_ = false;  // the client sent FIN/RST while reading was paused
  bool messageDispatched_ = false;
  // (The flags above fill 8 bytes; the code and the ping count share the next 8.)
  std::uint16_t closeCode_ = protocol::close_code::Abnormal;
  protocol::CompactDeflateParameters deflate_;  // what was agreed, if anything
  std::uint32_t unansweredPings_ = 0;

  // The timers' last moments, 32 bits each (millis_stamp.hpp).
  MillisStamp lastRead_;
  MillisStamp lastActivity_;
  MillisStamp lastData_;  // a data message either way: idleTimeout
  MillisStamp lastPing_;
  MillisStamp windowSecond_;
  MillisStamp windowMinute_;
  std::uint64_t framesThisSecond_ = 0;
  std::uint64_t bytesThisMinute_ = 0;
  std::uint64_t framesCounted_ = 0;  // parser_.framesParsed() already counted
};

}  // namespace aerie::detail
