// A client WebSocket connection (amphp's Connection), made by websocket::connect().
//
// Lives on the event loop of the thread that connected (aerie::run() or a server handler);
// use it from that thread. A handle: copies share the connection. When the last handle
// goes away while open, the connection is closed with 1001 (going away) and dropped.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aerie/core/task.hpp"
#include "aerie/http/headers.hpp"
#include "aerie/websocket/client_info.hpp"
#include "aerie/websocket/message.hpp"

namespace aerie::client {

namespace detail {
class ClientSession;
}

/// What send() returns: the message is queued when send() is called (awaiting is
/// optional); co_await resumes at once while less than Options::highWaterMark bytes wait to
/// be written, otherwise once they drained below lowWaterMark or the connection closed.
class [[nodiscard]] SendAwaitable {
 public:
  explicit SendAwaitable(std::shared_ptr<detail::ClientSession> session) noexcept
      : session_(std::move(session)) {}
  bool await_ready() const noexcept;
  void await_suspend(std::coroutine_handle<> awaiting);
  void await_resume() const noexcept {}

 private:
  std::shared_ptr<detail::ClientSession> session_;
};

/// Streams one message out fragment by fragment (amphp v1's stream()): each write() is
/// one frame, end() the final one. Until end(), other sends throw std::logic_error: frames
/// of two messages must not interleave (control frames, like ping(), may).
class MessageWriter {
 public:
  MessageWriter(std::shared_ptr<detail::ClientSession> session, bool binary) noexcept;
  MessageWriter(MessageWriter&&) noexcept;
  MessageWriter& operator=(MessageWriter&&) = delete;
  ~MessageWriter();  // after write() without end(): finished with an empty final frame

  /// Sends `chunk` as the next fragment. Text must be valid UTF-8 across the chunks (a
  /// chunk may end inside a character); invalid text throws std::invalid_argument.
  SendAwaitable write(std::string_view chunk);
  /// Sends the final fragment (possibly empty).
  SendAwaitable end(std::string_view lastChunk = {});

 private:
  std::shared_ptr<detail::ClientSession> session_;
  bool binary_;
  bool started_ = false;
  bool ended_ = false;
};

class Connection {
 public:
  explicit Connection(std::shared_ptr<detail::ClientSession> session) noexcept;
  Connection(const Connection&) = default;
  Connection& operator=(const Connection&) = default;
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection();

  /// A text message. Invalid UTF-8 throws std::invalid_argument and nothing is sent;
  /// a closing or closed connection throws ConnectionClosed.
  SendAwaitable send(std::string_view text);
  /// A binary message.
  SendAwaitable sendBinary(std::string_view data);
  /// A message produced chunk by chunk, in bounded memory.
  MessageWriter stream();
  MessageWriter streamBinary();

  /// The next message as soon as its first frame arrived; nothing once the connection is
  /// closed and every message before the close was taken.
  Task<std::optional<ws::Message>> receive();

  /// Sends a ping (the pong is counted in getInfo(), not returned).
  void ping(std::string_view payload = {});

  /// The close handshake: sends a close frame, waits for the server's, then for the end of
  /// TCP, all bounded by Options::closePeriod. Returns at once if already closed.
  Task<> close(std::uint16_t code = 1000, std::string_view reason = {});

  bool isClosed() const noexcept;
  /// 0 while open; then, as RFC 6455 7.1.5 defines it, the code in the server's close
  /// frame (also when we closed first), 1006 when none arrived, or our code (1002, 1007,
  /// 1009...) when we failed the connection for a protocol violation by the server.
  std::uint16_t closeCode() const noexcept;
  std::string closeReason() const;

  /// The subprotocol the server chose; empty if none.
  const std::string& subprotocol() const noexcept;
  /// The server's 101 response headers.
  const http::Headers& responseHeaders() const noexcept;
  /// The same counters and timestamps as the server's Endpoint::getInfo().
  ws::ClientInfo getInfo() const;
  /// "ip:port" of the server (of the proxy when tunnelled).
  const std::string& remoteAddress() const noexcept;

 private:
  std::shared_ptr<detail::ClientSession> session_;
  std::shared_ptr<void> owner_;  // the last handle closes the connection
};

}  // namespace aerie::client
