#include "worker.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <aerie/protocol/frame_writer.hpp>
#include <aerie/protocol/handshake.hpp>
#include <aerie/protocol/mask.hpp>
#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <random>

namespace aerie::bench {
namespace {

using protocol::Opcode;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kSetupTimeout = 60 * kSecond;
constexpr std::int64_t kDrainTimeout = 5 * kSecond;
constexpr std::size_t kMaxBurst = 4096;  // open loop: sends per wake-up before reading again
// The pattern is readable this far past a payload's end: small frames are masked in words.
constexpr std::size_t kPatternSlack = 8;

// Numbers travel in the payload as printable characters, 6 bits each ('0'..'o'), so text
// messages stay valid UTF-8.
void encode6(char* out, std::uint64_t value, int chars) {
  for (int i = 0; i < chars; ++i)
    out[i] = static_cast<char>('0' + ((value >> (6 * i)) & 63));
}

bool decode6(const char* in, int chars, std::uint64_t& value) {
  value = 0;
  for (int i = 0; i < chars; ++i) {
    const unsigned digit = static_cast<unsigned char>(in[i]) - '0';
    if (digit > 63) return false;
    value |= std::uint64_t{digit} << (6 * i);
  }
  return true;
}

constexpr int kSeqChars = 8;  // 48 bits

// The sequence number's 8 characters as one little-endian word (character i is byte i,
// the least significant 6 bits first, as encode6 writes them), so the hot path advances
// and compares it without re-encoding: adding 0xC0 to every digit makes a digit that
// passes 63 carry into the next byte, and the mask then drops the 0xC0 again.
static_assert(std::endian::native == std::endian::little, "sequence words are little-endian");
constexpr std::uint64_t kDigitZero = kFirstSeqWord;  // "0" in every byte
constexpr std::uint64_t nextSeqWord(std::uint64_t word) noexcept {
  const std::uint64_t carried = ((word - kDigitZero) | 0xC0C0C0C0C0C0C0C0) + 1;
  return (carried & 0x3F3F3F3F3F3F3F3F) + kDigitZero;
}
// What encode6(out, value, 8) writes, as a word.
constexpr std::uint64_t seqWordOf(std::uint64_t value) noexcept {
  std::uint64_t word = 0;
  for (int i = 0; i < 8; ++i)
    word |= (0x30 + ((value >> (6 * i)) & 63)) << (8 * i);
  return word;
}
constexpr bool nextSeqWordCounts(std::uint64_t from, std::uint64_t steps) noexcept {
  std::uint64_t word = seqWordOf(from);
  for (std::uint64_t v = from; v < from + steps; ++v, word = nextSeqWord(word))
    if (word != seqWordOf(v)) return false;
  return true;
}
static_assert(seqWordOf(0) == kDigitZero);
// Carries across one, two and all digits, and the wrap of the 48-bit number.
static_assert(nextSeqWordCounts(0, 5000) && nextSeqWordCounts(262'000, 300) &&
              nextSeqWordCounts((std::uint64_t{1} << 48) - 100, 99) &&
              nextSeqWord(seqWordOf((std::uint64_t{1} << 48) - 1)) == kDigitZero);

std::uint64_t loadWord(const char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

void storeWord(char* p, std::uint64_t word) noexcept {
  std::memcpy(p, &word, sizeof word);
}

// The number a sequence word spells (for error messages).
std::uint64_t decodeSeq(std::uint64_t word) noexcept {
  char text[kSeqChars];
  storeWord(text, word);
  std::uint64_t value = 0;
  decode6(text, kSeqChars, value);
  return value;
}

constexpr int kTimeChars = 11;
constexpr int kPublisherChars = 3;

bool startsWithNoCase(std::string_view s, std::string_view lowerPrefix) {
  if (s.size() < lowerPrefix.size()) return false;
  for (std::size_t i = 0; i < lowerPrefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != lowerPrefix[i]) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Worker::Worker(const Options& options, SharedState& shared, std::vector<int> ids, int threadIndex)
    : opt_(options), shared_(shared), threadIndex_(threadIndex) {
  conns_.resize(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    conns_[i].id = ids[i];
    conns_[i].publisher = opt_.mode == Mode::Broadcast && ids[i] < opt_.publishers;
  }
  opcode_ = opt_.binary ? Opcode::Binary : Opcode::Text;
  period_ = opt_.binary ? 251 : 26;
  headerSize_ = payloadHeaderSize(opt_.mode);
  pattern_.resize(opt_.size + period_ + kPatternSlack);
  for (std::size_t i = 0; i < pattern_.size(); ++i)
    pattern_[i] = opt_.binary ? static_cast<char>(i % 251) : static_cast<char>('a' + i % 26);
  std::random_device seed;
  maskState_ = (std::uint64_t{seed()} << 32 | seed()) | 1;
}

protocol::MaskKey Worker::nextMaskKey() {
  // xorshift64: a fresh key per frame for the price of three shifts.
  maskState_ ^= maskState_ << 13;
  maskState_ ^= maskState_ >> 7;
  maskState_ ^= maskState_ << 17;
  protocol::MaskKey key;
  std::memcpy(key.data(), &maskState_, key.size());
  return key;
}

bool Worker::resolve() {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(opt_.host.c_str(), opt_.port.c_str(), &hints, &res) != 0 || !res) return false;
  std::memcpy(&addr_, res->ai_addr, res->ai_addrlen);
  addrLen_ = res->ai_addrlen;
  freeaddrinfo(res);
  return true;
}

// ------------------------------------------------------------------ connection lifecycle

void Worker::startPending() {
  while (started_ < conns_.size() && pending_ < static_cast<std::size_t>(opt_.connectWindow))
    startConnecting(conns_[started_++]);
}

void Worker::startConnecting(Conn& c) {
  ++pending_;
  const int id = c.id;
  const bool publisher = c.publisher;
  c = Conn();
  c.id = id;
  c.publisher = publisher;
  c.state = State::Connecting;
  c.connectStartNs = nowNs();
  c.fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return fail(c, "socket", errno);
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr_), addrLen_) < 0 && errno != EINPROGRESS)
    return fail(c, "connect", errno);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = &c;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev) < 0) return fail(c, "epoll_ctl", errno);
}

