// Request bodies read on demand: Request::read() hands out chunks as they arrive (Content-
// Length and chunked), body() buffers, the socket is not read while the responder does not
// ask (backpressure), per-route limits (413 early for a declared Content-Length, late for
// a chunked body), 100 Continue only when the body is read, and an unread body discarded
// so that the next pipelined request is answered (or the connection closed if too long).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "aerie/aerie.hpp"
#include "support/raw_http_client.hpp"
#include "support/test_server.hpp"

namespace aerie::test {
namespace {

using namespace std::chrono_literals;

struct Shared {
  std::atomic<int> reads{0};        // read() calls that returned a chunk
  std::atomic<int> ignoredRuns{0};  // /tiny responder runs
  std::atomic<int> bodyErrorStatus{0};
  std::atomic<bool> release{false};  // /held starts reading once set
};

class BodyServer {
 public:
  explicit BodyServer(std::chrono::milliseconds headerTimeout = 10s) {
    shared_ = std::make_shared<Shared>();
    auto shared = shared_;
    // Echoes the body, read piece by piece; X-Reads: how many pieces.
    const Responder echo = [shared](http::Request& req, http::Response& res) -> Task<> {
      std::string all;
      int reads = 0;
      while (std::optional<std::string> chunk = co_await req.read()) {
        EXPECT_FALSE(chunk->empty());
        all += *chunk;
        ++reads;
        ++shared->reads;
      }
      res.setHeader("X-Reads", std::to_string(reads));
      co_await res.send(std::move(all));
    };
    RouteOptions large;
    large.maxBodySize = 128 * 1024 * 1024;
    RouteOptions tiny;
    tiny.maxBodySize = 100;
    router_.post("/echo", echo, large);
    router_.post("/default", [](http::Request& req, http::Response& res) -> Task<> {
      std::string body = co_await req.body();
      co_await res.send("got " + std::to_string(body.size()));
    });
    router_.post(
        "/tiny",
        [shared](http::Request& req, http::Response& res) -> Task<> {
          ++shared->ignoredRuns;
          try {
            std::string body = co_await req.body();
            co_await res.send("got " + std::to_string(body.size()));
          } catch (const http::BodyError& e) {
            shared->bodyErrorStatus = e.status();
            throw;
          }
        },
        tiny);
    // Answers without reading the body.
    router_.post("/ignore", [](http::Request&, http::Response& res) -> Task<> {
      co_await res.send("ignored");
    });
    router_.post(
        "/ignore-large",
        [](http::Request&, http::Response& res) -> Task<> { co_await res.send("ignored"); }, large);
    router_.post("/refuse", [](http::Request&, http::Response& res) -> Task<> {
      res.setStatus(401);
      co_await res.send("who are you?");
    });
    // Waits until the test releases it, then counts the body.
    router_.post(
        "/held",
        [shared](http::Request& req, http::Response& res) -> Task<> {
          while (!shared->release)
            co_await delay(5ms);
          std::uint64_t bytes = 0;
          while (std::optional<std::string> chunk = co_await req.read())
            bytes += chunk->size();
          co_await res.send("bytes=" + std::to_string(bytes));
        },
        large);
    router_.get("/hello",
                [](http::Request&, http::Response& res) -> Task<> { co_await res.send("hello"); });
    Host host;
    host.expose("127.0.0.1", 0).use(router_);
    ServerOptions options;
    options.workers = 1;
    options.handleSignals = false;
    options.headerTimeout = headerTimeout;
    server_ = std::make_unique<Server>(std::move(host), options);
    server_->start();
    port_ = boundPort(*server_);
  }
  ~BodyServer() { server_->stop(); }

  std::uint16_t port() const { return port_; }
  Shared& shared() { return *shared_; }

