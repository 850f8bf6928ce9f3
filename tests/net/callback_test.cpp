// net::Callback: the move-only callable of the loop's end-of-turn queue. Small targets are
// stored inline (no allocation per post), large ones on the heap; each target is destroyed
// exactly once, also when moved around in a growing vector.
#include "net/callback.hpp"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace aerie::net {
namespace {

struct Counted {
  int* destroyed;
  int* called;
  explicit Counted(int* d, int* c) : destroyed(d), called(c) {}
  Counted(Counted&& other) noexcept
      : destroyed(std::exchange(other.destroyed, nullptr)), called(other.called) {}
  Counted(const Counted&) = delete;
  ~Counted() {
    if (destroyed != nullptr) ++*destroyed;
  }
  void operator()() { ++*called; }
};

struct Large {
  Counted counted;
  char padding[64] = {};
  void operator()() { counted(); }
};

TEST(Callback, CallsASmallMoveOnlyTarget) {
  auto value = std::make_unique<int>(41);
  int seen = 0;
  Callback callback([&seen, value = std::move(value)] { seen = *value + 1; });
  callback();
  EXPECT_EQ(seen, 42);
}

TEST(Callback, EachTargetIsDestroyedOnceThroughMovesInline) {
  int destroyed = 0;
  int called = 0;
  {
    std::vector<Callback> queue;
    for (int i = 0; i < 100; ++i)
      queue.emplace_back(Counted(&destroyed, &called));  // the vector grows: moves
    for (auto& callback : queue)
      callback();
    std::vector<Callback> other;
    other.swap(queue);
    Callback moved = std::move(other.front());
    EXPECT_FALSE(static_cast<bool>(other.front()));
    moved();
  }
  EXPECT_EQ(called, 101);
  EXPECT_EQ(destroyed, 100);
}

TEST(Callback, EachTargetIsDestroyedOnceThroughMovesOnTheHeap) {
  int destroyed = 0;
  int called = 0;
  {
    std::vector<Callback> queue;
    for (int i = 0; i < 50; ++i)
      queue.emplace_back(Large{Counted(&destroyed, &called)});
    for (auto& callback : queue)
      callback();
    Callback assigned;
    assigned = std::move(queue.back());
    assigned();
    assigned = Callback([] {});  // the heap target is released here
    EXPECT_EQ(destroyed, 1);
  }
  EXPECT_EQ(called, 51);
  EXPECT_EQ(destroyed, 50);
}

TEST(Callback, StringCaptureSurvivesMoves) {
  std::string seen;
  Callback first([&seen, text = std::string(100, 'x')] { seen = text; });
  Callback second(std::move(first));
  second();
  EXPECT_EQ(seen, std::string(100, 'x'));
}

}  // namespace
}  // namespace aerie::net
