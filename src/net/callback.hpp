// A move-only `void()` callable for the loop's end-of-turn queue (C++23's
// std::move_only_function is not in C++20; std::function wants copyable targets, and the
// loop is handed move-only ones). Targets up to three pointers wide and nothrow-movable
// live inline: the hot path's callbacks capture a pointer or a coroutine handle, so a post
// allocates nothing.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace aerie::net {

class Callback {
 public:
  Callback() noexcept = default;

  template <class F, class Target = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<Target, Callback>>>
  Callback(F&& function) {  // NOLINT(google-explicit-constructor): built in emplace_back
    if constexpr (fitsInline<Target>()) {
      ::new (static_cast<void*>(storage_)) Target(std::forward<F>(function));
      ops_ = &inlineOps<Target>;
    } else {
      *reinterpret_cast<Target**>(storage_) = new Target(std::forward<F>(function));
      ops_ = &heapOps<Target>;
    }
  }

  Callback(Callback&& other) noexcept : ops_(other.ops_) {
    if (ops_ != nullptr) ops_->move(other.storage_, storage_);
    other.ops_ = nullptr;
  }
  Callback& operator=(Callback&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = other.ops_;
      if (ops_ != nullptr) ops_->move(other.storage_, storage_);
      other.ops_ = nullptr;
    }
    return *this;
  }
  Callback(const Callback&) = delete;
  Callback& operator=(const Callback&) = delete;
  ~Callback() { reset(); }

  void operator()() { ops_->call(storage_); }
  explicit operator bool() const noexcept { return ops_ != nullptr; }

 private:
  static constexpr std::size_t kInlineSize = 3 * sizeof(void*);

  struct Ops {
    void (*call)(void* storage);
    void (*move)(void* from, void* to) noexcept;  // leaves `from` destroyed
    void (*destroy)(void* storage) noexcept;
  };

  template <class T>
  static constexpr bool fitsInline() {
    return sizeof(T) <= kInlineSize && alignof(T) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<T>;
  }

  template <class T>
  static constexpr Ops inlineOps{[](void* s) { (*std::launder(static_cast<T*>(s)))(); },
                                 [](void* from, void* to) noexcept {
                                   T* source = std::launder(static_cast<T*>(from));
                                   ::new (to) T(std::move(*source));
                                   source->~T();
                                 },
                                 [](void* s) noexcept { std::launder(static_cast<T*>(s))->~T(); }};

  template <class T>
  static constexpr Ops heapOps{
      [](void* s) { (**static_cast<T**>(s))(); },
      [](void* from, void* to) noexcept { *static_cast<T**>(to) = *static_cast<T**>(from); },
      [](void* s) noexcept { delete *static_cast<T**>(s); }};

  void reset() noexcept {
    if (ops_ != nullptr) ops_->destroy(storage_);
    ops_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char storage_[kInlineSize];
  const Ops* ops_ = nullptr;
};

}  // namespace aerie::net
