#include "aerie/core/run.hpp"

#include <exception>
#include <stdexcept>

#include "client/client_session.hpp"
#include "net/loop.hpp"

namespace aerie {
namespace {
struct RunState {
  net::Loop* loop = nullptr;
  bool done = false;
  std::exception_ptr error;
};
}  // namespace

void run(Task<> task) {
  if (net::Loop::current() != nullptr) {
    throw std::logic_error("aerie::run() on a thread that already runs an aerie event loop");
  }
  net::Loop loop(0);
  loop.makeCurrent();
  RunState state{&loop, false, {}};
  std::move(task).start(
      [](void* context, std::uint64_t, std::exception_ptr error) noexcept {
        auto* s = static_cast<RunState*>(context);
        s->done = true;
        s->error = std::move(error);
        s->loop->io().stop();
      },
      &state);
  if (!state.done) loop.io().run();
  const bool stalled = !state.done;
  // Wind down what the task left behind: connections it kept open somewhere, timers of
  // detached coroutines. Their handlers run (cancelled) and release what they hold.
  loop.cancelTimers();
  client::detail::ClientSession::terminateAllOnThisThread();
  loop.io().restart();
  loop.io().run();
  if (stalled) {
    throw std::logic_error(
        "aerie::run(): the task is waiting for something no event will ever complete");
  }
  if (state.error) std::rethrow_exception(state.error);
}

}  // namespace aerie
