// Per-client counters, written by the client's thread and read by getInfo() from any
// thread: relaxed atomics (plain moves on x86), no lock on the hot path. The close code
// and reason are written once, under the registry's mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "aerie/websocket/client_info.hpp"

namespace aerie::detail {

struct ClientStats {
  std::atomic<std::uint64_t> bytesRead{0}, bytesSent{0}, framesRead{0}, framesSent{0},
      messagesRead{0}, messagesSent{0};
  std::atomic<std::int64_t> connectedAt{0}, closedAt{0}, lastReadAt{0}, lastSentAt{0},
      lastDataReadAt{0}, lastDataSentAt{0};
  // Guarded by the registry mutex.
  std::uint16_t closeCode = 0;
  std::string closeReason;
  // Set before the stats are shared, never changed: no guard needed.
  std::string extensions;

  /// Single-writer increment: cheaper than fetch_add, exact because one thread writes.
  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  ws::ClientInfo snapshot() const {
    ws::ClientInfo info;
    info.bytesRead = bytesRead.load(std::memory_order_relaxed);
    info.bytesSent = bytesSent.load(std::memory_order_relaxed);
    info.framesRead = framesRead.load(std::memory_order_relaxed);
    info.framesSent = framesSent.load(std::memory_order_relaxed);
    info.messagesRead = messagesRead.load(std::memory_order_relaxed);
    info.messagesSent = messagesSent.load(std::memory_order_relaxed);
    info.connectedAt = connectedAt.load(std::memory_order_relaxed);
    info.closedAt = closedAt.load(std::memory_order_relaxed);
    info.lastReadAt = lastReadAt.load(std::memory_order_relaxed);
    info.lastSentAt = lastSentAt.load(std::memory_order_relaxed);
    info.lastDataReadAt = lastDataReadAt.load(std::memory_order_relaxed);
    info.lastDataSentAt = lastDataSentAt.load(std::memory_order_relaxed);
    info.closeCode = closeCode;
    info.closeReason = closeReason;
    info.extensions = extensions;
    return info;
  }
};

}  // namespace aerie::detail
