// Suspends the calling coroutine for a while without blocking its event loop
// (the seeds' `yield new Amp\Delayed(5000)`).
#pragma once

#include <chrono>
#include <stdexcept>

#include "aerie/core/task.hpp"

namespace aerie {

/// Thrown by delay() when the event loop stops (server stop) while it waits, so the
/// coroutine unwinds instead of staying suspended forever.
class LoopStopping : public std::runtime_error {
 public:
  LoopStopping() : std::runtime_error("the event loop is stopping") {}
};

/// Must be awaited on a thread that runs an aerie event loop (any handler callback does).
Task<> delay(std::chrono::milliseconds duration);

}  // namespace aerie
