// uring_echo — the io_uring trial of issue 10: one minimal WebSocket echo server with two
// interchangeable I/O back ends, so that the back end is the only difference measured.
//
//   aerie-uring-echo --port 9016 --backend epoll|uring
//
// epoll:  the pattern aerie's worker uses today: epoll_wait, then per ready socket one
//         recv() into a per-thread buffer, the echoes appended to the connection's output,
//         one send() per connection at the end of the turn.
// uring:  one io_uring per process: a RECV kept pending on every connection, the echoes
//         of a turn's completions sent with SEND SQEs, everything submitted (and the next
//         completions waited for) by one io_uring_enter per turn.
//
// Both share the handshake and the framing (aerie::protocol: frame header decoder, unmasking,
// frame writer) in the frame handling below, which does what an echo needs and no more: masked
// client frames in, the same opcode back unmasked, pong for ping, close answered. It is a measuring
// tool, not a server: no limits, no fragmentation rules, no UTF-8 check (aerie's own costs are
// measured by aerie itself).
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aerie/protocol/frame_header.hpp"
#include "aerie/protocol/frame_writer.hpp"
#include "aerie/protocol/handshake.hpp"
#include "aerie/protocol/mask.hpp"

namespace {

struct Conn {
  int fd = -1;
  bool open = false;     // handshake done
  bool closing = false;  // close frame answered: drop after the send
  std::string in;        // bytes not yet consumed
  std::string out;       // bytes to send (epoll: this turn; uring: next SEND)
  std::string sending;   // uring: the buffer an in-flight SEND points into
  bool sendInFlight = false;
  bool recvInFlight = false;
  bool touched = false;             // uring: already in this turn's list
  std::unique_ptr<char[]> recvBuf;  // uring: a pending RECV's own buffer
};

constexpr std::size_t kRecvBuf = 64 * 1024;

// Consumes what it can from c.in; appends responses to c.out. False: drop the connection.
bool process(Conn& c) {
  std::size_t pos = 0;
  if (!c.open) {
    const std::size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) return c.in.size() < 8192;
    const std::string_view head(c.in.data(), end);
    const std::size_t k = head.find("Sec-WebSocket-Key:");
    if (k == std::string_view::npos) return false;
    std::size_t v = k + 18;
    while (v < head.size() && head[v] == ' ')
      ++v;
    const std::size_t eol = head.find("\r\n", v);
    const std::string key(head.substr(v, eol - v));
    c.out += aerie::protocol::buildAcceptResponseHead(aerie::protocol::computeAcceptKey(key));
    c.open = true;
    pos = end + 4;
  }
  // Framing through the protocol library, as aerie's server does it: the trial compares
  // I/O back ends, not framing code.
  char* p = c.in.data();
  const std::size_t n = c.in.size();
  while (pos < n) {
    aerie::protocol::FrameHeader header;
    const auto r = aerie::protocol::decodeFrameHeader(p + pos, n - pos, header);
    if (r.status == aerie::protocol::DecodeStatus::Error) return false;
    if (r.status == aerie::protocol::DecodeStatus::NeedMore) break;
    if (!header.masked) return false;  // clients mask
    if (n - pos - r.headerSize < header.payloadLength) break;
    const auto len = static_cast<std::size_t>(header.payloadLength);
    char* payload = p + pos + r.headerSize;
    const auto opcode = header.opcode;
    if (opcode != aerie::protocol::Opcode::Pong) {  // pongs are not answered
      aerie::protocol::applyMask(payload, len, header.maskKey);
      const auto reply =
          opcode == aerie::protocol::Opcode::Ping ? aerie::protocol::Opcode::Pong : opcode;
      aerie::protocol::appendFrame(c.out, reply, {payload, len}, true, false, nullptr);
    }
    pos += r.headerSize + len;
    if (opcode == aerie::protocol::Opcode::Close) {
      c.closing = true;
      break;
    }
  }
  c.in.erase(0, pos);
  return true;
}

int listenOn(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4096) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  return fd;
}

int acceptOne(int listener) {
  const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// ---- epoll -------------------------------------------------------------------------------

int runEpoll(int listener) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event lev{EPOLLIN, {.fd = listener}};
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &lev);
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<Conn*> dirty;
  std::vector<char> buf(kRecvBuf);
  epoll_event events[256];
  for (;;) {
    const int ready = ::epoll_wait(ep, events, 256, -1);
    for (int e = 0; e < ready; ++e) {
      const int fd = events[e].data.fd;
      if (fd == listener) {
        for (int cfd; (cfd = acceptOne(listener)) >= 0;) {
          if (conns.size() <= static_cast<std::size_t>(cfd)) conns.resize(cfd + 1);
          conns[cfd] = std::make_unique<Conn>();
          conns[cfd]->fd = cfd;
          epoll_event ev{EPOLLIN | EPOLLRDHUP, {.fd = cfd}};
          ::epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
        }
        continue;
      }
      Conn& c = *conns[fd];
      const ssize_t got = ::recv(fd, buf.data(), buf.size(), 0);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        c.closing = true;
        dirty.push_back(&c);
        continue;
      }
      c.in.append(buf.data(), static_cast<std::size_t>(got));
      if (!process(c)) c.closing = true;
      dirty.push_back(&c);
    }
    // End of turn: one send per connection with output (blocking sends are fine for a
    // measuring tool whose peer always reads).
    for (Conn* c : dirty) {
      std::size_t off = 0;
      while (off < c->out.size()) {
        const ssize_t s = ::send(c->fd, c->out.data() + off, c->out.size() - off, MSG_NOSIGNAL);
        if (s < 0 && errno == EAGAIN) {
          pollfd pf{c->fd, POLLOUT, 0};
          ::poll(&pf, 1, 1000);
          continue;
        }
        if (s <= 0) break;
        off += static_cast<std::size_t>(s);
      }
      c->out.clear();
      if (c->closing && c->fd >= 0) {
        const int fd = c->fd;
        c->fd = -1;
        ::close(fd);
        conns[fd].reset();
      }
    }
    dirty.clear();
  }
}

