// The Endpoint (seed 000): send/sendBinary, broadcast/broadcastBinary with exceptIds,
// multicast/multicastBinary, close, getInfo, getClients, calls for gone clients and from
// foreign threads. Every multi-client test runs with 1 and with 2 workers, so calls cross
// threads both ways.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "aerie/protocol/utf8.hpp"
#include "support/raw_ws_client.hpp"
#include "support/test_server.hpp"

namespace aerie::test {
namespace {

using namespace std::chrono_literals;

constexpr std::uint8_t kText = 0x1;
constexpr std::uint8_t kBinary = 0x2;

/// Messages are commands, so tests can drive the Endpoint from a handler (on a worker
/// thread) as well as from the test thread:
///   "broadcast:<text>"  broadcast to everyone but the sender
///   "echo:<text>"       send back to the sender
class CommandHandler final : public RecordingHandler {
 public:
  CommandHandler() : RecordingHandler(/*echo=*/false) {}

 protected:
  Task<> handleMessage(ClientId client, const Received& message) override {
    const std::string_view payload = message.payload;
    if (payload.starts_with("broadcast:")) {
      const ClientId except[] = {client};
      co_await endpoint().broadcast(std::string(payload.substr(10)), except);
    } else if (payload.starts_with("echo:")) {
      co_await endpoint().send(std::string(payload.substr(5)), client);
    } else if (payload == "stream") {
      // A streamed message with a whole message and a broadcast sent while it is open, and
      // a second stream started before the first ended: both must wait for their turn.
      auto first = endpoint().stream(client);
      co_await first.write("one ");
      (void)endpoint().send("after the streams", client);
      auto second = endpoint().streamBinary(client);
      co_await second.write("B1");
      co_await first.write("two ");
      co_await second.end("B2");
      co_await delay(20ms);
      co_await first.end("three");
    }
  }
};

class EndpointTest : public ::testing::TestWithParam<unsigned> {
 protected:
  void SetUp() override {
    ws::Options options;
    options.maxFramesPerSecond = 0;
    server_ = std::make_unique<TestServer>(handler_, options, GetParam());
  }

  /// Connects `n` clients one after the other; ids_[i] belongs to clients_[i].
  void connect(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      clients_.push_back(server_->connect());
      const auto id = handler_->waitOpened(ids_.size());
      ASSERT_TRUE(id) << "onOpen did not run for client " << i;
      ids_.push_back(*id);
    }
  }

  ws::Endpoint& endpoint() { return handler_->endpoint(); }

  /// The next message of client `i` is `payload` with `opcode`.
  void expectMessage(std::size_t i, std::string_view payload, std::uint8_t opcode = kText) {
    const auto message = clients_[i]->readMessage();
    ASSERT_TRUE(message) << "client " << i << " received nothing";
    EXPECT_EQ(message->payload, payload) << "client " << i;
    EXPECT_EQ(message->opcode, opcode) << "client " << i;
  }

  /// The close handshake from client `i`'s side, then its socket closes on EOF.
  void closeCleanly(std::size_t i) {
    clients_[i]->sendClose(1000);
    EXPECT_TRUE(clients_[i]->readClose());
    EXPECT_TRUE(clients_[i]->waitForEof());
    clients_[i]->closeSocket();
  }

  /// Sends "sync" to everyone: a client's next message is then "sync" exactly when it got
  /// nothing before it (per-client order is preserved), without waiting for a timeout.
  void sync() { endpoint().broadcast("sync"); }

