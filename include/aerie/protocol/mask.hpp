// Client-to-server masking (RFC 6455 section 5.3): payload[i] ^= key[(offset + i) % 4].
//
// Speed: 8/16 bytes a step for short payloads; from 128 bytes on, the destination is
// aligned and an AVX2 kernel (chosen at run time; AERIE_NO_AVX2=1 in the environment
// forces SSE2) masks 128 bytes a step.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace aerie::protocol {

/// The 4 masking-key bytes in wire order.
using MaskKey = std::array<std::uint8_t, 4>;

/// XORs `size` bytes at `data` with the key, in place, the first byte using key byte
/// `offset % 4` (payloads split across reads continue where the previous chunk stopped).
/// Works a machine word or vector at a time. Returns the offset for the next chunk
/// ((offset + size) % 4).
std::size_t applyMask(char* data, std::size_t size, MaskKey key, std::size_t offset = 0) noexcept;

/// Copying variant: out[i] = in[i] ^ key[...]; used by the client's frame writer, which
/// masks while copying into the send buffer. `in` and `out` must not overlap partially.
std::size_t applyMaskCopy(char* out, const char* in, std::size_t size, MaskKey key,
                          std::size_t offset = 0) noexcept;

}  // namespace aerie::protocol
