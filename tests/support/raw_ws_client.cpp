#include "support/raw_ws_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "aerie/protocol/frame_header.hpp"
#include "aerie/protocol/mask.hpp"

namespace aerie::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// A fresh, non-zero masking key per frame (deterministic; RFC-grade randomness is the
/// client library's job, here it only has to change the bytes on the wire).
protocol::MaskKey nextMaskKey() {
  static std::atomic<std::uint32_t> counter{0x9E3779B9u};
  std::uint32_t x = counter.fetch_add(0x6D2B79F5u, std::memory_order_relaxed);
  x ^= x >> 15;
  x *= 0x2C1B3C6Du;
  x ^= x >> 12;
  x |= 0x01010101u;  // no zero byte: masking must really change every byte
  return {static_cast<std::uint8_t>(x), static_cast<std::uint8_t>(x >> 8),
          static_cast<std::uint8_t>(x >> 16), static_cast<std::uint8_t>(x >> 24)};
}

int remainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

}  // namespace

std::uint16_t RawFrame::closeCode() const noexcept {
  if (payload.empty()) return 1005;
  if (payload.size() < 2) return 0;
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                    static_cast<std::uint8_t>(payload[1]));
}

std::string_view RawFrame::closeReason() const noexcept {
  if (payload.size() <= 2) return {};
  return std::string_view(payload).substr(2);
}

std::string HttpReply::header(std::string_view name) const {
  const std::string key = lower(name);
  for (const auto& [n, v] : headers) {
    if (n == key) return v;
  }
  return {};
}

bool HttpReply::hasHeader(std::string_view name) const {
  const std::string key = lower(name);
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return h.first == key; });
}

RawWsClient::RawWsClient(std::uint16_t port, int receiveBuffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (receiveBuffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(std::string("connect: ") + std::strerror(err));
  }
}

RawWsClient::~RawWsClient() {
  if (fd_ >= 0) ::close(fd_);
}

std::string RawWsClient::upgradeRequest(std::string_view path, std::string_view extraHeaders) {
  std::string request = "GET ";
  request.append(path);
  request.append(
      " HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: ");
  request.append(kKey);
  request.append("\r\nSec-WebSocket-Version: 13\r\n");
  request.append(extraHeaders);
  request.append("\r\n");
  return request;
}

bool RawWsClient::handshake(std::string_view path, std::chrono::milliseconds timeout) {
  sendRaw(upgradeRequest(path));
  const auto reply = readHttpReply(timeout);
  return reply && reply->status == 101 && reply->header("sec-websocket-accept") == kAccept &&
         lower(reply->header("upgrade")) == "websocket" &&
         lower(reply->header("connection")).find("upgrade") != std::string::npos;
}

std::optional<HttpReply> RawWsClient::readHttpReply(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::size_t end = std::string::npos;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill(deadline)) return std::nullopt;
  }
  const std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);

  HttpReply reply;
  std::size_t lineEnd = head.find("\r\n");
  const std::string statusLine = head.substr(0, lineEnd);
  if (statusLine.size() < 12 || statusLine.compare(0, 5, "HTTP/") != 0) return std::nullopt;
  reply.status = std::atoi(statusLine.c_str() + 9);
  while (lineEnd != std::string::npos) {
    const std::size_t start = lineEnd + 2;
    lineEnd = head.find("\r\n", start);
    const std::string line =
        head.substr(start, lineEnd == std::string::npos ? std::string::npos : lineEnd - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t") + 1);
    reply.headers.emplace_back(lower(line.substr(0, colon)), std::move(value));
  }

  const bool mayHaveBody = reply.status >= 200 && reply.status != 204 && reply.status != 304;
  if (!mayHaveBody) return reply;
  if (reply.hasHeader("content-length")) {
    const auto length = static_cast<std::size_t>(std::stoull(reply.header("content-length")));
    while (buffer_.size() < length) {
      if (!fill(deadline)) return std::nullopt;
    }
    reply.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return reply;
  }
  while (fill(deadline)) {
  }
  if (!eof_) return std::nullopt;
  reply.body = std::move(buffer_);
  buffer_.clear();
  return reply;
}

std::string RawWsClient::encode(const FrameSpec& spec) {
  protocol::FrameHeader header;
  header.fin = spec.fin;
  header.rsv1 = spec.rsv1;
  header.rsv2 = spec.rsv2;
  header.rsv3 = spec.rsv3;
  header.opcode = static_cast<protocol::Opcode>(spec.opcode & 0x0F);
  header.masked = spec.mask;
  if (spec.mask) header.maskKey = nextMaskKey();
  header.payloadLength = spec.payload.size();
  std::string out(protocol::frameHeaderSize(spec.payload.size(), spec.mask), '\0');
  protocol::encodeFrameHeader(header, out.data());
  const std::size_t headerSize = out.size();
  out.append(spec.payload);
  if (spec.mask && !spec.payload.empty()) {
    protocol::applyMask(out.data() + headerSize, spec.payload.size(), header.maskKey);
  }
  return out;
}