  std::shared_ptr<CommandHandler> handler_ = std::make_shared<CommandHandler>();
  std::unique_ptr<TestServer> server_;
  std::vector<std::unique_ptr<RawWsClient>> clients_;
  std::vector<ClientId> ids_;
};

TEST_P(EndpointTest, SendAndSendBinaryReachOnlyTheirClient) {
  connect(3);
  endpoint().send("to one", ids_[1]);
  endpoint().sendBinary(std::string("\x00\xFF bin", 6), ids_[2]);
  sync();
  expectMessage(0, "sync");
  expectMessage(1, "to one");
  expectMessage(1, "sync");
  expectMessage(2, std::string("\x00\xFF bin", 6), kBinary);
  expectMessage(2, "sync");
}

TEST_P(EndpointTest, SendWithInvalidUtf8ThrowsAndSendsNothing) {
  connect(2);
  EXPECT_THROW(endpoint().send("bad \xC3\x28", ids_[0]), std::invalid_argument);
  EXPECT_THROW(endpoint().broadcast("bad \xFF"), std::invalid_argument);
  const ClientId both[] = {ids_[0], ids_[1]};
  EXPECT_THROW(endpoint().multicast("\xED\xA0\x80", both), std::invalid_argument);
  // Binary is never checked.
  endpoint().sendBinary("\xFF", ids_[0]);
  sync();
  expectMessage(0, "\xFF", kBinary);
  expectMessage(0, "sync");
  expectMessage(1, "sync");
  const auto info = endpoint().getInfo(ids_[0]);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->messagesSent, 2u);
}

TEST_P(EndpointTest, BroadcastSkipsExceptIds) {
  connect(20);
  const ClientId except[] = {ids_[3], ids_[17]};
  endpoint().broadcast("news", except);
  endpoint().broadcastBinary("bin-news");
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    if (i != 3 && i != 17) expectMessage(i, "news");
    expectMessage(i, "bin-news", kBinary);
  }
}

TEST_P(EndpointTest, BroadcastFromAHandlerReachesEveryOtherClient) {
  connect(6);
  clients_[2]->sendText("broadcast:hello from 2");
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    if (i != 2) expectMessage(i, "hello from 2");
  }
  // The sender was excepted: its next message is the sync.
  sync();
  expectMessage(2, "sync");
}

TEST_P(EndpointTest, MulticastReachesExactlyTheSubset) {
  connect(20);
  const std::vector<ClientId> subset = {ids_[0], ids_[5], ids_[6], ids_[11], ids_[19]};
  endpoint().multicast("few", subset);
  endpoint().multicastBinary("few-bin", subset);
  sync();
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    const bool member = std::find(subset.begin(), subset.end(), ids_[i]) != subset.end();
    if (member) {
      expectMessage(i, "few");
      expectMessage(i, "few-bin", kBinary);
    }
    expectMessage(i, "sync");
  }
}

TEST_P(EndpointTest, CloseSendsCodeAndReasonThenOnCloseRuns) {
  connect(2);
  endpoint().close(ids_[0], 4000, "kicked");
  const auto frame = clients_[0]->readClose();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->closeCode(), 4000);
  EXPECT_EQ(frame->closeReason(), "kicked");
  // The server waits for our close frame (up to closePeriod) before the client is gone.
  EXPECT_TRUE(handler_->closed().empty());
  clients_[0]->sendClose(4000);
  EXPECT_TRUE(clients_[0]->waitForEof());
  clients_[0]->closeSocket();  // as a client library does on EOF
  const auto closed = handler_->waitClosed(ids_[0]);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 4000);
  EXPECT_EQ(closed->reason, "kicked");
  // The other client is untouched.
  clients_[1]->sendText("echo:still here");
  expectMessage(1, "still here");
}

TEST_P(EndpointTest, CloseReasonOnTheWireIsValidUtf8AndFitsTheFrame) {
  connect(2);
  std::string longReason;
  for (int i = 0; i < 100; ++i)
    longReason += "\xC3\xA9";  // 200 bytes of "é"
  endpoint().close(ids_[0], 4000, longReason);
  endpoint().close(ids_[1], 4000, "bad \xFF reason");
  for (std::size_t i = 0; i < 2; ++i) {
    const auto frame = clients_[i]->readClose();
    ASSERT_TRUE(frame) << i;
    EXPECT_EQ(frame->closeCode(), 4000) << i;
    EXPECT_LE(frame->payload.size(), 125u) << i;
    // A client fails the connection (1007) on an invalid reason: never send one.
    EXPECT_TRUE(protocol::isValidUtf8(frame->closeReason())) << i;
    clients_[i]->sendClose(4000);
    EXPECT_TRUE(clients_[i]->waitForEof());
    clients_[i]->closeSocket();
  }
  const auto frame = clients_[0]->lastClose();
  ASSERT_TRUE(frame);
  EXPECT_TRUE(longReason.starts_with(frame->closeReason()));
  EXPECT_GE(frame->closeReason().size(), 120u);
}

