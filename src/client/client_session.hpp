// A client WebSocket connection after the handshake: the protocol parser's sink, masked
// sends with corking, the receive queue with flow control, heartbeats and the close
// handshake. Lives on one event loop; every method runs on that loop's thread.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aerie/client/options.hpp"
#include "aerie/http/headers.hpp"
#include "aerie/protocol/deflate_codec.hpp"
#include "aerie/protocol/parser.hpp"
#include "aerie/protocol/permessage_deflate.hpp"
#include "aerie/protocol/utf8.hpp"
#include "aerie/websocket/client_info.hpp"
#include "aerie/websocket/message.hpp"
#include "net/loop.hpp"
#include "net/tls.hpp"
#include "net/transport.hpp"

namespace aerie::client::detail {

class ClientSession;

struct ClientParserSink {
  ClientSession* session;
  void onMessageBegin(protocol::Opcode opcode, bool compressed);
  void onMessageData(std::span<const char> chunk, bool fin);
  void onPing(std::span<const char> payload);
  void onPong(std::span<const char> payload);
  void onClose(std::uint16_t code, std::string_view reason);
};

class ClientSession final : public std::enable_shared_from_this<ClientSession>,
                            public ws::detail::MessageFlow {
 public:
  ClientSession(net::Loop& loop, asio::ip::tcp::socket socket, Options options,
                std::string remoteAddress,
                std::optional<protocol::DeflateParameters> deflate = std::nullopt,
                std::unique_ptr<net::TlsChannel> tls = nullptr);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  /// Starts the connection: `leftover` (bytes that came with the 101) is parsed first.
  void start(std::string leftover);

  // Sending. Throw ConnectionClosed once closing, std::invalid_argument for bad text.
  void sendMessage(protocol::Opcode opcode, std::string_view payload);
  /// One fragment of a streamed message (first: opcode Text/Binary, then continuations).
  void sendFragment(bool binary, bool first, bool fin, std::string_view chunk);
  bool saturated() const noexcept;
  void addDrainWaiter(std::coroutine_handle<> waiter) { drainWaiters_.push_back(waiter); }
  void ping(std::string_view payload);

  // Receiving.
  /// A message is ready to hand out, or none will ever come again.
  bool receiveReady() const noexcept { return !queue_.empty() || noMoreMessages(); }
  /// Throws std::logic_error if another receive() is waiting already.
  void setReceiveWaiter(std::coroutine_handle<> waiter);
  std::shared_ptr<ws::detail::MessageState> takeMessage();

  // Closing.
  /// Starts our close handshake (no-op once one is under way).
  void startClose(std::uint16_t code, std::string_view reason);
  bool finished() const noexcept { return finished_; }
  void addCloseWaiter(std::coroutine_handle<> waiter) { closeWaiters_.push_back(waiter); }
  /// The last Connection handle is gone: send 1001 if we can and drop the connection.
  void abandon() noexcept;
  /// Drops the TCP connection now (closeCode 1006 unless a code is known).
  void terminate() noexcept;
  /// aerie::run() ends: drop every connection of this thread.
  static void terminateAllOnThisThread() noexcept;

  /// 0 while open (and while our own close waits for its answer).
  std::uint16_t reportedCloseCode() const noexcept {
    return finished_ || closeReceived_ || failed_ ? closeCode_ : 0;
  }
  const std::string& closeReason() const noexcept { return closeReason_; }
  ws::ClientInfo info() const;
  const std::string& remoteAddress() const noexcept { return remoteAddress_; }

  // Set by connect() before start().
  std::string subprotocol;
  http::Headers responseHeaders;

  // MessageFlow
  void messageConsumed() noexcept override;

  // Parser sink
  void onMessageBegin(protocol::Opcode opcode);
  void onMessageData(std::span<const char> chunk, bool fin);
  void onPing(std::span<const char> payload);
  void onPong();
  void onClose(std::uint16_t code, std::string_view reason);

 private:
  void checkOpen() const;
  void armRead();
  void scheduleRead();
  void onReadable(const std::error_code& error);
  /// The server closed TCP (error null) or the socket failed.
  void onEof(const char* error);
  void parse(char* data, std::size_t size);
  void queueFlush();
  void flush();
  void armWrite();
  void shutdownAfterDrain();
  void appendControl(protocol::Opcode opcode, std::span<const char> payload);
  void appendClose(std::uint16_t code, std::string_view reason);
  void countSent(std::size_t bytes, std::size_t frames, bool message);
  void armTick();
  void onTick();
  protocol::PayloadCompressor* compressorFor(std::size_t size);
  protocol::MessageDeflater* startStreamDeflater();
  bool noMoreMessages() const noexcept;
  /// Received bytes waiting for the application, against Options::receiveWindow.
  std::size_t waitingBytes() const noexcept;
  void updateReadPause();
  void wakeReceiver();
  void wakeDrainWaiters();
  static std::int64_t unixNow() noexcept;

  net::Loop& loop_;
  asio::ip::tcp::socket socket_;
  net::Transport transport_;  // the socket, TLS for wss://, the output buffer
  Options options_;
  std::string remoteAddress_;
  ClientParserSink sink_{this};
  protocol::Parser<ClientParserSink> parser_;
  // permessage-deflate, if agreed. Our compressor is the thread's shared one when the
  // server agreed client_no_context_takeover (nothing to remember per connection), our own
  // otherwise; a streamed message in shared mode gets one of its own while it lasts.
  std::optional<protocol::DeflateParameters> deflate_;
  std::unique_ptr<protocol::MessageInflater> inflater_;
  std::unique_ptr<protocol::MessageDeflater> deflater_;
  std::unique_ptr<protocol::MessageDeflater> streamOwnDeflater_;
  protocol::MessageDeflater* streamDeflater_ = nullptr;
  asio::steady_timer tick_;

  // Output.
  bool writeArmed_ = false;
  bool flushQueued_ = false;
  bool shutdownPending_ = false;
  bool writeShut_ = false;
  std::vector<std::coroutine_handle<>> drainWaiters_;
  bool streaming_ = false;  // a MessageWriter's message is in progress
  protocol::Utf8Validator streamUtf8_;

  // Input.
  bool readArmed_ = false;
  bool inRead_ = false;  // parsing a read: its replies are flushed when it ends
  bool readPaused_ = false;
  bool eofSeen_ = false;
  std::deque<std::shared_ptr<ws::detail::MessageState>> queue_;  // not yet received
  std::shared_ptr<ws::detail::MessageState> current_;            // being received from the server
  std::shared_ptr<ws::detail::MessageState> handedOut_;          // received, incomplete
  std::size_t queuedBytes_ = 0;                                  // payload bytes in queue_
  std::coroutine_handle<> receiveWaiter_;

  // Closing.
  bool closeSent_ = false;
  bool closeReceived_ = false;
  bool failed_ = false;  // a protocol error: no more messages
  bool finished_ = false;
  std::uint16_t closeCode_ = 0;
  std::string closeReason_;
  std::chrono::steady_clock::time_point closeStarted_{};
  std::vector<std::coroutine_handle<>> closeWaiters_;

  // Heartbeat.
  std::chrono::steady_clock::time_point lastRead_;
  std::chrono::steady_clock::time_point lastPing_;
  std::uint32_t unansweredPings_ = 0;

  ws::ClientInfo stats_;
  std::uint64_t framesCounted_ = 0;

  // This thread's live sessions, for terminateAllOnThisThread().
  ClientSession* prev_ = nullptr;
  ClientSession* next_ = nullptr;
};

}  // namespace aerie::client::detail
