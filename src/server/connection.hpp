// One accepted socket on one loop: non-blocking reads into the loop's shared receive
// buffer, corked writes, and the lifetime rules. What the bytes mean is up to the current
// Session (HTTP first, WebSocket after an upgrade).
//
// Reads: wait for readability, then recv() into the thread's buffer until EAGAIN; the
// session parses in place. Writes: sessions append to the output buffer; after a read has
// been handled (or at the end of the loop turn for writes triggered elsewhere) everything
// is sent with one send() per socket. What the kernel does not take waits for writability.
// The moving of bytes (plain or TLS, the output buffer, files) is net::Transport's; this
// class decides when to wait and what an end of input or a failure means.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "net/loop.hpp"
#include "net/peer_address.hpp"
#include "net/tls.hpp"
#include "net/transport.hpp"

namespace aerie::detail {

class ServerImpl;
class Worker;
class Connection;

/// The protocol spoken on a connection.
class Session {
 public:
  virtual ~Session() = default;
  /// Bytes read (in the loop's shared buffer: copy what must outlive the call).
  virtual void onBytes(char* data, std::size_t size) = 0;
  /// The peer closed its side or the socket failed.
  virtual void onEof() = 0;
  /// All queued output has been written.
  virtual void onDrained() {}
  /// Queued output fell below the low-water mark given to setLowWaterMark().
  virtual void onBelowLowWater() {}
  /// Called about every Worker::kTickInterval for timeouts and heartbeats.
  virtual void onTick(std::chrono::steady_clock::time_point now) = 0;
  /// The connection is gone: release everything that refers to it.
  virtual void onClosed() = 0;
  /// The server is stopping: finish what is in progress and close (WebSocket: 1001).
  virtual void shutdownGracefully() = 0;
};

class Connection final : public net::PollClient {
 public:
  Connection(Worker& worker, int fd, net::PeerAddress peer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Worker& worker() noexcept { return worker_; }
  /// The peer, formatted ("192.0.2.1:443"): for log lines; HttpSession keeps a copy.
  std::string remoteAddress() const { return peer_.text(); }
  const net::PeerAddress& peer() const noexcept { return peer_; }

  void setSession(std::unique_ptr<Session> session);
  /// Speaks TLS from now on (before the first read). `owner` keeps the contexts alive.
  void enableTls(std::unique_ptr<net::TlsChannel> tls, std::shared_ptr<const void> owner);
  bool encrypted() const noexcept { return transport_.tls() != nullptr; }
  bool tlsHandshakeDone() const noexcept {
    return transport_.tls() != nullptr && transport_.tls()->handshakeDone();
  }
  Session* session() noexcept { return session_.get(); }

  /// Starts waiting for input (no-op while paused or already waiting).
  void resumeReading();
  /// Stops reading until resumeReading(): for rate limits and while a response is produced.
  void pauseReading() noexcept { readPaused_ = true; }
  bool readingPaused() const noexcept { return readPaused_; }
  /// The peer finished sending (FIN or reset), even if unread bytes still precede that:
  /// lets a session whose reading is paused notice a departed client. One poll() call.
  bool peerHungUp() const noexcept;

  /// Queues bytes; they leave with the next flush (at the latest at the end of this turn).
  void write(std::string_view bytes);
  /// A buffer to append to directly (avoids a copy for frame serialisation); call
  /// commitWrite() after appending.
  std::string& outputBuffer() noexcept { return transport_.output(); }
  void commitWrite();
  /// Queues `length` bytes of `file` from `offset` after what is queued so far (a response
  /// head): sendfile() on plain TCP, bounded pieces through TLS. Bytes written after this
  /// call follow the file.
  void writeFile(std::shared_ptr<const http::OpenFile> file, std::uint64_t offset,
                 std::uint64_t length);
  /// Bytes queued and not yet accepted by the kernel (queued files included).
  std::size_t buffered() const noexcept { return transport_.buffered(); }
  void setLowWaterMark(std::size_t bytes) noexcept {
    lowWaterMark_ = static_cast<std::uint32_t>(std::min<std::size_t>(bytes, UINT32_MAX));
  }
  /// Sends what is queued now.
  void flush();
  /// Called every tick: gives back a large output buffer the connection no longer fills
  /// (net::Transport::trimIdle()).
  void trimIdleBuffer() { transport_.trimIdle(); }

  /// No more writes: once the queue drained, shut down our sending side (the peer sees
  /// FIN) and keep reading until its FIN or the deadline, so a close frame is not lost to
  /// a reset caused by unread data.
  void shutdownAfterDrain(std::chrono::steady_clock::time_point deadline);
  /// Closes the socket now; the object goes away once no wait is pending.
  void close() noexcept;
  bool closed() const noexcept { return closed_; }
  /// The peer closed its sending side.
  bool eofSeen() const noexcept { return eofSeen_; }
  /// Moment the connection must be gone at the latest (set by shutdownAfterDrain()).
  std::chrono::steady_clock::time_point closeDeadline() const noexcept { return closeDeadline_; }

  std::uint64_t bytesRead() const noexcept { return bytesRead_; }
  std::uint64_t bytesSent() const noexcept { return transport_.sent(); }

  // Keeps the object alive across an asynchronous step.
  void retain() noexcept { ++refs_; }
  void release() noexcept;

  // Intrusive list of the worker's connections.
  Connection* prev = nullptr;
  Connection* next = nullptr;

 private:
  void onEvents(std::uint32_t events) override;
  void armRead();
  void scheduleRead();
  void armWrite();
  void onReadable();
  void onWritable();
  void handleEof();
  void closeDescriptor() noexcept;
  void writeFailed();

  Worker& worker_;
  net::Transport transport_;
  net::PeerAddress peer_;
  unsigned refs_ = 1;  // the worker's list holds one until close() (beside the 20-byte peer)
  std::unique_ptr<Session> session_;
  std::uint64_t bytesRead_ = 0;
  std::chrono::steady_clock::time_point closeDeadline_{};
  std::uint32_t lowWaterMark_ = 0;  // bytes (setLowWaterMark clamps)
  bool readArmed_ = false;          // waits for a read event (or a read is scheduled)
  bool writeArmed_ = false;         // waits for a write event (a send saw EAGAIN)
  bool readReady_ = false;          // a read event came while not armed: read at the next arm
  bool peerClosing_ = false;        // an event carried EPOLLRDHUP/HUP/ERR: the FIN is in
  bool readPaused_ = false;
  bool shutdownPending_ = false;
  bool writeShut_ = false;
  bool closed_ = false;
  bool eofSeen_ = false;

 public:
  // With the flags above rather than beside the list pointers: no padding hole.
  bool flushQueued = false;  // in the worker's list of connections to flush this turn
};

}  // namespace aerie::detail
