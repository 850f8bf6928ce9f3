#include "server/connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.hpp"
#include "server/worker.hpp"

namespace aerie::detail {

Connection::Connection(Worker& worker, int fd, net::PeerAddress peer)
    : worker_(worker), transport_(fd), peer_(peer) {
  try {
    worker_.loop().poller().add(fd, *this);
  } catch (...) {
    ::close(fd);
    throw;
  }
  worker_.link(*this);
}

Connection::~Connection() {
  if (!closed_) closeDescriptor();  // not closed through close(): still registered
}

void Connection::closeDescriptor() noexcept {
  worker_.loop().poller().remove(transport_.fd());  // also from the batch being dispatched
  ::close(transport_.fd());
}

void Connection::setSession(std::unique_ptr<Session> session) {
  session_ = std::move(session);
}

void Connection::enableTls(std::unique_ptr<net::TlsChannel> tls,
                           std::shared_ptr<const void> owner) {
  transport_.setTls(std::move(tls));
  transport_.tls()->keepAlive(std::move(owner));
}

void Connection::resumeReading() {
  readPaused_ = false;
  if (!readArmed_ && !closed_ && !eofSeen_) scheduleRead();
}

void Connection::onEvents(std::uint32_t events) {
  // Edge-triggered (net::Poller): an event that finds us not waiting is remembered, the
  // next arm reads at once. Retained: the session may close (and so release) us.
  retain();
  if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) peerClosing_ = true;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    if (readArmed_) {
      onReadable();
    } else {
      readReady_ = true;
    }
  }
  if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0 && writeArmed_ && !closed_) onWritable();
  release();
}

void Connection::scheduleRead() {
  // Bytes that arrived while reading was paused (or that one bounded read left behind)
  // raise no new edge. Read right away, from the loop.
  readArmed_ = true;
  retain();
  worker_.loop().post([this] {
    if (readArmed_ && !closed_) onReadable();  // not if an event read and paused meanwhile
    release();
  });
}

void Connection::armRead() {
  readArmed_ = true;
  // The event that would wake us may have come already, while we were not waiting.
  if (readReady_) scheduleRead();
}

void Connection::armWrite() {
  // Only after a send saw EAGAIN: the kernel then signals the room it makes.
  writeArmed_ = true;
}

void Connection::onReadable() {
  readArmed_ = false;
  readReady_ = false;  // read now, until the socket is empty (or the bound)
  if (closed_) return;
  if (transport_.takeWriteWantsRead()) flush();  // TLS could not write on until it read
  // Read until the socket is empty: one wake-up serves everything that arrived. Bounded,
  // so one busy client cannot starve the others on this loop.
  const net::ReadEnd end = transport_.readAvailable(
      worker_.loop().receiveBuffer(), [this] { return !closed_ && !readPaused_; },
      [this](char* data, std::size_t size) {
        bytesRead_ += size;
        if (shutdownPending_ || writeShut_) return;  // closing: discard until FIN
        session_->onBytes(data, size);
      },
      !peerClosing_);
  // Drained: the socket had nothing more, the next arrival raises an event.
  bool drained = end == net::ReadEnd::Drained;
  switch (end) {
    case net::ReadEnd::Drained:
    case net::ReadEnd::MoreLeft:
      break;
    case net::ReadEnd::WantWrite:  // handshake output the socket did not take yet
      drained = true;
      if (!writeArmed_) armWrite();
      break;
    case net::ReadEnd::Eof:
      handleEof();
      break;
    case net::ReadEnd::Failed:
      if (!encrypted()) {
        handleEof();
        break;
      }
      // A plain-HTTP request on a TLS port, a failed handshake, a corrupt record.
      log::info("{}: TLS {}: {} -> closing", remoteAddress(),
                tlsHandshakeDone() ? "error" : "handshake failed", transport_.tls()->error());
      eofSeen_ = true;
      if (session_) session_->onEof();
      close();
      break;
  }
  if (!closed_) {
    flush();  // corking: everything this read produced leaves in one send()
    // The session may have re-armed already (e.g. resumeReading() once a WebSocket's
    // onOpen finished inside this read): a second pending wait would wake us twice per
    // event for the rest of the connection's life.
    if (!readPaused_ && !eofSeen_ && !readArmed_ && !transport_.readWantsWrite()) {
      // More may be waiting after the bounded rounds: carry on after the other ready
      // connections rather than wait for an event that will not come.
      if (drained) {
        armRead();
      } else {
        scheduleRead();
      }
    }
  }
}

bool Connection::peerHungUp() const noexcept {
  if (closed_ || eofSeen_) return true;
  pollfd p{transport_.fd(), POLLRDHUP, 0};
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
  transport_.output().append(bytes);
  commitWrite();
}

void Connection::writeFile(std::shared_ptr<const http::OpenFile> file, std::uint64_t offset,
                           std::uint64_t length) {
  if (closed_ || writeShut_ || shutdownPending_) return;
  transport_.queueFile(std::move(file), offset, length);
  commitWrite();
}

void Connection::commitWrite() {
  if (!flushQueued && !closed_) worker_.queueFlush(*this);
}

void Connection::flush() {
  if (closed_) return;
  if (!writeArmed_ && !transport_.writeWantsRead()) {
    switch (transport_.flush()) {
      case net::SendEnd::Done:
        break;
      case net::SendEnd::WaitWritable:
        armWrite();
        break;
      case net::SendEnd::WaitReadable:
        // Writing must wait for bytes from the peer; the next readable event flushes.
        if (!readArmed_ && !readPaused_) armRead();
        break;
      case net::SendEnd::Failed:
        writeFailed();
        return;
    }
  }
  const std::size_t left = buffered();
  if (left < lowWaterMark_ || left == 0) session_->onBelowLowWater();
  if (buffered() == 0) {
    if (shutdownPending_ && !writeShut_) {
      shutdownPending_ = false;
      writeShut_ = true;
      transport_.shutdownWrite();  // close_notify (TLS), then the FIN
      if (eofSeen_) {
        close();
        return;
      }
      resumeReading();  // wait for the peer's FIN
    }
    if (!closed_) session_->onDrained();
  }
}

void Connection::onWritable() {
  writeArmed_ = false;
  if (transport_.takeReadWantsWrite()) {  // the handshake's output went: read on
    if (!readArmed_ && !readPaused_ && !eofSeen_) scheduleRead();
  }
  flush();
}

void Connection::writeFailed() {
  log::debug("connection {}: send failed: {}", remoteAddress(), transport_.errorText());
  transport_.discardOutput();
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
  closeDescriptor();
  if (session_) session_->onClosed();
  worker_.unlink(*this);
  release();  // the worker list's reference
}

void Connection::release() noexcept {
  if (--refs_ == 0) delete this;
}

}  // namespace aerie::detail
