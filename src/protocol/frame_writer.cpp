#include "aerie/protocol/frame_writer.hpp"

#include <cstring>

#include "aerie/protocol/close_code.hpp"

namespace aerie::protocol {

namespace {

FrameHeader headerFor(Opcode opcode, std::size_t payloadLength, bool fin, bool rsv1,
                      const MaskKey* mask) noexcept {
  FrameHeader header;
  header.fin = fin;
  header.rsv1 = rsv1;
  header.opcode = opcode;
  header.masked = mask != nullptr;
  if (mask != nullptr) header.maskKey = *mask;
  header.payloadLength = payloadLength;
  return header;
}

}  // namespace

std::size_t writeFrame(char* out, Opcode opcode, std::span<const char> payload, bool fin, bool rsv1,
                       const MaskKey* mask) noexcept {
  const std::size_t headerSize =
      encodeFrameHeader(headerFor(opcode, payload.size(), fin, rsv1, mask), out);
  if (payload.empty()) return headerSize;  // memcpy with a null source is undefined
  if (mask != nullptr) {
    applyMaskCopy(out + headerSize, payload.data(), payload.size(), *mask);
  } else {
    std::memcpy(out + headerSize, payload.data(), payload.size());
  }
  return headerSize + payload.size();
}

void appendFrame(std::string& out, Opcode opcode, std::span<const char> payload, bool fin,
                 bool rsv1, const MaskKey* mask) {
  // Appended, not resized then written: resize() would first zero-fill the payload's
  // room (a 64 KiB echo spent 3.6 % of the server's CPU in that memset).
  char encoded[kMaxFrameHeaderSize];
  out.append(encoded,
             encodeFrameHeader(headerFor(opcode, payload.size(), fin, rsv1, mask), encoded));
  if (payload.empty()) return;
  const std::size_t at = out.size();
  out.append(payload.data(), payload.size());
  if (mask != nullptr) applyMask(out.data() + at, payload.size(), *mask);
}

std::size_t appendMessage(std::string& out, Opcode opcode, std::span<const char> payload,
                          std::size_t autoFrameSize, MaskKeySource* masks,
                          PayloadCompressor* compressor) {
  // Control frames may be neither fragmented nor compressed (RFC 6455 5.5, RFC 7692 6):
  // a control opcode passed here is written as one plain frame.
  const bool control = isControl(opcode);
  if (control) autoFrameSize = 0;

  // The server's common case, one unmasked uncompressed frame, straight into `out`: the
  // general path below costs a small echo ~80 instructions more (callgrind, workload B).
  if (masks == nullptr && compressor == nullptr &&
      (autoFrameSize == 0 || autoFrameSize >= payload.size())) {
    if (out.capacity() - out.size() < payload.size() + kMaxFrameHeaderSize) {
      out.reserve(out.size() + payload.size() + kMaxFrameHeaderSize);
    }
    appendFrame(out, opcode, payload, true, false, nullptr);
    return 1;
  }

  // The compressor's output lives in a per-thread scratch buffer that keeps its capacity,
  // so compressing a message allocates nothing once the buffer has grown (up to a bound:
  // one huge message must not pin its size for the thread's lifetime).
  thread_local std::string scratch;
  constexpr std::size_t kMaxRetainedScratch = 1 << 20;
  bool compressed = false;
  if (compressor != nullptr && !control) {
    scratch.clear();
    compressed = compressor->compress(payload, scratch);
    if (compressed) payload = std::span<const char>(scratch.data(), scratch.size());
  }

  const std::size_t total = payload.size();
  const std::size_t frameSize = autoFrameSize == 0 || autoFrameSize > total ? total : autoFrameSize;
  const std::size_t frames = total == 0 ? 1 : (total + frameSize - 1) / frameSize;
  const bool masked = masks != nullptr;

  // Size everything first: one allocation at most, then the frames are appended.
  std::size_t wireSize = total;
  if (frames > 1) wireSize += (frames - 1) * frameHeaderSize(frameSize, masked);
  wireSize += frameHeaderSize(total - (frames - 1) * frameSize, masked);
  if (out.capacity() - out.size() < wireSize) out.reserve(out.size() + wireSize);

  std::size_t offset = 0;
  for (std::size_t i = 0; i < frames; ++i) {
    const std::size_t n = i + 1 == frames ? total - offset : frameSize;
    MaskKey key{};
    if (masked) key = masks->next();
    appendFrame(out, i == 0 ? opcode : Opcode::Continuation, payload.subspan(offset, n),
                i + 1 == frames, compressed && i == 0, masked ? &key : nullptr);
    offset += n;
  }
  if (scratch.capacity() > kMaxRetainedScratch) std::string().swap(scratch);
  return frames;
}

void appendCloseFrame(std::string& out, std::uint16_t code, std::string_view reason,
                      const MaskKey* mask) {
  const std::string payload = encodeClosePayload(code, reason);
  appendFrame(out, Opcode::Close, payload, true, false, mask);
}

}  // namespace aerie::protocol
