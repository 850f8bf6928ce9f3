// The per-thread payload pool: a sent payload's storage serves the next message that fits,
// never one it would oversize by more than 4x; sizes outside the pooled classes pass through.
#include "websocket/payload_pool.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace aerie::detail {
namespace {

// Empties this thread's pool classes that the tests use, so each starts from nothing.
void drain() {
  for (std::size_t size : {20u, 100u, 1000u, 5000u, 40000u, 65536u}) {
    for (int i = 0; i < 16; ++i)
      static_cast<void>(takePayload(size));
  }
}

TEST(PayloadPool, SentStorageServesTheNextMessageOfItsClass) {
  std::thread([] {
    drain();
    std::string first = takePayload(20);
    EXPECT_GE(first.capacity(), 20u);
    EXPECT_TRUE(first.empty());
    first.assign(20, 'x');
    const char* storage = first.data();
    recyclePayload(std::move(first));
    std::string second = takePayload(24);
    EXPECT_EQ(second.data(), storage);  // the same storage, handed out again
    EXPECT_TRUE(second.empty());
  }).join();
}

TEST(PayloadPool, NeverHandsOutMoreThanFourTimesTheSize) {
  std::thread([] {
    drain();
    std::string big;
    big.reserve(40000);
    const char* storage = big.data();
    recyclePayload(std::move(big));
    std::string small = takePayload(100);
    EXPECT_NE(small.data(), storage);
    EXPECT_LE(small.capacity(), 400u);
    std::string fits = takePayload(30000);  // 40000 < 4 x 30000 and in its class
    EXPECT_GE(fits.capacity(), 30000u);
  }).join();
}

TEST(PayloadPool, InlineAndHugeStringsAreNotKept) {
  std::thread([] {
    drain();
    std::string tiny = "abc";  // std::string's inline buffer
    recyclePayload(std::move(tiny));
    std::string huge;
    huge.reserve(1 << 20);
    const char* storage = huge.data();
    recyclePayload(std::move(huge));
    EXPECT_NE(takePayload(1 << 16).data(), storage);
    EXPECT_EQ(takePayload(1 << 20).capacity() >= (1u << 20), true);
  }).join();
}

TEST(PayloadPool, EachClassKeepsABoundedNumber) {
  std::thread([] {
    drain();
    EXPECT_EQ(pooledPayloads(), 0u);
    std::vector<std::string> many;
    for (int i = 0; i < 20; ++i)
      many.push_back(takePayload(1000));
    for (auto& s : many)
      recyclePayload(std::move(s));
    EXPECT_EQ(pooledPayloads(), 8u);  // the rest went back to the allocator
    for (int i = 0; i < 20; ++i)
      static_cast<void>(takePayload(1000));
    EXPECT_EQ(pooledPayloads(), 0u);
  }).join();
}

TEST(PayloadPool, HoldsAtMost128KiBPerThread) {
  std::thread([] {
    drain();
    std::vector<std::string> large;
    for (int i = 0; i < 8; ++i)
      large.push_back(takePayload(1 << 16));  // 64 KiB each
    for (auto& s : large)
      recyclePayload(std::move(s));
    EXPECT_EQ(pooledPayloads(), 2u);
    std::vector<std::string> small;
    for (int i = 0; i < 8; ++i)
      small.push_back(takePayload(100));
    for (auto& s : small)
      recyclePayload(std::move(s));  // no room left
    EXPECT_EQ(pooledPayloads(), 2u);
  }).join();
}

TEST(PayloadPool, MessageStatesComeFromTheFramePool) {
  std::thread([] {
    const ws::detail::MessageState* first = nullptr;
    {
      auto state = makeMessageState();
      first = state.get();
      state->data = "x";
    }
    auto again = makeMessageState();
    EXPECT_EQ(again.get(), first);  // freed to the thread's list, taken back from it
    EXPECT_TRUE(again->data.empty());
    EXPECT_FALSE(again->complete);
  }).join();
}

}  // namespace
}  // namespace aerie::detail
