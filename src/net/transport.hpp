// The byte-moving half of a connection, shared by the server's Connection and the client's
// ClientSession: a non-blocking socket, TLS on it if any, and the corked output buffer.
//
// The owner keeps everything about waiting (which readiness wait is armed, how it stays
// alive, what a failure means for its protocol); the transport only moves bytes and says
// why it stopped. Plain TCP costs what the hand-written loops cost: the read loop is a
// template (the owner's byte sink is inlined, no virtual call), the output buffer is one
// std::string sent with one send() per flush, and an empty file queue allocates nothing.
//
// Files (server only): queueFile() places a slice of an open file at the current end of the
// output, so the bytes queued before it (a response head) go first, then the slice — by
// sendfile(2) on plain TCP, in bounded pread() pieces through TLS — then whatever was
// queued after it (pipelined responses).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/tls.hpp"

namespace aerie::http {
class OpenFile;
}

namespace aerie::net {

/// Why readAvailable() returned.
enum class ReadEnd {
  Drained,    // the socket has nothing more: the next arrival raises a readiness event
  MoreLeft,   // stopped by the bound or by the owner: more may be waiting
  WantWrite,  // TLS must write (handshake) before it reads on: wait for writability
  Eof,        // the peer closed (FIN or close_notify)
  Failed,     // socket or TLS error: errorText()
};

/// Why flush() returned.
enum class SendEnd {
  Done,          // nothing is queued any more
  WaitWritable,  // the kernel took what it could: wait for writability
  WaitReadable,  // TLS must read before it writes on (a key update): wait for readability
  Failed,        // socket or TLS error, or a queued file ended early: errorText()
};

class Transport {
 public:
  explicit Transport(int fd) noexcept : fd_(fd) {}
  Transport(int fd, std::unique_ptr<TlsChannel> tls) noexcept : fd_(fd), tls_(std::move(tls)) {}

  int fd() const noexcept { return fd_; }
  void setTls(std::unique_ptr<TlsChannel> tls) noexcept { tls_ = std::move(tls); }
  TlsChannel* tls() const noexcept { return tls_.get(); }

  // ---- reading ----

  /// Reads until the socket is empty, at most four buffers' worth (one busy peer must not
  /// starve the others on its loop), while keepGoing() holds. Every chunk goes to
  /// onBytes(char*, size_t) in `buffer` (the loop's shared receive buffer).
  /// `shortReadDrains`: a read shorter than the buffer ends the loop as Drained, saving the
  /// recv() that would return EAGAIN. Sound only when the owner learns of a FIN that came
  /// with the data otherwise: Asio's re-armed wait re-checks readiness (the client), the
  /// Poller's mask carries EPOLLRDHUP (the server passes false once it saw that).
  template <class KeepGoing, class OnBytes>
  ReadEnd readAvailable(std::span<char> buffer, KeepGoing&& keepGoing, OnBytes&& onBytes,
                        bool shortReadDrains = true);

  /// TLS had to write before reading on (ReadEnd::WantWrite); cleared by the owner once the
  /// socket is writable.
  bool takeReadWantsWrite() noexcept { return std::exchange(readWantsWrite_, false); }
  bool readWantsWrite() const noexcept { return readWantsWrite_; }
  /// TLS had to read before writing on (SendEnd::WaitReadable); cleared by the owner once
  /// the socket is readable.
  bool takeWriteWantsRead() noexcept { return std::exchange(writeWantsRead_, false); }
  bool writeWantsRead() const noexcept { return writeWantsRead_; }

  // ---- writing ----

  /// The output buffer to append to; flush() sends it.
  std::string& output() noexcept { return out_; }
  /// Bytes queued and not yet taken by the kernel (files included).
  std::size_t buffered() const noexcept {
    return out_.size() - outHead_ + static_cast<std::size_t>(fileBytes_);
  }
  /// Queues `length` bytes of `file` from `offset`, after everything queued so far.
  void queueFile(std::shared_ptr<const http::OpenFile> file, std::uint64_t offset,
                 std::uint64_t length);
  /// Sends what is queued until all of it is gone or the socket blocks (call it only while
  /// no wait for writability, or for readability after WaitReadable, is pending). Bytes
  /// the kernel took are added to sent().
  SendEnd flush();  // inline below: the plain TCP echo's path
  std::uint64_t sent() const noexcept { return sent_; }
  /// Called every tick: gives back a large output buffer nothing was written to since the
  /// last tick. (Shrinking it on every drain instead made each large message free and
  /// re-allocate it: glibc then trimmed the arena each time, ~45 % of a 64 KiB echo's CPU.)
  void trimIdle();
  /// Drops everything queued (the connection failed).
  void discardOutput() noexcept;
  /// close_notify (TLS) and FIN: nothing more will be sent.
  void shutdownWrite() noexcept;

  /// What the last Failed was about ("TLS: ..." or the socket error).
  std::string errorText() const;