void Worker::fail(Conn& c, const std::string& why, int err) {
  if (c.state == State::Closed || c.state == State::Unused) return;
  shared_.reportError(why + (err ? ": " + std::string(std::strerror(err)) : std::string()));
  if (c.state == State::Open || c.state == State::Closing) {
    --open_;
    shared_.openConnections.fetch_sub(1, std::memory_order_relaxed);
  } else {
    --pending_;
  }
  outstanding_ -= c.sentCount;
  c.sentCount = 0;
  c.state = State::Closed;
  if (c.fd >= 0) close(c.fd);  // also leaves the epoll set
  c.fd = -1;
  c.in.clear();
  c.out.clear();
  c.fragments.clear();
  if (restarting_) restartQueue_.push_back(&c);  // not here: a failing connect() would recurse
}

void Worker::onEvent(Conn& c, std::uint32_t events) {
  switch (c.state) {
    case State::Unused:
    case State::Closed:
      return;
    case State::Connecting:
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) onConnected(c);
      return;
    case State::Handshake:
      if ((events & EPOLLOUT) && !flush(c)) return;
      if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) onHandshakeData(c);
      return;
    case State::Open:
    case State::Closing:
      if ((events & EPOLLOUT) && !flush(c)) return;
      if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) onReadable(c);
      return;
  }
}

void Worker::onConnected(Conn& c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return fail(c, "connect", err);
  const std::string key = protocol::generateClientKey();
  c.expectedAccept = protocol::computeAcceptKey(key);
  protocol::ClientRequest request;
  request.target = opt_.target;
  request.host = opt_.hostHeader;
  request.key = key;
  c.out.append(protocol::buildClientRequestHead(request));
  c.state = State::Handshake;
  flush(c);
}

