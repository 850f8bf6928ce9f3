// protocol::Sha1 against the FIPS 180 / RFC 3174 test vectors, and against OpenSSL's SHA-1
// for every length around the padding boundaries, fed in one piece and in random pieces.
#include "aerie/protocol/sha1.hpp"

#include <openssl/sha.h>

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace aerie::protocol {
namespace {

std::string hex(const Sha1::Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t byte : digest) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

std::string sha1Hex(std::string_view bytes) {
  return hex(Sha1().update(bytes).finish());
}

Sha1::Digest openssl(std::string_view bytes) {
  Sha1::Digest digest;
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  return digest;
}

TEST(Sha1, StandardVectors) {
  EXPECT_EQ(sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1Hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, TheRfc6455Example) {
  // RFC 6455 section 1.3: the key "dGhlIHNhbXBsZSBub25jZQ==" is answered with
  // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", the base64 of this digest.
  EXPECT_EQ(sha1Hex("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
            "b37a4f2cc0624f1690f64606cf385945b2bec4ea");
}

TEST(Sha1, AgreesWithOpenSslAtEveryLengthInOneOrManyPieces) {
  std::mt19937 random(6455);
  std::string bytes;
  for (std::size_t length = 0; length <= 300; ++length) {
    EXPECT_EQ(Sha1().update(bytes).finish(), openssl(bytes)) << "length " << length;
    Sha1 pieces;
    for (std::size_t at = 0; at < bytes.size();) {
      const std::size_t take = std::min<std::size_t>(random() % 70, bytes.size() - at);
      pieces.update(std::string_view(bytes).substr(at, take));
      at += take;
    }
    EXPECT_EQ(pieces.finish(), openssl(bytes)) << "length " << length << " in pieces";
    bytes += static_cast<char>(random());
  }
}

}  // namespace
}  // namespace aerie::protocol
