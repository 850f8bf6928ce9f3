// A blocking-socket WebSocket test client that can send ANY bytes: handshake requests of
// the test's choosing, frames with arbitrary FIN/RSV/opcode/mask/length, split writes.
// It reads frames, close frames and EOF with timeouts. Nothing here validates what the
// server sends beyond framing, so tests can assert on every bit (mask, RSV, opcode, FIN).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aerie::test {

/// Generous default: tests run under ASan on two busy cores; waits must not be flaky.
inline constexpr std::chrono::milliseconds kTimeout{5'000};

/// One frame as it arrived from the server.
struct RawFrame {
  bool fin = true;
  bool rsv1 = false;
  bool rsv2 = false;
  bool rsv3 = false;
  std::uint8_t opcode = 0;
  bool masked = false;
  std::string payload;

  bool isClose() const noexcept { return opcode == 0x8; }
  /// The close code of a close frame (1005 for an empty payload, 0 for a 1-byte one).
  std::uint16_t closeCode() const noexcept;
  /// The close reason of a close frame.
  std::string_view closeReason() const noexcept;
};

/// A data message assembled from its frames.
struct RawMessage {
  std::uint8_t opcode = 0;  // of the first frame: 0x1 text, 0x2 binary
  std::string payload;
  std::size_t frames = 0;
};

/// An HTTP response as read off the socket.
struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  /// The first value of a header (name case-insensitive); empty when absent.
  std::string header(std::string_view name) const;
  bool hasHeader(std::string_view name) const;
};

/// What to put on the wire: any opcode, any bits, masked or not.
struct FrameSpec {
  std::uint8_t opcode = 0x1;
  std::string payload;
  bool fin = true;
  bool rsv1 = false;
  bool rsv2 = false;
  bool rsv3 = false;
  bool mask = true;
};

class RawWsClient {
 public:
  /// The RFC 6455 section 1.3 example key and the accept value the server must answer.
  static constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";
  static constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

  /// Connects to 127.0.0.1:port. `receiveBuffer` > 0 sets SO_RCVBUF before connecting
  /// (a small window makes a non-reading client back up the server quickly). Throws
  /// std::runtime_error when the connection fails.
  explicit RawWsClient(std::uint16_t port, int receiveBuffer = 0);
  ~RawWsClient();
  RawWsClient(const RawWsClient&) = delete;
  RawWsClient& operator=(const RawWsClient&) = delete;

  /// A valid upgrade request for `path`; `extraHeaders` are whole lines ("Name: v\r\n").
  static std::string upgradeRequest(std::string_view path = "/",
                                    std::string_view extraHeaders = {});

  /// Sends upgradeRequest(path) and reads the reply: true for a 101 with the right
  /// Sec-WebSocket-Accept, Upgrade and Connection headers.
  bool handshake(std::string_view path = "/", std::chrono::milliseconds timeout = kTimeout);
  /// Reads one HTTP response: the head, then a Content-Length body (or, without one and for
  /// a status that may have a body, everything until EOF). Bytes after it stay buffered
  /// for readFrame(). Nothing on timeout or EOF before a complete head.
  std::optional<HttpReply> readHttpReply(std::chrono::milliseconds timeout = kTimeout);

  /// The wire bytes of a frame (minimal length form; masked with a fresh non-zero key).
  static std::string encode(const FrameSpec& spec);
  /// A close frame payload: the 2-byte code, then the reason (not validated).
  static std::string closePayload(std::uint16_t code, std::string_view reason = {});

  /// Blocking writes of all the bytes; throws std::runtime_error if the socket fails.
  void sendRaw(std::string_view bytes);
  /// Writes in pieces of `pieceSize` bytes, each its own send(), with `pause` between them
  /// (TCP_NODELAY is on, so pieces tend to arrive in separate reads).
  void sendRawSplit(std::string_view bytes, std::size_t pieceSize,
                    std::chrono::milliseconds pause = std::chrono::milliseconds{0});
  void sendFrame(const FrameSpec& spec) { sendRaw(encode(spec)); }
  void sendText(std::string_view text, bool fin = true);
  void sendBinary(std::string_view data, bool fin = true);
  void sendContinuation(std::string_view data, bool fin);
  void sendPing(std::string_view payload = {});
  void sendPong(std::string_view payload = {});
  void sendClose(std::uint16_t code, std::string_view reason = {});
  void sendEmptyClose();

  /// The next frame; nothing on timeout or EOF (eof() tells which).
  std::optional<RawFrame> readFrame(std::chrono::milliseconds timeout = kTimeout);
  /// The next data message, fragments assembled. Pings are answered with pongs and other
  /// control frames skipped, except a close frame: it ends the wait (lastClose() has it).
  std::optional<RawMessage> readMessage(std::chrono::milliseconds timeout = kTimeout);
  /// Reads until a close frame arrives (data frames are skipped); returns it.
  std::optional<RawFrame> readClose(std::chrono::milliseconds timeout = kTimeout);
  /// Reads, discarding, until the server closes the TCP connection (EOF or reset): true
  /// then, false on timeout.
  bool waitForEof(std::chrono::milliseconds timeout = kTimeout);

  /// The last close frame readMessage()/readClose() met.
  const std::optional<RawFrame>& lastClose() const noexcept { return lastClose_; }
  bool eof() const noexcept { return eof_; }
  /// Data frames skipped by readMessage()/readClose() (not counting control frames).
  std::size_t skippedFrames() const noexcept { return skipped_; }

  /// Half-closes: the server sees EOF, we can still read.
  void shutdownWrite();
  /// Closes the socket at once (abrupt: no close frame). With `reset`, SO_LINGER 0 makes
  /// the kernel send RST instead of FIN.
  void closeSocket(bool reset = false);
  int fd() const noexcept { return fd_; }

 private:
  /// Reads more bytes into buffer_ until `deadline`: false on timeout or EOF.
  bool fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;  // received, not consumed yet
  bool eof_ = false;
  std::size_t skipped_ = 0;
  std::optional<RawFrame> lastClose_;
};

}  // namespace aerie::test