void Worker::onHandshakeData(Conn& c) {
  bool eof = false;
  for (;;) {
    const ssize_t n = recv(c.fd, readBuffer_.data(), readBuffer_.size(), 0);
    if (n > 0) {
      c.in.append(readBuffer_.data(), static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {
      eof = true;  // a refusal (503, 429...) is a response and then a close: read it first
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return fail(c, "recv", errno);
  }
  const std::size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (eof) return fail(c, "the server closed the connection during the handshake");
    if (c.in.size() > 16384) fail(c, "handshake response too large");
    return;
  }
  const std::string_view head(c.in.data(), end + 2);
  const std::size_t eol = head.find("\r\n");
  const std::string_view status = head.substr(0, eol);
  if (status.size() < 12 || !status.starts_with("HTTP/1.") || status.substr(8, 4) != " 101")
    return fail(c, "handshake status is not 101: " + std::string(status));
  bool accepted = false;
  for (std::size_t pos = eol + 2; pos < head.size();) {
    const std::size_t next = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, next - pos);
    pos = next + 2;
    if (startsWithNoCase(line, "sec-websocket-accept:"))
      accepted = trim(line.substr(21)) == c.expectedAccept;
  }
  if (!accepted) return fail(c, "wrong Sec-WebSocket-Accept");
  if (eof) return fail(c, "the server closed the connection right after the handshake");
  std::string early = c.in.substr(end + 4);
  c.in.clear();
  onOpened(c);
  if (!early.empty() && consume(c, early.data(), early.size())) flush(c);
}

void Worker::onOpened(Conn& c) {
  c.state = State::Open;
  --pending_;
  ++open_;
  ++result_.connected;
  shared_.openConnections.fetch_add(1, std::memory_order_relaxed);
  c.expectedAccept = std::string();
  now_ = nowNs();
  switch (opt_.mode) {
    case Mode::Echo:
      // A power of two, so the ring index is a mask instead of a division.
      c.sentAt.assign(
          std::bit_ceil(opt_.rate > 0 ? std::size_t{16} : static_cast<std::size_t>(opt_.inflight)),
          0);
      break;
    case Mode::Broadcast:
      c.nextSeqFrom.assign(static_cast<std::size_t>(opt_.publishers), 0);
      break;
    case Mode::Connect:
      record(now_ - c.connectStartNs, 0);
      beginClose(c);
      break;
    case Mode::Idle:
      break;
  }
  if (opt_.mode != Mode::Connect) startPending();
}

void Worker::beginClose(Conn& c) {
  const protocol::MaskKey key = nextMaskKey();
  std::string frame;
  protocol::appendCloseFrame(frame, 1000, {}, &key);
  c.out.append(frame);
  c.state = State::Closing;
  flush(c);
}

// The server answered our close frame and then closed TCP: the clean end of a connection.
void Worker::finishClose(Conn& c) {
  close(c.fd);
  c.fd = -1;
  c.state = State::Closed;
  --open_;
  shared_.openConnections.fetch_sub(1, std::memory_order_relaxed);
  if (restarting_) restartQueue_.push_back(&c);
}

// ------------------------------------------------------------------ data path

// Reads until the socket is drained, then sends what the frames produced in one go.
void Worker::onReadable(Conn& c) {
  for (;;) {
    const ssize_t n = recv(c.fd, readBuffer_.data(), readBuffer_.size(), 0);
    if (n > 0) {
      now_ = nowNs();
      if (!consume(c, readBuffer_.data(), static_cast<std::size_t>(n))) return;
      if (c.state == State::Closed) return;
      // A short read drained the stream (edge-triggered); while closing, read on to see
      // the server's FIN, which may already be queued behind its close frame.
      if (static_cast<std::size_t>(n) < readBuffer_.size() && c.state == State::Open) break;
      continue;
    }
    if (n == 0) {
      if (c.state == State::Closing && c.closeReceived) return finishClose(c);
      return fail(c, "the server closed TCP without a close handshake");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    return fail(c, "recv", errno);
  }
  flush(c);
}

bool Worker::consume(Conn& c, const char* data, std::size_t size) {
  if (c.in.empty()) {
    const long used = parse(c, data, size);
    if (used < 0) return false;
    c.in.assign(data + used, size - static_cast<std::size_t>(used));
  } else {
    c.in.append(data, size);
    const long used = parse(c, c.in.data(), c.in.size());
    if (used < 0) return false;
    c.in.erase(0, static_cast<std::size_t>(used));
  }
  return true;
}

// Flattened: the echo path (check, record, next message) is one function without calls but
// to memcmp.
[[gnu::flatten]] long Worker::parse(Conn& c, const char* p, std::size_t n) {
  std::size_t off = 0;
  protocol::FrameHeader h;
  // The frame nearly every read brings: FIN, no RSV bits, our opcode, unmasked, a 7-bit
  // length, outside a fragmented message. It goes straight to the message check.
  const auto plainFinal = static_cast<unsigned char>(0x80 | static_cast<unsigned>(opcode_));
  while (off < n) {
    if (n - off >= 2 && static_cast<unsigned char>(p[off]) == plainFinal &&
        static_cast<unsigned char>(p[off + 1]) <= protocol::kMax7BitLength && !c.inMessage) {
      const std::size_t len = static_cast<unsigned char>(p[off + 1]);
      if (n - off - 2 < len) break;
      if (!onMessage(c, plainFinal & 0x0F, p + off + 2, len)) return -1;
      off += 2 + len;
      continue;
    }
    const protocol::DecodeResult r = protocol::decodeFrameHeader(p + off, n - off, h);
    if (r.status == protocol::DecodeStatus::NeedMore) break;
    if (r.status == protocol::DecodeStatus::Error) return fail(c, std::string(r.error.reason)), -1;
    if (h.rsv1 || h.rsv2 || h.rsv3) return fail(c, "server frame with RSV bits set"), -1;
    if (h.masked) return fail(c, "masked server frame"), -1;
    if (h.payloadLength > (std::uint64_t{1} << 31)) return fail(c, "server frame too large"), -1;
    const auto len = static_cast<std::size_t>(h.payloadLength);
    if (n - off - r.headerSize < len) break;
    if (!onFrame(c, h, p + off + r.headerSize, len)) return -1;
    off += r.headerSize + len;
  }
  return static_cast<long>(off);
}

bool Worker::onFrame(Conn& c, const protocol::FrameHeader& h, const char* p, std::size_t n) {
  const auto op = static_cast<std::uint8_t>(h.opcode);
  if (protocol::isControl(h.opcode)) {
    if (!h.fin || n > 125) return fail(c, "bad control frame"), false;
    if (h.opcode == Opcode::Ping) {
      const protocol::MaskKey key = nextMaskKey();
      std::string pong;
      protocol::appendFrame(pong, Opcode::Pong, {p, n}, true, false, &key);
      c.out.append(pong);
      return true;
    }
    if (h.opcode == Opcode::Pong) return true;
    if (h.opcode == Opcode::Close) {
      if (c.state == State::Closing) {
        c.closeReceived = true;  // now wait for the server to close TCP
        return true;
      }
      return fail(c, "the server sent a close frame mid-run"), false;
    }
    return fail(c, "unknown control opcode " + std::to_string(op)), false;
  }
  if (h.opcode == Opcode::Continuation) {
    if (!c.inMessage) return fail(c, "continuation frame without a message"), false;
    c.fragments.append(p, n);
    if (!h.fin) return true;
    c.inMessage = false;
    const std::string message = std::move(c.fragments);
    c.fragments.clear();
    return onMessage(c, c.fragmentOpcode, message.data(), message.size());
  }
  if (h.opcode != Opcode::Text && h.opcode != Opcode::Binary)
    return fail(c, "unknown data opcode " + std::to_string(op)), false;
  if (c.inMessage) return fail(c, "new message inside a fragmented one"), false;
  if (h.fin) return onMessage(c, op, p, n);
  c.inMessage = true;
  c.fragmentOpcode = op;
  c.fragments.assign(p, n);
  return true;
}

bool Worker::onMessage(Conn& c, std::uint8_t opcode, const char* p, std::size_t n) {
  if (c.state == State::Closing) return true;  // late data after our close: not measured
  if (opcode != static_cast<std::uint8_t>(opcode_))
    return fail(c, "message has the wrong opcode " + std::to_string(opcode)), false;
  if (n != opt_.size)
    return fail(c, "message of " + std::to_string(n) + " bytes, expected " +
                       std::to_string(opt_.size)),
           false;
  switch (opt_.mode) {
    case Mode::Echo:
      return checkEcho(c, p, n);
    case Mode::Broadcast:
      return checkDelivery(c, p, n);
    default:
      return fail(c, "unexpected message"), false;
  }
}

bool Worker::checkEcho(Conn& c, const char* p, std::size_t n) {
  if (c.sentCount == 0) return fail(c, "unsolicited message"), false;
  const std::uint64_t seqWord = c.recvSeqWord;
  c.recvSeqWord = nextSeqWord(seqWord);
  const std::size_t phase = c.recvPhase;
  c.recvPhase = c.recvPhase + 1 == period_ ? 0 : c.recvPhase + 1;
  char header[kSeqChars];
  storeWord(header, seqWord);
  const std::size_t headerBytes = std::min(n, headerSize_);
  const bool headerMatches =
      headerBytes == kSeqChars ? loadWord(p) == seqWord : std::memcmp(p, header, headerBytes) == 0;
  if (!headerMatches ||
      std::memcmp(p + headerBytes, pattern_.data() + phase + headerBytes, n - headerBytes) != 0)
    return fail(c, "echo " + std::to_string(decodeSeq(seqWord)) + " differs from what was sent"),
           false;
  const std::int64_t sentAt = c.sentAt[c.sentHead];
  c.sentHead = (c.sentHead + 1) & (c.sentAt.size() - 1);
  --c.sentCount;
  --outstanding_;
  record(now_ - sentAt, n);
  if (sending_ && opt_.rate == 0) queueMessage(c, now_);
  return true;
}

bool Worker::checkDelivery(Conn& c, const char* p, std::size_t n) {
  std::uint64_t seq = 0, sentAt = 0, publisher = 0;
  if (!decode6(p, kSeqChars, seq) || !decode6(p + kSeqChars, kTimeChars, sentAt) ||
      !decode6(p + kSeqChars + kTimeChars, kPublisherChars, publisher) ||
      publisher >= c.nextSeqFrom.size())
    return fail(c, "broadcast message with a garbled header"), false;
  if (std::memcmp(p + headerSize_, pattern_.data() + seq % period_ + headerSize_,
                  n - headerSize_) != 0)
    return fail(c, "broadcast message " + std::to_string(seq) + " has a corrupted payload"), false;
  std::uint64_t& expected = c.nextSeqFrom[publisher];
  if (seq != expected)
    return fail(c, "broadcast from publisher " + std::to_string(publisher) + ": got message " +
                       std::to_string(seq) + ", expected " + std::to_string(expected)),
           false;
  ++expected;
  record(now_ - static_cast<std::int64_t>(sentAt), n);
  return true;
}

// Appends one masked frame; the payload starts with the sequence number (and in broadcast
// the intended send time and the publisher) followed by the shifted pattern. A payload of
// up to 125 bytes (one length byte) is masked a word at a time (the queue's slack) and
// written straight into the output queue; a larger one is masked while being copied there
// by protocol::encodeFrameHeader and applyMaskCopy. The small path writes its two header
// bytes and masks by hand because those calls (key rotation, length cases, the short-input
// steps) were a fifth of the echo path's instructions for 20-byte payloads (callgrind).
void Worker::queueMessage(Conn& c, std::int64_t intendedNs) {
  char header[kSeqChars + kTimeChars + kPublisherChars];
  storeWord(header, c.sendSeqWord);
  c.sendSeqWord = nextSeqWord(c.sendSeqWord);
  const std::size_t phase = c.sendPhase;
  c.sendPhase = c.sendPhase + 1 == period_ ? 0 : c.sendPhase + 1;
  if (opt_.mode == Mode::Broadcast) {
    encode6(header + kSeqChars, static_cast<std::uint64_t>(intendedNs), kTimeChars);
    encode6(header + kSeqChars + kTimeChars, static_cast<std::uint64_t>(c.id), kPublisherChars);
  }
  const std::size_t size = opt_.size;
  const std::size_t headerBytes = std::min(size, headerSize_);
  const char* pattern = pattern_.data() + phase;  // kPatternSlack bytes readable past size
  const protocol::MaskKey key = nextMaskKey();
  if (size <= protocol::kMax7BitLength) {
    static_assert(kPatternSlack <= OutputQueue::kSlack);
    char* frame = c.out.prepare(6 + size);
    frame[0] = static_cast<char>(0x80 | static_cast<unsigned>(opcode_));  // FIN
    frame[1] = static_cast<char>(0x80 | size);                            // MASK, length
    std::memcpy(frame + 2, key.data(), key.size());
    char* payload = frame + 6;
    std::uint32_t key32;
    std::memcpy(&key32, key.data(), sizeof key32);
    const std::uint64_t key64 = std::uint64_t{key32} << 32 | key32;  // byte i masks i % 4
    for (std::size_t i = 0; i < size; i += 8)
      storeWord(payload + i, loadWord(pattern + i) ^ key64);
    if (headerBytes == kSeqChars) {
      storeWord(payload, loadWord(header) ^ key64);
    } else {
      for (std::size_t i = 0; i < headerBytes; ++i)
        payload[i] = static_cast<char>(header[i] ^ static_cast<char>(key[i & 3]));
    }
    c.out.commit(6 + size);
  } else {
    protocol::FrameHeader h;
    h.opcode = opcode_;
    h.masked = true;
    h.maskKey = key;
    h.payloadLength = size;
    const std::size_t frameSize = protocol::frameHeaderSize(size, true) + size;
    char* out = c.out.prepare(frameSize);
    out += protocol::encodeFrameHeader(h, out);
    protocol::applyMaskCopy(out, header, headerBytes, key, 0);
    protocol::applyMaskCopy(out + headerBytes, pattern + headerBytes, size - headerBytes, key,
                            headerBytes);
    c.out.commit(frameSize);
  }
  if (opt_.mode == Mode::Echo) {
    const std::size_t ring = c.sentAt.size();  // a power of two
    if (c.sentCount == ring) {                 // open loop outran the server: grow the ring
      std::vector<std::int64_t> bigger(ring * 2);
      for (std::size_t i = 0; i < c.sentCount; ++i)
        bigger[i] = c.sentAt[(c.sentHead + i) & (ring - 1)];
      c.sentAt = std::move(bigger);
      c.sentHead = 0;
    }
    c.sentAt[(c.sentHead + c.sentCount) & (c.sentAt.size() - 1)] = intendedNs;
    ++c.sentCount;
    ++outstanding_;
  } else {
    shared_.published[static_cast<std::size_t>(c.id)].fetch_add(1, std::memory_order_relaxed);
  }
  if (intendedNs >= warmEndNs_ && intendedNs < endNs_) ++result_.sent;  // by schedule
}

void Worker::markDirty(Conn& c) {
  if (!c.dirty) {
    c.dirty = true;
    dirty_.push_back(&c);
  }
}

void Worker::flushDirty() {
  for (Conn* c : dirty_) {
    c->dirty = false;
    if (c->state == State::Open) flush(*c);
  }
  dirty_.clear();
}

// Sends queued bytes until done or the socket is full (EPOLLOUT resumes it).
bool Worker::flush(Conn& c) {
  while (!c.out.empty()) {
    const ssize_t n = send(c.fd, c.out.pending(), c.out.pendingSize(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out.consume(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    fail(c, "send", errno);
    return false;
  }
  return true;
}

// Waits with millisecond precision (epoll_wait) and only for a wait shorter than that with
// nanosecond precision (epoll_pwait2: the open loop's next send can be microseconds away).
// A millisecond wait rounds down, so the loop wakes early at worst and waits the rest.
void Worker::poll(std::int64_t timeoutNs) {
  constexpr std::int64_t kMillisecond = 1'000'000;
  epoll_event events[512];
  timeoutNs = std::max<std::int64_t>(timeoutNs, 0);
  int n = 0;
  if (timeoutNs == 0 || timeoutNs >= kMillisecond) {
    const auto ms = static_cast<int>(std::min<std::int64_t>(timeoutNs / kMillisecond, INT32_MAX));
    n = epoll_wait(epoll_, events, 512, ms);
  } else {
    const timespec timeout{0, static_cast<long>(timeoutNs)};
    n = epoll_pwait2(epoll_, events, 512, &timeout, nullptr);
  }
  for (int i = 0; i < n; ++i)
    onEvent(*static_cast<Conn*>(events[i].data.ptr), events[i].events);
}

// ------------------------------------------------------------------ pacing and bookkeeping

// Open loop: every message scheduled up to now goes out, stamped with its scheduled time,
// so a stall (in the server or in this thread) shows up in the latency of every message it
// delayed instead of silently lowering the send rate (coordinated omission).
void Worker::sendDue() {
  if (senders_.empty()) return;
  std::size_t burst = 0;
  for (;;) {
    const auto dueNs =
        scheduleStartNs_ + static_cast<std::int64_t>(double(scheduled_) * intervalNs_);
    if (dueNs > now_ || burst++ == kMaxBurst) break;
    ++scheduled_;
    Conn& c = *senders_[nextSender_];
    nextSender_ = (nextSender_ + 1) % senders_.size();
    if (c.state != State::Open) continue;
    queueMessage(c, dueNs);
    markDirty(c);
  }
  flushDirty();
}

// One histogram record per message: this second's latencies inside the measured window go
// to windowTickLatency_, the others to tickLatency_; publishSeconds() puts them together.
void Worker::record(std::int64_t latencyNs, std::size_t bytes) {
  ++tickMessages_;
  tickBytes_ += bytes;
  if (!inWindow()) return tickLatency_.record(latencyNs);
  windowTickLatency_.record(latencyNs);
  ++result_.messages;
  result_.bytes += bytes;
}

// Hands every second that ended to the timeline (the main thread prints it), and what of it
// was in the measured window to the result.
void Worker::publishSeconds() {
  while (now_ >= nextTickNs_) {
    takeWindowLatencies();
    shared_.timeline.add(tick_, tickMessages_, tickBytes_, tickLatency_);
    tickMessages_ = tickBytes_ = 0;
    tickLatency_.reset();
    ++tick_;
    nextTickNs_ = startNs_ + static_cast<std::int64_t>(tick_ + 1) * kSecond;
  }
}

void Worker::takeWindowLatencies() {
  result_.latency.merge(windowTickLatency_);
  tickLatency_.merge(windowTickLatency_);
  windowTickLatency_.reset();
}

// Stops sending, waits for what is in flight, then closes every connection with a close
// handshake (our close frame, the server's answer, the server's FIN).
void Worker::drainAndClose() {
  sending_ = false;
  restarting_ = false;
  shared_.sync.arrive_and_wait();  // every thread stopped: the published counts are final
  const std::int64_t deadline = nowNs() + kDrainTimeout;
  auto undelivered = [&] {
    std::uint64_t missing = 0;
    for (const Conn& c : conns_) {
      if (c.state != State::Open) continue;
      if (opt_.mode == Mode::Echo) missing += c.sentCount;
      if (opt_.mode == Mode::Broadcast)
        for (std::size_t p = 0; p < c.nextSeqFrom.size(); ++p) {
          if (c.publisher && static_cast<int>(p) == c.id) continue;  // no echo to the sender
          missing += shared_.published[p].load() - c.nextSeqFrom[p];
        }
    }
    return missing;
  };
  // connect mode: handshakes under way finish (and close) instead of being cut off.
  while ((undelivered() > 0 || pending_ > 0) && nowNs() < deadline)
    poll(10'000'000);
  now_ = nowNs();
  if (const std::uint64_t missing = undelivered(); missing > 0)
    shared_.reportError(std::to_string(missing) + " messages never arrived (" +
                        std::string(opt_.mode == Mode::Echo ? "echoes" : "deliveries") + ")");
  for (Conn& c : conns_)
    if (c.state == State::Open) beginClose(c);
  for (Conn& c : conns_)
    if (c.state == State::Connecting || c.state == State::Handshake)
      fail(c, "still connecting at the end");
  const std::int64_t closeDeadline = nowNs() + kDrainTimeout;
  while (open_ > 0 && nowNs() < closeDeadline)
    poll(10'000'000);
  for (Conn& c : conns_)
    if (c.state == State::Closing) fail(c, "no close handshake from the server within 5 s");
}

WorkerResult Worker::run() {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  const bool resolved = resolve();
  if (!resolved) shared_.reportError("cannot resolve " + opt_.host);

  // Setup: connect and handshake every connection (all modes but connect, whose load is
  // exactly that), at most --connect-window at a time.
  if (resolved && opt_.mode != Mode::Connect) {
    startPending();
    const std::int64_t deadline = nowNs() + kSetupTimeout;
    while ((pending_ > 0 || started_ < conns_.size()) && nowNs() < deadline) {
      poll(100'000'000);
      startPending();
    }
    for (Conn& c : conns_)
      if (c.state == State::Connecting || c.state == State::Handshake) fail(c, "handshake timeout");
  }
  shared_.sync.arrive_and_wait();  // every thread is connected: start together

  startNs_ = shared_.startNs.load();
  warmEndNs_ = startNs_ + static_cast<std::int64_t>(opt_.warmup * 1e9);
  endNs_ = warmEndNs_ + static_cast<std::int64_t>(opt_.duration * 1e9);
  nextTickNs_ = startNs_ + kSecond;
  now_ = nowNs();
  sending_ = true;

  if (resolved) switch (opt_.mode) {
      case Mode::Echo:
        if (opt_.rate == 0) {
          for (Conn& c : conns_) {
            if (c.state != State::Open) continue;
            for (int k = 0; k < opt_.inflight; ++k)
              queueMessage(c, now_);
            flush(c);
          }
          break;
        }
        [[fallthrough]];
      case Mode::Broadcast: {
        for (Conn& c : conns_)
          if (opt_.mode == Mode::Echo || c.publisher) senders_.push_back(&c);
        const int totalSenders = opt_.mode == Mode::Echo ? opt_.conns : opt_.publishers;
        if (!senders_.empty()) {
          const double threadRate = opt_.rate * double(senders_.size()) / double(totalSenders);
          intervalNs_ = 1e9 / threadRate;
          // Threads start a fraction of an interval apart instead of all at once.
          scheduleStartNs_ = startNs_ + static_cast<std::int64_t>(intervalNs_ * threadIndex_ /
                                                                  std::max(1, opt_.threads));
        }
        break;
      }
      case Mode::Connect:
        restarting_ = true;
        startPending();
        break;
      case Mode::Idle:
        break;
    }

  while (now_ < endNs_) {
    publishSeconds();
    if (!restartQueue_.empty()) {
      std::vector<Conn*> restart;
      restart.swap(restartQueue_);
      for (Conn* c : restart)
        startConnecting(*c);
    }
    if (!senders_.empty()) sendDue();
    std::int64_t wake = std::min(nextTickNs_, endNs_);
    if (!senders_.empty())
      wake = std::min(
          wake, scheduleStartNs_ + static_cast<std::int64_t>(double(scheduled_) * intervalNs_));
    poll(wake - now_);
    now_ = nowNs();
  }
  publishSeconds();
  drainAndClose();
  for (Conn& c : conns_)
    if (c.fd >= 0) close(c.fd);
  close(epoll_);
  takeWindowLatencies();  // the window's last, unfinished second
  return std::move(result_);
}

}  // namespace aerie::bench
