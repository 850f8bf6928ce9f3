#include "client/client_session.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "aerie/client/errors.hpp"
#include "aerie/protocol/close_code.hpp"
#include "aerie/protocol/frame_writer.hpp"
#include "client/mask_keys.hpp"
#include "core/log.hpp"
#include "protocol/parser_options.hpp"

namespace aerie::client::detail {

using protocol::Opcode;
namespace close_code = protocol::close_code;
using Clock = std::chrono::steady_clock;

namespace {

// Timeouts are checked this often; the close period and heartbeats are seconds long.
constexpr std::chrono::milliseconds kTickInterval{250};
// How long an inflater with nothing to remember is kept for the next message.
constexpr std::chrono::seconds kInflaterIdle{5};

thread_local ClientSession* liveSessions = nullptr;

template <class Waiters>
void postResumes(net::Loop& loop, Waiters& waiters) {
  for (std::coroutine_handle<> waiter : waiters)
    loop.post([waiter] { waiter.resume(); });
  waiters.clear();
}

}  // namespace

void ClientParserSink::onMessageBegin(Opcode opcode, bool /*compressed*/) {
  session->onMessageBegin(opcode);
}
void ClientParserSink::onMessageData(std::span<const char> chunk, bool fin) {
  session->onMessageData(chunk, fin);
}
void ClientParserSink::onPing(std::span<const char> payload) {
  session->onPing(payload);
}
void ClientParserSink::onPong(std::span<const char> /*payload*/) {
  session->onPong();
}
void ClientParserSink::onClose(std::uint16_t code, std::string_view reason) {
  session->onClose(code, reason);
}

ClientSession::ClientSession(net::Loop& loop, asio::ip::tcp::socket socket, Options options,
                             std::string remoteAddress,
                             std::optional<protocol::DeflateParameters> deflate,
                             std::unique_ptr<net::TlsChannel> tls)
    : loop_(loop),
      socket_(std::move(socket)),
      transport_(socket_.native_handle(), std::move(tls)),
      options_(options),
      remoteAddress_(std::move(remoteAddress)),
      parser_(sink_,
              protocol::parserOptionsFor(options_, protocol::Role::Client, deflate.has_value())),
      tick_(loop.io()) {
  deflate_ = deflate;
  if (deflate) {
    inflater_ = std::make_unique<protocol::MessageInflater>(deflate->serverMaxWindowBits,
                                                            deflate->serverNoContextTakeover);
    parser_.setTransform(inflater_.get());
    if (!deflate->clientNoContextTakeover) {
      deflater_ = std::make_unique<protocol::MessageDeflater>(deflate->clientMaxWindowBits, false,
                                                              options_.deflateMemLevel, 6, 0);
    }
  }
  next_ = liveSessions;
  if (next_ != nullptr) next_->prev_ = this;
  liveSessions = this;
  lastRead_ = lastPing_ = Clock::now();
  stats_.connectedAt = unixNow();
  if (deflate) stats_.extensions = protocol::formatDeflateParameters(*deflate);
  std::error_code ignored;
  socket_.non_blocking(true, ignored);
}

ClientSession::~ClientSession() {
  if (prev_ != nullptr) prev_->next_ = next_;
  if (next_ != nullptr) next_->prev_ = prev_;
  if (liveSessions == this) liveSessions = next_;
  std::error_code ignored;
  socket_.close(ignored);
}

void ClientSession::terminateAllOnThisThread() noexcept {
  // terminate() does not unlink (the destructor does), so the walk stays valid; hold each
  // session while terminating it in case that drops its last reference.
  for (ClientSession* s = liveSessions; s != nullptr;) {
    ClientSession* next = s->next_;
    if (auto self = s->weak_from_this().lock()) self->terminate();
    s = next;
  }
}

std::int64_t ClientSession::unixNow() noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void ClientSession::start(std::string leftover) {
  armTick();
  if (!leftover.empty()) {
    inRead_ = true;
    parse(leftover.data(), leftover.size());
    inRead_ = false;
  }
  if (finished_) return;
  flush();
  if (!readPaused_ && !readArmed_ && !eofSeen_) scheduleRead();
}

// ---- reading --------------------------------------------------------------------------

void ClientSession::armRead() {
  readArmed_ = true;
  socket_.async_wait(
      asio::ip::tcp::socket::wait_read,
      [self = shared_from_this()](const std::error_code& error) { self->onReadable(error); });
}

void ClientSession::scheduleRead() {
  // The reactor is edge-triggered: bytes that arrived while reading was paused raise no
  // new event, so read right away (from the loop) instead of waiting for one.
  readArmed_ = true;
  loop_.post([self = shared_from_this()] { self->onReadable({}); });
}

void ClientSession::onReadable(const std::error_code& error) {
  readArmed_ = false;
  if (error || finished_) return;
  if (transport_.takeWriteWantsRead()) {
    flush();
    if (finished_) return;
  }
  inRead_ = true;
  const net::ReadEnd end = transport_.readAvailable(
      loop_.receiveBuffer(), [this] { return !finished_ && !readPaused_ && !eofSeen_; },
      [this](char* data, std::size_t size) {
        if (writeShut_ && closeReceived_) return;  // closing: only the FIN matters now
        parse(data, size);
      });
  bool drained = end == net::ReadEnd::Drained;
  switch (end) {
    case net::ReadEnd::Drained:
    case net::ReadEnd::MoreLeft:
      break;
    case net::ReadEnd::WantWrite:  // TLS must write before it reads on
      drained = true;
      if (!writeArmed_) armWrite();
      break;
    case net::ReadEnd::Eof:
      onEof(nullptr);
      break;
    case net::ReadEnd::Failed:
      onEof(transport_.errorText().c_str());
      break;
  }
  inRead_ = false;
  if (finished_) return;
  flush();  // corking: what this read produced (pongs, replies) leaves in one send()
  if (finished_ || readPaused_ || eofSeen_ || readArmed_ || transport_.readWantsWrite()) return;
  if (drained) {
    armRead();
  } else {
    scheduleRead();  // more may be waiting: carry on after the other ready connections
  }
}

void ClientSession::onEof(const char* error) {
  eofSeen_ = true;
  if (!closeReceived_ && !failed_) {
    // RFC 6455 7.1.5: no close frame was received, the close code is 1006.
    closeCode_ = close_code::Abnormal;
    closeReason_ = error != nullptr ? std::string("the connection failed: ") + error
                                    : "the server closed the connection without a close frame";
  }
  terminate();
}

void ClientSession::parse(char* data, std::size_t size) {
  lastRead_ = Clock::now();
  stats_.bytesRead += size;
  stats_.lastReadAt = unixNow();
  const protocol::ParseResult result = parser_.consume(data, size);
  stats_.framesRead += parser_.framesParsed() - framesCounted_;
  framesCounted_ = parser_.framesParsed();
  if (finished_) return;
  if (result.error) {
    log::debug("client connection to {}: {} -> closing with {}", remoteAddress_,
               result.error.reason, result.error.closeCode);
    failed_ = true;
    closeCode_ = result.error.closeCode;
    closeReason_ = std::string(result.error.reason);
    if (current_) {
      current_->failed = true;
      current_->flow = nullptr;
      auto message = std::move(current_);
      message->wake();
    }
    if (!closeSent_) {
      appendClose(result.error.closeCode, result.error.reason);
      closeSent_ = true;
      closeStarted_ = Clock::now();
    }
    shutdownAfterDrain();
    wakeReceiver();
    return;
  }
  updateReadPause();
}

void ClientSession::onMessageBegin(Opcode opcode) {
  if (finished_) return;
  auto message = std::make_shared<ws::detail::MessageState>();
  message->binary = opcode == Opcode::Binary;
  message->flow = this;
  current_ = message;
  queue_.push_back(std::move(message));
  stats_.lastDataReadAt = unixNow();
  wakeReceiver();
}

void ClientSession::onMessageData(std::span<const char> chunk, bool fin) {
  if (finished_ || !current_) return;
  std::shared_ptr<ws::detail::MessageState> message = current_;
  message->data.append(chunk.data(), chunk.size());
  if (message != handedOut_) queuedBytes_ += chunk.size();
  if (fin) {
    // The parser counts a frame after its last chunk was delivered; the application may
    // look at getInfo() before that (it runs from here), so count the final frame now.
    const std::uint64_t done = parser_.framesParsed() + 1;
    stats_.framesRead += done - framesCounted_;
    framesCounted_ = done;
    message->complete = true;
    message->flow = nullptr;
    ++stats_.messagesRead;
    current_.reset();
    if (handedOut_ == message) handedOut_.reset();
  }
  message->wake();
}

void ClientSession::onPing(std::span<const char> payload) {
  if (!closeSent_ && !finished_) appendControl(Opcode::Pong, payload);
}

void ClientSession::onPong() {
  unansweredPings_ = 0;
}

void ClientSession::onClose(std::uint16_t code, std::string_view reason) {
  closeReceived_ = true;
  // RFC 6455 7.1.5: the close code is the one in the first close frame received.
  closeCode_ = code;
  closeReason_ = std::string(reason);
  if (!closeSent_) {
    // Echo the code (5.5.1); an empty close is answered with an empty close.
    appendClose(code, {});
    closeSent_ = true;
    closeStarted_ = Clock::now();
  }
  if (current_) {
    current_->failed = true;
    current_->flow = nullptr;
    auto message = std::move(current_);
    message->wake();
  }
  // The server closes TCP first (7.1.1); half-closing once our close frame is out tells
  // it we are done. Its FIN, or the close period, ends the connection.
  shutdownAfterDrain();
  wakeReceiver();
}

// ---- receiving ------------------------------------------------------------------------

bool ClientSession::noMoreMessages() const noexcept {
  return finished_ || closeReceived_ || failed_;
}

std::shared_ptr<ws::detail::MessageState> ClientSession::takeMessage() {
  if (queue_.empty()) return nullptr;
  std::shared_ptr<ws::detail::MessageState> message = std::move(queue_.front());
  queue_.pop_front();
  queuedBytes_ -= message->data.size();
  if (!message->complete && !message->failed) handedOut_ = message;
  updateReadPause();
  return message;
}

void ClientSession::setReceiveWaiter(std::coroutine_handle<> waiter) {
  if (receiveWaiter_) {
    throw std::logic_error("Connection::receive(): another receive() is already waiting");
  }
  receiveWaiter_ = waiter;
}

void ClientSession::wakeReceiver() {
  if (receiveWaiter_) std::exchange(receiveWaiter_, {}).resume();
}

std::size_t ClientSession::waitingBytes() const noexcept {
  std::size_t bytes = queuedBytes_;
  if (handedOut_ && handedOut_->streaming) bytes += handedOut_->data.size();
  return bytes;
}

void ClientSession::messageConsumed() noexcept {
  updateReadPause();
}

void ClientSession::updateReadPause() {
  if (options_.receiveWindow == 0 || finished_) return;
  // While closing, the server's close frame must get through whatever waits.
  const bool over = !closeSent_ && waitingBytes() >= options_.receiveWindow;
  if (over) {
    readPaused_ = true;
  } else if (readPaused_) {
    readPaused_ = false;
    if (!readArmed_ && !eofSeen_ && !inRead_) scheduleRead();
  }
}

// ---- sending --------------------------------------------------------------------------

void ClientSession::checkOpen() const {
  if (finished_ || closeSent_) {
    throw ConnectionClosed(
        finished_ ? "the WebSocket connection is closed" : "the WebSocket connection is closing",
        closeCode_);
  }
}

void ClientSession::sendMessage(Opcode opcode, std::string_view payload) {
  checkOpen();
  if (streaming_) {
    throw std::logic_error("a streamed message is in progress: end() it before sending another");
  }
  if (opcode == Opcode::Text && !protocol::isValidUtf8(payload)) {
    throw std::invalid_argument("send(): the text is not valid UTF-8; nothing was sent");
  }
  const std::size_t before = transport_.output().size();
  const std::size_t frames = protocol::appendMessage(
      transport_.output(), opcode, {payload.data(), payload.size()}, options_.autoFrameSize,
      &CsprngMaskKeys::forThisThread(), compressorFor(payload.size()));
  countSent(transport_.output().size() - before, frames, true);
  queueFlush();
}

void ClientSession::sendFragment(bool binary, bool first, bool fin, std::string_view chunk) {
  checkOpen();
  if (first && streaming_) {
    throw std::logic_error("a streamed message is in progress: end() it before starting another");
  }
  if (!first && !streaming_) throw std::logic_error("the streamed message has ended");
  if (first) streamUtf8_.reset();
  if (!binary && (!streamUtf8_.feed(chunk) || (fin && !streamUtf8_.isComplete()))) {
    throw std::invalid_argument("stream(): the text is not valid UTF-8; the chunk was not sent");
  }
  if (first) streamDeflater_ = startStreamDeflater();
  std::string compressed;
  if (streamDeflater_ != nullptr &&
      !streamDeflater_->compressFragment({chunk.data(), chunk.size()}, fin, compressed)) {
    throw std::runtime_error("stream(): the compressor failed");
  }
  streaming_ = !fin;
  const Opcode opcode = !first ? Opcode::Continuation : binary ? Opcode::Binary : Opcode::Text;
  const protocol::MaskKey key = CsprngMaskKeys::forThisThread().next();
  const std::size_t before = transport_.output().size();
  if (streamDeflater_ != nullptr) {
    protocol::appendFrame(transport_.output(), opcode, {compressed.data(), compressed.size()}, fin,
                          first, &key);
  } else {
    protocol::appendFrame(transport_.output(), opcode, {chunk.data(), chunk.size()}, fin, false,
                          &key);
  }
  if (fin) {
    streamDeflater_ = nullptr;
    streamOwnDeflater_.reset();
  }
  countSent(transport_.output().size() - before, 1, fin);
  queueFlush();
}

protocol::PayloadCompressor* ClientSession::compressorFor(std::size_t size) {
  if (!deflate_ || size < options_.compressionThreshold) return nullptr;
  if (deflater_) return deflater_.get();
  return &protocol::MessageDeflater::sharedForThisThread(deflate_->clientMaxWindowBits);
}

protocol::MessageDeflater* ClientSession::startStreamDeflater() {
  if (!deflate_) return nullptr;
  if (deflater_) return deflater_->canCompress() ? deflater_.get() : nullptr;
  // Shared mode: the thread's compressor serves whole messages only, so a stream, which is
  // compressed over several calls, gets its own until it ends.
  streamOwnDeflater_ = std::make_unique<protocol::MessageDeflater>(
      deflate_->clientMaxWindowBits, true, options_.deflateMemLevel, 6, 0);
  if (!streamOwnDeflater_->canCompress()) {
    streamOwnDeflater_.reset();
    return nullptr;
  }
  return streamOwnDeflater_.get();
}

void ClientSession::ping(std::string_view payload) {
  checkOpen();
  if (payload.size() > 125) throw std::invalid_argument("ping(): payload over 125 bytes");
  appendControl(Opcode::Ping, {payload.data(), payload.size()});
}

void ClientSession::appendControl(Opcode opcode, std::span<const char> payload) {
  const protocol::MaskKey key = CsprngMaskKeys::forThisThread().next();
  const std::size_t before = transport_.output().size();
  protocol::appendFrame(transport_.output(), opcode, payload, true, false, &key);
  countSent(transport_.output().size() - before, 1, false);
  queueFlush();
}

void ClientSession::appendClose(std::uint16_t code, std::string_view reason) {
  const protocol::MaskKey key = CsprngMaskKeys::forThisThread().next();
  const std::size_t before = transport_.output().size();
  if (code == close_code::NoStatus) {
    protocol::appendFrame(transport_.output(), Opcode::Close, {}, true, false, &key);
  } else {
    protocol::appendCloseFrame(transport_.output(), code, reason, &key);
  }
  countSent(transport_.output().size() - before, 1, false);
  queueFlush();
}

void ClientSession::countSent(std::size_t bytes, std::size_t frames, bool message) {
  const std::int64_t now = unixNow();
  stats_.bytesSent += bytes;
  stats_.framesSent += frames;
  stats_.lastSentAt = now;
  if (message) {
    ++stats_.messagesSent;
    stats_.lastDataSentAt = now;
  }
}

bool ClientSession::saturated() const noexcept {
  return !finished_ && transport_.buffered() > options_.highWaterMark;
}

void ClientSession::queueFlush() {
  // Inside a read, the flush at its end sends everything at once.
  if (inRead_ || flushQueued_ || finished_) return;
  flushQueued_ = true;
  loop_.post([self = shared_from_this()] {
    self->flushQueued_ = false;
    self->flush();
  });
}

void ClientSession::armWrite() {
  writeArmed_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_write,
                     [self = shared_from_this()](const std::error_code& error) {
                       self->writeArmed_ = false;
                       if (error) return;
                       if (self->transport_.takeReadWantsWrite()) {
                         if (!self->readArmed_ && !self->readPaused_ && !self->eofSeen_) {
                           self->scheduleRead();
                         }
                       }
                       self->flush();
                     });
}

