// The opening handshake (RFC 6455 section 4) as the server checks it before onHandshake,
// the handler's own denial, and the odd ways a valid handshake may arrive on the wire.
#include <gtest/gtest.h>

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

/// A request head with exactly these lines (each without CRLF), then the empty line.
std::string request(std::string_view requestLine, const std::vector<std::string>& headers) {
  std::string out(requestLine);
  out += "\r\n";
  for (const std::string& header : headers)
    out += header + "\r\n";
  out += "\r\n";
  return out;
}

const std::string kHost = "Host: 127.0.0.1";
const std::string kUpgrade = "Upgrade: websocket";
const std::string kConnection = "Connection: Upgrade";
const std::string kKey = "Sec-WebSocket-Key: " + std::string(RawWsClient::kKey);
const std::string kVersion = "Sec-WebSocket-Version: 13";

/// Denies clients from a bad origin (403 with a body and a header); hands a session string
/// from the query to onOpen, optionally after an asynchronous pause.
class GatekeeperHandler final : public RecordingHandler {
 public:
  std::atomic<int> handshakes{0};

  Task<std::any> onHandshake(http::Request& request, http::Response& response) override {
    ++handshakes;
    if (!request.queryParam("slow").empty()) {
      co_await delay(std::chrono::milliseconds(std::stoi(request.queryParam("slow"))));
    }
    if (request.header("x-throw") == "yes")
      throw std::runtime_error("onHandshake failed on purpose");
    if (request.header("origin") == "https://evil.example") {
      response.setStatus(403);
      response.setHeader("X-Denied-By", "gatekeeper");
      co_await response.send("Origin not allowed\n");
      co_return std::any{};
    }
    co_return std::string("session for ") + request.queryParam("user");
  }

  Task<> onOpen(ClientId client, std::any handshakeData) override {
    {
      std::lock_guard lock(mutex_);
      const auto* text = std::any_cast<std::string>(&handshakeData);
      handshakeData_.push_back(text != nullptr ? *text : "<not a string>");
    }
    co_await RecordingHandler::onOpen(client, std::move(handshakeData));
  }

  std::vector<std::string> handshakeData() const {
    std::lock_guard lock(mutex_);
    return handshakeData_;
  }

 private:
  std::vector<std::string> handshakeData_;
};

class HandshakeTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = std::make_unique<TestServer>(handler_); }

  /// Sends `bytes` on a new connection and reads the reply.
  std::optional<HttpReply> exchange(const std::string& bytes) {
    client_ = std::make_unique<RawWsClient>(server_->port());
    client_->sendRaw(bytes);
    return client_->readHttpReply();
  }

  std::shared_ptr<GatekeeperHandler> handler_ = std::make_shared<GatekeeperHandler>();
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<RawWsClient> client_;
};

TEST_F(HandshakeTest, PostIsRefusedWith405AndAllowGet) {
  const auto reply = exchange(request(
      "POST / HTTP/1.1", {kHost, kUpgrade, kConnection, kKey, kVersion, "Content-Length: 0"}));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->header("allow"), "GET");
  EXPECT_TRUE(handler_->opened().empty());
}

TEST_F(HandshakeTest, MissingKeyIsRefusedWith400) {
  const auto reply = exchange(request("GET / HTTP/1.1", {kHost, kUpgrade, kConnection, kVersion}));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
}

TEST_F(HandshakeTest, InvalidKeyIsRefusedWith400) {
  for (const std::string& key : std::vector<std::string>{"too-short", "dGhlIHNhbXBsZSBub25jZQ",
                                                         "dGhlIHNhbXBsZSBub25jZQ==="}) {
    const auto reply = exchange(request(
        "GET / HTTP/1.1", {kHost, kUpgrade, kConnection, "Sec-WebSocket-Key: " + key, kVersion}));
    ASSERT_TRUE(reply) << key;
    EXPECT_EQ(reply->status, 400) << key;
  }
}

TEST_F(HandshakeTest, WrongVersionIsRefusedWith426NamingVersion13) {
  const auto reply = exchange(
      request("GET / HTTP/1.1", {kHost, kUpgrade, kConnection, kKey, "Sec-WebSocket-Version: 8"}));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 426);
  EXPECT_EQ(reply->header("sec-websocket-version"), "13");
}

TEST_F(HandshakeTest, MissingUpgradeTokenIsRefusedWith426) {
  auto reply = exchange(request("GET / HTTP/1.1", {kHost, kConnection, kKey, kVersion}));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 426);
  reply = exchange(request("GET / HTTP/1.1", {kHost, "Upgrade: h2c", kConnection, kKey, kVersion}));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 426);
}

