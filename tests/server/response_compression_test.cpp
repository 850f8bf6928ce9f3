// Content-Encoding for responses: gzip (or deflate) for compressible types above the minimum
// length when Accept-Encoding allows, whole and streamed bodies, Vary, tagged ETags, and
// nothing for small bodies, other types, q=0, or when turned off.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <memory>
#include <string>

#include "aerie/aerie.hpp"
#include "support/test_server.hpp"

namespace aerie::test {
namespace {

std::string text(std::size_t size) {
  std::string out;
  for (int i = 0; out.size() < size; ++i)
    out += "{\"id\":" + std::to_string(i) + ",\"name\":\"item\"},";
  out.resize(size);
  return out;
}

class CompressingServer {
 public:
  explicit CompressingServer(bool compress = true) {
    Router router;
    router.get("/json", [](http::Request& req, http::Response& res) -> Task<> {
      res.setHeader("Content-Type", "application/json");
      res.setHeader("ETag", "\"v1\"");
      co_await res.send(text(std::stoul(std::string(req.queryParam("size")))));
    });
    router.get("/png", [](http::Request&, http::Response& res) -> Task<> {
      res.setHeader("Content-Type", "image/png");
      co_await res.send(text(5000));
    });
    router.get("/stream", [](http::Request&, http::Response& res) -> Task<> {
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      for (int i = 0; i < 50; ++i)
        co_await res.write(text(2000));
      co_await res.end();
    });
    Host host;
    host.expose("127.0.0.1", 0).use(router);
    ServerOptions options;
    options.workers = 1;
    options.handleSignals = false;
    options.compressResponses = compress;
    server_ = std::make_unique<Server>(std::move(host), options);
    server_->start();
    port_ = boundPort(*server_);
  }
  ~CompressingServer() { server_->stop(); }

  /// One request with `acceptEncoding` (none if empty), read to the close.
  std::string get(const std::string& target, const std::string& acceptEncoding) const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    if (!acceptEncoding.empty()) request += "Accept-Encoding: " + acceptEncoding + "\r\n";
    request += "\r\n";
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string response;
    char buffer[65536];
    ssize_t n = 0;
    while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
      response.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return response;
  }

 private:
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

std::string headOf(const std::string& response) {
  return response.substr(0, response.find("\r\n\r\n") + 4);
}
std::string bodyOf(const std::string& response) {
  return response.substr(response.find("\r\n\r\n") + 4);
}

/// Joins the chunks of a chunked body.
std::string unchunk(std::string body) {
  std::string out;
  while (true) {
    const std::size_t line = body.find("\r\n");
    const std::size_t size = std::stoul(body.substr(0, line), nullptr, 16);
    if (size == 0) return out;
    out += body.substr(line + 2, size);
    body.erase(0, line + 2 + size + 2);
  }
}

/// gzip (windowBits 31) or zlib (15) to plain text.
std::string inflateAll(const std::string& data, int windowBits) {
  z_stream z{};
  inflateInit2(&z, windowBits);
  std::string out(16 * 1024 * 1024, '\0');  // ample for these bodies
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int status = inflate(&z, Z_FINISH);
  out.resize(z.total_out);
  inflateEnd(&z);
  return status == Z_STREAM_END ? out : "<inflate failed " + std::to_string(status) + ">";
}

TEST(ResponseCompression, WholeBodiesAreGzippedWithVaryAndATaggedEtag) {
  CompressingServer server;
  const std::string response = server.get("/json?size=20000", "gzip, deflate");
  const std::string head = headOf(response);
  EXPECT_NE(head.find("Content-Encoding: gzip\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Vary: Accept-Encoding\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("ETag: \"v1-gzip\"\r\n"), std::string::npos) << head;
  const std::string body = bodyOf(response);
  EXPECT_LT(body.size(), 20000u / 3);
  EXPECT_EQ(
      head.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos,
      true)
      << head;
  EXPECT_TRUE(inflateAll(body, 31) == text(20000));

  const std::string deflated = server.get("/json?size=20000", "deflate");
  EXPECT_NE(headOf(deflated).find("Content-Encoding: deflate\r\n"), std::string::npos);
  EXPECT_TRUE(inflateAll(bodyOf(deflated), 15) == text(20000));
}

TEST(ResponseCompression, NotForSmallBodiesOtherTypesRefusalsOrWhenOff) {
  CompressingServer server;
  for (const auto& [target, accept] :
       {std::pair<std::string, std::string>{"/json?size=500", "gzip"},  // < 860 bytes
        {"/png", "gzip"},                                               // not compressible
        {"/json?size=20000", ""},                                       // no Accept-Encoding
        {"/json?size=20000", "gzip;q=0, br"}}) {                        // refused
    const std::string response = server.get(target, accept);
    EXPECT_EQ(response.find("Content-Encoding"), std::string::npos) << target << " " << accept;
  }
  EXPECT_NE(server.get("/json?size=500", "gzip").find("Vary: Accept-Encoding"), std::string::npos)
      << "a compressible type varies by Accept-Encoding even when too small to compress";
  CompressingServer off(false);
  EXPECT_EQ(off.get("/json?size=20000", "gzip").find("Content-Encoding"), std::string::npos);
}

TEST(ResponseCompression, StreamedBodiesAreCompressedChunkByChunk) {
  CompressingServer server;
  const std::string response = server.get("/stream", "gzip");
  const std::string head = headOf(response);
  EXPECT_NE(head.find("Content-Encoding: gzip\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << head;
  std::string expected;
  for (int i = 0; i < 50; ++i)
    expected += text(2000);
  const std::string compressed = unchunk(bodyOf(response));
  EXPECT_LT(compressed.size(), expected.size() / 3);
  EXPECT_TRUE(inflateAll(compressed, 31) == expected);
}

}  // namespace
}  // namespace aerie::test