// ---- io_uring ----------------------------------------------------------------------------

enum : std::uint64_t { kAccept = 0, kRecv = 1, kSend = 2 };
std::uint64_t tag(int fd, std::uint64_t kind) {
  return (static_cast<std::uint64_t>(fd) << 2) | kind;
}

struct Uring {
  io_uring ring{};
  std::vector<std::unique_ptr<Conn>> conns;

  io_uring_sqe* sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    if (s == nullptr) {
      io_uring_submit(&ring);
      s = io_uring_get_sqe(&ring);
    }
    return s;
  }
  void armRecv(Conn& c) {
    io_uring_sqe* s = sqe();
    io_uring_prep_recv(s, c.fd, c.recvBuf.get(), kRecvBuf, 0);
    io_uring_sqe_set_data64(s, tag(c.fd, kRecv));
    c.recvInFlight = true;
  }
  void startSend(Conn& c) {
    if (c.sendInFlight || c.out.empty()) return;
    c.sending.swap(c.out);
    c.out.clear();
    io_uring_sqe* s = sqe();
    io_uring_prep_send(s, c.fd, c.sending.data(), c.sending.size(), MSG_NOSIGNAL);
    io_uring_sqe_set_data64(s, tag(c.fd, kSend));
    c.sendInFlight = true;
  }
  void maybeDrop(Conn& c) {
    if (!c.closing || c.sendInFlight || c.recvInFlight || !c.out.empty()) return;
    const int fd = c.fd;
    ::close(fd);
    conns[fd].reset();
  }
};

int runUring(int listener) {
  Uring u;
  std::vector<Conn*> touched;
  const auto touch = [&touched](Conn& c) {
    if (!std::exchange(c.touched, true)) touched.push_back(&c);
  };
  io_uring_params params{};
  params.flags =
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN;
  int rc = io_uring_queue_init_params(4096, &u.ring, &params);
  if (rc < 0) {
    params.flags = 0;
    rc = io_uring_queue_init_params(4096, &u.ring, &params);
  }
  if (rc < 0) {
    std::fprintf(stderr, "io_uring_queue_init: %s\n", std::strerror(-rc));
    return 1;
  }
  io_uring_sqe* s = u.sqe();
  io_uring_prep_multishot_accept(s, listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  io_uring_sqe_set_data64(s, tag(listener, kAccept));
  for (;;) {
    io_uring_submit_and_wait(&u.ring, 1);
    io_uring_cqe* cqe;
    unsigned head, seen = 0;
    touched.clear();
    io_uring_for_each_cqe(&u.ring, head, cqe) {
      ++seen;
      const std::uint64_t data = io_uring_cqe_get_data64(cqe);
      const int fd = static_cast<int>(data >> 2);
      const int res = cqe->res;
      switch (data & 3) {
        case kAccept: {
          if (res >= 0) {
            const int one = 1;
            ::setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (u.conns.size() <= static_cast<std::size_t>(res)) u.conns.resize(res + 1);
            auto c = std::make_unique<Conn>();
            c->fd = res;
            c->recvBuf.reset(new char[kRecvBuf]);
            u.armRecv(*c);
            u.conns[res] = std::move(c);
          }
          if ((cqe->flags & IORING_CQE_F_MORE) == 0) {
            io_uring_sqe* a = u.sqe();
            io_uring_prep_multishot_accept(a, listener, nullptr, nullptr,
                                           SOCK_NONBLOCK | SOCK_CLOEXEC);
            io_uring_sqe_set_data64(a, tag(listener, kAccept));
          }
          break;
        }
        case kRecv: {
          Conn& c = *u.conns[fd];
          c.recvInFlight = false;
          if (res <= 0 || c.closing) {
            c.closing = true;
          } else {
            c.in.append(c.recvBuf.get(), static_cast<std::size_t>(res));
            if (!process(c)) c.closing = true;
            if (!c.closing) u.armRecv(c);
          }
          touch(c);
          break;
        }
        case kSend: {
          Conn& c = *u.conns[fd];
          c.sendInFlight = false;
          if (res < 0) {
            c.closing = true;
            c.out.clear();
          } else if (static_cast<std::size_t>(res) < c.sending.size()) {
            c.out.insert(0, c.sending, static_cast<std::size_t>(res));  // the rest goes first
          }
          touch(c);
          break;
        }
      }
    }
    io_uring_cq_advance(&u.ring, seen);
    // End of turn: one SEND per connection with output, submitted with the next wait.
    for (Conn* c : touched) {
      c->touched = false;
      u.startSend(*c);
      u.maybeDrop(*c);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = 9016;
  std::string backend = "epoll";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--port")
      port = std::atoi(argv[i + 1]);
    else if (flag == "--backend")
      backend = argv[i + 1];
  }
  std::signal(SIGPIPE, SIG_IGN);
  const int listener = listenOn(port);
  if (backend == "uring") return runUring(listener);
  if (backend == "epoll") return runEpoll(listener);
  std::fprintf(stderr, "uring_echo: --backend epoll|uring\n");
  return 2;
}
