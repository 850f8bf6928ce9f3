// wrap(responder, middlewares...): order, short-circuit, headers added after the
// responder ran, and exceptions passing through.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "aerie/aerie.hpp"
#include "support/test_server.hpp"

namespace aerie::test {
namespace {

std::string fetch(std::uint16_t port, const std::string& head) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const std::string request = head + "Host: x\r\nConnection: close\r\n\r\n";
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
    response.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return response;
}

TEST(Middleware, RunOutermostFirstCanRefuseAndAddHeadersAfterTheResponder) {
  auto trace = std::make_shared<std::string>();
  Router router;
  router.get("/hello", [trace](http::Request&, http::Response& res) -> Task<> {
    *trace += "responder;";
    co_await res.send("hello");
  });
  router.get("/boom", [](http::Request&, http::Response&) -> Task<> {
    throw std::runtime_error("boom");
    co_return;
  });
  Middleware outer = [trace](http::Request& req, http::Response& res,
                             const Responder& next) -> Task<> {
    *trace += "outer-in;";
    co_await next(req, res);
    res.setHeader("X-Outer", "yes");
    *trace += "outer-out;";
  };
  Middleware gate = [trace](http::Request& req, http::Response& res,
                            const Responder& next) -> Task<> {
    *trace += "gate;";
    if (req.header("origin") == "https://evil.example") {
      res.setStatus(403);
      co_await res.send("no\n");
      co_return;
    }
    co_await next(req, res);
  };
  Host host;
  host.expose("127.0.0.1", 0).use(wrap(router, outer, gate));
  ServerOptions options;
  options.workers = 1;
  options.handleSignals = false;
  Server server(std::move(host), options);
  server.start();
  const std::uint16_t port = boundPort(server);

  const std::string ok = fetch(port, "GET /hello HTTP/1.1\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
  EXPECT_NE(ok.find("X-Outer: yes\r\n"), std::string::npos) << ok;
  EXPECT_EQ(*trace, "outer-in;gate;responder;outer-out;");

  trace->clear();
  const std::string denied = fetch(port, "GET /hello HTTP/1.1\r\nOrigin: https://evil.example\r\n");
  EXPECT_EQ(denied.rfind("HTTP/1.1 403", 0), 0u) << denied;
  EXPECT_EQ(*trace, "outer-in;gate;outer-out;") << "the responder must not run";

  const std::string failed = fetch(port, "GET /boom HTTP/1.1\r\n");
  EXPECT_EQ(failed.rfind("HTTP/1.1 500", 0), 0u) << failed;

  // Methods outside ServerOptions::allowedMethods never reach a responder or middleware.
  trace->clear();
  for (const char* method : {"TRACE", "CONNECT", "PROPFIND"}) {
    const std::string refused = fetch(port, std::string(method) + " /hello HTTP/1.1\r\n");
    EXPECT_EQ(refused.rfind("HTTP/1.1 501", 0), 0u) << method << ": " << refused;
  }
  EXPECT_EQ(*trace, "");
  server.stop();
}

}  // namespace
}  // namespace aerie::test
