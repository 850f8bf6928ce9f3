// A protocol violation, carrying the close code RFC 6455 prescribes for it.
#pragma once

#include <cstdint>
#include <string_view>

namespace aerie::protocol {

struct ProtocolError {
  std::uint16_t closeCode = 0;  // 1002, 1007, 1009, 1003, 1010...
  std::string_view reason;      // human-readable, static storage; fits a close frame

  explicit operator bool() const noexcept { return closeCode != 0; }
};

}  // namespace aerie::protocol