std::string RawWsClient::closePayload(std::uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return payload;
}

void RawWsClient::sendRaw(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void RawWsClient::sendRawSplit(std::string_view bytes, std::size_t pieceSize,
                               std::chrono::milliseconds pause) {
  pieceSize = std::max<std::size_t>(pieceSize, 1);
  while (!bytes.empty()) {
    const std::size_t n = std::min(pieceSize, bytes.size());
    sendRaw(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (pause.count() > 0 && !bytes.empty()) std::this_thread::sleep_for(pause);
  }
}

void RawWsClient::sendText(std::string_view text, bool fin) {
  sendFrame({.opcode = 0x1, .payload = std::string(text), .fin = fin});
}

void RawWsClient::sendBinary(std::string_view data, bool fin) {
  sendFrame({.opcode = 0x2, .payload = std::string(data), .fin = fin});
}

void RawWsClient::sendContinuation(std::string_view data, bool fin) {
  sendFrame({.opcode = 0x0, .payload = std::string(data), .fin = fin});
}

void RawWsClient::sendPing(std::string_view payload) {
  sendFrame({.opcode = 0x9, .payload = std::string(payload)});
}

void RawWsClient::sendPong(std::string_view payload) {
  sendFrame({.opcode = 0xA, .payload = std::string(payload)});
}

void RawWsClient::sendClose(std::uint16_t code, std::string_view reason) {
  sendFrame({.opcode = 0x8, .payload = closePayload(code, reason)});
}

void RawWsClient::sendEmptyClose() {
  FrameSpec spec;
  spec.opcode = 0x8;
  sendFrame(spec);
}

bool RawWsClient::fill(Clock::time_point deadline) {
  if (eof_) return false;
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, remainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;  // timeout
    char chunk[64 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    eof_ = true;  // 0: orderly EOF; <0: reset or other failure, also the end
    return false;
  }
}

std::optional<RawFrame> RawWsClient::readFrame(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    protocol::FrameHeader header;
    const protocol::DecodeResult decoded =
        protocol::decodeFrameHeader(buffer_.data(), buffer_.size(), header);
    if (decoded.status == protocol::DecodeStatus::Error) {
      throw std::runtime_error("the server sent an undecodable frame header");
    }
    if (decoded.status == protocol::DecodeStatus::Ok &&
        buffer_.size() - decoded.headerSize >= header.payloadLength) {
      RawFrame frame;
      frame.fin = header.fin;
      frame.rsv1 = header.rsv1;
      frame.rsv2 = header.rsv2;
      frame.rsv3 = header.rsv3;
      frame.opcode = static_cast<std::uint8_t>(header.opcode);
      frame.masked = header.masked;
      const auto length = static_cast<std::size_t>(header.payloadLength);
      frame.payload = buffer_.substr(decoded.headerSize, length);
      if (header.masked && length != 0) {
        protocol::applyMask(frame.payload.data(), length, header.maskKey);
      }
      buffer_.erase(0, decoded.headerSize + length);
      return frame;
    }
    if (!fill(deadline)) return std::nullopt;
  }
}

std::optional<RawMessage> RawWsClient::readMessage(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::optional<RawMessage> message;
  while (true) {
    auto frame = readFrame(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::max(Clock::duration::zero(), deadline - Clock::now())));
    if (!frame) return std::nullopt;
    switch (frame->opcode) {
      case 0x8:
        lastClose_ = std::move(frame);
        return std::nullopt;
      case 0x9:
        sendPong(frame->payload);
        continue;
      case 0xA:
        continue;
      case 0x1:
      case 0x2:
        message.emplace();
        message->opcode = frame->opcode;
        break;
      default:
        if (!message) continue;  // a stray continuation: nothing to attach it to
        break;
    }
    message->payload.append(frame->payload);
    ++message->frames;
    if (frame->fin) return message;
  }
}

std::optional<RawFrame> RawWsClient::readClose(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    auto frame = readFrame(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::max(Clock::duration::zero(), deadline - Clock::now())));
    if (!frame) return std::nullopt;
    if (frame->isClose()) {
      lastClose_ = frame;
      return frame;
    }
    if (frame->opcode < 0x8) ++skipped_;
  }
}

bool RawWsClient::waitForEof(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  buffer_.clear();
  while (fill(deadline))
    buffer_.clear();
  return eof_;
}

void RawWsClient::shutdownWrite() {
  ::shutdown(fd_, SHUT_WR);
}

void RawWsClient::closeSocket(bool reset) {
  if (fd_ < 0) return;
  if (reset) {
    linger option{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  }
  ::close(fd_);
  fd_ = -1;
  eof_ = true;
}

}  // namespace aerie::test
