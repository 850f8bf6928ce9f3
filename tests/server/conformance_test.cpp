// Server-side RFC 6455 conformance (sections 5-7), over a raw socket: no client library in
// between, so every bit the client sends and the server answers is under the test's control.
// The server under test runs an echo handler.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/raw_ws_client.hpp"
#include "support/test_server.hpp"

namespace aerie::test {
namespace {

using namespace std::chrono_literals;

constexpr std::uint8_t kText = 0x1;
constexpr std::uint8_t kBinary = 0x2;
constexpr std::uint8_t kContinuation = 0x0;
constexpr std::uint8_t kClose = 0x8;
constexpr std::uint8_t kPing = 0x9;
constexpr std::uint8_t kPong = 0xA;

/// Every frame a server sends: unmasked (5.1), RSV bits 0 (no extension negotiated).
void expectServerFrameShape(const RawFrame& frame) {
  EXPECT_FALSE(frame.masked) << "server frames MUST NOT be masked (RFC 6455 5.1)";
  EXPECT_FALSE(frame.rsv1);
  EXPECT_FALSE(frame.rsv2);
  EXPECT_FALSE(frame.rsv3);
}

std::string binaryPayload(std::size_t size) {
  std::string data(size, '\0');
  std::uint32_t x = 2463534242u;
  for (char& c : data) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return data;
}

class ConformanceTest : public ::testing::Test {
 protected:
  static ws::Options echoOptions() {
    ws::Options options;
    // Conformance is about frames, not rate limits: many tiny fragments must not stall.
    options.maxFramesPerSecond = 0;
    options.maxBytesPerMinute = 0;
    return options;
  }

  void SetUp() override { server_ = std::make_unique<TestServer>(handler_, echoOptions()); }

  std::unique_ptr<RawWsClient> connect() { return server_->connect(); }

  /// The next frame is a close with `code`; then the server closes the TCP connection.
  static void expectFailedWith(RawWsClient& client, std::uint16_t code) {
    const auto frame = client.readFrame();
    ASSERT_TRUE(frame) << "no frame (eof: " << client.eof() << ")";
    ASSERT_EQ(frame->opcode, kClose) << "expected a close frame, got opcode " << +frame->opcode;
    EXPECT_EQ(frame->closeCode(), code) << "reason: " << frame->closeReason();
    EXPECT_TRUE(frame->fin);
    expectServerFrameShape(*frame);
    EXPECT_TRUE(client.waitForEof()) << "the server did not close the TCP connection";
    // As a client library would on EOF: close our side, so the server's connection (and
    // onClose) ends now rather than after the close period.
    client.closeSocket();
  }

  /// The next frame is a single-frame message with this opcode and payload.
  static void expectEcho(RawWsClient& client, std::uint8_t opcode, std::string_view payload) {
    const auto frame = client.readFrame();
    ASSERT_TRUE(frame) << "no echo (eof: " << client.eof() << ")";
    EXPECT_EQ(frame->opcode, opcode);
    EXPECT_TRUE(frame->fin);
    EXPECT_EQ(frame->payload, payload);
    expectServerFrameShape(*frame);
  }

  /// Reads a whole message frame by frame, checking opcodes, FIN and frame shape.
  static std::string readMessageFrames(RawWsClient& client, std::uint8_t opcode,
                                       std::vector<std::size_t>* frameSizes = nullptr) {
    std::string payload;
    bool first = true;
    while (true) {
      const auto frame = client.readFrame();
      if (!frame) {
        ADD_FAILURE() << "message incomplete after " << payload.size() << " bytes";
        return payload;
      }
      expectServerFrameShape(*frame);
      EXPECT_EQ(frame->opcode, first ? opcode : kContinuation);
      first = false;
      payload += frame->payload;
      if (frameSizes != nullptr) frameSizes->push_back(frame->payload.size());
      if (frame->fin) return payload;
    }
  }