 private:
  struct FileSlice {
    std::shared_ptr<const http::OpenFile> file;
    std::uint64_t offset;
    std::uint64_t remaining;
    std::size_t at;  // position in out_ it goes after
  };
  /// Allocated with the first queued file (a WebSocket or client connection never has
  /// one: it costs them one pointer), released by trimIdle() once empty.
  struct FileQueue {
    std::vector<FileSlice> slices;  // in output order
    std::string tlsChunk;           // a file piece on its way through TLS
    std::size_t tlsChunkHead = 0;
  };

  template <class KeepGoing, class OnBytes>
  ReadEnd readTls(std::span<char> buffer, KeepGoing& keepGoing, OnBytes& onBytes);
  /// One send of `size` bytes at `data` (plain or TLS): bytes taken, or -1 with `end` set.
  ssize_t sendSome(const char* data, std::size_t size, bool more, SendEnd& end);
  /// Sends from the front file slice; false with `end` set when it must stop.
  bool sendFile(FileSlice& slice, SendEnd& end);
  /// flush() with TLS or files queued.
  SendEnd flushGeneral();
  /// Resets a drained buffer, or erases the sent front of a long one.
  void compact() noexcept;

  // (Ordered so that there is no padding: every connection holds one.)
  int fd_;
  int errno_ = 0;                    // of the last failed socket call
  std::unique_ptr<TlsChannel> tls_;  // null: plain TCP
  std::string out_;
  std::size_t outHead_ = 0;
  std::uint64_t sent_ = 0;
  std::unique_ptr<FileQueue> files_;  // null on every hot path
  std::uint64_t fileBytes_ = 0;       // of files, not yet sent (here: buffered() is hot)
  bool readWantsWrite_ = false;
  bool writeWantsRead_ = false;
  bool wroteSinceTick_ = false;
  bool fileShrank_ = false;  // what failed, when no errno says it: a file ended early
};

template <class KeepGoing, class OnBytes>
ReadEnd Transport::readAvailable(std::span<char> buffer, KeepGoing&& keepGoing, OnBytes&& onBytes,
                                 bool shortReadDrains) {
  if (tls_) return readTls(buffer, keepGoing, onBytes);
  for (int round = 0; round < 4 && keepGoing(); ++round) {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      onBytes(buffer.data(), static_cast<std::size_t>(n));
      if (shortReadDrains && static_cast<std::size_t>(n) < buffer.size()) return ReadEnd::Drained;
      continue;
    }
    if (n == 0) return ReadEnd::Eof;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadEnd::Drained;
    if (errno == EINTR) continue;
    errno_ = errno;
    fileShrank_ = false;
    return ReadEnd::Failed;
  }
  return ReadEnd::MoreLeft;
}

template <class KeepGoing, class OnBytes>
ReadEnd Transport::readTls(std::span<char> buffer, KeepGoing& keepGoing, OnBytes& onBytes) {
  // A TLS read returns at most one record (16 KiB), so a short read says nothing about the
  // socket: read on until OpenSSL wants more bytes than the socket has. Bounded like the
  // plain loop (4 buffers' worth per wake-up).
  std::size_t total = 0;
  while (keepGoing() && total < 4 * buffer.size()) {
    const TlsResult r = tls_->read(buffer.data(), buffer.size());
    switch (r.status) {
      case TlsStatus::Ok:
        total += r.bytes;
        onBytes(buffer.data(), r.bytes);
        continue;
      case TlsStatus::WantRead:
        return ReadEnd::Drained;
      case TlsStatus::WantWrite:  // handshake output the socket did not take yet
        readWantsWrite_ = true;
        return ReadEnd::WantWrite;
      case TlsStatus::Closed:
        return ReadEnd::Eof;
      case TlsStatus::Failed:
        errno_ = 0;
        fileShrank_ = false;
        return ReadEnd::Failed;
    }
  }
  return ReadEnd::MoreLeft;
}

inline SendEnd Transport::flush() {
  if (tls_ || files_) return flushGeneral();  // one load each: TLS, files
  SendEnd end = SendEnd::Done;
  while (outHead_ < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + outHead_, out_.size() - outHead_, MSG_NOSIGNAL);
    if (n > 0) {
      outHead_ += static_cast<std::size_t>(n);
      sent_ += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
      end = SendEnd::WaitWritable;
      break;
    }
    errno_ = errno;
    fileShrank_ = false;
    return SendEnd::Failed;
  }
  if (outHead_ == out_.size()) {
    out_.clear();
    outHead_ = 0;
    wroteSinceTick_ = true;
    // A very large buffer goes at once; a moderate one stays while the connection is busy
    // (trimIdle() releases it once a tick passes without writes).
    if (out_.capacity() > 4 * 1024 * 1024) out_.shrink_to_fit();
  } else if (outHead_ > 64 * 1024) {
    compact();
  }
  return end;
}

}  // namespace aerie::net