void ClientSession::flush() {
  if (finished_) return;
  if (!writeArmed_ && !transport_.writeWantsRead()) {
    switch (transport_.flush()) {
      case net::SendEnd::Done:
        break;
      case net::SendEnd::WaitWritable:
        armWrite();
        break;
      case net::SendEnd::WaitReadable:
        if (!readArmed_ && !readPaused_) armRead();
        break;
      case net::SendEnd::Failed:
        onEof(transport_.errorText().c_str());
        return;  // the session ended
    }
  }
  const std::size_t buffered = transport_.buffered();
  if (!drainWaiters_.empty() && buffered < options_.lowWaterMark) {
    postResumes(loop_, drainWaiters_);
  }
  if (buffered == 0 && shutdownPending_ && !writeShut_) {
    writeShut_ = true;
    transport_.shutdownWrite();  // close_notify (TLS), then the FIN
    if (eofSeen_) terminate();
  }
}

void ClientSession::shutdownAfterDrain() {
  shutdownPending_ = true;
  if (!inRead_) flush();
}

// ---- closing --------------------------------------------------------------------------

void ClientSession::startClose(std::uint16_t code, std::string_view reason) {
  if (closeSent_ || finished_) return;
  appendClose(code, reason);
  closeSent_ = true;
  closeStarted_ = Clock::now();
  // Until the server's close frame arrives nothing else may be sent; reading goes on.
  updateReadPause();
  if (!inRead_) flush();
}

