#include "core/log.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace aerie::log {
namespace {

Level parseThreshold() noexcept {
  const char* env = std::getenv("AERIE_LOG");
  if (env == nullptr) return Level::Info;
  if (std::strcmp(env, "debug") == 0) return Level::Debug;
  if (std::strcmp(env, "warn") == 0) return Level::Warn;
  if (std::strcmp(env, "error") == 0) return Level::Error;
  return Level::Info;
}

const char* name(Level level) noexcept {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info ";
    case Level::Warn:
      return "warn ";
    case Level::Error:
      return "error";
  }
  return "?";
}

}  // namespace

Level threshold() noexcept {
  static const Level level = parseThreshold();
  return level;
}

void write(Level level, std::string_view message) noexcept {
  timeval now{};
  gettimeofday(&now, nullptr);
  std::tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string line;
  line.reserve(message.size() + 48);
  line += stamp;
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ ", static_cast<int>(now.tv_usec / 1000));
  line += millis;
  line += name(level);
  line += ' ';
  line += message;
  line += '\n';
  // One write() per line keeps lines from different threads whole.
  [[maybe_unused]] auto written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace aerie::log
