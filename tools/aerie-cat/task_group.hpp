// Coroutines running beside the main one (stdin pump, pings, signal watch), joined before
// what they use goes away.
#pragma once

#include <asio/io_context.hpp>
#include <coroutine>
#include <cstddef>
#include <exception>

#include "aerie/core/task.hpp"

namespace aerie::cat {

class TaskGroup {
 public:
  explicit TaskGroup(asio::io_context& io) noexcept : io_(io) {}
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  /// Starts `task` at once, detached. What escapes it is reported on stderr.
  void spawn(Task<> task);

  struct JoinAwaiter {
    TaskGroup& group;
    bool await_ready() const noexcept { return group.running_ == 0; }
    void await_suspend(std::coroutine_handle<> awaiting) noexcept { group.joiner_ = awaiting; }
    void await_resume() const noexcept {}
  };
  /// Resumes once every spawned task finished. One joiner at a time.
  JoinAwaiter join() noexcept { return JoinAwaiter{*this}; }

 private:
  static void onDone(void* context, std::uint64_t, std::exception_ptr error) noexcept;

  asio::io_context& io_;
  std::size_t running_ = 0;
  std::coroutine_handle<> joiner_;
};

}  // namespace aerie::cat