void ClientSession::abandon() noexcept {
  if (finished_) return;
  try {
    startClose(close_code::GoingAway, {});
  } catch (...) {
    terminate();
    return;
  }
  // Pending reads and the tick keep the session alive until the close completes or the
  // close period ends.
  if (closeReceived_) shutdownAfterDrain();
}

void ClientSession::terminate() noexcept {
  if (finished_) return;
  finished_ = true;
  if (closeCode_ == 0) {
    closeCode_ = close_code::Abnormal;
    if (closeReason_.empty()) closeReason_ = "the connection ended without a close handshake";
  }
  stats_.closedAt = unixNow();
  std::error_code ignored;
  tick_.cancel();
  socket_.cancel(ignored);
  socket_.close(ignored);
  transport_.discardOutput();
  // Everybody waiting learns it from the loop, not from inside this teardown.
  if (current_) {
    current_->failed = true;
    current_->flow = nullptr;
    loop_.post([message = std::move(current_)] { message->wake(); });
  }
  if (handedOut_) {
    handedOut_->flow = nullptr;
    handedOut_.reset();
  }
  if (receiveWaiter_) {
    loop_.post([waiter = std::exchange(receiveWaiter_, {})] { waiter.resume(); });
  }
  postResumes(loop_, drainWaiters_);
  postResumes(loop_, closeWaiters_);
}

