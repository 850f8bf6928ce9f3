// SessionIndex (a worker's sessions by id, open addressing with backward-shift deletion)
// against std::unordered_map under random inserts and erases: ids as the server makes
// them (a growing sequence above the worker bits) and clustered ones that force long
// probe runs and wrap around the table's end.
#include "websocket/session_index.hpp"

#include <algorithm>
#include <random>
#include <unordered_map>
#include <vector>

#include "gtest/gtest.h"

namespace aerie::detail {
namespace {

struct FakeSession {
  ClientId clientId;
  ClientId id() const noexcept { return clientId; }
};

void checkAgainst(const SessionIndex<FakeSession>& index,
                  const std::unordered_map<ClientId, FakeSession*>& reference,
                  const std::vector<ClientId>& erased) {
  ASSERT_EQ(index.size(), reference.size());
  for (const auto& [id, session] : reference) {
    ASSERT_EQ(index.find(id), session) << "id " << id;
  }
  for (ClientId id : erased) {
    if (!reference.contains(id)) {
      ASSERT_EQ(index.find(id), nullptr) << "erased id " << id;
    }
  }
  std::size_t visited = 0;
  index.forEach([&](FakeSession* session) {
    ++visited;
    ASSERT_EQ(reference.at(session->id()), session);
  });
  ASSERT_EQ(visited, reference.size());
}

void randomOperations(unsigned shift, ClientId stride, std::uint32_t seed) {
  std::mt19937 random(seed);
  SessionIndex<FakeSession> index(shift);
  std::unordered_map<ClientId, FakeSession*> reference;
  std::vector<std::unique_ptr<FakeSession>> sessions;
  std::vector<ClientId> live;
  std::vector<ClientId> erased;
  ClientId next = 1;
  for (int step = 0; step < 20000; ++step) {
    // Phases of growth and of shrinking, so the table both doubles and gives memory back.
    const bool growing = (step / 2500) % 2 == 0;
    if (live.empty() || random() % 100 < (growing ? 70u : 25u)) {
      const ClientId id = (next++ * stride) << shift | 3;
      sessions.push_back(std::make_unique<FakeSession>(FakeSession{id}));
      index.insert(sessions.back().get());
      reference.emplace(id, sessions.back().get());
      live.push_back(id);
    } else {
      const std::size_t at = random() % live.size();
      const ClientId id = live[at];
      live[at] = live.back();
      live.pop_back();
      ASSERT_TRUE(index.erase(id));
      ASSERT_FALSE(index.erase(id));
      reference.erase(id);
      erased.push_back(id);
    }
    if (step % 97 == 0) checkAgainst(index, reference, erased);
  }
  checkAgainst(index, reference, erased);
  EXPECT_LE(index.size() * 4, index.capacity() * 3);
}

TEST(SessionIndex, MatchesAMapWithServerIds) {
  randomOperations(8, 1, 1);  // WebsocketApp::kClientIdWorkerBits
}

TEST(SessionIndex, MatchesAMapWithCollidingIds) {
  // A stride of the table's size puts every id on the same home slot: one long run.
  randomOperations(0, 64, 2);
  randomOperations(0, 1024, 3);
}

TEST(SessionIndex, EmptyAndMissing) {
  SessionIndex<FakeSession> index(8);
  EXPECT_EQ(index.find(42), nullptr);
  EXPECT_FALSE(index.erase(42));
  FakeSession one{1 << 8};
  index.insert(&one);
  EXPECT_EQ(index.find(1 << 8), &one);
  EXPECT_EQ(index.find(2 << 8), nullptr);
  EXPECT_TRUE(index.erase(1 << 8));
  EXPECT_TRUE(index.empty());
}

TEST(SessionIndex, GivesMemoryBackAfterABurst) {
  SessionIndex<FakeSession> index(0);
  std::vector<FakeSession> sessions(10000);
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    sessions[i].clientId = i + 1;
    index.insert(&sessions[i]);
  }
  const std::size_t peak = index.capacity();
  EXPECT_GE(peak * 3, 40000u);
  for (std::size_t i = 0; i < sessions.size() - 10; ++i)
    index.erase(i + 1);
  EXPECT_LE(index.capacity(), 256u);
  for (std::size_t i = sessions.size() - 10; i < sessions.size(); ++i)
    EXPECT_EQ(index.find(i + 1), &sessions[i]);
}

}  // namespace
}  // namespace aerie::detail
