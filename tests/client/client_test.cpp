// The client against the aerie server: the round trip, close from either side, errors,
// streaming both ways, flow control, and a client running inside a server handler.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aerie/aerie.hpp"
#include "support/test_server.hpp"

namespace aerie::test {
namespace {

using namespace std::chrono_literals;

std::string urlOf(const TestServer& server, std::string_view path = "/") {
  return "ws://127.0.0.1:" + std::to_string(server.port()) + std::string(path);
}

ws::Options serverOptions() {
  ws::Options options;
  options.maxFramesPerSecond = 0;
  options.maxBytesPerMinute = 0;
  options.maxFrameSize = options.maxMessageSize = 32 * 1024 * 1024;
  return options;
}

TEST(ClientTest, EchoesTextAndBinaryAndClosesCleanly) {
  auto handler = std::make_shared<RecordingHandler>();
  TestServer server(handler, serverOptions());
  std::vector<std::pair<bool, std::string>> received;
  ws::ClientInfo info;
  std::uint16_t code = 0;
  aerie::run([&]() -> Task<> {
    auto connection = co_await websocket::connect(urlOf(server));
    co_await connection.send("hello");
    co_await connection.sendBinary(std::string("\x00\x01\x02", 3));
    co_await connection.send("");
    for (int i = 0; i < 3; ++i) {
      auto message = co_await connection.receive();
      EXPECT_TRUE(message);
      if (!message) co_return;
      received.emplace_back(message->isBinary(), co_await message->buffer());
    }
    info = connection.getInfo();
    co_await connection.close(1000, "done");
    code = connection.closeCode();
  });
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[0], std::make_pair(false, std::string("hello")));
  EXPECT_EQ(received[1], std::make_pair(true, std::string("\x00\x01\x02", 3)));
  EXPECT_EQ(received[2], std::make_pair(false, std::string()));
  EXPECT_EQ(info.messagesSent, 3u);
  EXPECT_EQ(info.messagesRead, 3u);
  EXPECT_EQ(info.framesRead, 3u);
  // Client frames carry a 4-byte masking key: 6 + payload each.
  EXPECT_EQ(info.bytesSent, (6u + 5u) + (6u + 3u) + 6u);
  EXPECT_EQ(info.bytesRead, (2u + 5u) + (2u + 3u) + 2u);
  EXPECT_GT(info.connectedAt, 0);
  EXPECT_EQ(info.closedAt, 0);
  EXPECT_EQ(code, 1000);
  const auto id = handler->waitOpened(0);
  ASSERT_TRUE(id);
  const auto closed = handler->waitClosed(*id);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 1000);
  EXPECT_EQ(closed->reason, "done");
}

TEST(ClientTest, LargeMessagesBothWays) {
  auto handler = std::make_shared<RecordingHandler>();
  TestServer server(handler, serverOptions());
  for (const std::size_t size : {125u, 126u, 65535u, 65536u, 1u << 20, 16u << 20}) {
    std::string payload(size, 'x');
    for (std::size_t i = 0; i < size; i += 7)
      payload[i] = static_cast<char>('a' + i % 26);
    std::string echoed;
    aerie::run([&]() -> Task<> {
      client::Options options;
      options.maxMessageSize = options.maxFrameSize = 32 << 20;
      auto connection = co_await websocket::connect(urlOf(server), options);
      co_await connection.sendBinary(payload);
      auto message = co_await connection.receive();
      if (message) echoed = co_await message->buffer();
      co_await connection.close();
    });
    EXPECT_TRUE(echoed == payload) << "size " << size << ": got " << echoed.size() << " bytes";
  }
}

TEST(ClientTest, ServerCloseEndsReceiveWithTheServersCodeAndReason) {
  auto handler = std::make_shared<RecordingHandler>(/*echo=*/false);
  TestServer server(handler, serverOptions());
  std::optional<bool> gotMessage;
  std::uint16_t code = 0;
  std::string reason;
  bool closed = false;
  aerie::run([&]() -> Task<> {
    auto connection = co_await websocket::connect(urlOf(server));
    const auto id = handler->waitOpened(0);
    if (id) handler->endpoint().close(*id, 4001, "bye");
    auto message = co_await connection.receive();
    gotMessage = message.has_value();
    code = connection.closeCode();
    reason = connection.closeReason();
    co_await connection.close();  // already closing: waits for the end of TCP
    closed = connection.isClosed();
  });
  EXPECT_EQ(gotMessage, false);
  EXPECT_EQ(code, 4001);
  EXPECT_EQ(reason, "bye");
  EXPECT_TRUE(closed);
}