  std::shared_ptr<RecordingHandler> handler_ = std::make_shared<RecordingHandler>();
  std::unique_ptr<TestServer> server_;
};

// ---- 5.1 masking, 5.2 reserved bits and opcodes ----------------------------------------

TEST_F(ConformanceTest, UnmaskedClientFrameFailsWith1002) {
  auto client = connect();
  client->sendFrame({.opcode = kText, .payload = "hello", .mask = false});
  expectFailedWith(*client, 1002);
  EXPECT_TRUE(handler_->received().empty());
}

class ReservedBitTest : public ConformanceTest, public ::testing::WithParamInterface<int> {};

TEST_P(ReservedBitTest, ReservedBitWithoutExtensionFailsWith1002) {
  auto client = connect();
  FrameSpec spec{.opcode = kText, .payload = "hello"};
  spec.rsv1 = GetParam() == 1;
  spec.rsv2 = GetParam() == 2;
  spec.rsv3 = GetParam() == 3;
  client->sendFrame(spec);
  expectFailedWith(*client, 1002);
}

INSTANTIATE_TEST_SUITE_P(Rsv, ReservedBitTest, ::testing::Values(1, 2, 3),
                         [](const auto& p) { return "RSV" + std::to_string(p.param); });

class ReservedOpcodeTest : public ConformanceTest,
                           public ::testing::WithParamInterface<std::uint8_t> {};

TEST_P(ReservedOpcodeTest, ReservedOpcodeFailsWith1002) {
  auto client = connect();
  client->sendFrame({.opcode = GetParam(), .payload = "x"});
  expectFailedWith(*client, 1002);
}

INSTANTIATE_TEST_SUITE_P(Opcodes, ReservedOpcodeTest,
                         ::testing::Values(0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF),
                         [](const auto& p) { return "Opcode" + std::to_string(p.param); });

// ---- 5.4 / 5.5 control frames ------------------------------------------------------------

TEST_F(ConformanceTest, FragmentedPingFailsWith1002) {
  auto client = connect();
  client->sendFrame({.opcode = kPing, .payload = "abc", .fin = false});
  expectFailedWith(*client, 1002);
}

TEST_F(ConformanceTest, PingWith126BytePayloadFailsWith1002) {
  auto client = connect();
  client->sendFrame({.opcode = kPing, .payload = std::string(126, 'p')});
  expectFailedWith(*client, 1002);
}

class ControlFrameTest : public ConformanceTest,
                         public ::testing::WithParamInterface<std::uint8_t> {};

TEST_P(ControlFrameTest, ControlFrameOver125BytesFailsWith1002) {
  auto client = connect();
  std::string payload(126, 'c');
  if (GetParam() == kClose) payload = RawWsClient::closePayload(1000, std::string(124, 'r'));
  client->sendFrame({.opcode = GetParam(), .payload = payload});
  expectFailedWith(*client, 1002);
}

TEST_P(ControlFrameTest, FragmentedControlFrameFailsWith1002) {
  auto client = connect();
  std::string payload = "ab";
  if (GetParam() == kClose) payload = RawWsClient::closePayload(1000);
  client->sendFrame({.opcode = GetParam(), .payload = payload, .fin = false});
  expectFailedWith(*client, 1002);
}

INSTANTIATE_TEST_SUITE_P(Opcodes, ControlFrameTest, ::testing::Values(kClose, kPing, kPong),
                         [](const auto& p) {
                           return p.param == kClose ? "Close" : p.param == kPing ? "Ping" : "Pong";
                         });

TEST_F(ConformanceTest, LengthWithTheHighBitSetFailsWith1002) {
  auto client = connect();
  // 64-bit length form with the most significant bit set (RFC 6455 5.2), masked.
  std::string frame = {'\x82', '\xFF', '\x80', 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4};
  client->sendRaw(frame);
  expectFailedWith(*client, 1002);
}

TEST_F(ConformanceTest, CloseWithOneBytePayloadFailsWith1002) {
  auto client = connect();
  client->sendFrame({.opcode = kClose, .payload = std::string(1, '\x03')});
  expectFailedWith(*client, 1002);
}

class InvalidCloseCodeTest : public ConformanceTest,
                             public ::testing::WithParamInterface<std::uint16_t> {};

TEST_P(InvalidCloseCodeTest, CloseCodeInvalidOnTheWireFailsWith1002) {
  auto client = connect();
  client->sendClose(GetParam());
  expectFailedWith(*client, 1002);
}

INSTANTIATE_TEST_SUITE_P(Codes, InvalidCloseCodeTest,
                         ::testing::Values(0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535),
                         [](const auto& p) { return "Code" + std::to_string(p.param); });

class ValidCloseCodeTest : public ConformanceTest,
                           public ::testing::WithParamInterface<std::uint16_t> {};

TEST_P(ValidCloseCodeTest, ValidCloseCodeIsEchoed) {
  auto client = connect();
  const auto id = handler_->waitOpened(0);
  ASSERT_TRUE(id);
  client->sendClose(GetParam(), "bye");
  expectFailedWith(*client, GetParam());
  // onClose sees the code the client sent.
  const auto closed = handler_->waitClosed(*id);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, GetParam());
  EXPECT_EQ(closed->reason, "bye");
}

INSTANTIATE_TEST_SUITE_P(Codes, ValidCloseCodeTest,
                         ::testing::Values(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                           1012, 1013, 1014, 3000, 4999),
                         [](const auto& p) { return "Code" + std::to_string(p.param); });

TEST_F(ConformanceTest, CloseReasonWithInvalidUtf8FailsWith1007) {
  auto client = connect();
  client->sendFrame({.opcode = kClose, .payload = RawWsClient::closePayload(1000, "ok\xC0\xAF")});
  expectFailedWith(*client, 1007);
}

TEST_F(ConformanceTest, EmptyCloseIsAnsweredWithEmptyClose) {
  auto client = connect();
  client->sendEmptyClose();
  const auto frame = client->readFrame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, kClose);
  EXPECT_TRUE(frame->payload.empty()) << "code " << frame->closeCode();
  expectServerFrameShape(*frame);
  EXPECT_TRUE(client->waitForEof());
}

