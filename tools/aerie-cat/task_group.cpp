#include "task_group.hpp"

#include <asio/post.hpp>
#include <cstdio>
#include <utility>

namespace aerie::cat {

void TaskGroup::spawn(Task<> task) {
  ++running_;  // before start(): the task may finish before start() returns
  std::move(task).start(&TaskGroup::onDone, this);
}

void TaskGroup::onDone(void* context, std::uint64_t, std::exception_ptr error) noexcept {
  auto* group = static_cast<TaskGroup*>(context);
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "aerie-cat: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "aerie-cat: unknown error\n");
    }
  }
  if (--group->running_ == 0 && group->joiner_) {
    // Resumed from the loop, not from inside the finishing task's final suspension.
    asio::post(group->io_, [joiner = std::exchange(group->joiner_, {})] { joiner.resume(); });
  }
}

}  // namespace aerie::cat