TEST(ClientTest, InvalidUtf8IsRefusedBeforeAnythingIsSent) {
  auto handler = std::make_shared<RecordingHandler>();
  TestServer server(handler, serverOptions());
  bool threw = false;
  std::string after;
  aerie::run([&]() -> Task<> {
    auto connection = co_await websocket::connect(urlOf(server));
    try {
      (void)connection.send("bad \xC3\x28 text");
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    co_await connection.send("still open");
    auto message = co_await connection.receive();
    if (message) after = co_await message->buffer();
    co_await connection.close();
  });
  EXPECT_TRUE(threw);
  EXPECT_EQ(after, "still open");
  ASSERT_EQ(handler->received().size(), 1u);
}

TEST(ClientTest, SendAfterCloseThrowsConnectionClosed) {
  auto handler = std::make_shared<RecordingHandler>();
  TestServer server(handler, serverOptions());
  bool threw = false;
  aerie::run([&]() -> Task<> {
    auto connection = co_await websocket::connect(urlOf(server));
    co_await connection.close();
    try {
      (void)connection.send("too late");
    } catch (const client::ConnectionClosed& e) {
      threw = e.closeCode() == 1000;
    }
  });
  EXPECT_TRUE(threw);
}

TEST(ClientTest, ConnectErrorsAreTyped) {
  auto handler = std::make_shared<RecordingHandler>();
  TestServer server(handler, serverOptions());
  const std::uint16_t deadPort = [&] {
    // A port nobody listens on: bind, note it, close.
    TestServer other(std::make_shared<RecordingHandler>());
    return other.port();
  }();
  aerie::run([&]() -> Task<> {
    try {
      (void)co_await websocket::connect("http://127.0.0.1/");
      ADD_FAILURE() << "http:// accepted";
    } catch (const client::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("ws://"), std::string::npos) << e.what();
    }
    try {
      client::ConnectOptions tls;
      tls.tls.caFile = "/nonexistent/ca.pem";
      (void)co_await websocket::connect("wss://127.0.0.1:1/", tls);
      ADD_FAILURE() << "an unreadable CA file accepted";
    } catch (const client::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos) << e.what();
    }
    try {
      (void)co_await websocket::connect("ws://127.0.0.1:" + std::to_string(deadPort) + "/");
      ADD_FAILURE() << "connected to a closed port";
    } catch (const client::ConnectError& e) {
      EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
    }
    try {
      client::ConnectOptions options;
      options.connectTimeout = 5s;
      (void)co_await websocket::connect("ws://no-such-host.invalid/", options);
      ADD_FAILURE() << "resolved a .invalid name";
    } catch (const client::DnsError& e) {
      EXPECT_NE(std::string(e.what()).find("no-such-host.invalid"), std::string::npos) << e.what();
    } catch (const client::TimeoutError&) {
      // A resolver that cannot reach its DNS server times out instead: also a clear error.
    }
  });
}

class DenyingHandler final : public RecordingHandler {
 public:
  Task<std::any> onHandshake(http::Request& request, http::Response& response) override {
    if (request.target().find("deny") != std::string_view::npos) {
      response.setStatus(403);
      response.setHeader("X-Reason", "test");
      co_await response.send("go away");
      co_return std::any();
    }
    if (const auto offered = request.headers().get("Sec-WebSocket-Protocol")) {
      if (offered->find("chat.v2") != std::string_view::npos) {
        response.setHeader("Sec-WebSocket-Protocol", "chat.v2");
      }
    }
    lastOrigin = std::string(request.headers().get("Origin").value_or(""));
    lastToken = std::string(request.headers().get("X-Token").value_or(""));
    co_return std::any();
  }
  std::string lastOrigin;
  std::string lastToken;
};

TEST(ClientTest, DeniedHandshakeCarriesStatusHeadersAndBody) {
  auto handler = std::make_shared<DenyingHandler>();
  TestServer server(handler, serverOptions());
  bool caught = false;
  aerie::run([&]() -> Task<> {
    try {
      (void)co_await websocket::connect(urlOf(server, "/deny"));
    } catch (const client::HandshakeError& e) {
      caught = true;
      EXPECT_EQ(e.status(), 403);
      EXPECT_EQ(e.body(), "go away");
      EXPECT_EQ(e.headers().get("X-Reason").value_or(""), "test");
      EXPECT_NE(std::string(e.what()).find("403"), std::string::npos) << e.what();
    }
  });
  EXPECT_TRUE(caught);
}

