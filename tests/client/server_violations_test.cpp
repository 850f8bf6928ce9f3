// Client-side RFC 6455 conformance: a scripted raw TCP "server" sends exact bytes (frames a
// WebSocket library would never produce) and records every frame the client sends back.
#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "aerie/aerie.hpp"
#include "aerie/protocol/handshake.hpp"

namespace aerie::test {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;

/// One frame as the client sent it.
struct ClientFrame {
  std::uint8_t first = 0;  // FIN/RSV/opcode byte
  bool masked = false;
  std::uint32_t key = 0;
  std::string payload;  // unmasked
  std::uint8_t opcode() const { return first & 0x0F; }
  std::uint16_t closeCode() const {
    return payload.size() >= 2
               ? static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                            static_cast<std::uint8_t>(payload[1]))
               : 1005;
  }
};

/// An unmasked server frame with the given first byte (FIN/RSV/opcode).
std::string frame(std::uint8_t first, std::string_view payload, bool masked = false) {
  std::string out(1, static_cast<char>(first));
  const std::uint8_t maskBit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out += static_cast<char>(maskBit | payload.size());
  } else {
    out += static_cast<char>(maskBit | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xFF);
  }
  if (masked) out += std::string(4, '\0');  // key 0: the payload stays readable
  out += payload;
  return out;
}

