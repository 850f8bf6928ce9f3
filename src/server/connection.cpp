#include "server/connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.hpp"
#include "server/worker.hpp"

namespace aerie::detail {

Connection::Connection(Worker& worker, int fd, std::string remoteAddress, std::string remoteIp)
    : worker_(worker),
      socket_(worker.loop().io(), fd),
      fd_(fd),
      remoteAddress_(std::move(remoteAddress)),
      remoteIp_(std::move(remoteIp)) {
  worker_.link(*this);
}

Connection::~Connection() = default;

void Connection::setSession(std::unique_ptr<Session> session) {
  session_ = std::move(session);
}

void Connection::enableTls(std::unique_ptr<net::TlsChannel> tls,
                           std::shared_ptr<const void> owner) {
  tls_ = std::move(tls);
  tlsOwner_ = std::move(owner);
}

void Connection::resumeReading() {
  readPaused_ = false;
  if (!readArmed_ && !closed_ && !eofSeen_) scheduleRead();
}

void Connection::scheduleRead() {
  // Asio's reactor is edge-triggered: bytes that arrived while reading was paused (or that
  // one bounded read left behind) raise no new event. Read right away, from the loop.
  readArmed_ = true;
  retain();
  worker_.loop().post([this] { onReadable({}); });
}

void Connection::armRead() {
  readArmed_ = true;
  retain();
  socket_.async_wait(asio::posix::descriptor_base::wait_read,
                     [this](const std::error_code& error) { onReadable(error); });
}

void Connection::armWrite() {
  writeArmed_ = true;
  retain();
  socket_.async_wait(asio::posix::descriptor_base::wait_write,
                     [this](const std::error_code& error) { onWritable(error); });
}

void Connection::onReadable(const std::error_code& error) {
  readArmed_ = false;
  if (error || closed_) {
    release();
    return;
  }
  if (tlsWriteWantsRead_) {  // TLS could not write on until it read (a key update)
    tlsWriteWantsRead_ = false;
    flush();
  }
  std::span<char> buffer = worker_.loop().receiveBuffer();
  // Read until the socket is empty: one wake-up serves everything that arrived. Bounded,
  // so one busy client cannot starve the others on this loop.
  bool drained = false;  // the socket had nothing more: the next arrival raises an event
  if (tls_) readTls(buffer, drained);
  for (int round = 0; round < 4 && !tls_ && !closed_ && !readPaused_; ++round) {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      bytesRead_ += static_cast<std::uint64_t>(n);
      if (shutdownPending_ || writeShut_) continue;  // closing: discard until FIN
      session_->onBytes(buffer.data(), static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < buffer.size()) {
        drained = true;
        break;
      }
      continue;
    }
    if (n == 0) {
      handleEof();
      break;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      drained = true;
      break;
    }
    if (errno == EINTR) continue;
    handleEof();
    break;
  }
  if (!closed_) {
    flush();  // corking: everything this read produced leaves in one send()
    // The session may have re-armed already (e.g. resumeReading() once a WebSocket's
    // onOpen finished inside this read): a second pending wait would wake us twice per
    // event for the rest of the connection's life.
    if (!readPaused_ && !eofSeen_ && !readArmed_ && !tlsReadWantsWrite_) {
      // More may be waiting after the bounded rounds: carry on after the other ready
      // connections rather than wait for an event that will not come.
      if (drained) {
        armRead();
      } else {
        scheduleRead();
      }
    }
  }
  release();
}

void Connection::readTls(std::span<char> buffer, bool& drained) {
  // A TLS read returns at most one record (16 KiB), so a short read says nothing about the
  // socket: read on until OpenSSL wants more bytes than the socket has. Bounded like the
  // plain loop (4 buffers' worth per wake-up).
  std::size_t total = 0;
  while (!closed_ && !readPaused_ && total < 4 * buffer.size()) {
    const net::TlsResult r = tls_->read(buffer.data(), buffer.size());
    switch (r.status) {
      case net::TlsStatus::Ok:
        total += r.bytes;
        bytesRead_ += r.bytes;
        if (shutdownPending_ || writeShut_) continue;  // closing: discard until FIN
        session_->onBytes(buffer.data(), r.bytes);
        continue;
      case net::TlsStatus::WantRead:
        drained = true;
        return;
      case net::TlsStatus::WantWrite:  // handshake output the socket did not take yet
        drained = true;
        tlsReadWantsWrite_ = true;
        if (!writeArmed_) armWrite();
        return;
      case net::TlsStatus::Closed:
        handleEof();
        return;
      case net::TlsStatus::Failed:
        // A plain-HTTP request on a TLS port, a failed handshake, a corrupt record.
        log::info("{}: TLS {}: {} -> closing", remoteAddress_,
                  tls_->handshakeDone() ? "error" : "handshake failed", tls_->error());
        eofSeen_ = true;
        if (session_) session_->onEof();
        close();
        return;
    }
  }
}