 private:
  Router router_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::shared_ptr<Shared> shared_;
};

using HttpResponse = RawHttpResponse;
using Client = RawHttpClient;

std::string post(const std::string& path, const std::string& headers, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + headers + "\r\n" + body;
}

std::string withLength(const std::string& path, const std::string& body,
                       const std::string& extra = {}) {
  return post(path, "Content-Length: " + std::to_string(body.size()) + "\r\n" + extra, body);
}

std::string chunk(const std::string& data) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

std::string pattern(std::size_t size) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    data[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return data;
}

bool waitFor(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

TEST(RequestBody, ChunkedUploadIsReadInPiecesAsTheyArrive) {
  BodyServer server;
  Client client(server.port());
  client.send(post("/echo", "Transfer-Encoding: chunked\r\n", chunk("first;")));
  // The responder runs on the head and gets the first piece before the rest is sent.
  ASSERT_TRUE(waitFor([&] { return server.shared().reads >= 1; }));
  client.send(chunk("second;") + chunk("third"));
  ASSERT_TRUE(waitFor([&] { return server.shared().reads >= 2; }));
  client.send("0\r\nX-Trailer: t\r\n\r\n");
  HttpResponse response = client.read();
  EXPECT_EQ(response.status, 200) << response.head;
  EXPECT_EQ(response.body, "first;second;third");
  EXPECT_GE(std::stoi(response.head.substr(response.head.find("X-Reads: ") + 9)), 2);
  // Keep-alive after a streamed-in body.
  client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, "hello");
}

TEST(RequestBody, ContentLengthUploadAboveTheServerLimitOnARouteThatAllowsIt) {
  BodyServer server;
  Client client(server.port());
  const std::string body = pattern(3 * 1024 * 1024 + 17);  // ServerOptions: 128 KiB
  client.send(withLength("/echo", body) + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  HttpResponse response = client.read();
  EXPECT_EQ(response.status, 200) << response.head;
  EXPECT_TRUE(response.body == body) << "echoed " << response.body.size() << " bytes";
  EXPECT_EQ(client.read().body, "hello");
}

TEST(RequestBody, ServerLimitAppliesToRoutesWithoutTheirOwn) {
  BodyServer server;
  {
    Client client(server.port());
    client.send(withLength("/default", pattern(1000)));
    EXPECT_EQ(client.read().body, "got 1000");
  }
  Client client(server.port());
  // Declared over 128 KiB: 413 before any body byte is sent, then the connection closes.
  client.send(post("/default", "Content-Length: 200000\r\n", ""));
  HttpResponse response = client.read();
  EXPECT_EQ(response.status, 413) << response.head;
  EXPECT_TRUE(response.has("Connection: close")) << response.head;
  EXPECT_TRUE(client.closedByServer());
}

TEST(RequestBody, RouteLimitEarlyForContentLengthWithoutRunningTheResponder) {
  BodyServer server;
  Client client(server.port());
  client.send(post("/tiny", "Content-Length: 1000\r\nExpect: 100-continue\r\n", ""));
  HttpResponse response = client.read();
  EXPECT_EQ(response.status, 413) << response.head;  // no 100 Continue before it
  EXPECT_TRUE(client.closedByServer());
  EXPECT_EQ(server.shared().ignoredRuns, 0);

  Client within(server.port());
  within.send(withLength("/tiny", std::string(100, 'x')));
  EXPECT_EQ(within.read().body, "got 100");
}

TEST(RequestBody, RouteLimitLateForChunkedBodyThrowsBodyErrorAnd413) {
  BodyServer server;
  Client client(server.port());
  client.send(post("/tiny", "Transfer-Encoding: chunked\r\n",
                   chunk(std::string(60, 'a')) + chunk(std::string(60, 'b'))));
  HttpResponse response = client.read();
  EXPECT_EQ(response.status, 413) << response.head;
  EXPECT_TRUE(response.has("Connection: close")) << response.head;
  EXPECT_TRUE(client.closedByServer());
  EXPECT_EQ(server.shared().bodyErrorStatus, 413);
}

TEST(RequestBody, ContinueIsSentOnlyWhenTheResponderReadsTheBody) {
  BodyServer server;
  Client client(server.port());
  client.send(post("/echo", "Content-Length: 11\r\nExpect: 100-continue\r\n", ""));
  HttpResponse interim = client.read();
  EXPECT_EQ(interim.status, 100) << interim.head;
  client.send("hello world");
  HttpResponse response = client.read();
  EXPECT_EQ(response.status, 200) << response.head;
  EXPECT_EQ(response.body, "hello world");
  client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, "hello");

  // A responder that refuses without reading: the final status, no 100, then close.
  Client refused(server.port());
  refused.send(post("/refuse", "Content-Length: 11\r\nExpect: 100-continue\r\n", ""));
  response = refused.read();
  EXPECT_EQ(response.status, 401) << response.head;
  EXPECT_TRUE(response.has("Connection: close")) << response.head;
  EXPECT_TRUE(refused.closedByServer());
}

TEST(RequestBody, UnreadBodyIsDiscardedAndThePipelinedRequestAnswered) {
  BodyServer server;
  Client client(server.port());
  // The bodies look like requests: they must not be answered.
  const std::string smuggled = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
  client.send(withLength("/ignore", smuggled + pattern(5000)) +
              post("/ignore", "Transfer-Encoding: chunked\r\n",
                   chunk(smuggled) + chunk(pattern(3000)) + "0\r\n\r\n") +
              withLength("/refuse", "x") + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, "ignored");
  EXPECT_EQ(client.read().body, "ignored");
  EXPECT_EQ(client.read().status, 401);
  HttpResponse last = client.read();
  EXPECT_EQ(last.body, "hello");
  EXPECT_FALSE(last.has("Connection: close")) << last.head;
}

TEST(RequestBody, UnreadBodyBeyondTheDiscardBoundClosesAfterTheResponse) {
  BodyServer server;
  {
    // Declared, within the route's limit but more than is worth discarding (1 MiB): the
    // response says that the connection closes.
    Client client(server.port());
    client.send(post("/ignore-large", "Content-Length: 2000000\r\n", ""));
    HttpResponse response = client.read();
    EXPECT_EQ(response.body, "ignored");
    EXPECT_TRUE(response.has("Connection: close")) << response.head;
    EXPECT_TRUE(client.closedByServer());
  }
  // Chunked, past the limit (128 KiB) while being discarded: closed, no second response.
  Client client(server.port());
  std::string body;
  for (int i = 0; i < 40; ++i)
    body += chunk(pattern(8192));
  client.send(post("/ignore", "Transfer-Encoding: chunked\r\n", body) +
              "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.read().body, "ignored");
  EXPECT_TRUE(client.closedByServer());
}

TEST(RequestBody, TheSocketIsNotReadWhileTheResponderDoesNotTakeTheBody) {
  BodyServer server;
  Client client(server.port());
  const std::size_t total = 96u * 1024 * 1024;
  client.send(post("/held", "Content-Length: " + std::to_string(total) + "\r\n", ""));
  ::fcntl(client.fd(), F_SETFL, ::fcntl(client.fd(), F_GETFL) | O_NONBLOCK);
  const std::string block(256 * 1024, 'z');
  std::size_t sent = 0;
  auto blockedSince = std::chrono::steady_clock::now();
  // Send until the socket has not taken anything for a while.
  while (sent < total && std::chrono::steady_clock::now() - blockedSince < 500ms) {
    const ssize_t n =
        ::send(client.fd(), block.data(), std::min(block.size(), total - sent), MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      blockedSince = std::chrono::steady_clock::now();
    } else {
      ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << errno;
      std::this_thread::sleep_for(5ms);
    }
  }
  // Kernel buffers take a few MiB; the server holds at most a read's worth.
  EXPECT_LT(sent, total / 3) << "the server read the body while nobody asked for it";
  server.shared().release = true;
  while (sent < total) {
    const ssize_t n =
        ::send(client.fd(), block.data(), std::min(block.size(), total - sent), MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else {
      ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << errno;
      std::this_thread::sleep_for(1ms);
    }
  }
  ::fcntl(client.fd(), F_SETFL, ::fcntl(client.fd(), F_GETFL) & ~O_NONBLOCK);
  HttpResponse response = client.read();
  EXPECT_EQ(response.status, 200) << response.head;
  EXPECT_EQ(response.body, "bytes=" + std::to_string(total));
}

TEST(RequestBody, ABodyThatStopsArrivingWhileTheResponderWaitsIs408) {
  BodyServer server(300ms);  // the body, like the head, must keep coming within this
  Client client(server.port());
  client.send(post("/tiny", "Content-Length: 50\r\n", "only part"));
  HttpResponse response = client.read();  // (the server's clock, not ours: no bound here)
  EXPECT_EQ(response.status, 408) << response.head;
  EXPECT_TRUE(client.closedByServer());
  EXPECT_EQ(server.shared().bodyErrorStatus, 408);
}

TEST(RequestBody, AClientThatLeavesMidBodyFailsTheRead) {
  BodyServer server;
  {
    Client client(server.port());
    client.send(post("/tiny", "Content-Length: 50\r\n", "only part"));
    ASSERT_TRUE(waitFor([&] { return server.shared().ignoredRuns >= 1; }));
    ::shutdown(client.fd(), SHUT_WR);
    HttpResponse response = client.read();
    EXPECT_EQ(response.status, 400) << response.head;
  }
  EXPECT_TRUE(waitFor([&] { return server.shared().bodyErrorStatus == 400; }));
}

}  // namespace
}  // namespace aerie::test
