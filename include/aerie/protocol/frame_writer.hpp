// Frame encoding and outgoing fragmentation (RFC 6455 sections 5.2-5.4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "aerie/protocol/frame_header.hpp"
#include "aerie/protocol/mask.hpp"
#include "aerie/protocol/opcode.hpp"
#include "aerie/protocol/transform.hpp"

namespace aerie::protocol {

/// Supplies a fresh masking key per frame. RFC 6455 5.3 requires keys an attacker cannot
/// predict: the client's real source is CSPRNG-backed; tests use deterministic ones.
class MaskKeySource {
 public:
  virtual ~MaskKeySource() = default;
  virtual MaskKey next() = 0;
};

/// Writes one frame (minimal header, then payload, masked while copying when `mask` is not
/// null) to `out`, which has room for frameHeaderSize(payload.size(), mask != nullptr) +
/// payload.size() bytes. Returns the bytes written. `payload` must not overlap `out`.
std::size_t writeFrame(char* out, Opcode opcode, std::span<const char> payload, bool fin, bool rsv1,
                       const MaskKey* mask) noexcept;

/// writeFrame() at the end of `out`.
void appendFrame(std::string& out, Opcode opcode, std::span<const char> payload, bool fin,
                 bool rsv1, const MaskKey* mask);

/// Appends a whole message (opcode Text or Binary; a control opcode gives one frame, never
/// fragmented or compressed, as RFC 6455 requires). When `compressor` is set and accepts,
/// the payload is its output and the first frame has RSV1. The payload is split into frames
/// of at most `autoFrameSize` bytes (0 = one frame): the first carries the opcode, the others
/// are continuations, the last has FIN; an empty message is one empty frame. Each frame is
/// masked with a fresh key from `masks` (nullptr = unmasked, the server role).
/// Returns the number of frames appended.
std::size_t appendMessage(std::string& out, Opcode opcode, std::span<const char> payload,
                          std::size_t autoFrameSize, MaskKeySource* masks,
                          PayloadCompressor* compressor);

/// Appends a close frame carrying encodeClosePayload(code, reason) (1005 = empty payload;
/// the reason is cut to fit 125 bytes at a UTF-8 boundary).
void appendCloseFrame(std::string& out, std::uint16_t code, std::string_view reason,
                      const MaskKey* mask);

}  // namespace aerie::protocol
