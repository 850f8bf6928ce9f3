// The built-in WebSocket applications of `aerie serve --ws PATH=APP`.
#pragma once

#include <aerie/aerie.hpp>
#include <memory>
#include <string_view>

namespace aerie::tools {

/// "echo": every message goes back to its sender with the same opcode.
/// "broadcast": every message goes to every other client.
/// "chat": every message goes to everyone with its author; joins/leaves announced.
/// Returns null for an unknown name.
std::shared_ptr<websocket::Handler> makeApp(std::string_view name);

}  // namespace aerie::tools
