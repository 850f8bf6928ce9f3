// The Handler contract (seed 002 and issue 4): onStart once before any client, onOpen
// before onData, onData once per message in order and as soon as the first frame arrives,
// Message streaming/buffering/isBinary/MessageError, onClose codes, exceptions -> 1011,
// and the onStop sequence.
#include <gtest/gtest.h>

#include <algorithm>
#include <any>
#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/raw_ws_client.hpp"
#include "support/test_server.hpp"

namespace aerie::test {
namespace {

using namespace std::chrono_literals;

/// Logs every callback as a line ("start", "open-begin:<id>", "data:t:<payload>", ...).
/// Behaviour by message: "throw" throws at once, "throw-later" after a suspension; any
/// other message is echoed. In stream mode a message is read chunk by chunk instead.
class LoggingHandler final : public ws::Handler {
 public:
  std::atomic<bool> streamMode{false};
  std::atomic<int> openDelayMs{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> throwInOpen{false};
  std::atomic<bool> closeInOpen{false};
  std::atomic<bool> throwBeforeTask{false};  // onData throws before it has a coroutine

  void onStart(ws::Endpoint& endpoint) override {
    endpoint_ = &endpoint;
    log("start");
  }

  Task<> onOpen(ClientId client, std::any /*data*/) override {
    log("open-begin:" + std::to_string(client));
    if (const int ms = openDelayMs.load(); ms > 0) co_await delay(std::chrono::milliseconds(ms));
    log("open-end:" + std::to_string(client));
    if (throwInOpen) throw std::runtime_error("onOpen failed on purpose");
    if (closeInOpen) endpoint_->close(client, 4003, "not welcome");
  }

  Task<> onData(ClientId client, ws::Message message) override {
    if (throwBeforeTask) throw std::runtime_error("onData failed before its task existed");
    return onDataBody(client, std::move(message));
  }

  Task<> onDataBody(ClientId client, ws::Message message) {
    if (streamMode) {
      log(std::string("stream-begin:") + (message.isBinary() ? "b" : "t"));
      try {
        while (auto chunk = co_await message.read()) {
          std::lock_guard lock(mutex_);
          chunks_.push_back(*chunk);
        }
        log("stream-end");
      } catch (const ws::MessageError&) {
        log("message-error");
      }
      co_return;
    }
    log("data-begin");
    std::string payload;
    try {
      payload = co_await message.buffer();
    } catch (const ws::MessageError&) {
      log("message-error");
      co_return;
    }
    log(std::string("data:") + (message.isBinary() ? "b:" : "t:") + payload);
    if (payload == "throw") throw std::runtime_error("onData failed on purpose");
    if (payload == "sleep") {
      co_await delay(1500ms);  // outlives a stop with a short shutdownTimeout
      log("slept");
      co_return;
    }
    if (payload == "throw-later") {
      co_await delay(10ms);
      throw std::runtime_error("onData failed on purpose, later");
    }
    if (message.isBinary()) {
      co_await endpoint_->sendBinary(payload, client);
    } else {
      co_await endpoint_->send(payload, client);
    }
  }

  Task<> onClose(ClientId client, std::uint16_t code, std::string_view reason) override {
    log("close:" + std::to_string(client) + ":" + std::to_string(code) + ":" + std::string(reason));
    co_return;
  }

  Task<> onStop() override {
    log("stop-begin");
    stopping = true;
    co_await delay(200ms);
    co_await endpoint_->broadcast("Byebye!");
    log("stop-end");
  }

  std::vector<std::string> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<std::string> chunks() const {
    std::lock_guard lock(mutex_);
    return chunks_;
  }
  bool has(const std::string& event) const {
    const auto all = events();
    return std::find(all.begin(), all.end(), event) != all.end();
  }
  /// Position of the first event starting with `prefix` (events().size() if none).
  std::size_t indexOf(const std::string& prefix) const {
    const auto all = events();
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].starts_with(prefix)) return i;
    }
    return all.size();
  }
  std::size_t count(const std::string& prefix) const {
    const auto all = events();
    return static_cast<std::size_t>(std::count_if(
        all.begin(), all.end(), [&](const std::string& e) { return e.starts_with(prefix); }));
  }
  /// Waits for an event starting with `prefix`.
  bool waitFor(const std::string& prefix, std::chrono::milliseconds timeout = kTimeout) const {
    return waitUntil([&] { return count(prefix) > 0; }, timeout);
  }

 private:
  void log(std::string event) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }

  ws::Endpoint* endpoint_ = nullptr;
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
  std::vector<std::string> chunks_;
};

class HandlerSemanticsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ws::Options options;
    options.maxFramesPerSecond = 0;
    server_ = std::make_unique<TestServer>(handler_, options);
  }

  /// Connects and returns the client with its id (the newest "open-begin").
  std::pair<std::unique_ptr<RawWsClient>, ClientId> connect() {
    const std::size_t before = handler_->count("open-begin:");
    auto client = server_->connect();
    EXPECT_TRUE(waitUntil([&] { return handler_->count("open-begin:") > before; }));
    ClientId id = 0;
    std::size_t seen = 0;
    for (const std::string& e : handler_->events()) {
      if (e.starts_with("open-begin:") && seen++ == before) id = std::stoull(e.substr(11));
    }
    return {std::move(client), id};
  }

  /// The server closes `client` with 1011 (its handler failed): the client answers the close,
  /// sees the server's FIN, and onClose reports 1011.
  void expectClosedWith1011(RawWsClient& client, ClientId id) {
    const auto frame = client.readClose();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->closeCode(), 1011);
    client.sendClose(1011);
    EXPECT_TRUE(client.waitForEof());
    client.closeSocket();
    EXPECT_TRUE(handler_->waitFor("close:" + std::to_string(id) + ":1011:", kTimeout));
  }

  /// Another client is unaffected: its message comes back.
  static void expectEcho(RawWsClient& client, const std::string& text) {
    client.sendText(text);
    const auto echo = client.readMessage();
    ASSERT_TRUE(echo);
    EXPECT_EQ(echo->payload, text);
  }

  std::shared_ptr<LoggingHandler> handler_ = std::make_shared<LoggingHandler>();
  std::unique_ptr<TestServer> server_;
};

TEST_F(HandlerSemanticsTest, OnStartRunsOnceBeforeAnyClient) {
  auto [a, idA] = connect();
  auto [b, idB] = connect();
  EXPECT_EQ(handler_->count("start"), 1u);
  EXPECT_EQ(handler_->indexOf("start"), 0u);
  EXPECT_NE(idA, idB);
}

TEST_F(HandlerSemanticsTest, OnOpenFinishesBeforeOnData) {
  handler_->openDelayMs = 100;
  // Frames in the handshake's segment, and more while onOpen is still suspended.
  RawWsClient client(server_->port());
  client.sendRaw(RawWsClient::upgradeRequest() +
                 RawWsClient::encode({.opcode = 0x1, .payload = "one"}));
  const auto reply = client.readHttpReply();
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 101);
  client.sendText("two");
  for (const char* expected : {"one", "two"}) {
    const auto echo = client.readMessage();
    ASSERT_TRUE(echo);
    EXPECT_EQ(echo->payload, expected);
  }
  EXPECT_LT(handler_->indexOf("open-end:"), handler_->indexOf("data:t:one"));
  EXPECT_LT(handler_->indexOf("data:t:one"), handler_->indexOf("data:t:two"));
}

TEST_F(HandlerSemanticsTest, OnDataRunsOncePerMessageInOrder) {
  auto [client, id] = connect();
  std::string wire;
  for (int i = 0; i < 50; ++i) {
    const std::string text = "msg" + std::to_string(i);
    if (i % 5 == 0) {  // some messages fragmented
      wire += RawWsClient::encode({.opcode = 0x1, .payload = text.substr(0, 2), .fin = false});
      wire += RawWsClient::encode({.opcode = 0x0, .payload = text.substr(2), .fin = true});
    } else {
      wire += RawWsClient::encode({.opcode = 0x1, .payload = text});
    }
  }
  client->sendRaw(wire);
  for (int i = 0; i < 50; ++i) {
    const auto echo = client->readMessage();
    ASSERT_TRUE(echo) << i;
    EXPECT_EQ(echo->payload, "msg" + std::to_string(i));
  }
  std::vector<std::string> data;
  for (const std::string& e : handler_->events()) {
    if (e.starts_with("data:")) data.push_back(e);
  }
  ASSERT_EQ(data.size(), 50u);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(data[i], "data:t:msg" + std::to_string(i));
}

TEST_F(HandlerSemanticsTest, ReadStreamsChunksAsFramesArrive) {
  handler_->streamMode = true;
  auto [client, id] = connect();
  client->sendText("chunk one,", false);
  // onData runs on the first frame, and read() hands it over before the rest exists.
  ASSERT_TRUE(waitUntil([&] { return handler_->chunks().size() == 1; }));
  EXPECT_TRUE(handler_->has("stream-begin:t"));
  client->sendContinuation(" chunk two,", false);
  ASSERT_TRUE(waitUntil([&] { return handler_->chunks().size() == 2; }));
  EXPECT_FALSE(handler_->has("stream-end"));
  client->sendContinuation(" three", true);
  ASSERT_TRUE(handler_->waitFor("stream-end"));
  EXPECT_EQ(handler_->chunks(), (std::vector<std::string>{"chunk one,", " chunk two,", " three"}));
  EXPECT_EQ(handler_->count("stream-begin"), 1u);
}