TEST(ClientTest, HandshakeSendsHeadersOriginAndSubprotocols) {
  auto handler = std::make_shared<DenyingHandler>();
  TestServer server(handler, serverOptions());
  std::string chosen;
  std::string acceptHeader;
  aerie::run([&]() -> Task<> {
    websocket::Handshake handshake(urlOf(server, "/chat?room=1"));
    handshake.header("X-Token", "secret").withOrigin("http://example.test");
    handshake.subprotocol("chat.v1").subprotocol("chat.v2");
    auto connection = co_await websocket::connect(handshake);
    chosen = connection.subprotocol();
    acceptHeader =
        std::string(connection.responseHeaders().get("Sec-WebSocket-Accept").value_or(""));
    co_await connection.close();
  });
  EXPECT_EQ(chosen, "chat.v2");
  EXPECT_EQ(acceptHeader.size(), 28u);
  EXPECT_EQ(handler->lastOrigin, "http://example.test");
  EXPECT_EQ(handler->lastToken, "secret");
}

/// "big N": sends one N-byte binary message back; "stream N": one message of N MiB,
/// produced and sent 1 MiB at a time.
class BigSender final : public RecordingHandler {
 protected:
  Task<> handleMessage(ClientId client, const Received& message) override {
    if (message.payload.rfind("stream ", 0) == 0) {
      const int mebibytes = std::stoi(message.payload.substr(7));
      const std::string chunk(1 << 20, 's');
      auto writer = endpoint().streamBinary(client);
      for (int i = 0; i < mebibytes; ++i)
        co_await writer.write(chunk);
      co_await writer.end();
      co_return;
    }
    if (message.payload.rfind("big ", 0) == 0) {
      const std::size_t size = std::stoul(message.payload.substr(4));
      co_await endpoint().sendBinary(std::string(size, 'b'), client);
      co_return;
    }
    co_await RecordingHandler::handleMessage(client, message);
  }
};

TEST(ClientTest, StreamingReceiveGetsChunksAndStreamingSendFragments) {
  auto handler = std::make_shared<BigSender>();
  ws::Options options = serverOptions();
  options.autoFrameSize = 64 * 1024;
  TestServer server(handler, options);
  std::size_t total = 0;
  std::size_t chunks = 0;
  std::string streamedEcho;
  aerie::run([&]() -> Task<> {
    client::Options clientOptions;
    clientOptions.maxMessageSize = 0;  // streamed: no limit needed
    auto connection = co_await websocket::connect(urlOf(server), clientOptions);
    co_await connection.send("big 8388608");
    auto message = co_await connection.receive();
    if (!message) co_return;
    while (auto chunk = co_await message->read()) {
      total += chunk->size();
      ++chunks;
    }
    auto writer = connection.stream();
    co_await writer.write("one ");
    co_await writer.write("two ");
    co_await writer.end("three");
    auto echo = co_await connection.receive();
    if (echo) streamedEcho = co_await echo->buffer();
    co_await connection.close();
  });
  EXPECT_EQ(total, 8388608u);
  EXPECT_GT(chunks, 1u);
  EXPECT_EQ(streamedEcho, "one two three");
}

std::size_t peakRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}

TEST(ClientTest, AHugeMessageStreamsThroughInBoundedMemory) {
  auto handler = std::make_shared<BigSender>();
  TestServer server(handler, serverOptions());
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr int kMebibytes = 64;  // sanitizers are slow, and RSS means nothing under them
#else
  constexpr int kMebibytes = 256;
#endif
  std::uint64_t total = 0;
  [[maybe_unused]] const std::size_t before = peakRssKib();
  aerie::run([&]() -> Task<> {
    client::Options options;
    options.maxMessageSize = 0;  // no limit: the message is never held whole
    auto connection = co_await websocket::connect(urlOf(server), options);
    co_await connection.send("stream " + std::to_string(kMebibytes));
    auto message = co_await connection.receive();
    if (!message) co_return;
    while (auto chunk = co_await message->read())
      total += chunk->size();
    co_await connection.close();
  });
  EXPECT_EQ(total, std::uint64_t{kMebibytes} << 20);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // Server and client together: a few MiB of buffers, not the 256 MiB message.
  EXPECT_LT(peakRssKib() - before, 64u * 1024) << "the message was buffered somewhere";
#endif
}

