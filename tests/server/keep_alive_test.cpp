// A connection's Request and Response are reused from one keep-alive request to the next
// (their storage is kept so that a request allocates nothing): nothing of a request or of
// its response may show in the next one. And the fields the server adds to a response
// head (Date, Server, Content-Type, Content-Length, Transfer-Encoding, Connection) replace
// or yield to the application's as documented (docs/server.md).
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "aerie/aerie.hpp"
#include "support/raw_http_client.hpp"
#include "support/test_server.hpp"

namespace aerie::test {
namespace {

class KeepAliveServer {
 public:
  explicit KeepAliveServer(ServerOptions options = {}) {
    // Reports what it saw of the request; sets a response header only when asked to.
    router_.get("/echo", [](http::Request& req, http::Response& res) -> Task<> {
      if (!req.header("x-mark").empty()) res.setHeader("X-Marked", req.header("x-mark"));
      if (req.queryParam("status") == "201") res.setStatus(201);
      std::string seen = "path=" + std::string(req.path()) + " query=" + std::string(req.query()) +
                         " mark=" + std::string(req.header("x-mark")) +
                         " cookie=" + std::string(req.cookie("c")) +
                         " fields=" + std::to_string(req.headers().size()) +
                         " params=" + std::to_string(req.params().size());
      co_await res.send(std::move(seen));
    });
    router_.get("/user/{id}", [](http::Request& req, http::Response& res) -> Task<> {
      co_await res.send("id=" + std::string(req.param("id")));
    });
    router_.get("/big", [](http::Request&, http::Response& res) -> Task<> {
      co_await res.send(std::string(100 * 1024, 'b'));
    });
    // Sets the fields the server writes itself.
    router_.get("/own-fields", [](http::Request&, http::Response& res) -> Task<> {
      res.setHeader("Date", "Thu, 01 Jan 1970 00:00:00 GMT");
      res.setHeader("Server", "mine/1.0");
      res.setHeader("Content-Length", "999");
      res.setHeader("Connection", "keep-alive");
      res.setHeader("Content-Type", "text/x-mine");
      co_await res.send("12345");
    });
    router_.get("/streamed", [](http::Request&, http::Response& res) -> Task<> {
      res.setHeader("Transfer-Encoding", "gzip");  // replaced: the server frames the body
      co_await res.write("ab");
      co_await res.end("cd");
    });
    router_.get("/empty", [](http::Request&, http::Response& res) -> Task<> {
      res.setStatus(204);
      co_return;
    });
    Host host;
    host.expose("127.0.0.1", 0).use(router_);
    options.workers = 1;
    options.handleSignals = false;
    options.compressResponses = false;
    server_ = std::make_unique<Server>(std::move(host), options);
    server_->start();
    port_ = boundPort(*server_);
  }
  ~KeepAliveServer() { server_->stop(); }
  std::uint16_t port() const { return port_; }

 private:
  Router router_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

std::string get(const std::string& target, const std::string& fields = {}) {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n";
}

TEST(KeepAlive, NothingOfARequestShowsInTheNextOnTheSameConnection) {
  KeepAliveServer server;
  RawHttpClient client(server.port());
  // Pipelined in one write: the parser reads the second and third heads while the first
  // request's storage is still in use.
  client.send(get("/echo?q=1",
                  "X-Mark: one\r\nCookie: c=first\r\nX-Pad: " + std::string(600, 'p') + "\r\n") +
              get("/user/42") + get("/echo"));
  const RawHttpResponse first = client.read();
  ASSERT_EQ(first.status, 200);
  EXPECT_TRUE(first.has("X-Marked: one"));
  EXPECT_EQ(first.body, "path=/echo query=q=1 mark=one cookie=first fields=4 params=0");
  const RawHttpResponse second = client.read();
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "id=42");
  const RawHttpResponse third = client.read();
  ASSERT_EQ(third.status, 200);
  EXPECT_EQ(third.count("X-Marked"), 0) << third.head;
  EXPECT_EQ(third.body, "path=/echo query= mark= cookie= fields=1 params=0");
}

TEST(KeepAlive, PercentDecodedPathAndStatusDoNotCarryOver) {
  KeepAliveServer server;
  RawHttpClient client(server.port());
  client.send(get("/%65cho?status=201"));
  const RawHttpResponse first = client.read();
  EXPECT_EQ(first.status, 201);
  EXPECT_EQ(first.body, "path=/echo query=status=201 mark= cookie= fields=1 params=0");
  client.send(get("/echo"));
  const RawHttpResponse second = client.read();
  EXPECT_EQ(second.status, 200);
  // A malformed escape leaves the path as received (no route matches it: 404).
  client.send(get("/ech%zz"));
  EXPECT_EQ(client.read().status, 404);
  client.send(get("http://x/echo?z"));  // absolute-form
  EXPECT_EQ(client.read().body, "path=/echo query=z mark= cookie= fields=1 params=0");
}

TEST(KeepAlive, ALargeResponseIsFollowedByASmallOneIntact) {
  KeepAliveServer server;
  RawHttpClient client(server.port());
  client.send(get("/big") + get("/user/7") + get("/big"));
  const RawHttpResponse big = client.read();
  EXPECT_EQ(big.body.size(), 100u * 1024);
  EXPECT_TRUE(big.has("Content-Length: 102400"));
  const RawHttpResponse small = client.read();
  EXPECT_EQ(small.body, "id=7");
  EXPECT_TRUE(small.has("Content-Length: 4"));
  EXPECT_EQ(client.read().body.size(), 100u * 1024);
}

TEST(ServerFields, ReplaceTheApplicationsFramingAndDateButKeepItsServerAndType) {
  KeepAliveServer server;
  RawHttpClient client(server.port());
  client.send(get("/own-fields"));
  const RawHttpResponse response = client.read();
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "12345");
  EXPECT_EQ(response.count("Content-Length"), 1) << response.head;
  EXPECT_TRUE(response.has("Content-Length: 5"));
  EXPECT_EQ(response.count("Date"), 1);
  EXPECT_FALSE(response.has("Date: Thu, 01 Jan 1970 00:00:00 GMT"));
  EXPECT_EQ(response.count("Server"), 1);
  EXPECT_TRUE(response.has("Server: mine/1.0"));
  EXPECT_EQ(response.count("Content-Type"), 1);
  EXPECT_TRUE(response.has("Content-Type: text/x-mine"));
  // Keep-alive: the application's own Connection field passes as it is.
  EXPECT_TRUE(response.has("Connection: keep-alive"));