TEST_F(HandlerSemanticsTest, BufferJoinsFragmentsAndIsBinaryTellsTheType) {
  auto [client, id] = connect();
  client->sendBinary(std::string("\x00\x01", 2), false);
  client->sendContinuation("\x02", false);
  client->sendContinuation("\x03", true);
  client->sendText("text");
  const auto binary = client->readMessage();
  ASSERT_TRUE(binary);
  EXPECT_EQ(binary->opcode, 0x2);
  EXPECT_EQ(binary->payload, std::string("\x00\x01\x02\x03", 4));
  const auto text = client->readMessage();
  ASSERT_TRUE(text);
  EXPECT_EQ(text->opcode, 0x1);
  EXPECT_TRUE(handler_->has("data:b:" + std::string("\x00\x01\x02\x03", 4)));
  EXPECT_TRUE(handler_->has("data:t:text"));
}

TEST_F(HandlerSemanticsTest, BufferFailsWithMessageErrorWhenTheClientDisconnectsMidMessage) {
  auto [client, id] = connect();
  client->sendText("never finished", false);
  // onData runs on the first frame and waits in buffer() for the rest.
  ASSERT_TRUE(handler_->waitFor("data-begin"));
  client->closeSocket();
  ASSERT_TRUE(handler_->waitFor("message-error"));
  ASSERT_TRUE(handler_->waitFor("close:" + std::to_string(id) + ":1006:",
                                kTimeout));  // abrupt: no close frame
  EXPECT_EQ(handler_->count("data:"), 0u);
}

TEST_F(HandlerSemanticsTest, ReadFailsWithMessageErrorWhenTheClientDisconnectsMidMessage) {
  handler_->streamMode = true;
  auto [client, id] = connect();
  client->sendText("part", false);
  ASSERT_TRUE(waitUntil([&] { return handler_->chunks().size() == 1; }));
  client->closeSocket(/*reset=*/true);
  ASSERT_TRUE(handler_->waitFor("message-error"));
  EXPECT_FALSE(handler_->has("stream-end"));
  EXPECT_TRUE(handler_->waitFor("close:" + std::to_string(id) + ":1006:"));
}

TEST_F(HandlerSemanticsTest, OnCloseGetsTheClientsCodeAndReason) {
  auto [client, id] = connect();
  client->sendClose(4001, "see you");
  const auto frame = client->readClose();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->closeCode(), 4001);
  EXPECT_TRUE(client->waitForEof());
  client->closeSocket();
  EXPECT_TRUE(handler_->waitFor("close:" + std::to_string(id) + ":4001:see you"));
  EXPECT_TRUE(handler_->has("close:" + std::to_string(id) + ":4001:see you"));
  EXPECT_EQ(handler_->count("close:"), 1u);
}

TEST_F(HandlerSemanticsTest, OnCloseAfterAbruptDisconnectGets1006) {
  auto [client, id] = connect();
  client->sendText("hello");
  ASSERT_TRUE(client->readMessage());
  client->closeSocket();
  EXPECT_TRUE(handler_->waitFor("close:" + std::to_string(id) + ":1006:"));
}

TEST_F(HandlerSemanticsTest, ExceptionInOnDataClosesThatClientWith1011) {
  auto [bad, badId] = connect();
  auto [good, goodId] = connect();
  bad->sendText("throw");
  expectClosedWith1011(*bad, badId);
  expectEcho(*good, "still fine");
}

TEST_F(HandlerSemanticsTest, OnDataThrowingBeforeItsTaskExistsClosesWith1011) {
  auto [bad, badId] = connect();
  handler_->throwBeforeTask = true;
  bad->sendText("anything");
  expectClosedWith1011(*bad, badId);
  handler_->throwBeforeTask = false;
  auto [good, goodId] = connect();
  expectEcho(*good, "still fine");
}

TEST_F(HandlerSemanticsTest, ExceptionAfterSuspensionInOnDataClosesWith1011) {
  auto [bad, badId] = connect();
  auto [good, goodId] = connect();
  bad->sendText("throw-later");
  const auto frame = bad->readClose();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->closeCode(), 1011);
  expectEcho(*good, "unaffected");
}

/// onOpen ends the client (throw -> 1011, or Endpoint::close): the client's close reply
/// must still be read, so the handshake completes without waiting for the close period.
class OnOpenCloseTest : public ::testing::TestWithParam<bool> {};