TEST_F(ConformanceTest, PingIsAnsweredWithPongCarryingTheSamePayload) {
  auto client = connect();
  client->sendPing();
  expectEcho(*client, kPong, "");
  const std::string payload = binaryPayload(125);
  client->sendPing(payload);
  expectEcho(*client, kPong, payload);
}

TEST_F(ConformanceTest, PingBetweenFragmentsIsAnsweredAndTheMessageStillArrives) {
  auto client = connect();
  client->sendText("Hello, ", false);
  client->sendPing("mid");
  expectEcho(*client, kPong, "mid");
  client->sendContinuation("world", true);
  expectEcho(*client, kText, "Hello, world");
}

TEST_F(ConformanceTest, UnsolicitedPongIsIgnored) {
  auto client = connect();
  client->sendPong("unsolicited");
  client->sendText("after");
  // The next thing the server sends is the echo: no close, no answer to the pong.
  expectEcho(*client, kText, "after");
  EXPECT_FALSE(client->readFrame(200ms));
  EXPECT_FALSE(client->eof());
}

// ---- 5.4 fragmentation -------------------------------------------------------------------

TEST_F(ConformanceTest, ContinuationWithoutStartFailsWith1002) {
  auto client = connect();
  client->sendContinuation("orphan", true);
  expectFailedWith(*client, 1002);
}

TEST_F(ConformanceTest, NewDataFrameInsideFragmentedMessageFailsWith1002) {
  auto client = connect();
  client->sendText("first half", false);
  client->sendText("intruder", true);
  expectFailedWith(*client, 1002);
}

TEST_F(ConformanceTest, ManyOneByteFragmentsAreEchoedAsOneMessage) {
  auto client = connect();
  const std::string text = "fragmented into one-byte frames: \xC3\xA9t\xC3\xA9";  // "été"
  std::string wire;
  for (std::size_t i = 0; i < text.size(); ++i) {
    wire += RawWsClient::encode({.opcode = i == 0 ? kText : kContinuation,
                                 .payload = text.substr(i, 1),
                                 .fin = i + 1 == text.size()});
  }
  client->sendRaw(wire);
  expectEcho(*client, kText, text);
  ASSERT_TRUE(handler_->waitReceived(1));
  EXPECT_EQ(handler_->received().size(), 1u);
}

TEST_F(ConformanceTest, FramesWrittenOneByteAtATimeAreReassembled) {
  auto client = connect();
  const std::string payload = binaryPayload(300);  // 16-bit length form
  std::string wire = RawWsClient::encode({.opcode = kBinary, .payload = payload});
  wire += RawWsClient::encode({.opcode = kText, .payload = "two"});
  client->sendRawSplit(wire, 1);
  expectEcho(*client, kBinary, payload);
  expectEcho(*client, kText, "two");
}

// ---- 8.1 UTF-8 ----------------------------------------------------------------------------

TEST_F(ConformanceTest, InvalidUtf8InTextMessageFailsWith1007) {
  auto client = connect();
  client->sendText("bad \xFF byte");
  expectFailedWith(*client, 1007);
  EXPECT_TRUE(handler_->received().empty());
}

TEST_F(ConformanceTest, InvalidUtf8SplitAcrossFragmentsFailsWith1007) {
  auto client = connect();
  // U+20AC is E2 82 AC; the sequence starts in one fragment and breaks in the next.
  client->sendText("euro \xE2\x82", false);
  client->sendContinuation("\x28 not a continuation byte", true);
  expectFailedWith(*client, 1007);
}

TEST_F(ConformanceTest, InvalidUtf8FailsFastBeforeTheMessageEnds) {
  auto client = connect();
  // FIN never comes: the server must fail on the bad fragment itself.
  client->sendText("valid start ", false);
  client->sendContinuation("then \xED\xA0\x80 a surrogate", false);
  expectFailedWith(*client, 1007);
}

TEST_F(ConformanceTest, InvalidUtf8FailsFastInsideAFragment) {
  auto client = connect();
  // F4 90 can only start a code point above U+10FFFF: invalid after two bytes.
  client->sendText("\xF4\x90", false);
  expectFailedWith(*client, 1007);
}

// ---- data: echo of every length form ------------------------------------------------------

struct EchoCase {
  std::size_t size;
  std::uint8_t opcode;
};

class EchoSizeTest : public ConformanceTest, public ::testing::WithParamInterface<EchoCase> {};

