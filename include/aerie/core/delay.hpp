// Suspends the calling coroutine for a while without blocking its event loop
// (the seeds' `yield new Amp\Delayed(5000)`).
#pragma once

#include <chrono>

#include "aerie/core/task.hpp"

namespace aerie {

/// Must be awaited on a thread that runs an aerie event loop (any handler callback does).
Task<> delay(std::chrono::milliseconds duration);

}  // namespace aerie