TEST_P(OnOpenCloseTest, ClientClosedInOnOpenCompletesTheCloseHandshake) {
  const bool throws = GetParam();
  auto handler = std::make_shared<LoggingHandler>();
  (throws ? handler->throwInOpen : handler->closeInOpen) = true;
  ws::Options options;
  options.closePeriod = 30s;  // only the client's close reply may end the connection
  TestServer server(handler, options);
  auto client = server.connect();
  const auto frame = client->readClose();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->closeCode(), throws ? 1011 : 4003);
  client->sendClose(frame->closeCode());
  EXPECT_TRUE(client->waitForEof(5s)) << "the server did not read the close reply";
  client->closeSocket();
  EXPECT_TRUE(handler->waitFor("close:"));
  EXPECT_EQ(handler->count("close:"), 1u);
  EXPECT_NE(handler->events().back().find(throws ? ":1011:" : ":4003:not welcome"),
            std::string::npos)
      << handler->events().back();
}

INSTANTIATE_TEST_SUITE_P(How, OnOpenCloseTest, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "Throw" : "EndpointClose"; });

class OnStopTest : public ::testing::TestWithParam<unsigned> {};

TEST_P(OnStopTest, StopRunsOnStopThenClosesClientsWith1001) {
  auto handler = std::make_shared<LoggingHandler>();
  ws::Options options;
  options.maxFramesPerSecond = 0;
  TestServer server(handler, options, GetParam());
  std::vector<std::unique_ptr<RawWsClient>> clients;
  for (int i = 0; i < 4; ++i)
    clients.push_back(server.connect());
  ASSERT_TRUE(waitUntil([&] { return handler->count("open-end:") == 4; }));

  std::thread stopper([&] { server.stop(); });
  ASSERT_TRUE(waitUntil([&] { return handler->stopping.load(); }));
  // onStop is running (its delay): a message now must not reach onData.
  clients[0]->sendText("too late");

  for (auto& client : clients) {
    // "Byebye!" first, then the close with 1001.
    const auto message = client->readMessage();
    ASSERT_TRUE(message) << "no Byebye (close: " << client->lastClose().has_value() << ")";
    EXPECT_EQ(message->payload, "Byebye!");
    const auto frame = client->readClose();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->closeCode(), 1001);
    client->sendClose(1001);
  }
  for (auto& client : clients) {
    EXPECT_TRUE(client->waitForEof());
    client->closeSocket();
  }
  stopper.join();

  EXPECT_FALSE(handler->has("data:t:too late"));
  EXPECT_EQ(handler->count("data:"), 0u);
  const std::size_t stopEnd = handler->indexOf("stop-end");
  ASSERT_LT(stopEnd, handler->events().size()) << "stop() returned before onStop's task ended";
  EXPECT_LT(handler->indexOf("stop-begin"), stopEnd);
  EXPECT_EQ(handler->count("close:"), 4u);
  for (const std::string& e : handler->events()) {
    if (e.starts_with("close:")) {
      EXPECT_NE(e.find(":1001:"), std::string::npos) << e;
    }
  }
  EXPECT_LT(stopEnd, handler->indexOf("close:"));
}

TEST_P(OnStopTest, ClientsThatIgnoreTheCloseAreDroppedAfterShutdownTimeout) {
  auto handler = std::make_shared<LoggingHandler>();
  ServerOptions serverOptions;
  serverOptions.shutdownTimeout = 300ms;
  TestServer server(handler, ws::Options{}, GetParam(), serverOptions);
  std::vector<std::unique_ptr<RawWsClient>> clients;
  for (int i = 0; i < 3; ++i)
    clients.push_back(server.connect());
  ASSERT_TRUE(waitUntil([&] { return handler->count("open-end:") == 3; }));
  server.stop();  // nobody answers: the clients are dropped after shutdownTimeout
  EXPECT_EQ(handler->count("close:"), 3u);
  for (auto& client : clients) {
    const auto frame = client->readClose();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->closeCode(), 1001);
    EXPECT_TRUE(client->waitForEof());
  }
}

TEST_P(OnStopTest, StopWhileAHandlerIsSuspendedDoesNotLoseIt) {
  auto handler = std::make_shared<LoggingHandler>();
  ServerOptions serverOptions;
  serverOptions.shutdownTimeout = 300ms;
  TestServer server(handler, ws::Options{}, GetParam(), serverOptions);
  auto client = server.connect();
  client->sendText("sleep");
  ASSERT_TRUE(handler->waitFor("data:t:sleep"));
  client->closeSocket();
  ASSERT_TRUE(handler->waitFor("close:"));
  server.stop();
  // The stopping loop wakes the suspended onData with LoopStopping: it unwinds and its
  // frames are freed. LeakSanitizer (asan preset) checks that nothing leaked at exit.
  SUCCEED();
}

INSTANTIATE_TEST_SUITE_P(Workers, OnStopTest, ::testing::Values(1u, 2u),
                         [](const auto& p) { return std::to_string(p.param) + "Workers"; });

}  // namespace
}  // namespace aerie::test