TEST_P(EchoSizeTest, MessageIsEchoedIntact) {
  auto client = connect();
  const EchoCase& c = GetParam();
  const std::string payload = c.opcode == kText ? std::string(c.size, 'a') : binaryPayload(c.size);
  client->sendFrame({.opcode = c.opcode, .payload = payload});
  std::vector<std::size_t> frames;
  const std::string echoed = readMessageFrames(*client, c.opcode, &frames);
  ASSERT_EQ(echoed.size(), payload.size());
  EXPECT_TRUE(echoed == payload);
  // Default autoFrameSize (64 KiB - 9): larger messages come back fragmented.
  const std::size_t autoFrameSize = ws::Options{}.autoFrameSize;
  for (std::size_t size : frames)
    EXPECT_LE(size, autoFrameSize);
  const std::size_t expectedFrames = c.size == 0 ? 1 : (c.size + autoFrameSize - 1) / autoFrameSize;
  EXPECT_EQ(frames.size(), expectedFrames);
}

INSTANTIATE_TEST_SUITE_P(Sizes, EchoSizeTest,
                         ::testing::Values(EchoCase{0, kText}, EchoCase{125, kText},
                                           EchoCase{126, kText}, EchoCase{65535, kText},
                                           EchoCase{65536, kText}, EchoCase{1 << 20, kText},
                                           EchoCase{0, kBinary}, EchoCase{125, kBinary},
                                           EchoCase{126, kBinary}, EchoCase{65535, kBinary},
                                           EchoCase{65536, kBinary}, EchoCase{1 << 20, kBinary}),
                         [](const auto& p) {
                           return std::string(p.param.opcode == kText ? "Text" : "Binary") +
                                  std::to_string(p.param.size);
                         });

// ---- 7 closing ----------------------------------------------------------------------------

TEST_F(ConformanceTest, ServerClosesTcpAfterCloseHandshake) {
  auto client = connect();
  client->sendText("before");
  expectEcho(*client, kText, "before");
  client->sendClose(1000, "done");
  const auto frame = client->readFrame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, kClose);
  EXPECT_EQ(frame->closeCode(), 1000);
  // The server closes the TCP connection first (7.1.1): EOF without our FIN, well
  // within the close period.
  EXPECT_TRUE(client->waitForEof(std::chrono::milliseconds(ws::Options{}.closePeriod) + 2s));
}

TEST_F(ConformanceTest, DataAfterCloseIsIgnored) {
  auto client = connect();
  std::string wire =
      RawWsClient::encode({.opcode = kClose, .payload = RawWsClient::closePayload(1000)});
  wire += RawWsClient::encode({.opcode = kText, .payload = "too late"});
  wire += RawWsClient::encode({.opcode = kPing, .payload = "too late"});
  client->sendRaw(wire);
  const auto frame = client->readFrame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, kClose);
  EXPECT_EQ(frame->closeCode(), 1000);
  // Nothing after the close frame: no echo, no pong.
  EXPECT_FALSE(client->readFrame());
  EXPECT_TRUE(client->eof());
  EXPECT_TRUE(handler_->received().empty());
}

TEST_F(ConformanceTest, ServerSendsNothingAfterItsCloseFrame) {
  auto client = connect();
  client->sendFrame({.opcode = kText, .payload = "x", .mask = false});  // -> 1002
  const auto frame = client->readFrame();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->opcode, kClose);
  // We keep talking (also answering the close late); the server must stay silent.
  client->sendText("ignored");
  client->sendClose(1000);
  EXPECT_FALSE(client->readFrame());
  EXPECT_TRUE(client->eof());
}

// ---- outgoing fragmentation at autoFrameSize ------------------------------------------------

class AutoFrameSizeTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ws::Options options = echoOptions();
    options.autoFrameSize = 100;
    server_ = std::make_unique<TestServer>(handler_, options);
  }
};

TEST_F(AutoFrameSizeTest, LargeEchoIsFragmentedAtAutoFrameSize) {
  auto client = connect();
  const std::string text(350, 't');
  client->sendText(text);
  std::vector<std::size_t> frames;
  EXPECT_EQ(readMessageFrames(*client, kText, &frames), text);
  EXPECT_EQ(frames, (std::vector<std::size_t>{100, 100, 100, 50}));

  const std::string binary = binaryPayload(200);
  client->sendBinary(binary);
  frames.clear();
  EXPECT_EQ(readMessageFrames(*client, kBinary, &frames), binary);
  EXPECT_EQ(frames, (std::vector<std::size_t>{100, 100}));

  // At most autoFrameSize: one frame, FIN set.
  client->sendText(std::string(100, 'u'));
  expectEcho(*client, kText, std::string(100, 'u'));
}

}  // namespace
}  // namespace aerie::test