TEST_P(EndpointTest, GetInfoCountsAKnownExchangeExactly) {
  const auto before = static_cast<std::int64_t>(std::time(nullptr));
  connect(1);
  RawWsClient& client = *clients_[0];
  client.sendText("echo:hello");             // 2 + 4 + 10 = 16 bytes, 1 frame
  client.sendText("echo:", false);           // 2 + 4 + 5  = 11 bytes
  client.sendContinuation("split", true);    // 2 + 4 + 5  = 11 bytes
  client.sendPing("p");                      // 2 + 4 + 1  =  7 bytes
  client.sendBinary(std::string(300, 'b'));  // 2 + 2 + 4 + 300 = 308 bytes, no reply
  expectMessage(0, "hello");                 // 2 + 5 = 7 bytes
  expectMessage(0, "split");                 // 2 + 5 = 7 bytes (+ pong 2 + 1 = 3)
  ASSERT_TRUE(handler_->waitReceived(3));
  const auto after = static_cast<std::int64_t>(std::time(nullptr));

  const auto info = endpoint().getInfo(ids_[0]);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->bytesRead, 16u + 11u + 11u + 7u + 308u);
  EXPECT_EQ(info->framesRead, 5u);
  EXPECT_EQ(info->messagesRead, 3u);
  EXPECT_EQ(info->bytesSent, 7u + 7u + 3u);
  EXPECT_EQ(info->framesSent, 3u);
  EXPECT_EQ(info->messagesSent, 2u);
  for (const std::int64_t at : {info->connectedAt, info->lastReadAt, info->lastSentAt,
                                info->lastDataReadAt, info->lastDataSentAt}) {
    EXPECT_GE(at, before - 1);
    EXPECT_LE(at, after + 1);
  }
  EXPECT_GE(info->lastReadAt, info->connectedAt);
  EXPECT_EQ(info->closedAt, 0);
  EXPECT_EQ(info->extensions, "") << "the raw client offers no extension";
  EXPECT_EQ(info->closeCode, 0);
}

TEST_P(EndpointTest, AClientQuietForASecondCarriesOnWhereItStopped) {
  // A client quiet for a second with no frame in progress loses its parser (a new one is
  // made at its next read); one quiet in the middle of a message or of a frame header
  // keeps it. Either way nothing is lost, and the counters go on from where they were.
  const auto quiet = [] { std::this_thread::sleep_for(std::chrono::milliseconds(1300)); };
  connect(1);
  RawWsClient& client = *clients_[0];
  client.sendText("echo:one");
  expectMessage(0, "one");
  quiet();  // between messages: the parser goes
  client.sendText("echo:", false);
  quiet();  // inside a message: it stays
  client.sendContinuation("two", true);
  expectMessage(0, "two");
  const std::string three = RawWsClient::encode({.payload = "echo:three"});
  client.sendRaw(three.substr(0, 1));
  quiet();  // inside a frame header: it stays
  client.sendRaw(three.substr(1));
  expectMessage(0, "three");
  ASSERT_TRUE(handler_->waitReceived(3));
  const auto info = endpoint().getInfo(ids_[0]);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->framesRead, 4u);
  EXPECT_EQ(info->messagesRead, 3u);
  closeCleanly(0);
}