/// Accepts one client, answers its handshake (`response` overrides the 101) followed by
/// `afterHandshake` in the same write, then records the client's frames until it closes
/// (answering its close frame with the same code) or `lifetime` passes.
class ScriptedServer {
 public:
  ScriptedServer(std::string afterHandshake, std::string response = {},
                 std::chrono::milliseconds lifetime = 5000ms)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, afterHandshake = std::move(afterHandshake),
                           response = std::move(response),
                           lifetime] { run(afterHandshake, response, lifetime); });
  }
  ~ScriptedServer() { join(); }
  std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/";
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  const std::vector<ClientFrame>& frames() {
    join();
    return frames_;
  }

 private:
  void run(const std::string& afterHandshake, const std::string& response,
           std::chrono::milliseconds lifetime) {
    tcp::socket socket(io_);
    acceptor_.accept(socket);
    asio::streambuf buffer;
    asio::read_until(socket, buffer, "\r\n\r\n");
    std::string request(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
    buffer.consume(request.find("\r\n\r\n") + 4);
    const auto at = request.find("Sec-WebSocket-Key: ");
    const std::string key = request.substr(at + 19, request.find("\r\n", at) - at - 19);
    std::string reply = response.empty()
                            ? protocol::buildAcceptResponseHead(protocol::computeAcceptKey(key))
                            : response;
    asio::write(socket, asio::buffer(reply + afterHandshake));
    // Read the client's frames (blocking, with a receive timeout as the lifetime bound).
    timeval tv{static_cast<time_t>(lifetime.count() / 1000),
               static_cast<suseconds_t>((lifetime.count() % 1000) * 1000)};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::error_code error;
    // Plain recv(): SO_RCVTIMEO bounds each wait (asio's blocking read would poll forever).
    auto need = [&](std::size_t n) {
      while (buffer.size() < n) {
        char chunk[4096];
        const ssize_t got = ::recv(socket.native_handle(), chunk, sizeof chunk, 0);
        if (got <= 0) return false;
        const auto copied = asio::buffer_copy(buffer.prepare(static_cast<std::size_t>(got)),
                                              asio::buffer(chunk, static_cast<std::size_t>(got)));
        buffer.commit(copied);
      }
      return true;
    };
    while (need(2)) {
      const auto* p = static_cast<const std::uint8_t*>(buffer.data().data());
      ClientFrame f;
      f.first = p[0];
      f.masked = (p[1] & 0x80) != 0;
      std::size_t length = p[1] & 0x7F;
      std::size_t header = 2;
      if (length == 126) {
        if (!need(4)) break;
        p = static_cast<const std::uint8_t*>(buffer.data().data());
        length = (static_cast<std::size_t>(p[2]) << 8) | p[3];
        header = 4;
      } else if (length == 127) {
        break;  // not used by these tests
      }
      if (f.masked) header += 4;
      if (!need(header + length)) break;
      p = static_cast<const std::uint8_t*>(buffer.data().data());
      std::uint8_t mask[4] = {0, 0, 0, 0};
      if (f.masked) {
        std::copy_n(p + header - 4, 4, mask);
        f.key = (mask[0] << 24) | (mask[1] << 16) | (mask[2] << 8) | mask[3];
      }
      for (std::size_t i = 0; i < length; ++i)
        f.payload += static_cast<char>(p[header + i] ^ mask[i % 4]);
      buffer.consume(header + length);
      frames_.push_back(f);
      if (f.opcode() == 0x8) {  // echo the close, then end TCP (the server closes first)
        asio::write(socket, asio::buffer(frame(0x88, f.payload.substr(0, 2))), error);
        break;
      }
    }
    socket.close(error);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::vector<ClientFrame> frames_;
};

struct Verdict {
  std::uint16_t closeCode = 0;
  bool gotMessage = false;
  std::string payload;
};

/// Connects, tries to receive one message, and reports how the connection ended.
Verdict runClient(ScriptedServer& server, client::Options options = {}) {
  Verdict verdict;
  options.closePeriod = 1000ms;
  aerie::run([&]() -> Task<> {
    auto connection = co_await websocket::connect(server.url(), client::ConnectOptions{}, options);
    auto message = co_await connection.receive();
    if (message) {
      verdict.gotMessage = true;
      try {
        verdict.payload = co_await message->buffer();
      } catch (const ws::MessageError&) {
        verdict.payload = "<message error>";
      }
      message = co_await connection.receive();  // the failure, if any, follows
      if (!message) co_await connection.close();
    }
    co_await connection.close();
    verdict.closeCode = connection.closeCode();
  });
  return verdict;
}

/// The server broke the protocol: the client sent a close frame with `code` and reports it.
void expectFailedWith(const std::string& bytes, std::uint16_t code, client::Options options = {}) {
  ScriptedServer server(bytes);
  const Verdict verdict = runClient(server, options);
  EXPECT_EQ(verdict.closeCode, code);
  const auto& frames = server.frames();
  ASSERT_FALSE(frames.empty()) << "the client sent no close frame";
  EXPECT_EQ(frames.back().opcode(), 0x8);
  EXPECT_EQ(frames.back().closeCode(), code) << frames.back().payload.substr(2);
}

TEST(ClientConformance, MaskedServerFrameIs1002) {
  expectFailedWith(frame(0x81, "masked", true), 1002);
}

TEST(ClientConformance, InvalidUtf8Is1007AlsoAcrossFragments) {
  expectFailedWith(frame(0x81, "bad \xFF text"), 1007);
  expectFailedWith(frame(0x01, "ok \xCE") + frame(0x80, "\xBA\xFF"), 1007);
}

TEST(ClientConformance, ControlFrameViolationsAre1002) {
  expectFailedWith(frame(0x89, std::string(126, 'p')), 1002);  // over 125 bytes
  expectFailedWith(frame(0x09, "frag"), 1002);                 // fragmented ping
  expectFailedWith(frame(0x83, "x"), 1002);                    // reserved opcode
  expectFailedWith(frame(0xC1, "x"), 1002);                    // RSV1, no extension
  expectFailedWith(frame(0x80, "x"), 1002);                    // continuation, no message
  expectFailedWith(frame(0x88, "\x03"), 1002);                 // 1-byte close payload
  expectFailedWith(frame(0x88, "\x03\xED"), 1002);             // 1005 on the wire
}

TEST(ClientConformance, LimitsAre1009) {
  client::Options options;
  options.maxFrameSize = 100;
  expectFailedWith(frame(0x82, std::string(101, 'b')), 1009, options);
  options.maxFrameSize = 1000;
  options.maxMessageSize = 150;
  expectFailedWith(frame(0x02, std::string(100, 'b')) + frame(0x80, std::string(100, 'b')), 1009,
                   options);
}

TEST(ClientConformance, PingIsAnsweredWithTheSamePayloadAndFramesArriveWithThe101) {
  ScriptedServer server(frame(0x89, "beat") + frame(0x01, "frag") + frame(0x89, "mid") +
                        frame(0x80, "ment") + frame(0x88, "\x03\xE8"));
  const Verdict verdict = runClient(server);
  EXPECT_TRUE(verdict.gotMessage);
  EXPECT_EQ(verdict.payload, "fragment");
  const auto& frames = server.frames();
  ASSERT_EQ(frames.size(), 3u);  // two pongs and the close reply
  EXPECT_EQ(frames[0].opcode(), 0xA);
  EXPECT_EQ(frames[0].payload, "beat");
  EXPECT_EQ(frames[1].opcode(), 0xA);
  EXPECT_EQ(frames[1].payload, "mid");
  std::set<std::uint32_t> keys;
  for (const auto& f : frames) {
    EXPECT_TRUE(f.masked) << "client frame with opcode " << int(f.opcode()) << " not masked";
    keys.insert(f.key);
  }
  EXPECT_EQ(keys.size(), frames.size()) << "masking keys repeat";
}

TEST(ClientConformance, ServerCloseIsEchoedAndReported) {
  ScriptedServer server(frame(0x88, std::string("\x0F\xA1", 2) + "bye"));  // 4001
  const Verdict verdict = runClient(server);
  EXPECT_FALSE(verdict.gotMessage);
  EXPECT_EQ(verdict.closeCode, 4001);
  const auto& frames = server.frames();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].closeCode(), 4001);
}

