#include "client/mask_keys.hpp"

#include <openssl/rand.h>
#include <sys/random.h>

#include <cstring>
#include <stdexcept>

namespace aerie::client::detail {

protocol::MaskKey CsprngMaskKeys::next() {
  if (used_ == kBatchKeys) refill();
  protocol::MaskKey key;
  std::memcpy(key.data(), batch_.data() + used_ * 4, 4);
  ++used_;
  return key;
}

void CsprngMaskKeys::refill() {
  if (RAND_bytes(batch_.data(), static_cast<int>(batch_.size())) != 1) {
    // OpenSSL could not seed itself: ask the kernel directly. Never fall back to a
    // predictable generator: masking exists to defeat attackers who predict it.
    std::size_t done = 0;
    while (done < batch_.size()) {
      const ssize_t n = ::getrandom(batch_.data() + done, batch_.size() - done, 0);
      if (n < 0) throw std::runtime_error("no source of randomness for WebSocket masking keys");
      done += static_cast<std::size_t>(n);
    }
  }
  used_ = 0;
}

CsprngMaskKeys& CsprngMaskKeys::forThisThread() {
  thread_local CsprngMaskKeys keys;
  return keys;
}

}  // namespace aerie::client::detail