TEST(ClientTest, ASlowReceiverPausesReadingInsteadOfBuffering) {
  auto handler = std::make_shared<BigSender>();
  TestServer server(handler, serverOptions());
  std::uint64_t readWhilePaused = 0;
  std::string tail;
  aerie::run([&]() -> Task<> {
    client::Options options;
    options.receiveWindow = 256 * 1024;
    auto connection = co_await websocket::connect(urlOf(server), options);
    for (int i = 0; i < 16; ++i)
      co_await connection.send("big 1048576");
    co_await connection.send("end");
    // Not receiving: the client must stop reading near the window, not take 16 MiB.
    co_await aerie::delay(500ms);
    readWhilePaused = connection.getInfo().bytesRead;
    for (int i = 0; i < 17; ++i) {
      auto message = co_await connection.receive();
      if (!message) break;
      const std::string payload = co_await message->buffer();
      if (i == 16) tail = payload;
    }
    co_await connection.close();
  });
  EXPECT_LT(readWhilePaused, 4u * 1024 * 1024) << "read ahead of the application";
  EXPECT_EQ(tail, "end");
}

/// A handler that is itself a client: on "relay URL text" it connects to URL, sends the
/// text, and returns what came back.
class RelayHandler final : public RecordingHandler {
 protected:
  Task<> handleMessage(ClientId client, const Received& message) override {
    const auto space = message.payload.find(' ', 6);
    const std::string url = message.payload.substr(6, space - 6);
    auto upstream = co_await websocket::connect(url);
    co_await upstream.send(message.payload.substr(space + 1));
    auto reply = co_await upstream.receive();
    std::string text = "(nothing)";
    if (reply) text = co_await reply->buffer();  // (not in a ?: : GCC 12 miscompiles that)
    co_await upstream.close();
    co_await endpoint().send("relayed: " + text, client);
  }
};

TEST(ClientTest, WorksInsideAServerHandler) {
  auto upstreamHandler = std::make_shared<RecordingHandler>();
  TestServer upstream(upstreamHandler, serverOptions());
  auto relay = std::make_shared<RelayHandler>();
  TestServer front(relay, serverOptions());
  auto client = front.connect();
  client->sendText("relay " + urlOf(upstream) + " ping through");
  const auto reply = client->readMessage(10s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->payload, "relayed: ping through");
}

TEST(ClientTest, DroppingTheLastHandleClosesWith1001) {
  auto handler = std::make_shared<RecordingHandler>();
  TestServer server(handler, serverOptions());
  aerie::run([&]() -> Task<> {
    {
      auto connection = co_await websocket::connect(urlOf(server));
      co_await connection.send("x");
    }
    co_await aerie::delay(300ms);  // the close handshake runs on the loop
  });
  const auto id = handler->waitOpened(0);
  ASSERT_TRUE(id);
  const auto closed = handler->waitClosed(*id);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 1001);
}

