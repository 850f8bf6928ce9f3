#include "aerie/protocol/close_code.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "aerie/protocol/utf8.hpp"

namespace aerie::protocol {
namespace {

std::string payload(int code, std::string_view reason = {}) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason);
  return out;
}

std::span<const char> span(const std::string& s) {
  return {s.data(), s.size()};
}

// RFC 6455 7.4.1/7.4.2 and the IANA registry, spelled out case by case.
bool rfcSaysValid(int code) {
  if (code < 1000) return false;                   // 0-999: not used
  if (code <= 1003) return true;                   // 1000-1003 defined
  if (code == 1004) return false;                  // reserved
  if (code == 1005 || code == 1006) return false;  // MUST NOT be set in a close frame
  if (code <= 1011) return true;                   // 1007-1011 defined
  if (code <= 1014) return true;                   // 1012-1014 registered with IANA
  if (code == 1015) return false;                  // MUST NOT be set (TLS failure)
  if (code < 3000) return false;                   // unassigned protocol range
  if (code < 5000) return true;                    // 3000-3999 registered, 4000-4999 private
  return false;                                    // not defined
}

TEST(CloseCode, EveryCodeIsClassifiedAsTheRfcSays) {
  for (int code = 0; code <= 5000; ++code) {
    EXPECT_EQ(isValidCloseCodeOnWire(static_cast<std::uint16_t>(code)), rfcSaysValid(code)) << code;
  }
  EXPECT_FALSE(isValidCloseCodeOnWire(65535));
  EXPECT_FALSE(isValidCloseCodeOnWire(5001));
  EXPECT_FALSE(isValidCloseCodeOnWire(0x8000));
}

TEST(ClosePayload, EmptyMeansNoStatus) {
  const auto parsed = parseClosePayload({});
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->code, close_code::NoStatus);
  EXPECT_TRUE(parsed->reason.empty());
}

TEST(ClosePayload, OneByteIsAProtocolError) {
  const std::string p = "\x03";
  EXPECT_FALSE(parseClosePayload(span(p)));
  EXPECT_EQ(closeErrorFor(span(p)), close_code::ProtocolError);
}

TEST(ClosePayload, CodeOnly) {
  const std::string p = payload(1000);
  const auto parsed = parseClosePayload(span(p));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->code, 1000);
  EXPECT_TRUE(parsed->reason.empty());
  EXPECT_EQ(closeErrorFor(span(p)), close_code::Normal);
}

TEST(ClosePayload, EveryCodeOnTheWire) {
  for (int code = 0; code <= 65535; ++code) {
    const std::string p = payload(code, "r");
    const auto parsed = parseClosePayload(span(p));
    ASSERT_EQ(parsed.has_value(), rfcSaysValid(code)) << code;
    if (parsed) {
      EXPECT_EQ(parsed->code, code);
      EXPECT_EQ(parsed->reason, "r");
    } else {
      EXPECT_EQ(closeErrorFor(span(p)), close_code::ProtocolError) << code;
    }
  }
}

TEST(ClosePayload, ReasonPointsIntoThePayload) {
  const std::string p = payload(4000, "bye \xE2\x82\xAC");
  const auto parsed = parseClosePayload(span(p));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->code, 4000);
  EXPECT_EQ(parsed->reason, "bye \xE2\x82\xAC");
  EXPECT_EQ(parsed->reason.data(), p.data() + 2);
}

TEST(ClosePayload, InvalidUtf8ReasonIs1007) {
  for (const char* bad : {"\xFF", "ab\xC0\xAF", "\xED\xA0\x80", "\xE2\x82", "\xF4\x90\x80\x80"}) {
    const std::string p = payload(1000, bad);
    EXPECT_FALSE(parseClosePayload(span(p))) << bad;
    EXPECT_EQ(closeErrorFor(span(p)), close_code::InvalidPayload) << bad;
  }
  // A bad code and a bad reason: the code makes it a protocol error.
  const std::string both = payload(1005, "\xFF");
  EXPECT_EQ(closeErrorFor(span(both)), close_code::ProtocolError);
}

TEST(ClosePayload, MaximumSize) {
  const std::string full = payload(1000, std::string(123, 'x'));
  ASSERT_EQ(full.size(), 125u);
  const auto parsed = parseClosePayload(span(full));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->reason.size(), 123u);
  const std::string over = payload(1000, std::string(124, 'x'));
  EXPECT_FALSE(parseClosePayload(span(over)));
  EXPECT_EQ(closeErrorFor(span(over)), close_code::ProtocolError);
}

TEST(EncodeClosePayload, Basic) {
  EXPECT_EQ(encodeClosePayload(1000, ""), payload(1000));
  EXPECT_EQ(encodeClosePayload(4999, "bye"), payload(4999, "bye"));
  EXPECT_EQ(encodeClosePayload(close_code::NoStatus, "dropped"), "");
  EXPECT_EQ(encodeClosePayload(1000, std::string(123, 'a')), payload(1000, std::string(123, 'a')));
}

TEST(EncodeClosePayload, TruncatesAtAUtf8Boundary) {
  EXPECT_EQ(encodeClosePayload(1000, std::string(200, 'a')), payload(1000, std::string(123, 'a')));
  // A 2-, 3- and 4-byte character straddling byte 123 is dropped whole.
  for (std::string_view chView : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
    const std::string ch(chView);
    for (std::size_t lead = 123 - ch.size() + 1; lead < 123; ++lead) {
      const std::string reason = std::string(lead, 'a') + ch + "tail";
      const std::string encoded = encodeClosePayload(1000, reason);
      EXPECT_EQ(encoded, payload(1000, std::string(lead, 'a'))) << ch.size() << " " << lead;
      EXPECT_TRUE(parseClosePayload(span(encoded)));
    }
    // Ending exactly at byte 123: kept.
    const std::string exact = std::string(123 - ch.size(), 'a') + ch + "tail";
    EXPECT_EQ(encodeClosePayload(1000, exact), payload(1000, exact.substr(0, 123)));
  }
  // All multi-byte text: the result is still valid and at most 125 bytes.
  std::string euros;
  for (int i = 0; i < 60; ++i)
    euros += "\xE2\x82\xAC";
  const std::string encoded = encodeClosePayload(3000, euros);
  EXPECT_EQ(encoded.size(), 2u + 123u);  // 41 whole euro signs
  EXPECT_TRUE(isValidUtf8(std::string_view(encoded).substr(2)));
}

}  // namespace
}  // namespace aerie::protocol