ws::ClientInfo ClientSession::info() const {
  ws::ClientInfo info = stats_;
  info.closeCode = reportedCloseCode();
  info.closeReason = info.closeCode != 0 ? closeReason_ : std::string();
  return info;
}

// ---- timers ---------------------------------------------------------------------------

void ClientSession::armTick() {
  tick_.expires_after(kTickInterval);
  tick_.async_wait([self = shared_from_this()](const std::error_code& error) {
    if (!error) self->onTick();
  });
}

void ClientSession::onTick() {
  if (finished_) return;
  const auto now = Clock::now();
  transport_.trimIdle();
  // The server keeps no context between its messages: an idle connection needs no inflater.
  if (inflater_ && deflate_->serverNoContextTakeover && inflater_->holdsState() &&
      !parser_.inMessage() && now - lastRead_ >= kInflaterIdle) {
    inflater_->release();
  }
  if (closeSent_) {
    if (now - closeStarted_ >= options_.closePeriod) {
      log::debug("client connection to {}: close handshake not done within {} ms, dropping",
                 remoteAddress_, options_.closePeriod.count());
      if (!closeReceived_ && !failed_) {
        closeCode_ = close_code::Abnormal;
        closeReason_ = "the server did not complete the close handshake";
      }
      terminate();
      return;
    }
  } else if (options_.heartbeatPeriod.count() > 0 && now - lastRead_ >= options_.heartbeatPeriod &&
             now - lastPing_ >= options_.heartbeatPeriod) {
    if (unansweredPings_ >= options_.queuedPingLimit) {
      log::debug("client connection to {}: {} pings unanswered -> closing with 1008",
                 remoteAddress_, unansweredPings_);
      startClose(close_code::PolicyViolation, "Exceeded unanswered PING limit");
    } else {
      ++unansweredPings_;
      lastPing_ = now;
      appendControl(Opcode::Ping, {});
    }
  }
  armTick();
}

}  // namespace aerie::client::detail
