// Task<T>: the coroutine type of every aerie callback and API that waits.
//
// Lazy (nothing runs until awaited or spawned), single-awaiter, with symmetric transfer so
// long await chains do not grow the stack. Frames come from a per-thread pool (see
// frame_pool.hpp). A Task can also be started detached (spawn()), which is how the server
// runs handler callbacks: the frame then destroys itself when the body finishes, and a
// callback learns about an escaped exception.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aerie/core/frame_pool.hpp"

namespace aerie {

template <class T = void>
class Task;

namespace detail {

/// Called when a detached task finishes; `error` is null unless the body threw. `context`
/// and `tag` are what start() was given (a tag spares a caller that needs two words, such
/// as an object and a client id, an allocation per task).
using DetachedDone = void (*)(void* context, std::uint64_t tag, std::exception_ptr error) noexcept;

class PromiseBase {
 public:
  static void* operator new(std::size_t size) { return allocateFrame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    deallocateFrame(frame, size);
  }

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      PromiseBase& promise = self.promise();
      if (promise.continuation_) return promise.continuation_;
      if (promise.detached_) {
        // Detached: nobody will read the result; report and free the frame ourselves.
        DetachedDone done = promise.onDetachedDone_;
        void* context = promise.detachedContext_;
        const std::uint64_t tag = promise.detachedTag_;
        std::exception_ptr error = std::move(promise.exception_);
        self.destroy();
        if (done != nullptr) done(context, tag, std::move(error));
      }
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }

  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  void setContinuation(std::coroutine_handle<> continuation) noexcept {
    continuation_ = continuation;
  }
  void detach(DetachedDone done, void* context, std::uint64_t tag) noexcept {
    detached_ = true;
    onDetachedDone_ = done;
    detachedContext_ = context;
    detachedTag_ = tag;
  }

 protected:
  void rethrowIfFailed() {
    if (exception_) std::rethrow_exception(exception_);
  }

 private:
  std::coroutine_handle<> continuation_;
  std::exception_ptr exception_;
  DetachedDone onDetachedDone_ = nullptr;
  void* detachedContext_ = nullptr;
  std::uint64_t detachedTag_ = 0;
  bool detached_ = false;
};

template <class T>
class Promise final : public PromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  template <class U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value_.emplace(std::forward<U>(value));
  }
  T result() {
    rethrowIfFailed();
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class Promise<void> final : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void result() { rethrowIfFailed(); }
};

/// The result of a Task made ready (Task<T>::ready(value)): held by the Task itself, as
/// there is no coroutine frame to hold it. Empty for Task<void>.
template <class T>
struct ReadyResult {
  std::optional<T> value;
};
template <>
struct ReadyResult<void> {};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(Handle handle) noexcept : handle_(handle) {}
  Task(Task&& other) noexcept
      : handle_(std::exchange(other.handle_, {})), ready_(std::move(other.ready_)) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      destroy();
      handle_ = std::exchange(other.handle_, {});
      ready_ = std::move(other.ready_);
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { destroy(); }

  /// A coroutine frame is attached (a default or ready() task has none).
  bool valid() const noexcept { return static_cast<bool>(handle_); }

  /// A Task<> that has already finished: awaiting it returns at once. For a function that
  /// keeps a coroutine signature but never waits (Response::send): no frame, no resumption.
  static Task ready() noexcept requires std::is_void_v<T> { return Task(); }
  /// A Task<T> that has already finished with `value`: for a function whose result is
  /// often at hand (Message::buffer() of a message received whole): no frame, no
  /// resumption, the value moved out by the co_await.
  template <class U>
  requires(!std::is_void_v<T> && std::is_convertible_v<U&&, T>) static Task ready(U&& value) {
    Task task;
    task.ready_.value.emplace(std::forward<U>(value));
    return task;
  }

  struct Awaiter {
    Handle handle;
    detail::ReadyResult<T>* ready;
    bool await_ready() const noexcept { return !handle || handle.done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      handle.promise().setContinuation(awaiting);
      return handle;
    }
    T await_resume() {
      if constexpr (std::is_void_v<T>) {
        if (!handle) return;  // Task<>::ready()
      } else {
        if (!handle) return std::move(*ready->value);  // Task<T>::ready(value)
      }
      return handle.promise().result();
    }
  };
  Awaiter operator co_await() && noexcept { return Awaiter{handle_, &ready_}; }
  Awaiter operator co_await() & noexcept { return Awaiter{handle_, &ready_}; }

  /// Starts the task without an awaiter. It runs until its first suspension before this
  /// returns; its frame frees itself when it finishes, then `done` (if any) is called.
  /// A ready task has nothing to run: `done` is called at once.
  void start(detail::DetachedDone done = nullptr, void* context = nullptr,
             std::uint64_t tag = 0) && noexcept {
    Handle handle = std::exchange(handle_, {});
    if (!handle) {
      if (done != nullptr) done(context, tag, nullptr);
      return;
    }
    handle.promise().detach(done, context, tag);
    handle.resume();
  }

 private:
  void destroy() noexcept {
    if (handle_) handle_.destroy();
  }

  Handle handle_;
  [[no_unique_address]] detail::ReadyResult<T> ready_;
};

namespace detail {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>{std::coroutine_handle<Promise<T>>::from_promise(*this)};
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>{std::coroutine_handle<Promise<void>>::from_promise(*this)};
}
}  // namespace detail

}  // namespace aerie