ssize_t Connection::sendSome(const char* data, std::size_t size) {
  if (!tls_) {
    while (true) {
      const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        armWrite();
        return 0;
      }
      writeFailed(errno);
      return -1;
    }
  }
  const net::TlsResult r = tls_->write(data, size);
  switch (r.status) {
    case net::TlsStatus::Ok:
      return static_cast<ssize_t>(r.bytes);
    case net::TlsStatus::WantWrite:
      armWrite();
      return 0;
    case net::TlsStatus::WantRead:
      // Writing must wait for bytes from the peer; the next readable event flushes.
      tlsWriteWantsRead_ = true;
      if (!readArmed_ && !readPaused_) armRead();
      return 0;
    case net::TlsStatus::Closed:
    case net::TlsStatus::Failed:
      log::debug("connection {}: TLS write failed: {}", remoteAddress_, tls_->error());
      writeFailed(EPIPE);
      return -1;
  }
  return -1;
}

bool Connection::peerHungUp() const noexcept {
  if (closed_ || eofSeen_) return true;
  pollfd p{fd_, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

void Connection::handleEof() {
  eofSeen_ = true;
  if (writeShut_ || shutdownPending_) {
    close();
    return;
  }
  session_->onEof();
}

void Connection::write(std::string_view bytes) {
  if (closed_ || writeShut_ || shutdownPending_) return;
  out_.append(bytes);
  commitWrite();
}

void Connection::commitWrite() {
  if (!flushQueued && !closed_) worker_.queueFlush(*this);
}

void Connection::flush() {
  if (closed_) return;
  while (outHead_ < out_.size() && !writeArmed_ && !tlsWriteWantsRead_) {
    const ssize_t n = sendSome(out_.data() + outHead_, out_.size() - outHead_);
    if (n < 0) return;  // failed: the connection is closed
    if (n == 0) break;  // would block: a wait is armed
    outHead_ += static_cast<std::size_t>(n);
    bytesSent_ += static_cast<std::uint64_t>(n);
  }
  if (outHead_ == out_.size()) {
    out_.clear();
    outHead_ = 0;
    wroteSinceTick_ = true;
    // A very large buffer goes at once; a moderate one stays while the connection is busy
    // (trimIdleBuffer() releases it once a tick passes without writes).
    if (out_.capacity() > 4 * 1024 * 1024) out_.shrink_to_fit();
  } else if (outHead_ > 64 * 1024 && outHead_ * 2 > out_.size()) {
    out_.erase(0, outHead_);
    outHead_ = 0;
  }
  if (buffered() < lowWaterMark_ || buffered() == 0) session_->onBelowLowWater();
  if (buffered() == 0) {
    if (shutdownPending_ && !writeShut_) {
      shutdownPending_ = false;
      writeShut_ = true;
      if (tls_) tls_->shutdown();  // close_notify before the FIN
      ::shutdown(fd_, SHUT_WR);
      if (eofSeen_) {
        close();
        return;
      }
      resumeReading();  // wait for the peer's FIN
    }
    if (!closed_) session_->onDrained();
  }
}

void Connection::trimIdleBuffer() {
  if (wroteSinceTick_) {
    wroteSinceTick_ = false;
    return;
  }
  if (buffered() == 0 && out_.capacity() > 64 * 1024) {
    out_.clear();
    outHead_ = 0;
    out_.shrink_to_fit();
  }
}

void Connection::onWritable(const std::error_code& error) {
  writeArmed_ = false;
  if (!error && !closed_) {
    if (tlsReadWantsWrite_) {  // the handshake's output can go on: so can reading
      tlsReadWantsWrite_ = false;
      if (!readArmed_ && !readPaused_ && !eofSeen_) scheduleRead();
    }
    flush();
  }
  release();
}

void Connection::writeFailed(int err) {
  log::debug("connection {}: send failed: {}", remoteAddress_, std::strerror(err));
  out_.clear();
  outHead_ = 0;
  eofSeen_ = true;
  if (session_) session_->onEof();
  close();
}

void Connection::shutdownAfterDrain(std::chrono::steady_clock::time_point deadline) {
  if (closed_ || writeShut_ || shutdownPending_) return;
  closeDeadline_ = deadline;
  shutdownPending_ = true;
  flush();
}

void Connection::close() noexcept {
  if (closed_) return;
  closed_ = true;
  std::error_code ignored;
  socket_.cancel(ignored);
  socket_.close(ignored);
  if (session_) session_->onClosed();
  worker_.unlink(*this);
  release();  // the worker list's reference
}

void Connection::release() noexcept {
  if (--refs_ == 0) delete this;
}

}  // namespace aerie::detail