TEST(ClientConformance, UnansweredPingsCloseWith1008) {
  ScriptedServer server("");  // reads, never answers a ping
  client::Options options;
  options.heartbeatPeriod = 100ms;
  options.queuedPingLimit = 2;
  const auto started = std::chrono::steady_clock::now();
  const Verdict verdict = runClient(server, options);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  EXPECT_EQ(verdict.closeCode, 1008);
  const auto& frames = server.frames();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].opcode(), 0x9);
  EXPECT_EQ(frames[1].opcode(), 0x9);
  EXPECT_EQ(frames[2].closeCode(), 1008);
}

TEST(ClientConformance, WrongAcceptKeyFailsTheHandshake) {
  ScriptedServer server(
      {},
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
      500ms);
  std::string what;
  aerie::run([&]() -> Task<> {
    try {
      (void)co_await websocket::connect(server.url());
    } catch (const client::HandshakeError& e) {
      what = e.what();
    }
  });
  EXPECT_NE(what.find("Sec-WebSocket-Accept"), std::string::npos) << what;
}

TEST(ClientConformance, UnofferedSubprotocolOrExtensionFailsTheHandshake) {
  for (const char* extra :
       {"Sec-WebSocket-Protocol: chat\r\n", "Sec-WebSocket-Extensions: permessage-deflate\r\n"}) {
    // The accept key depends on the request: build the head per connection.
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();
    std::thread peer([&] {
      tcp::socket socket(io);
      acceptor.accept(socket);
      asio::streambuf buffer;
      asio::read_until(socket, buffer, "\r\n\r\n");
      const std::string request(asio::buffers_begin(buffer.data()),
                                asio::buffers_end(buffer.data()));
      const auto at = request.find("Sec-WebSocket-Key: ");
      const std::string key = request.substr(at + 19, request.find("\r\n", at) - at - 19);
      std::string head = protocol::buildAcceptResponseHead(protocol::computeAcceptKey(key));
      head.insert(head.size() - 2, extra);
      std::error_code ignored;
      asio::write(socket, asio::buffer(head), ignored);
      std::this_thread::sleep_for(200ms);
    });
    std::string what;
    aerie::run([&]() -> Task<> {
      try {
        client::Options options;
        options.perMessageDeflate = false;  // offered by default: here it must not be
        (void)co_await websocket::connect("ws://127.0.0.1:" + std::to_string(port) + "/",
                                          options);
      } catch (const client::HandshakeError& e) {
        what = e.what();
      }
    });
    peer.join();
    EXPECT_FALSE(what.empty()) << extra << " accepted";
  }
}

}  // namespace
}  // namespace aerie::test
