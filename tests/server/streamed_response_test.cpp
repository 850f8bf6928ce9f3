// Response::write()/end(): chunked transfer encoding for HTTP/1.1, identity with a
// Content-Length, close-delimited for HTTP/1.0, headers only for HEAD, keep-alive after a
// streamed response, backpressure while the client does not read, and a responder that
// learns the client left.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "aerie/aerie.hpp"
#include "support/test_server.hpp"

namespace aerie::test {
namespace {

using namespace std::chrono_literals;

struct Counters {
  std::atomic<std::uint64_t> written{0};
  std::atomic<bool> sawClientGone{false};
  std::atomic<bool> done{false};
};

class StreamingServer {
 public:
  StreamingServer() {
    counters_ = std::make_shared<Counters>();
    auto counters = counters_;
    Router router;
    router.get("/chunks", [](http::Request&, http::Response& res) -> Task<> {
      res.setHeader("Content-Type", "text/plain");
      co_await res.write("alpha,");
      co_await res.write("");  // an empty write sends nothing (no terminating chunk)
      co_await res.write("beta,");
      co_await res.end("gamma");
    });
    router.get("/sized", [](http::Request&, http::Response& res) -> Task<> {
      res.setHeader("Content-Length", "10");
      co_await res.write("01234");
      co_await res.write("56789");  // no end(): returning ends the body
    });
    router.get("/big", [counters](http::Request& req, http::Response& res) -> Task<> {
      const std::size_t mebibytes = std::stoul(std::string(req.queryParam("mib")));
      const std::string chunk(64 * 1024, 'z');
      try {
        for (std::size_t i = 0; i < mebibytes * 16; ++i) {
          co_await res.write(chunk);
          counters->written += chunk.size();
        }
        co_await res.end();
      } catch (const std::runtime_error&) {
        counters->sawClientGone = true;
      }
      counters->done = true;
    });
    Host host;
    host.expose("127.0.0.1", 0).use(router);
    ServerOptions options;
    options.workers = 1;
    options.handleSignals = false;
    server_ = std::make_unique<Server>(std::move(host), options);
    server_->start();
    port_ = boundPort(*server_);
  }
  ~StreamingServer() { server_->stop(); }
  std::uint16_t port() const { return port_; }
  Counters& counters() { return *counters_; }

 private:
  std::shared_ptr<Counters> counters_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

int connectTo(std::uint16_t port, int receiveBuffer = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (receiveBuffer > 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return fd;
}

void sendAll(int fd, const std::string& data) {
  ASSERT_EQ(::send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
}

/// Reads until `done(buffer)` holds or the peer closes; returns what arrived.
template <class Done>
std::string readUntil(int fd, Done done) {
  std::string buffer;
  char chunk[65536];
  while (!done(buffer)) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  return buffer;
}

TEST(StreamedResponse, ChunkedForHttp11AndTheConnectionStaysOpen) {
  StreamingServer server;
  const int fd = connectTo(server.port());
  sendAll(fd, "GET /chunks HTTP/1.1\r\nHost: x\r\n\r\nGET /chunks HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string body = "6\r\nalpha,\r\n5\r\nbeta,\r\n5\r\ngamma\r\n0\r\n\r\n";
  const std::string both = readUntil(fd, [&](const std::string& b) {
    return b.find(body, b.find(body) + 1) != std::string::npos;
  });
  ::close(fd);
  EXPECT_EQ(both.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << both;
  EXPECT_NE(both.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << both;
  EXPECT_EQ(both.find("Content-Length"), std::string::npos) << both;
  EXPECT_EQ(both.find("Connection: close"), std::string::npos) << both;
  const std::size_t first = both.find(body);
  ASSERT_NE(first, std::string::npos) << both;
  EXPECT_NE(both.find("HTTP/1.1 200 OK", first), std::string::npos) << "the pipelined second";
}

TEST(StreamedResponse, IdentityWithContentLengthAndCloseDelimitedForHttp10) {
  StreamingServer server;
  int fd = connectTo(server.port());
  sendAll(fd, "GET /sized HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string sized = readUntil(fd, [](const std::string& b) { return b.ends_with("0123456789"); });
  ::close(fd);
  EXPECT_NE(sized.find("Content-Length: 10\r\n"), std::string::npos) << sized;
  EXPECT_EQ(sized.find("chunked"), std::string::npos) << sized;

  fd = connectTo(server.port());
  sendAll(fd, "GET /chunks HTTP/1.0\r\n\r\n");
  const std::string old = readUntil(fd, [](const std::string&) { return false; });  // to EOF
  ::close(fd);
  EXPECT_NE(old.find("Connection: close\r\n"), std::string::npos) << old;
  EXPECT_EQ(old.find("chunked"), std::string::npos) << old;
  EXPECT_TRUE(old.ends_with("\r\n\r\nalpha,beta,gamma")) << old;
}

TEST(StreamedResponse, HeadGetsTheHeadersOnly) {
  StreamingServer server;
  const int fd = connectTo(server.port());
  sendAll(fd, "HEAD /chunks HTTP/1.1\r\nHost: x\r\n\r\nGET /sized HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string out =
      readUntil(fd, [](const std::string& b) { return b.ends_with("0123456789"); });
  ::close(fd);
  const std::size_t second = out.find("HTTP/1.1 200", 1);
  ASSERT_NE(second, std::string::npos) << out;
  const std::string head = out.substr(0, second);
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << "no body bytes after the HEAD response: " << head;
  EXPECT_EQ(head.find("alpha"), std::string::npos) << head;
}

TEST(StreamedResponse, ASlowReaderSuspendsTheResponderAndGetsEverything) {
  StreamingServer server;
  const int fd = connectTo(server.port(), 64 * 1024);
  sendAll(fd, "GET /big?mib=64 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(1s);  // not reading: the server must stop producing
  const std::uint64_t writtenWhileStalled = server.counters().written.load();
  EXPECT_LT(writtenWhileStalled, 16u * 1024 * 1024)
      << "the responder kept producing while nothing was read";
  std::uint64_t total = 0;
  std::string tail;
  char chunk[65536];
  while (true) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    total += static_cast<std::uint64_t>(n);
    tail.append(chunk, static_cast<std::size_t>(n));
    if (tail.size() > 16) tail.erase(0, tail.size() - 16);
    if (tail.ends_with("\r\n0\r\n\r\n")) break;
  }
  ::close(fd);
  EXPECT_GT(total, 64u * 1024 * 1024) << "the whole body (plus chunk framing)";
  EXPECT_TRUE(server.counters().done.load());
  EXPECT_FALSE(server.counters().sawClientGone.load());
}

TEST(StreamedResponse, TheResponderLearnsThatTheClientLeft) {
  StreamingServer server;
  const int fd = connectTo(server.port(), 64 * 1024);
  sendAll(fd, "GET /big?mib=1024 HTTP/1.1\r\nHost: x\r\n\r\n");
  char chunk[4096];
  ASSERT_GT(::recv(fd, chunk, sizeof chunk, 0), 0);
  ::close(fd);
  for (int i = 0; i < 100 && !server.counters().done.load(); ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(server.counters().done.load());
  EXPECT_TRUE(server.counters().sawClientGone.load());
  EXPECT_LT(server.counters().written.load(), 1024ull * 1024 * 1024);
}

}  // namespace
}  // namespace aerie::test
