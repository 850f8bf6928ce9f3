#include "websocket/ws_session.hpp"

#include <algorithm>

#include "aerie/protocol/close_code.hpp"
#include "aerie/protocol/frame_writer.hpp"
#include "core/log.hpp"
#include "protocol/parser_options.hpp"
#include "server/worker.hpp"
#include "websocket/app.hpp"
#include "websocket/payload_pool.hpp"

namespace aerie::detail {

using protocol::Opcode;
namespace close_code = protocol::close_code;

namespace {
/// The bytes a client left waiting before the message just queued. The backpressure limit
/// judges this backlog, not the new message: that one was not even offered to the kernel
/// yet (flushing waits for the end of the loop turn), so counting it would close a client
/// reading at full speed as soon as one message is larger than maxBackpressure.
std::size_t backlogBefore(const Connection& connection, std::size_t justQueued) noexcept {
  return connection.buffered() - justQueued;
}

}  // namespace

void WsParserSink::onMessageBegin(Opcode opcode, bool compressed) {
  session->onMessageBegin(opcode, compressed);
}
void WsParserSink::onMessageData(std::span<const char> chunk, bool fin) {
  session->onMessageData(chunk, fin);
}
void WsParserSink::onPing(std::span<const char> payload) {
  session->onPing(payload);
}
void WsParserSink::onPong(std::span<const char> payload) {
  session->onPong(payload);
}
void WsParserSink::onClose(std::uint16_t code, std::string_view reason) {
  session->onClose(code, reason);
}

WsSession::WsSession(Connection& connection, std::shared_ptr<WebsocketApp> app, ClientId id,
                     ClientStats& stats, std::optional<protocol::DeflateParameters> deflate)
    : connection_(connection), app_(std::move(app)), id_(id), stats_(&stats) {
  if (deflate) {
    deflate_ = protocol::CompactDeflateParameters(*deflate);
    inflater_ = std::make_unique<protocol::MessageInflater>(deflate->clientMaxWindowBits,
                                                            deflate->clientNoContextTakeover);
    if (!deflate->serverNoContextTakeover) {
      deflater_ = std::make_unique<protocol::MessageDeflater>(
          deflate->serverMaxWindowBits, false, app_->options().deflateMemLevel, 6, 0);
    } else {
      app_->sharedDeflateClient(true);
    }
  }
  const auto now = Worker::millisNow();
  lastRead_ = lastActivity_ = lastData_ = lastPing_ = windowSecond_ = windowMinute_ = now;
  connection_.setLowWaterMark(app_->options().lowWaterMark);
}

WsSession::~WsSession() {
  if (deflate_.negotiated && !deflater_) app_->sharedDeflateClient(false);
}

void WsSession::opened() {
  opening_ = false;
  if (finished_) return;
  if (hasPending()) {
    std::string pending = std::move(cold_->pending);
    cold_->pending.clear();
    parse(pending.data(), pending.size());
  }
  if (!connection_.closed()) {
    connection_.flush();
    // Also after a close sent while onOpen ran (Endpoint::close() or an exception from
    // onOpen): the client's close reply must be read, or the connection lingers for the
    // whole close period. The rate limit, if the pending bytes hit it, still holds.
    resumeReadingIfAllowed();
  }
}

void WsSession::onBytes(char* data, std::size_t size) {
  if (opening_) {
    // onOpen has not finished: keep the bytes (they are in the shared buffer) for later.
    cold().pending.append(data, size);
    connection_.pauseReading();
    return;
  }
  parse(data, size);
}

void WsSession::parse(char* data, std::size_t size) {
  const std::int64_t unixNow = Worker::unixNow();
  lastRead_ = Worker::millisNow();
  // Once our close frame is out, lastActivity_ is when it was sent: the close period
  // counts from there, and a client that keeps sending without answering the close must
  // not extend it forever.
  if (!closeSent_) lastActivity_ = lastRead_;
  ClientStats::add(stats_->bytesRead, size);
  stats_->lastReadAt.store(unixNow, std::memory_order_relaxed);
  bytesThisMinute_ += size;
  parseFrames(data, size);
}

protocol::Parser<WsParserSink>& WsSession::parser() {
  if (!parser_) {
    parser_ = std::make_unique<protocol::Parser<WsParserSink>>(
        sink_,
        protocol::parserOptionsFor(app_->options(), protocol::Role::Server, deflate_.negotiated));
    parser_->setTransform(inflater_.get());
    framesCounted_ = 0;
  }
  return *parser_;
}

void WsSession::parseFrames(char* data, std::size_t size) {
  // maxFramesPerSecond holds within one read too: many small frames read at once are
  // parsed up to the limit; the rest waits in cold().pending until the window moves on.
  const std::uint64_t maxFrames = app_->options().maxFramesPerSecond;
  const bool limited = maxFrames != 0 && !closeSent_ && !peerFinished_;
  const std::uint64_t budget =
      !limited ? UINT64_MAX : (framesThisSecond_ >= maxFrames ? 0 : maxFrames - framesThisSecond_);
  protocol::Parser<WsParserSink>& parser = this->parser();
  const protocol::ParseResult result = parser.consume(data, size, budget);
  const std::uint64_t frames = parser.framesParsed() - framesCounted_;
  framesCounted_ = parser.framesParsed();
  ClientStats::add(stats_->framesRead, frames);
  framesThisSecond_ += frames;
  if (!result.error && result.consumed < size && !parser.closed()) {
    cold().pending.append(data + result.consumed, size - result.consumed);
    if (!rateLimited_) log::debug("client {}: frame rate limit reached, reading paused", id_);
    rateLimited_ = true;
    connection_.pauseReading();
    return;
  }
  if (result.error) {
    log::warn("client {} ({}): {} -> closing with {}", id_, connection_.remoteAddress(),
              result.error.reason, result.error.closeCode);
    if (message_) {
      message_->failed = true;
      detachMessage();
      auto message = std::move(message_);
      message->wake();
    }
    sendClose(result.error.closeCode, result.error.reason);
    closeCode_ = result.error.closeCode;
    cold().closeReason = std::string(result.error.reason);
    finishClose();
    return;
  }
  checkRateLimits();
}

void WsSession::checkRateLimits() {
  // Closing: only the client's close frame matters now, and the close period bounds how
  // long we read; pausing would just hide that frame until the period runs out.
  if (closeSent_ || peerFinished_) return;
  const auto& options = app_->options();
  if ((options.maxFramesPerSecond != 0 && framesThisSecond_ > options.maxFramesPerSecond) ||
      (options.maxBytesPerMinute != 0 && bytesThisMinute_ > options.maxBytesPerMinute)) {
    if (!rateLimited_) {
      log::debug("client {}: rate limit reached, reading paused", id_);
    }
    rateLimited_ = true;
    connection_.pauseReading();
  }
}

void WsSession::onMessageBegin(Opcode opcode, bool /*compressed*/) {
  message_ = makeMessageState();  // from the frame pool: no malloc per message
  message_->binary = opcode == Opcode::Binary;
  message_->flow = this;
  messageDispatched_ = false;
  stats_->lastDataReadAt.store(Worker::unixNow(), std::memory_order_relaxed);
  lastData_ = Worker::millisNow();
}

void WsSession::onMessageData(std::span<const char> chunk, bool fin) {
  if (fin) {
    // The parser counts a frame after delivering its last chunk: count the message's
    // final frame now, so getInfo() inside onData already includes it.
    const std::uint64_t done = parser_->framesParsed() + 1;  // called by the parser
    ClientStats::add(stats_->framesRead, done - framesCounted_);
    framesThisSecond_ += done - framesCounted_;
    framesCounted_ = done;
  }
  if (!message_) return;
  if (message_->data.empty() && message_->data.capacity() < chunk.size()) {
    message_->data = takePayload(chunk.size());  // storage a sent payload left, if one fits
  }
  message_->data.append(chunk.data(), chunk.size());
  if (fin) {
    message_->complete = true;
    ClientStats::add(stats_->messagesRead, 1);
    detachMessage();
  }
  if (closeSent_) {  // after close() no onData (seed 002); the message is dropped
    if (fin) message_.reset();
    return;
  }
  if (!messageDispatched_) {
    messageDispatched_ = true;
    auto state = message_;
    if (fin) message_.reset();
    app_->dispatchData(id_, ws::Message(std::move(state)));
    return;
  }
  if (fin) {
    auto state = std::move(message_);
    state->wake();
    return;
  }
  message_->wake();
  // A streaming reader that falls behind sets the pace: stop reading from the client
  // (TCP pushes back) until read() takes what waits.
  const std::size_t window = app_->options().streamWindow;
  if (message_ && message_->streaming && window != 0 && message_->data.size() >= window &&
      !streamPaused_) {
    streamPaused_ = true;
    if (readingBlocked()) connection_.pauseReading();
  }
}

void WsSession::messageConsumed() noexcept {
  if (!streamPaused_) return;
  streamPaused_ = false;
  resumeReadingIfAllowed();
}

void WsSession::detachMessage() noexcept {
  if (message_) message_->flow = nullptr;
  if (streamPaused_) {
    streamPaused_ = false;
    if (!finished_) resumeReadingIfAllowed();
  }
}

bool WsSession::readingBlocked() const noexcept {
  if (opening_) return true;  // opened() resumes
  // Closing: only the client's close frame matters now, and the close period bounds how
  // long we read. A client that finished sending can add nothing: read what it left.
  if (closeSent_ || peerFinished_) return false;
  return rateLimited_ || streamPaused_;
}

void WsSession::resumeReadingIfAllowed() {
  if (readingBlocked() || connection_.closed()) return;
  if (hasPending()) {
    // What a rate limit held back goes first (it may hold part of it back again).
    std::string pending = std::move(cold_->pending);
    cold_->pending.clear();
    parseFrames(pending.data(), pending.size());
    if (readingBlocked() || connection_.closed() || finished_) return;
  }
  connection_.resumeReading();
}

void WsSession::onPing(std::span<const char> payload) {
  if (!closeSent_) sendControl(Opcode::Pong, payload);
}

void WsSession::onPong(std::span<const char> /*payload*/) {
  unansweredPings_ = 0;
}

void WsSession::onClose(std::uint16_t code, std::string_view reason) {
  closeReceived_ = true;
  if (!closeSent_) {
    // Echo the code (RFC 6455 5.5.1); an empty close is answered with an empty close.
    closeCode_ = code;
    cold().closeReason = std::string(reason);
    sendClose(code, {});
  } else if (closeCode_ == close_code::Abnormal) {
    closeCode_ = code;
    cold().closeReason = std::string(reason);
  }
  finishClose();
}

void WsSession::sendControl(Opcode opcode, std::span<const char> payload) {
  std::string& out = connection_.outputBuffer();
  const std::size_t before = out.size();
  protocol::appendFrame(out, opcode, payload, true, false, nullptr);
  connection_.commitWrite();
  countSent(out.size() - before, 1, false);
}

void WsSession::sendClose(std::uint16_t code, std::string_view reason) {
  if (closeSent_ || connection_.closed()) return;
  closeSent_ = true;
  std::string& out = connection_.outputBuffer();
  const std::size_t before = out.size();
  if (code == close_code::NoStatus) {
    protocol::appendFrame(out, Opcode::Close, {}, true, false, nullptr);
  } else {
    protocol::appendCloseFrame(out, code, reason, nullptr);
  }
  connection_.commitWrite();
  countSent(out.size() - before, 1, false);
}

void WsSession::finishClose() {
  // Our close frame is queued: send it, half-close, wait (bounded) for the peer's FIN.
  connection_.shutdownAfterDrain(Worker::steadyNow() + app_->options().closePeriod);
}

void WsSession::close(std::uint16_t code, std::string_view reason) {
  if (closeSent_ || finished_) return;
  closeCode_ = code;
  cold().closeReason = std::string(reason);
  sendClose(code, reason);
  if (closeReceived_) {
    finishClose();
    return;
  }
  // Wait for the client's close frame, at most closePeriod (the worker's tick drops it).
  connection_.flush();
  // Reading may be paused by a rate limit; the close reply must still get through (data
  // frames are dropped from now on, and the close period bounds the rest). While onOpen
  // runs, opened() resumes instead.
  resumeReadingIfAllowed();
}

void WsSession::sendMessage(Opcode opcode, std::string_view payload) {
  if (closeSent_ || finished_ || connection_.closed()) return;
  if (activeStream() != 0) {  // a streamed message is unfinished: this one follows it
    Deferred deferred;
    deferred.frameCount = static_cast<std::uint32_t>(protocol::appendMessage(
        deferred.frames, opcode, {payload.data(), payload.size()}, app_->options().autoFrameSize,
        nullptr, compressorFor(payload.size())));
    cold().deferredBytes += deferred.frames.size();
    cold_->deferred.push_back(std::move(deferred));
    return;
  }
  std::string& out = connection_.outputBuffer();
  const std::size_t before = out.size();
  const std::size_t frames = protocol::appendMessage(out, opcode, {payload.data(), payload.size()},
                                                     app_->options().autoFrameSize, nullptr,
                                                     compressorFor(payload.size()));
  connection_.commitWrite();
  countSent(out.size() - before, static_cast<std::uint32_t>(frames), true);
  if (backlogBefore(connection_, out.size() - before) > app_->options().maxBackpressure) {
    checkBackpressure();
  }
}

void WsSession::sendPrepared(std::string_view frames, std::uint32_t frameCount) {
  if (closeSent_ || finished_ || connection_.closed()) return;
  if (activeStream() != 0) {
    cold().deferredBytes += frames.size();
    cold_->deferred.push_back({0, std::string(frames), frameCount, true});
    return;
  }
  writeFrames(frames, frameCount, true);
}

void WsSession::writeFrames(std::string_view frames, std::uint32_t frameCount, bool message) {
  connection_.outputBuffer().append(frames);
  connection_.commitWrite();
  countSent(frames.size(), frameCount, message);
  if (backlogBefore(connection_, frames.size()) > app_->options().maxBackpressure) {
    checkBackpressure();
  }
}

void WsSession::sendFragment(std::uint64_t stream, bool binary, bool first, bool fin,
                             std::string_view chunk) {
  if (closeSent_ || finished_ || connection_.closed()) return;
  std::string frame;
  const Opcode opcode = !first ? Opcode::Continuation : binary ? Opcode::Binary : Opcode::Text;
  if (protocol::MessageDeflater* deflater = streamDeflater(stream, first)) {
    std::string compressed;
    if (!deflater->compressFragment({chunk.data(), chunk.size()}, fin, compressed)) {
      log::error("client {}: the stream's compressor failed -> closing with 1011", id_);
      close(close_code::InternalError, "Compression failed");
      return;
    }
    protocol::appendFrame(frame, opcode, {compressed.data(), compressed.size()}, fin, first,
                          nullptr);
    if (fin) endStreamDeflater(stream);
  } else {
    protocol::appendFrame(frame, opcode, {chunk.data(), chunk.size()}, fin, false, nullptr);
  }
  if (activeStream() == 0 && first) {
    if (!fin) setActiveStream(stream);
    writeFrames(frame, 1, fin);
    return;
  }
  if (activeStream() == stream) {
    writeFrames(frame, 1, fin);
    if (fin) {
      setActiveStream(0);
      drainDeferred();
    }
    return;
  }
  cold().deferredBytes += frame.size();
  cold_->deferred.push_back({stream, std::move(frame), 1, fin});
}

void WsSession::drainDeferred() {
  if (!cold_) return;
  Cold& cold = *cold_;
  while (cold.deferredHead < cold.deferred.size() && !closeSent_ && !connection_.closed()) {
    auto next = cold.deferred.begin() + static_cast<std::ptrdiff_t>(cold.deferredHead);
    if (activeStream() != 0) {
      // Only the unfinished stream's own fragments may go now; the rest keeps its order.
      next = std::find_if(next, cold.deferred.end(),
                          [this](const Deferred& d) { return d.stream == activeStream(); });
      if (next == cold.deferred.end()) break;
    }
    Deferred item = std::move(*next);
    if (next == cold.deferred.begin() + static_cast<std::ptrdiff_t>(cold.deferredHead)) {
      ++cold.deferredHead;
    } else {
      cold.deferred.erase(next);
    }
    cold.deferredBytes -= item.frames.size();
    if (item.stream != 0) setActiveStream(item.fin ? 0 : item.stream);
    writeFrames(item.frames, item.frameCount, item.fin);
  }
  if (cold.deferredHead == cold.deferred.size()) {
    cold.deferred.clear();  // keeps the capacity for the next stream; freed with the session
    cold.deferredHead = 0;
  }
}

void WsSession::countSent(std::size_t bytes, std::uint32_t frames, bool data) {
  const std::int64_t now = Worker::unixNow();
  const MillisStamp nowMs = Worker::millisNow();
  ClientStats::add(stats_->bytesSent, bytes);
  ClientStats::add(stats_->framesSent, frames);
  stats_->lastSentAt.store(now, std::memory_order_relaxed);
  if (data) {
    ClientStats::add(stats_->messagesSent, 1);
    stats_->lastDataSentAt.store(now, std::memory_order_relaxed);
    lastData_ = nowMs;
  }
  lastActivity_ = nowMs;
}

void WsSession::checkBackpressure() {
  const std::size_t limit = app_->options().maxBackpressure;
  if (limit == 0 || connection_.buffered() <= limit) return;
  // A slow consumer. No more data is queued for it (sendMessage/sendPrepared refuse once
  // closeSent_), so memory stays at the limit plus the message just queued. The 1008 close
  // frame goes behind the backlog: a client that is reading, only too slowly, still learns
  // why; one that does not read is dropped when the close period ends (onTick).
  log::warn("client {} ({}): {} bytes waiting exceed maxBackpressure -> closing with 1008", id_,
            connection_.remoteAddress(), connection_.buffered());
  close(close_code::PolicyViolation, "Slow consumer: send buffer limit exceeded");
}

bool WsSession::takesSharedFrames(int windowBits) const noexcept {
  return deflate_.negotiated && !deflater_ && deflate_.serverMaxWindowBits >= windowBits;
}

protocol::PayloadCompressor* WsSession::compressorFor(std::size_t size) {
  if (!deflate_.negotiated || size < app_->options().compressionThreshold) return nullptr;
  if (deflater_) {
    // A streamed message owns the dedicated compressor's history until it ends: a message
    // queued behind it goes plain (RSV1 is per message), which leaves that history alone.
    return activeStream() != 0 && dedicatedDeflaterStreaming() ? nullptr : deflater_.get();
  }
  return &protocol::MessageDeflater::sharedForThisThread(deflate_.serverMaxWindowBits);
}

bool WsSession::dedicatedDeflaterStreaming() const noexcept {
  if (!cold_) return false;
  return std::any_of(
      cold_->streamDeflaters.begin(), cold_->streamDeflaters.end(),
      [this](const StreamDeflater& entry) { return entry.deflater == deflater_.get(); });
}

protocol::MessageDeflater* WsSession::streamDeflater(std::uint64_t stream, bool first) {
  if (!first) {
    if (!cold_) return nullptr;
    for (StreamDeflater& entry : cold_->streamDeflaters) {
      if (entry.stream == stream) return entry.deflater;
    }
    return nullptr;  // a stream that started plain stays plain
  }
  if (!deflate_.negotiated) return nullptr;
  StreamDeflater entry{stream, nullptr, nullptr};
  if (deflater_) {
    // Context takeover: only the stream that goes out now may extend the shared history;
    // one that has to wait behind another is sent plain.
    if (activeStream() != 0 || !deflater_->canCompress()) return nullptr;
    entry.deflater = deflater_.get();
  } else {
    // Shared mode: a stream is compressed over several calls, so it cannot borrow the
    // thread's compressor; it gets its own until it ends (no context kept after that).
    entry.owned = std::make_unique<protocol::MessageDeflater>(
        deflate_.serverMaxWindowBits, true, app_->options().deflateMemLevel, 6, 0);
    if (!entry.owned->canCompress()) return nullptr;
    entry.deflater = entry.owned.get();
  }
  cold().streamDeflaters.push_back(std::move(entry));
  return cold_->streamDeflaters.back().deflater;
}

void WsSession::endStreamDeflater(std::uint64_t stream) {
  if (!cold_) return;
  auto& deflaters = cold_->streamDeflaters;
  for (auto it = deflaters.begin(); it != deflaters.end(); ++it) {
    if (it->stream != stream) continue;
    deflaters.erase(it);
    return;
  }
}

bool WsSession::saturated() const noexcept {
  return !finished_ && connection_.buffered() + deferredBytes() > app_->options().highWaterMark;
}

void WsSession::releaseFanOutWaiters() noexcept {
  if (!cold_) return;
  std::vector<std::shared_ptr<ws::detail::FanOutWait>> waits;
  waits.swap(cold_->fanOutWaiters);
  for (auto& wait : waits)
    wait->release();  // resumes are posted, never inline
}

void WsSession::onBelowLowWater() {
  if (!cold_) return;
  if (!cold_->fanOutWaiters.empty()) releaseFanOutWaiters();
  if (cold_->drainWaiters.empty()) return;
  std::vector<std::coroutine_handle<>> waiters;
  waiters.swap(cold_->drainWaiters);
  for (auto waiter : waiters)
    waiter.resume();
}

void WsSession::onEof() {
  if (!closeReceived_ && closeCode_ == close_code::Abnormal) {
    cold().closeReason = "Client closed the connection without a close frame";
  }
  connection_.close();
}

void WsSession::onTick(std::chrono::steady_clock::time_point tickTime) {
  if (finished_) return;
  const auto& options = app_->options();
  const auto now = MillisStamp::of(tickTime);
  if (now - windowSecond_ >= std::chrono::seconds(1)) {
    windowSecond_ = now;
    framesThisSecond_ = 0;
  }
  if (now - windowMinute_ >= std::chrono::minutes(1)) {
    windowMinute_ = now;
    bytesThisMinute_ = 0;
  }
  // (Frames held back in cold().pending wait until the window has room for one more.)
  const std::uint64_t framesAllowed =
      !hasPending() ? options.maxFramesPerSecond : options.maxFramesPerSecond - 1;
  if (rateLimited_ && (options.maxFramesPerSecond == 0 || framesThisSecond_ <= framesAllowed) &&
      (options.maxBytesPerMinute == 0 || bytesThisMinute_ <= options.maxBytesPerMinute)) {
    rateLimited_ = false;
    resumeReadingIfAllowed();
  }
  // Paused, the socket is not read, so a client that left would be noticed only when the
  // pause ends (up to a minute). Look for its FIN or reset instead: what it left unread is
  // bounded by the socket's receive buffer, and may hold its close frame.
  if ((rateLimited_ || streamPaused_) && !peerFinished_ && connection_.readingPaused() &&
      connection_.peerHungUp()) {
    log::debug("client {}: finished sending while reading was paused", id_);
    peerFinished_ = true;
    resumeReadingIfAllowed();
  }
  // No context kept between messages: an idle client needs no zlib state at all.
  if (inflater_ && deflate_.clientNoContextTakeover && inflater_->holdsState() &&
      (!parser_ || !parser_->inMessage()) && now - lastData_ >= std::chrono::seconds(5)) {
    inflater_->release();
  }
  // Nor a parser: a new one at its next read carries on from the frame boundary.
  if (parser_ && parser_->atRest() && now - lastRead_ >= std::chrono::seconds(1)) {
    parser_.reset();
  }
  if (closeSent_) {
    // Waiting for the client's close frame: bounded by closePeriod.
    if (connection_.closeDeadline() == std::chrono::steady_clock::time_point{} &&
        now - lastActivity_ >= options.closePeriod) {
      connection_.close();
    }
    return;
  }
  if (options.heartbeatPeriod.count() > 0 && now - lastRead_ >= options.heartbeatPeriod &&
      now - lastPing_ >= options.heartbeatPeriod) {
    if (unansweredPings_ >= options.queuedPingLimit) {
      log::warn("client {} ({}): {} pings unanswered -> closing with 1008", id_,
                connection_.remoteAddress(), unansweredPings_);
      close(close_code::PolicyViolation, "Exceeded unanswered PING limit");
      return;
    }
    ++unansweredPings_;
    lastPing_ = now;
    sendControl(Opcode::Ping, {});
  }
  // Idle = no data message either way (pings and pongs keep a connection alive, not busy).
  if (options.idleTimeout.count() > 0 && now - lastData_ >= options.idleTimeout) {
    log::info("client {} ({}): idle for {} ms -> closing with 1001", id_,
              connection_.remoteAddress(), options.idleTimeout.count());
    close(close_code::GoingAway, "Idle timeout");
  }
}

void WsSession::shutdownGracefully() {
  close(close_code::GoingAway, "Server shutting down");
}

void WsSession::onClosed() {
  if (finished_) return;
  finished_ = true;
  if (message_) {
    message_->failed = true;
    detachMessage();
    auto message = std::move(message_);
    message->wake();
  }
  releaseFanOutWaiters();
  // Waiters resume from the loop, not from inside the connection's teardown.
  if (cold_ && !cold_->drainWaiters.empty()) {
    connection_.worker().loop().post([waiters = std::move(cold_->drainWaiters)] {
      for (auto waiter : waiters)
        waiter.resume();
    });
    cold_->drainWaiters.clear();
  }
  // The registry frees the stats once onClose finished, which may be before this session
  // is gone (a flush at teardown still counts bytes): count into a scratch copy from now.
  static thread_local ClientStats afterClose;
  stats_ = &afterClose;
  app_->closed(id_, connection_.worker().index(), opening_, closeCode_,
               cold_ ? std::move(cold_->closeReason) : std::string());
}

}  // namespace aerie::detail