TEST_F(HandshakeTest, MissingConnectionTokenIsRefusedWith426) {
  auto reply = exchange(request("GET / HTTP/1.1", {kHost, kUpgrade, kKey, kVersion}));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 426);
  reply = exchange(
      request("GET / HTTP/1.1", {kHost, kUpgrade, "Connection: keep-alive", kKey, kVersion}));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 426);
  EXPECT_TRUE(handler_->opened().empty());
}

TEST_F(HandshakeTest, Http10IsRefusedWith400) {
  const auto reply =
      exchange(request("GET / HTTP/1.0", {kHost, kUpgrade, kConnection, kKey, kVersion}));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
}

TEST_F(HandshakeTest, HugeHeadersAreRefusedWith431) {
  std::vector<std::string> headers{kHost, kUpgrade, kConnection, kKey, kVersion};
  for (int i = 0; i < 64; ++i)
    headers.push_back("X-Pad-" + std::to_string(i) + ": " + std::string(1000, 'p'));
  const auto reply = exchange(request("GET / HTTP/1.1", headers));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 431);
  EXPECT_TRUE(handler_->opened().empty());
}

TEST_F(HandshakeTest, HandshakeSentOneByteAtATimeSucceeds) {
  RawWsClient client(server_->port());
  client.sendRawSplit(RawWsClient::upgradeRequest("/?user=slowpoke"), 1);
  const auto reply = client.readHttpReply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 101);
  EXPECT_EQ(reply->header("sec-websocket-accept"), RawWsClient::kAccept);
  client.sendText("hi");
  const auto echo = client.readMessage();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->payload, "hi");
}

TEST_F(HandshakeTest, FramesInTheSameSegmentAsTheHandshakeAreProcessed) {
  RawWsClient client(server_->port());
  client.sendRaw(RawWsClient::upgradeRequest("/?user=eager") +
                 RawWsClient::encode({.opcode = 0x1, .payload = "first"}) +
                 RawWsClient::encode({.opcode = 0x1, .payload = "second"}));
  const auto reply = client.readHttpReply();
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 101);
  for (const char* expected : {"first", "second"}) {
    const auto echo = client.readMessage();
    ASSERT_TRUE(echo) << expected;
    EXPECT_EQ(echo->payload, expected);
  }
}

TEST_F(HandshakeTest, FramesSentWithTheRequestSurviveAnAsynchronousOnHandshake) {
  RawWsClient client(server_->port());
  client.sendRaw(RawWsClient::upgradeRequest("/?slow=50&user=patient") +
                 RawWsClient::encode({.opcode = 0x1, .payload = "early"}));
  const auto reply = client.readHttpReply();
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 101);
  const auto echo = client.readMessage();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->payload, "early");
  EXPECT_EQ(handler_->handshakeData(), std::vector<std::string>{"session for patient"});
}

TEST_F(HandshakeTest, DeniedHandshakeSendsTheHandlersResponse) {
  RawWsClient client(server_->port());
  client.sendRaw(RawWsClient::upgradeRequest("/", "Origin: https://evil.example\r\n"));
  const auto reply = client.readHttpReply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 403);
  EXPECT_EQ(reply->body, "Origin not allowed\n");
  EXPECT_EQ(reply->header("x-denied-by"), "gatekeeper");
  EXPECT_FALSE(reply->hasHeader("sec-websocket-accept"));
  EXPECT_TRUE(handler_->opened().empty());
}

TEST_F(HandshakeTest, ExceptionInOnHandshakeAnswers500AndTheServerGoesOn) {
  RawWsClient client(server_->port());
  client.sendRaw(RawWsClient::upgradeRequest("/", "X-Throw: yes\r\n"));
  const auto reply = client.readHttpReply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  EXPECT_TRUE(handler_->opened().empty());
  auto next = server_->connect("/?user=next");
  EXPECT_TRUE(handler_->waitOpened(0));
}

TEST_F(HandshakeTest, StopDuringAnAsynchronousOnHandshakeDoesNotOpenTheClient) {
  RawWsClient client(server_->port());
  client.sendRaw(RawWsClient::upgradeRequest("/?slow=300&user=late"));
  ASSERT_TRUE(waitUntil([&] { return handler_->handshakes.load() == 1; }));
  std::thread stopper([&] { server_->stop(); });
  // onStop has run by the time onHandshake resumes: no onOpen may follow it (seed 002:
  // after onStop only onClose), so the handshake must not succeed.
  const auto reply = client.readHttpReply();
  client.closeSocket();  // the server waits for our FIN (bounded by shutdownTimeout)
  stopper.join();
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->status, 101);
  EXPECT_TRUE(handler_->opened().empty());
}

TEST_F(HandshakeTest, OnHandshakeResultReachesOnOpen) {
  auto client = server_->connect("/?user=alice");
  ASSERT_TRUE(handler_->waitOpened(0));
  EXPECT_EQ(handler_->handshakeData(), std::vector<std::string>{"session for alice"});
}

}  // namespace
}  // namespace aerie::test