  // The client asks to close: the server's Connection replaces the application's.
  client.send(get("/own-fields", "Connection: close\r\n"));
  const RawHttpResponse last = client.read();
  EXPECT_EQ(last.count("Connection"), 1) << last.head;
  EXPECT_TRUE(last.has("Connection: close"));
  EXPECT_TRUE(client.closedByServer());
}

TEST(ServerFields, HeadKeepsTheLengthTheApplicationStates) {
  KeepAliveServer server;
  RawHttpClient client(server.port());
  client.send("HEAD /own-fields HTTP/1.1\r\nHost: x\r\n\r\n");
  const RawHttpResponse response = client.read(/*head=*/true);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.count("Content-Length"), 1) << response.head;
  EXPECT_TRUE(response.has("Content-Length: 999"));
  client.send("HEAD /user/1 HTTP/1.1\r\nHost: x\r\n\r\n");  // GET's length, no body
  const RawHttpResponse sized = client.read(/*head=*/true);
  EXPECT_TRUE(sized.has("Content-Length: 4")) << sized.head;
  client.send(get("/user/2"));  // the connection is still in step
  EXPECT_EQ(client.read().body, "id=2");
}

TEST(ServerFields, StreamedBodiesAreChunkedAndBodilessStatusesHaveNoLength) {
  KeepAliveServer server;
  RawHttpClient client(server.port());
  client.send(get("/streamed") + get("/empty"));
  const RawHttpResponse streamed = client.read();
  EXPECT_EQ(streamed.count("Transfer-Encoding"), 1) << streamed.head;
  EXPECT_TRUE(streamed.has("Transfer-Encoding: chunked"));
  EXPECT_TRUE(streamed.has("Content-Type: text/html; charset=utf-8"));  // the default
  EXPECT_EQ(streamed.body, "abcd");
  const RawHttpResponse empty = client.read();
  EXPECT_EQ(empty.status, 204);
  EXPECT_EQ(empty.count("Content-Length"), 0) << empty.head;
  EXPECT_EQ(empty.count("Content-Type"), 0);
}

TEST(ServerFields, HttpOneZeroKeepAliveIsAnsweredInKind) {
  KeepAliveServer server;
  RawHttpClient client(server.port());
  client.send("GET /user/3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  const RawHttpResponse response = client.read();
  EXPECT_TRUE(response.has("Connection: keep-alive")) << response.head;
  EXPECT_EQ(response.body, "id=3");
  client.send("GET /user/4 HTTP/1.0\r\n\r\n");
  const RawHttpResponse last = client.read();
  EXPECT_TRUE(last.has("Connection: close")) << last.head;
  EXPECT_TRUE(client.closedByServer());
}

TEST(ServerFields, AnInvalidServerTokenOrDefaultTypeIsAStartUpError) {
  ServerOptions badToken;
  badToken.serverToken = "aerie\r\nX-Injected: 1";
  EXPECT_THROW(KeepAliveServer{badToken}, std::invalid_argument);
  ServerOptions badType;
  badType.defaultContentType = "text/html\n";
  EXPECT_THROW(KeepAliveServer{badType}, std::invalid_argument);
  ServerOptions noToken;
  noToken.serverToken = nullptr;  // no Server field at all
  KeepAliveServer server(noToken);
  RawHttpClient client(server.port());
  client.send(get("/user/5"));
  EXPECT_EQ(client.read().count("Server"), 0);
}

}  // namespace
}  // namespace aerie::test
