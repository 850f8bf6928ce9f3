// What Endpoint::getInfo() reports about a client (seed 000's keys, plus the close code
// and reason as Aerys's Rfc6455Gateway keeps them).
#pragma once

#include <cstdint>
#include <string>

namespace aerie::ws {

struct ClientInfo {
  std::uint64_t bytesRead = 0;
  std::uint64_t bytesSent = 0;
  std::uint64_t framesRead = 0;
  std::uint64_t framesSent = 0;
  std::uint64_t messagesRead = 0;
  std::uint64_t messagesSent = 0;
  // UNIX timestamps in seconds; 0 = never.
  std::int64_t connectedAt = 0;
  std::int64_t closedAt = 0;
  std::int64_t lastReadAt = 0;
  std::int64_t lastSentAt = 0;
  std::int64_t lastDataReadAt = 0;
  std::int64_t lastDataSentAt = 0;
  std::uint16_t closeCode = 0;  // 0 while open
  std::string closeReason;
  /// The extensions in use, as agreed in the handshake (e.g. "permessage-deflate;
  /// server_no_context_takeover; ..."); empty when none.
  std::string extensions;
};

}  // namespace aerie::ws
