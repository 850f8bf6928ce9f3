// permessage-deflate (RFC 7692): negotiation in both roles, and the codec through the
// parser and the frame writer, including the decompression-bomb limit.
#include "aerie/protocol/permessage_deflate.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "aerie/protocol/deflate_codec.hpp"
#include "aerie/protocol/frame_writer.hpp"
#include "aerie/protocol/header_values.hpp"
#include "aerie/protocol/parser.hpp"

namespace aerie::protocol {
namespace {

std::vector<ExtensionOffer> offers(std::string_view header) {
  auto parsed = parseExtensions(header);
  EXPECT_TRUE(parsed) << header;
  return parsed.value_or(std::vector<ExtensionOffer>{});
}

std::string agree(std::string_view header, DeflateConfig config = {}) {
  const auto agreement = negotiateDeflate(offers(header), config);
  return agreement ? agreement->response : "(declined)";
}

TEST(DeflateNegotiation, ServerAnswersWhatBrowsersOffer) {
  EXPECT_EQ(agree("permessage-deflate; client_max_window_bits"), "permessage-deflate");
  EXPECT_EQ(agree("permessage-deflate"), "permessage-deflate");
  EXPECT_EQ(agree("x-webkit-deflate-frame, permessage-deflate"), "permessage-deflate");
  EXPECT_EQ(agree("x-webkit-deflate-frame"), "(declined)");
}

TEST(DeflateNegotiation, ServerHonoursAndLimitsParameters) {
  EXPECT_EQ(agree("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  EXPECT_EQ(agree("permessage-deflate; server_max_window_bits=10"),
            "permessage-deflate; server_max_window_bits=10");
  DeflateConfig config;
  config.serverMaxWindowBits = 12;
  config.clientMaxWindowBits = 11;
  config.serverNoContextTakeover = true;
  EXPECT_EQ(agree("permessage-deflate; server_max_window_bits=14; client_max_window_bits", config),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; "
            "client_max_window_bits=11");
  // The client's window can only be limited when it offered the parameter.
  EXPECT_EQ(agree("permessage-deflate", config),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=12");
  const auto agreement =
      negotiateDeflate(offers("permessage-deflate; client_max_window_bits=9"), config);
  ASSERT_TRUE(agreement);
  EXPECT_EQ(agreement->parameters.clientMaxWindowBits, 9);
  EXPECT_EQ(agreement->parameters.serverMaxWindowBits, 12);
}

TEST(DeflateNegotiation, ServerDeclinesInvalidOffersAndTriesTheNext) {
  for (const char* bad :
       {"permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; unknown_param"}) {
    EXPECT_EQ(agree(bad), "(declined)") << bad;
    EXPECT_EQ(agree(std::string(bad) + ", permessage-deflate; client_max_window_bits"),
              "permessage-deflate")
        << bad << " then a good offer";
  }
}

TEST(DeflateNegotiation, ClientOfferAndAcceptance) {
  DeflateConfig config;
  EXPECT_EQ(formatDeflateOffer(config), "permessage-deflate; client_max_window_bits");
  config.clientMaxWindowBits = 8;  // zlib cannot: 9 is offered
  config.serverMaxWindowBits = 10;
  config.serverNoContextTakeover = true;
  EXPECT_EQ(formatDeflateOffer(config),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
            "client_max_window_bits=9");

  const auto ok = acceptDeflateResponse(
      offers("permessage-deflate; server_no_context_takeover; server_max_window_bits=9; "
             "client_max_window_bits=9"),
      config);
  ASSERT_TRUE(ok.parameters) << ok.error;
  EXPECT_EQ(ok.parameters->serverMaxWindowBits, 9);
  EXPECT_EQ(ok.parameters->clientMaxWindowBits, 9);

  struct Bad {
    const char* answer;
    const char* word;
  };
  for (const Bad& bad :
       {Bad{"permessage-deflate; server_max_window_bits=11", "larger"},
        Bad{"permessage-deflate; server_max_window_bits=10", "server_no_context"},
        Bad{"permessage-deflate; server_no_context_takeover; client_max_window_bits",
            "client_max_window_bits"},
        Bad{"permessage-deflate; server_no_context_takeover; client_max_window_bits=12", "larger"},
        Bad{"permessage-deflate; server_no_context_takeover; foo", "unknown"},
        Bad{"permessage-deflate; server_no_context_takeover, permessage-deflate", "more than once"},
        Bad{"x-other", "x-other"}}) {
    const auto result = acceptDeflateResponse(offers(bad.answer), config);
    EXPECT_FALSE(result.parameters) << bad.answer;
    EXPECT_NE(result.error.find(bad.word), std::string::npos) << bad.answer << ": " << result.error;
  }
}

// ---- the codec ----------------------------------------------------------------------------

struct Collect {
  std::string data;
  bool fin = false;
  void onMessageBegin(Opcode, bool) {}
  void onMessageData(std::span<const char> chunk, bool last) {
    data.append(chunk.data(), chunk.size());
    fin = last;
  }
  void onPing(std::span<const char>) {}
  void onPong(std::span<const char>) {}
  void onClose(std::uint16_t, std::string_view) {}
};

/// Compresses `messages` with one deflater, parses them with one inflater: round trip.
void roundTrip(const std::vector<std::string>& messages, int bits, bool noContext,
               std::size_t autoFrameSize) {
  MessageDeflater deflater(bits, noContext, 8, 6, 0);
  MessageInflater inflater(bits, noContext);
  ParserOptions options;
  options.role = Role::Client;
  options.rsv1Allowed = true;
  for (const std::string& message : messages) {
    std::string wire;
    appendMessage(wire, Opcode::Binary, {message.data(), message.size()}, autoFrameSize, nullptr,
                  &deflater);
    Collect sink;
    Parser<Collect> parser(sink, options);
    parser.setTransform(&inflater);
    // Byte by byte for small wires, whole for big ones: splits must not matter.
    if (wire.size() < 2000) {
      for (char& c : wire)
        ASSERT_FALSE(parser.consume(&c, 1).error);
    } else {
      ASSERT_FALSE(parser.consume(wire.data(), wire.size()).error);
    }
    ASSERT_TRUE(sink.fin);
    ASSERT_EQ(sink.data, message) << "bits " << bits << " noContext " << noContext;
  }
}

TEST(DeflateCodec, RoundTripsEveryWindowAndContextMode) {
  std::mt19937 rng(7);
  std::vector<std::string> messages = {"", "a", std::string(1000, 'x'),
                                       "the quick brown fox jumps over the lazy dog"};
  std::string text;
  for (int i = 0; i < 20000; ++i)
    text += "word" + std::to_string(rng() % 50) + " ";
  messages.push_back(text);
  std::string noise(70000, '\0');
  for (char& c : noise)
    c = static_cast<char>(rng());
  messages.push_back(noise);
  messages.push_back(text);  // repeated: context takeover makes it tiny
  for (int bits = 8; bits <= 15; ++bits) {
    for (bool noContext : {false, true}) {
      roundTrip(messages, bits, noContext, 0);
      roundTrip(messages, bits, noContext, 1000);  // fragmented after compression
    }
  }
}

/// A streamed message: each chunk compressed on its own call into its own frame (RSV1 on
/// the first only), whole messages through the same compressor before and after it.
TEST(DeflateCodec, StreamedFragmentsRoundTripAndKeepTheHistoryInStep) {
  std::string text;
  for (int i = 0; i < 3000; ++i)
    text += "chunk" + std::to_string(i % 97) + " ";
  const std::vector<std::vector<std::string>> streams = {
      {text, text.substr(0, 100), "", text},  // an empty chunk in the middle
      {"", text, ""},                         // empty first and last (end() without data)
      {"a", "b", "c"},
      {text}};
  for (int bits = 9; bits <= 15; ++bits) {
    for (bool noContext : {false, true}) {
      MessageDeflater deflater(bits, noContext, 8, 6, 0);
      MessageInflater inflater(bits, noContext);
      ParserOptions options;
      options.role = Role::Client;
      options.rsv1Allowed = true;
      Collect sink;
      Parser<Collect> parser(sink, options);
      parser.setTransform(&inflater);
      for (const auto& chunks : streams) {
        std::string wire;
        appendMessage(wire, Opcode::Text, {text.data(), text.size()}, 0, nullptr, &deflater);
        std::string expected;
        for (std::size_t i = 0; i < chunks.size(); ++i) {
          const bool first = i == 0;
          const bool fin = i + 1 == chunks.size();
          std::string compressed;
          ASSERT_TRUE(
              deflater.compressFragment({chunks[i].data(), chunks[i].size()}, fin, compressed));
          appendFrame(wire, first ? Opcode::Text : Opcode::Continuation,
                      {compressed.data(), compressed.size()}, fin, first, nullptr);
          expected += chunks[i];
        }
        sink.data.clear();
        // The whole message before the stream, then the stream: split in 7-byte reads.
        for (std::size_t at = 0; at < wire.size(); at += 7) {
          const std::size_t n = std::min<std::size_t>(7, wire.size() - at);
          ASSERT_FALSE(parser.consume(wire.data() + at, n).error) << bits << " " << noContext;
        }
        ASSERT_EQ(sink.data, text + expected) << "bits " << bits << " noContext " << noContext;
      }
      // A whole message after all the streams still inflates: the history stayed in step.
      std::string wire;
      appendMessage(wire, Opcode::Text, {text.data(), text.size()}, 0, nullptr, &deflater);
      sink.data.clear();
      ASSERT_FALSE(parser.consume(wire.data(), wire.size()).error);
      ASSERT_EQ(sink.data, text);
    }
  }
  MessageDeflater eight(8, true);
  std::string out;
  EXPECT_FALSE(eight.canCompress());
  EXPECT_FALSE(eight.compressFragment({"x", 1}, true, out));
}

TEST(DeflateCodec, ContextTakeoverShrinksRepeatsAndWindow8DoesNotCompress) {
  const std::string message(5000, 'z');
  MessageDeflater keeps(15, false, 8, 6, 0);
  std::string first;
  std::string second;
  ASSERT_TRUE(keeps.compress({message.data(), message.size()}, first));
  ASSERT_TRUE(keeps.compress({message.data(), message.size()}, second));
  EXPECT_LT(second.size(), first.size());
  MessageDeflater eight(8, false);
  std::string out;
  EXPECT_FALSE(eight.compress({message.data(), message.size()}, out));
  MessageDeflater small(15, true, 8, 6, 64);
  EXPECT_FALSE(small.compress({"tiny", 4}, out)) << "below the threshold";
}

TEST(DeflateCodec, ABombStopsAtTheMessageLimitWith1009) {
  // 16 MiB of zeros compresses to ~16 KiB (a 1000:1 bomb); the limit is 1 MiB.
  const std::string zeros(16 * 1024 * 1024, '\0');
  MessageDeflater deflater(15, true, 8, 9, 0);
  std::string wire;
  appendMessage(wire, Opcode::Binary, {zeros.data(), zeros.size()}, 0, nullptr, &deflater);
  ASSERT_LT(wire.size(), 64u * 1024);
  MessageInflater inflater(15, true);
  ParserOptions options;
  options.role = Role::Client;
  options.rsv1Allowed = true;
  options.maxMessageSize = 1024 * 1024;
  Collect sink;
  Parser<Collect> parser(sink, options);
  parser.setTransform(&inflater);
  const ParseResult result = parser.consume(wire.data(), wire.size());
  EXPECT_EQ(result.error.closeCode, close_code::MessageTooBig);
  EXPECT_LE(sink.data.size(), 1024u * 1024);
}

TEST(DeflateCodec, CorruptDataIs1007AndStateCanBeReleased) {
  MessageInflater inflater(15, false);
  ParserOptions options;
  options.role = Role::Client;
  options.rsv1Allowed = true;
  Collect sink;
  Parser<Collect> parser(sink, options);
  parser.setTransform(&inflater);
  std::string wire = "\xC2\x04\xFF\xFF\xFF\xFF";  // RSV1 binary, 4 bytes of non-deflate
  EXPECT_EQ(parser.consume(wire.data(), wire.size()).error.closeCode, close_code::InvalidPayload);
  EXPECT_TRUE(inflater.holdsState());
  inflater.release();
  EXPECT_FALSE(inflater.holdsState());
}

TEST(CompactDeflateParameters, KeepsEveryAgreedParameter) {
  EXPECT_FALSE(CompactDeflateParameters().negotiated);
  for (int server = 8; server <= 15; ++server) {
    for (int client = 8; client <= 15; ++client) {
      for (int flags = 0; flags < 4; ++flags) {
        const DeflateParameters agreed{(flags & 1) != 0, (flags & 2) != 0, server, client};
        const CompactDeflateParameters compact(agreed);
        EXPECT_TRUE(compact.negotiated);
        EXPECT_EQ(compact.expand(), agreed);
      }
    }
  }
  static_assert(sizeof(CompactDeflateParameters) == 5);
}

}  // namespace
}  // namespace aerie::protocol
