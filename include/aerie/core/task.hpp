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
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "aerie/core/frame_pool.hpp"

namespace aerie {

template <class T = void>
class Task;

namespace detail {

/// Called when a detached task finishes; `error` is null unless the body threw.
using DetachedDone = void (*)(void* context, std::exception_ptr error) noexcept;

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
        std::exception_ptr error = std::move(promise.exception_);
        self.destroy();
        if (done != nullptr) done(context, std::move(error));
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
  void detach(DetachedDone done, void* context) noexcept {
    detached_ = true;
    onDetachedDone_ = done;
    detachedContext_ = context;
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

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(Handle handle) noexcept : handle_(handle) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { destroy(); }

  bool valid() const noexcept { return static_cast<bool>(handle_); }

  /// A Task<> that has already finished: awaiting it returns at once. For a function that
  /// keeps a coroutine signature but never waits (Response::send): no frame, no resumption.
  static Task ready() noexcept requires std::is_void_v<T> { return Task(); }

  struct Awaiter {
    Handle handle;
    bool await_ready() const noexcept { return !handle || handle.done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      handle.promise().setContinuation(awaiting);
      return handle;
    }
    T await_resume() {
      if constexpr (std::is_void_v<T>) {
        if (!handle) return;  // Task<>::ready()
      }
      return handle.promise().result();
    }
  };
  Awaiter operator co_await() && noexcept { return Awaiter{handle_}; }
  Awaiter operator co_await() & noexcept { return Awaiter{handle_}; }

  /// Starts the task without an awaiter. It runs until its first suspension before this
  /// returns; its frame frees itself when it finishes, then `done` (if any) is called.
  void start(detail::DetachedDone done = nullptr, void* context = nullptr) && noexcept {
    Handle handle = std::exchange(handle_, {});
    handle.promise().detach(done, context);
    handle.resume();
  }

 private:
  void destroy() noexcept {
    if (handle_) handle_.destroy();
  }

  Handle handle_;
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
