// Which end of a WebSocket connection we are: it decides the masking rule (RFC 6455 5.1).
#pragma once

#include <cstdint>

namespace aerie::protocol {

/// Role::Server receives client frames, which MUST be masked, and sends unmasked frames.
/// Role::Client receives server frames, which MUST NOT be masked, and masks what it sends.
enum class Role : std::uint8_t { Server, Client };

}  // namespace aerie::protocol
