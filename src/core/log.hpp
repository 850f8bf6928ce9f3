// One-line logs to stderr: "2026-11-24T10:00:00.123Z warn  client 42: message too big".
// Hostile input must leave a clear line (the RFC code and why), never a stack of them:
// callers log once per connection event.
#pragma once

#include <fmt/core.h>

#include <string_view>

namespace aerie::log {

enum class Level { Debug, Info, Warn, Error };

/// Messages below this level are dropped (AERIE_LOG=debug|info|warn|error, default info).
Level threshold() noexcept;
void write(Level level, std::string_view message) noexcept;
/// For a debug line whose arguments cost something to make (they are evaluated before
/// debug() can drop the line).
inline bool debugEnabled() noexcept {
  return threshold() <= Level::Debug;
}

template <class... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
  if (threshold() <= Level::Debug)
    write(Level::Debug, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
  if (threshold() <= Level::Info)
    write(Level::Info, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
  if (threshold() <= Level::Warn)
    write(Level::Warn, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
  write(Level::Error, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace aerie::log
