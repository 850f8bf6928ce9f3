// aerie::run(): the seeds' `Amp\Loop::run(function () { ... })` — runs an event loop on the
// calling thread until the given coroutine finishes. For clients and tools; a server runs
// its own loops (and a handler can use the client directly on them).
#pragma once

#include <type_traits>
#include <utility>

#include "aerie/core/task.hpp"

namespace aerie {

/// Runs `task` on a new event loop on this thread and returns when it finished, rethrowing
/// what escaped it. Client connections it left open are dropped then. Throws
/// std::logic_error on a thread that already runs an aerie loop, or if the task waits for
/// something no event will ever complete.
void run(Task<> task);

/// The same for a callable returning Task<> (e.g. a coroutine lambda): the callable, and
/// so its captures, lives until the task finished.
template <class F>
requires std::is_invocable_r_v<Task<>, F&> void run(F&& function) {
  std::decay_t<F> callable(std::forward<F>(function));
  run(callable());
}

}  // namespace aerie
