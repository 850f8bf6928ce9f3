#include "net/transport.hpp"

#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "aerie/http/response.hpp"

namespace aerie::net {

namespace {
constexpr std::size_t kCompactAbove = 64 * 1024;       // erase sent bytes beyond this...
constexpr std::size_t kShrinkAbove = 4 * 1024 * 1024;  // ...free a drained buffer above this
constexpr std::size_t kTlsFilePiece = 64 * 1024;       // a file goes through TLS in these
constexpr std::size_t kSendfileMax = 1 << 30;
}  // namespace

void Transport::queueFile(std::shared_ptr<const http::OpenFile> file, std::uint64_t offset,
                          std::uint64_t length) {
  if (length == 0) return;
  if (!files_) files_ = std::make_unique<FileQueue>();
  files_->slices.push_back(FileSlice{std::move(file), offset, length, out_.size()});
  fileBytes_ += length;
}

ssize_t Transport::sendSome(const char* data, std::size_t size, bool more, SendEnd& end) {
  if (!tls_) {
    // MSG_MORE: a response head followed by a file leaves in the file's first packet.
    const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
    while (true) {
      const ssize_t n = ::send(fd_, data, size, flags);
      if (n > 0) return n;
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
        end = SendEnd::WaitWritable;
        return -1;
      }
      errno_ = errno;
      fileShrank_ = false;
      end = SendEnd::Failed;
      return -1;
    }
  }
  const TlsResult r = tls_->write(data, size);
  switch (r.status) {
    case TlsStatus::Ok:
      return static_cast<ssize_t>(r.bytes);
    case TlsStatus::WantWrite:
      end = SendEnd::WaitWritable;
      return -1;
    case TlsStatus::WantRead:
      // Writing must wait for bytes from the peer; the owner flushes on the next readable.
      writeWantsRead_ = true;
      end = SendEnd::WaitReadable;
      return -1;
    case TlsStatus::Closed:
    case TlsStatus::Failed:
      break;
  }
  errno_ = 0;
  fileShrank_ = false;
  end = SendEnd::Failed;
  return -1;
}

bool Transport::sendFile(FileSlice& slice, SendEnd& end) {
  if (!tls_) {
    while (slice.remaining > 0) {
      auto offset = static_cast<off_t>(slice.offset);
      const std::size_t count =
          static_cast<std::size_t>(std::min<std::uint64_t>(slice.remaining, kSendfileMax));
      const ssize_t n = ::sendfile(fd_, slice.file->fd(), &offset, count);
      if (n > 0) {
        const auto taken = static_cast<std::uint64_t>(n);
        slice.offset += taken;
        slice.remaining -= taken;
        fileBytes_ -= taken;
        sent_ += taken;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        end = SendEnd::WaitWritable;
        return false;
      }
      // n == 0: the file is shorter than announced (truncated while being sent). The
      // length is promised in the head: all the connection can do now is end.
      errno_ = n < 0 ? errno : 0;
      fileShrank_ = n == 0;
      end = SendEnd::Failed;
      return false;
    }
    return true;
  }
  // TLS encrypts in user space: the file goes through in bounded pieces, the next piece
  // read only once the socket took the last one (backpressure, never the whole file).
  while (true) {
    if (files_->tlsChunkHead == files_->tlsChunk.size()) {
      if (slice.remaining == 0) break;
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(slice.remaining, kTlsFilePiece));
      files_->tlsChunk.resize(want);
      const ssize_t n = ::pread(slice.file->fd(), files_->tlsChunk.data(), want,
                                static_cast<off_t>(slice.offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        files_->tlsChunk.clear();
        files_->tlsChunkHead = 0;
        errno_ = n < 0 ? errno : 0;
        fileShrank_ = n == 0;
        end = SendEnd::Failed;
        return false;
      }
      files_->tlsChunk.resize(static_cast<std::size_t>(n));
      files_->tlsChunkHead = 0;
      slice.offset += static_cast<std::uint64_t>(n);
      slice.remaining -= static_cast<std::uint64_t>(n);
    }
    const ssize_t n = sendSome(files_->tlsChunk.data() + files_->tlsChunkHead,
                               files_->tlsChunk.size() - files_->tlsChunkHead, false, end);
    if (n < 0) return false;
    files_->tlsChunkHead += static_cast<std::size_t>(n);
    fileBytes_ -= static_cast<std::uint64_t>(n);
    sent_ += static_cast<std::uint64_t>(n);
  }
  files_->tlsChunk.clear();
  files_->tlsChunkHead = 0;
  return true;
}

SendEnd Transport::flushGeneral() {
  SendEnd end = SendEnd::Done;
  while (true) {
    // The buffer up to the next file (all of it without one), then the file, and so on.
    const bool file = files_ && !files_->slices.empty();
    const std::size_t limit = file ? files_->slices.front().at : out_.size();
    if (outHead_ < limit) {
      const ssize_t n =
          sendSome(out_.data() + outHead_, limit - outHead_, limit < out_.size() || file, end);
      if (n < 0) break;
      outHead_ += static_cast<std::size_t>(n);
      sent_ += static_cast<std::uint64_t>(n);
      continue;
    }
    if (!file) break;
    if (!sendFile(files_->slices.front(), end)) break;
    files_->slices.erase(files_->slices.begin());
  }
  if (end != SendEnd::Failed) compact();
  return end;
}

void Transport::compact() noexcept {
  if (outHead_ == out_.size()) {
    if (files_) {
      for (FileSlice& slice : files_->slices)
        slice.at -= outHead_;
    }
    out_.clear();
    outHead_ = 0;
    wroteSinceTick_ = true;
    // A very large buffer goes at once; a moderate one stays while the connection is busy
    // (trimIdle() releases it once a tick passes without writes).
    if (out_.capacity() > kShrinkAbove) out_.shrink_to_fit();
  } else if (outHead_ > kCompactAbove && outHead_ * 2 > out_.size()) {
    if (files_) {
      for (FileSlice& slice : files_->slices)
        slice.at -= outHead_;
    }
    out_.erase(0, outHead_);
    outHead_ = 0;
  }
}

void Transport::trimIdle() {
  if (std::exchange(wroteSinceTick_, false)) return;
  // A whole tick without writes: the connection is idle, and most connections of a large
  // server are. Its buffer (the 101 response's, at least) goes back to malloc, so an idle
  // connection holds no output buffer at all (issue 10, memory per idle connection); a
  // busy one keeps its buffer from turn to turn and never reaches this.
  if (buffered() == 0 && out_.capacity() > std::string().capacity()) {
    std::string().swap(out_);
    outHead_ = 0;
  }
  if (files_ && files_->slices.empty()) files_.reset();
}

void Transport::discardOutput() noexcept {
  out_.clear();
  outHead_ = 0;
  files_.reset();
  fileBytes_ = 0;
}

void Transport::shutdownWrite() noexcept {
  if (tls_) tls_->shutdown();  // close_notify before the FIN
  ::shutdown(fd_, SHUT_WR);
}

std::string Transport::errorText() const {
  if (fileShrank_) return "the file shrank while being sent";
  if (errno_ != 0) return std::strerror(errno_);
  return tls_ ? "TLS: " + tls_->error() : std::string("unknown error");
}

}  // namespace aerie::net