TEST_P(EndpointTest, GetClientsListsExactlyTheConnectedIds) {
  connect(5);
  auto sorted = [](std::vector<ClientId> ids) {
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  EXPECT_EQ(sorted(endpoint().getClients()), sorted(ids_));
  // Ids are unique.
  auto unique = sorted(ids_);
  EXPECT_EQ(std::adjacent_find(unique.begin(), unique.end()), unique.end());

  closeCleanly(1);
  ASSERT_TRUE(handler_->waitClosed(ids_[1]));
  clients_[3]->closeSocket();
  ASSERT_TRUE(handler_->waitClosed(ids_[3]));
  EXPECT_EQ(sorted(endpoint().getClients()), sorted({ids_[0], ids_[2], ids_[4]}));
}

TEST_P(EndpointTest, CallsForAGoneClientAreHarmless) {
  connect(2);
  const ClientId gone = ids_[0];
  closeCleanly(0);
  ASSERT_TRUE(handler_->waitClosed(gone));
  // The registry entry goes once onClose finished.
  EXPECT_TRUE(waitUntil([&] { return !endpoint().getInfo(gone).has_value(); }));

  const ClientId goneIds[] = {gone};
  // Ids that never existed: a huge sequence number, and a worker index out of range.
  const ClientId bogus[] = {ClientId{0xFFFFFFFF} << 8, (ClientId{7} << 8) | 200};
  for (const ClientId id : {gone, bogus[0], bogus[1]}) {
    endpoint().send("void", id);
    endpoint().sendBinary("void", id);
    endpoint().close(id, 1000, "void");
    EXPECT_FALSE(endpoint().getInfo(id).has_value());
  }
  endpoint().multicast("void", goneIds);
  endpoint().multicastBinary("void", bogus);
  endpoint().broadcast("alive", goneIds);
  expectMessage(1, "alive");
  EXPECT_EQ(endpoint().getClients(), std::vector<ClientId>{ids_[1]});
}

TEST_P(EndpointTest, EndpointCallsFromForeignThreadsWork) {
  connect(8);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      // Each thread sends 10 messages to two clients, in order.
      for (int n = 0; n < 10; ++n) {
        for (std::size_t i = t * 2; i < t * 2 + 2; ++i) {
          endpoint().send("m" + std::to_string(n), ids_[i]);
        }
      }
      (void)endpoint().getClients();
      (void)endpoint().getInfo(ids_[t]);
    });
  }
  for (auto& thread : threads)
    thread.join();
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    for (int n = 0; n < 10; ++n)
      expectMessage(i, "m" + std::to_string(n));
  }
}

TEST_P(EndpointTest, StreamedMessagesGoOutAsFragmentsAndOthersWaitTheirTurn) {
  connect(1);
  clients_[0]->sendText("stream");
  std::vector<RawFrame> frames;
  for (int i = 0; i < 6; ++i) {
    auto frame = clients_[0]->readFrame(5s);
    ASSERT_TRUE(frame) << "frame " << i;
    frames.push_back(*frame);
  }
  // The whole message queued first goes after the first stream; the second stream, begun
  // while the first was open, follows the message that was queued before it.
  std::vector<std::tuple<std::uint8_t, bool, std::string>> got;
  for (const auto& f : frames)
    got.emplace_back(f.opcode, f.fin, f.payload);
  const std::vector<std::tuple<std::uint8_t, bool, std::string>> inQueueOrder = {
      {kText, false, "one "}, {0x0, false, "two "},
      {0x0, true, "three"},   {kText, true, "after the streams"},
      {kBinary, false, "B1"}, {0x0, true, "B2"}};
  EXPECT_EQ(got, inQueueOrder);
}

TEST_P(EndpointTest, StreamRefusesInvalidText) {
  connect(1);
  auto writer = handler_->endpoint().stream(ids_[0]);
  EXPECT_NO_THROW((void)writer.write("caf\xC3"));  // a chunk may end inside a character
  EXPECT_THROW((void)writer.write("\xFF"), std::invalid_argument);
  EXPECT_NO_THROW((void)writer.end("\xA9"));
  const auto message = clients_[0]->readMessage(5s);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->payload, "caf\xC3\xA9");
}

INSTANTIATE_TEST_SUITE_P(Workers, EndpointTest, ::testing::Values(1u, 2u),
                         [](const auto& p) { return std::to_string(p.param) + "Workers"; });

}  // namespace
}  // namespace aerie::test
