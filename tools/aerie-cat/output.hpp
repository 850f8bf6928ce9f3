// How `aerie-cat` shows what it received and how the connection ended.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aerie::cat {

/// The line printed for a received message (without its newline): text as is; binary as
/// "<binary N bytes>", or its bytes in lower-case hex when `hex`.
std::string describeMessage(std::string_view payload, bool binary, bool hex);

/// "CODE REASON", or "CODE" when there is no reason.
std::string describeClose(std::uint16_t code, std::string_view reason);

/// 1000 (normal), 1001 (going away) and 1005 (no code in the close frame): the ends a
/// session is expected to have, whichever side closed.
bool isNormalClose(std::uint16_t code);

/// Writes `line` and a newline to stdout and flushes: a reader of a pipe sees each message
/// as soon as it arrived.
void printLine(std::string_view line);

}  // namespace aerie::cat
