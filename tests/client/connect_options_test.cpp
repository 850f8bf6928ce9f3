// ConnectOptions that the other client tests do not reach: the address order per family,
// a local bind address, the connect timeout; and ping() and send() backpressure.
#include <gtest/gtest.h>

#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "aerie/aerie.hpp"
#include "aerie/protocol/handshake.hpp"
#include "client/socket_ops.hpp"
#include "support/raw_ws_client.hpp"
#include "support/test_server.hpp"

namespace aerie::test {
namespace {

using namespace std::chrono_literals;
using asio::ip::make_address;
using asio::ip::tcp;
using client::AddressFamily;

std::vector<std::string> order(AddressFamily family) {
  const std::vector<tcp::endpoint> resolved = {{make_address("::1"), 1},
                                               {make_address("127.0.0.1"), 1},
                                               {make_address("::2"), 1},
                                               {make_address("10.0.0.1"), 1},
                                               {make_address("::1"), 1}};  // a duplicate, dropped
  std::vector<std::string> out;
  for (const auto& e : client::detail::orderEndpoints(resolved, family))
    out.push_back(e.address().to_string());
  return out;
}

TEST(ConnectOptions, AddressOrderPerFamily) {
  using V = std::vector<std::string>;
  EXPECT_EQ(order(AddressFamily::Any), (V{"::1", "127.0.0.1", "::2", "10.0.0.1"}));
  EXPECT_EQ(order(AddressFamily::PreferIpv4), (V{"127.0.0.1", "10.0.0.1", "::1", "::2"}));
  EXPECT_EQ(order(AddressFamily::PreferIpv6), (V{"::1", "::2", "127.0.0.1", "10.0.0.1"}));
  EXPECT_EQ(order(AddressFamily::Ipv4Only), (V{"127.0.0.1", "10.0.0.1"}));
  EXPECT_EQ(order(AddressFamily::Ipv6Only), (V{"::1", "::2"}));
}

ws::Options unlimited() {
  ws::Options options;
  options.maxFramesPerSecond = 0;
  options.maxBytesPerMinute = 0;
  return options;
}

std::string urlOf(const TestServer& server) {
  return "ws://127.0.0.1:" + std::to_string(server.port()) + "/";
}

TEST(ConnectOptions, FamilyFilterAndBindAddress) {
  auto handler = std::make_shared<RecordingHandler>();
  TestServer server(handler, unlimited());
  std::string noFamily;
  std::string badBind;
  bool boundOk = false;
  aerie::run([&]() -> Task<> {
    client::ConnectOptions options;
    options.addressFamily = AddressFamily::Ipv6Only;
    try {
      (void)co_await websocket::connect(urlOf(server), options);
    } catch (const client::DnsError& e) {
      noFamily = e.what();
    }
    options.addressFamily = AddressFamily::Any;
    options.bindAddress = "127.0.0.1";
    auto connection = co_await websocket::connect(urlOf(server), options);
    co_await connection.send("bound");
    auto echo = co_await connection.receive();
    boundOk = echo && co_await echo->buffer() == "bound";
    co_await connection.close();
    options.bindAddress = "192.0.2.1";  // TEST-NET-1: not an address of this machine
    try {
      (void)co_await websocket::connect(urlOf(server), options);
    } catch (const client::ConnectError& e) {
      badBind = e.what();
    }
  });
  EXPECT_NE(noFamily.find("family"), std::string::npos) << noFamily;
  EXPECT_TRUE(boundOk);
  EXPECT_NE(badBind.find("192.0.2.1"), std::string::npos) << badBind;
}

TEST(ConnectOptions, HandshakeTimeoutAgainstASilentServer) {
  // A listening socket that never answers: the TCP connect succeeds (the kernel accepts),
  // the handshake does not.
  asio::io_context io;
  tcp::acceptor silent(io, tcp::endpoint(make_address("127.0.0.1"), 0));
  const auto port = silent.local_endpoint().port();
  std::string what;
  const auto started = std::chrono::steady_clock::now();
  aerie::run([&]() -> Task<> {
    client::ConnectOptions options;
    options.handshakeTimeout = 300ms;
    try {
      (void)co_await websocket::connect("ws://127.0.0.1:" + std::to_string(port) + "/", options);
    } catch (const client::TimeoutError& e) {
      what = e.what();
    }
  });
  EXPECT_NE(what.find("timed out"), std::string::npos) << what;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(ConnectOptions, PingIsAnsweredAndCounted) {
  auto handler = std::make_shared<RecordingHandler>();
  TestServer server(handler, unlimited());
  ws::ClientInfo info;
  aerie::run([&]() -> Task<> {
    auto connection = co_await websocket::connect(urlOf(server));
    connection.ping("are you there");
    co_await aerie::delay(200ms);
    info = connection.getInfo();
    EXPECT_THROW(connection.ping(std::string(126, 'p')), std::invalid_argument);
    co_await connection.close();
  });
  EXPECT_EQ(info.framesSent, 1u);
  EXPECT_EQ(info.framesRead, 1u);  // the pong
  EXPECT_EQ(info.messagesRead, 0u);
}

TEST(ConnectOptions, AwaitedSendSuspendsWhileTheServerDoesNotRead) {
  // A raw "server" that completes the handshake and then never reads.
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  std::thread peer([&] {
    tcp::socket socket(io);
    acceptor.accept(socket);
    asio::streambuf request;
    asio::read_until(socket, request, "\r\n\r\n");
    std::istream in(&request);
    std::string line;
    std::string key;
    while (std::getline(in, line) && line != "\r") {
      if (line.rfind("Sec-WebSocket-Key: ", 0) == 0) key = line.substr(19, line.size() - 20);
    }
    asio::write(socket, asio::buffer(std::string(
                            protocol::buildAcceptResponseHead(protocol::computeAcceptKey(key)))));
    std::this_thread::sleep_for(3s);  // not reading
  });
  int sent = 0;
  bool stalled = false;
  aerie::run([&]() -> Task<> {
    client::Options options;
    options.highWaterMark = 256 * 1024;
    options.lowWaterMark = 64 * 1024;
    options.closePeriod = 200ms;
    auto connection = co_await websocket::connect("ws://127.0.0.1:" + std::to_string(port) + "/",
                                                  client::ConnectOptions{}, options);
    const std::string chunk(64 * 1024, 'x');
    // Races a timer against the sends: if send() never suspended, all 2,000 go (128 MiB).
    // A suspended send resumes when the peer leaves (after 3 s); the next one then throws.
    const auto deadline = std::chrono::steady_clock::now() + 1s;
    try {
      while (sent < 2000 && std::chrono::steady_clock::now() < deadline) {
        co_await connection.sendBinary(chunk);
        ++sent;
      }
    } catch (const client::ConnectionClosed&) {
    }
    stalled = sent < 2000;
  });
  peer.join();
  EXPECT_TRUE(stalled) << sent << " sends completed although nobody read";
}

}  // namespace
}  // namespace aerie::test