TEST(ClientTest, PerMessageDeflateWithTheAerieServerInBothModes) {
  for (const bool shared : {true, false}) {
    auto handler = std::make_shared<RecordingHandler>();
    ws::Options options = serverOptions();
    options.perMessageDeflate = true;
    options.deflateNoContextTakeover = shared;
    TestServer server(handler, options);
    std::string answer;
    ws::ClientInfo info;
    bool allEchoed = true;
    aerie::run([&]() -> Task<> {
      client::Options clientOptions;
      clientOptions.perMessageDeflate = true;
      auto connection = co_await websocket::connect(urlOf(server), clientOptions);
      answer =
          std::string(connection.responseHeaders().get("Sec-WebSocket-Extensions").value_or(""));
      const std::string text(200'000, 'c');
      std::string noise(50'000, '\0');
      for (std::size_t i = 0; i < noise.size(); ++i)
        noise[i] = static_cast<char>((i * 2654435761u) >> 13);
      for (int round = 0; round < 3; ++round) {
        co_await connection.send(text);
        co_await connection.sendBinary(noise);
        auto first = co_await connection.receive();
        auto second = co_await connection.receive();
        if (!first || !second) {
          allEchoed = false;
          break;
        }
        allEchoed =
            allEchoed && co_await first->buffer() == text && co_await second->buffer() == noise;
      }
      info = connection.getInfo();
      co_await connection.close();
    });
    EXPECT_TRUE(allEchoed) << "shared " << shared;
    EXPECT_EQ(answer.find("permessage-deflate"), 0u) << answer;
    EXPECT_EQ(answer.find("no_context_takeover") != std::string::npos, shared) << answer;
    EXPECT_EQ(info.extensions.find("permessage-deflate"), 0u) << info.extensions;
    EXPECT_EQ(info.extensions.find("client_no_context_takeover") != std::string::npos, shared);
    // 3 x 200 KB of one letter must cross the wire compressed, both ways.
    EXPECT_LT(info.bytesSent, 3u * 60'000 + 3u * 1'000) << "shared " << shared;
    EXPECT_LT(info.bytesRead, 3u * 60'000 + 3u * 1'000) << "shared " << shared;
  }
}

TEST(ClientTest, StreamedMessagesAreCompressedBothWaysInBothModes) {
  for (const bool shared : {true, false}) {
    auto handler = std::make_shared<BigSender>();
    ws::Options options = serverOptions();
    options.deflateNoContextTakeover = shared;
    TestServer server(handler, options);
    std::size_t streamedIn = 0;
    bool allS = true;
    std::string echoOfStream;
    std::string bigAfter;
    ws::ClientInfo info;
    const std::string piece(300'000, 'c');
    aerie::run([&]() -> Task<> {
      client::Options clientOptions = {};
      clientOptions.deflateNoContextTakeover = shared;
      auto connection = co_await websocket::connect(urlOf(server), clientOptions);
      co_await connection.send("stream 4");  // the server streams 4 MiB of 's'
      if (auto message = co_await connection.receive()) {
        while (auto chunk = co_await message->read()) {
          streamedIn += chunk->size();
          allS = allS && chunk->find_first_not_of('s') == std::string::npos;
        }
      }
      auto writer = connection.stream();
      co_await writer.write(piece);
      co_await writer.write(piece);
      co_await writer.end(piece);
      if (auto echo = co_await connection.receive()) echoOfStream = co_await echo->buffer();
      // Whole messages after the streams: the compressors' history is still in step.
      co_await connection.send("big 100000");
      if (auto big = co_await connection.receive()) bigAfter = co_await big->buffer();
      info = connection.getInfo();
      co_await connection.close();
    });
    EXPECT_EQ(streamedIn, 4u << 20) << "shared " << shared;
    EXPECT_TRUE(allS);
    EXPECT_TRUE(echoOfStream == piece + piece + piece) << "shared " << shared;
    EXPECT_TRUE(bigAfter == std::string(100'000, 'b')) << "shared " << shared;
    // 4 MiB + 900 KB + 100 KB of single letters must cross the wire compressed.
    EXPECT_LT(info.bytesRead, 200'000u) << "shared " << shared;
    EXPECT_LT(info.bytesSent, 20'000u) << "shared " << shared;
  }
}

/// Broadcasts every message to everyone else.
class Broadcaster final : public RecordingHandler {
 protected:
  Task<> handleMessage(ClientId client, const Received& message) override {
    const ClientId except[] = {client};
    co_await endpoint().broadcast(message.payload, except);
  }
};

TEST(ClientTest, BroadcastsAreCompressedOnceForSharedModeRecipients) {
  auto handler = std::make_shared<Broadcaster>();
  TestServer server(handler, serverOptions());  // compression on, shared mode: the defaults
  const std::string text(100'000, 'b');
  std::string atCompressed;
  std::string atPlain;
  std::uint64_t compressedBytes = 0;
  std::uint64_t plainBytes = 0;
  aerie::run([&]() -> Task<> {
    client::Options deflate;
    deflate.perMessageDeflate = true;
    auto sender = co_await websocket::connect(urlOf(server), deflate);
    auto compressed = co_await websocket::connect(urlOf(server), deflate);
    client::Options noDeflate;
    noDeflate.perMessageDeflate = false;
    auto plain = co_await websocket::connect(urlOf(server), noDeflate);
    co_await aerie::delay(100ms);  // every onOpen ran: all three are broadcast targets
    co_await sender.send(text);
    auto one = co_await compressed.receive();
    auto two = co_await plain.receive();
    if (one) atCompressed = co_await one->buffer();
    if (two) atPlain = co_await two->buffer();
    compressedBytes = compressed.getInfo().bytesRead;
    plainBytes = plain.getInfo().bytesRead;
    co_await sender.close();
    co_await compressed.close();
    co_await plain.close();
  });
  EXPECT_TRUE(atCompressed == text);
  EXPECT_TRUE(atPlain == text);
  EXPECT_LT(compressedBytes, 2'000u) << "the broadcast was not compressed";
  EXPECT_GT(plainBytes, 100'000u);
}

TEST(ClientTest, RunRethrowsWhatEscapesTheTask) {
  EXPECT_THROW(aerie::run([]() -> Task<> {
                 co_await aerie::delay(1ms);
                 throw std::runtime_error("from the task");
               }),
               std::runtime_error);
}

}  // namespace
}  // namespace aerie::test
