// permessage-deflate's codec (RFC 7692 section 7.2): raw DEFLATE with the trailing
// 00 00 FF FF of a sync flush removed on the wire and put back before inflating.
//
// Memory: zlib state is created on the first message and can be released when idle
// (release()); a no-context-takeover endpoint keeps nothing between messages, so its state
// can go at once. Inflating writes through a fixed 16 KiB buffer to the parser, which
// applies maxMessageSize as output is produced: a 1 KiB -> 1 GiB bomb stops at the limit
// with 1009, having allocated nothing but that buffer.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "aerie/protocol/transform.hpp"

namespace aerie::protocol {

/// Decompresses messages flagged RSV1 (the parser's inbound transform).
class MessageInflater final : public PayloadTransform {
 public:
  /// `windowBits` 8..15 as agreed for the peer's compressor.
  MessageInflater(int windowBits, bool noContextTakeover) noexcept;
  ~MessageInflater() override;
  MessageInflater(const MessageInflater&) = delete;
  MessageInflater& operator=(const MessageInflater&) = delete;

  ProtocolError transform(std::span<const char> in, bool fin, TransformOutput& out) override;
  /// Frees the zlib state (and with it the sliding window). With context takeover this
  /// forgets the history: only call it between messages when no context is kept.
  void release() noexcept;
  bool holdsState() const noexcept { return stream_ != nullptr; }

 private:
  struct Stream;
  ProtocolError run(const char* data, std::size_t size, TransformOutput& out);

  int windowBits_;
  bool noContextTakeover_;
  std::unique_ptr<Stream> stream_;
};

/// Compresses outgoing messages (the frame writer's compressor).
class MessageDeflater final : public PayloadCompressor {
 public:
  /// `windowBits` as agreed for our compressor; 8 (which zlib's raw deflate cannot honour)
  /// disables compression: every message goes out uncompressed, as RFC 7692 allows.
  /// Messages shorter than `threshold` bytes are not compressed.
  MessageDeflater(int windowBits, bool noContextTakeover, int memLevel = 8, int level = 6,
                  std::size_t threshold = 64) noexcept;
  ~MessageDeflater() override;
  MessageDeflater(const MessageDeflater&) = delete;
  MessageDeflater& operator=(const MessageDeflater&) = delete;

  bool compress(std::span<const char> message, std::string& out) override;

  /// Compresses one fragment of a streamed message (write()/end()), appending to `out`
  /// what the peer can inflate at once; `fin` ends the message. Always compresses (no
  /// threshold). The first frame of the message carries RSV1 as usual. False: this window
  /// cannot compress (8 bits) or zlib failed; send the message plain then.
  bool compressFragment(std::span<const char> chunk, bool fin, std::string& out);
  bool canCompress() const noexcept { return windowBits_ >= 9; }

  void release() noexcept;
  bool holdsState() const noexcept { return stream_ != nullptr; }

  /// The thread's shared no-context-takeover compressor for `windowBits` (threshold 0: the
  /// caller applies its own). Each message is compressed on its own, so one compressor
  /// serves every connection of the thread: the "shared" memory mode.
  static MessageDeflater& sharedForThisThread(int windowBits);

 private:
  struct Stream;
  bool deflateInto(std::span<const char> input, std::string& out);

  int windowBits_;
  bool noContextTakeover_;
  int memLevel_;
  int level_;
  std::size_t threshold_;
  bool heldTail_ = false;  // compressFragment() kept back a sync flush's 00 00 FF FF
  std::unique_ptr<Stream> stream_;
};

}  // namespace aerie::protocol
