// Masking keys for client frames (RFC 6455 5.3: unpredictable, from a strong source of
// entropy). Drawn from OpenSSL's CSPRNG in batches, so the hot path does not enter the
// library (or the kernel) for every frame.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "aerie/protocol/frame_writer.hpp"

namespace aerie::client::detail {

class CsprngMaskKeys final : public protocol::MaskKeySource {
 public:
  protocol::MaskKey next() override;

  /// The calling thread's instance (the batch is per thread: no locking).
  static CsprngMaskKeys& forThisThread();

 private:
  void refill();

  static constexpr std::size_t kBatchKeys = 512;  // 2 KiB of randomness per refill
  std::array<std::uint8_t, kBatchKeys * 4> batch_{};
  std::size_t used_ = kBatchKeys;
};

}  // namespace aerie::client::detail
