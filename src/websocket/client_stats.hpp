// Per-client counters, written by the client's thread and read by getInfo() from any
// thread: relaxed atomics (plain moves on x86), no lock on the hot path. The close code
// and reason are written once, under the registry's mutex. They live in the app's
// registry, in the map's node itself (one allocation per client for both).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "aerie/protocol/permessage_deflate.hpp"
#include "aerie/websocket/client_info.hpp"

namespace aerie::detail {

struct ClientStats {
  std::atomic<std::uint64_t> bytesRead{0}, bytesSent{0}, framesRead{0}, framesSent{0},
      messagesRead{0}, messagesSent{0};
  /// UNIX seconds in 32 bits (enough until 2106): 24 bytes less in every client's stats
  /// than six int64s. Same interface as the atomic it wraps, int64 outside.
  struct Timestamp {
    std::atomic<std::uint32_t> seconds{0};
    void store(std::int64_t unixSeconds, std::memory_order order) noexcept {
      seconds.store(static_cast<std::uint32_t>(unixSeconds), order);
    }
    std::int64_t load(std::memory_order order) const noexcept { return seconds.load(order); }
  };
  Timestamp connectedAt, closedAt, lastReadAt, lastSentAt, lastDataReadAt, lastDataSentAt;
  // Guarded by the registry mutex. The reason is allocated only when there is one: most
  // clients never close with a reason, and every idle client carries this struct.
  std::unique_ptr<std::string> closeReason;
  std::uint16_t closeCode = 0;
  // Set before the stats are shared, never changed: no guard needed. Formatted only when
  // getInfo() asks.
  protocol::CompactDeflateParameters deflate;

  std::string extensions() const {
    return deflate.negotiated ? protocol::formatDeflateParameters(deflate.expand()) : std::string();
  }

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
    if (closeReason) info.closeReason = *closeReason;
    info.extensions = extensions();
    return info;
  }
};

}  // namespace aerie::detail
