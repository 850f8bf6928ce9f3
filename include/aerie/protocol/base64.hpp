// Base64 (RFC 4648 section 4, standard alphabet, "=" padding) for the opening handshake:
// Sec-WebSocket-Key and Sec-WebSocket-Accept.
//
// Written by hand rather than with OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock because
// EVP_DecodeBlock skips surrounding whitespace, returns padding bytes as zeros (so the
// decoded length must be corrected by hand) and accepts misplaced "=": a strict decoder
// is shorter than the workarounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace aerie::protocol {

/// Number of characters base64 needs for `size` bytes (always padded to a multiple of 4).
constexpr std::size_t base64EncodedSize(std::size_t size) noexcept {
  return (size + 2) / 3 * 4;
}

/// Encodes `size` bytes into `out`, which must hold base64EncodedSize(size) characters.
/// Does not write a terminating NUL.
void base64EncodeTo(const std::uint8_t* data, std::size_t size, char* out) noexcept;

std::string base64Encode(std::span<const std::uint8_t> data);
std::string base64Encode(std::string_view data);

/// True for the 64 characters of the standard alphabet (not "=").
constexpr bool isBase64Char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

/// Decodes padded base64. Rejects a length that is not a multiple of 4, characters outside
/// the alphabet (including whitespace and the URL-safe "-_"), and "=" anywhere but as one
/// or two final padding characters. Like Node's `ws` and Python's `websockets`, it does
/// not insist that the unused low bits of the last character are zero (RFC 4648 3.5 lets
/// decoders choose): a peer's non-canonical key still names 16 bytes.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace aerie::protocol
