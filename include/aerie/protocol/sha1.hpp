// SHA-1 (FIPS 180-4), for the one digest WebSocket needs: Sec-WebSocket-Accept.
//
// Written here rather than taken from OpenSSL because OpenSSL 3's EVP digest on first use
// loads its provider machinery: about 2 MB of libcrypto's pages touched and kept by every
// server process that answers a handshake, and a provider fetch per call. A plain-TCP
// server now never touches libcrypto. SHA-1 is not used here for any security property:
// RFC 6455 uses it only to prove that the server read the key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace aerie::protocol {

class Sha1 {
 public:
  using Digest = std::array<std::uint8_t, 20>;

  Sha1& update(std::string_view bytes) noexcept;
  /// The digest of everything given to update(); the object is spent afterwards.
  Digest finish() noexcept;

 private:
  void compress(const std::uint8_t* block) noexcept;

  std::array<std::uint32_t, 5> state_{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u,
                                      0xC3D2E1F0u};
  std::array<std::uint8_t, 64> block_{};
  std::size_t blockUsed_ = 0;
  std::uint64_t totalBytes_ = 0;
};

}  // namespace aerie::protocol
