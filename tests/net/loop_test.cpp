// net::Loop::drive(): the server worker's loop, which waits in its own epoll set with
// Asio's reactor as one member. What must hold: handlers posted from other threads and
// io().stop() wake it (Asio only wakes a thread blocked in its own reactor: see
// src/net/asio_hooks.hpp), Asio's timers and its handlers queued from the loop's own thread
// run, post() on the loop's thread runs at the end of the turn and never inside the
// caller, and callbacks queued when the loop stops are still run.
#include "net/loop.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace aerie::net {
namespace {

using namespace std::chrono_literals;

// Bounds a wait that must end; a missed wake-up blocks forever, so it fails here instead.
constexpr auto kMustHappenWithin = 10s;

/// A loop driven on its own thread for the duration of a test.
class DrivenLoop {
 public:
  DrivenLoop() {
    std::promise<void> started;
    auto ready = started.get_future();
    thread_ = std::thread([this, &started] {
      loop.post([&started] { started.set_value(); });  // before drive(): an Asio handler
      loop.drive();
      finished_.set_value();
    });
    EXPECT_EQ(ready.wait_for(kMustHappenWithin), std::future_status::ready);
  }
  ~DrivenLoop() {
    loop.io().stop();
    thread_.join();
  }

  /// Runs `f` on the loop's thread and waits for it.
  template <class F>
  bool runOnLoop(F f) {
    std::promise<void> done;
    auto future = done.get_future();
    loop.post([&] {
      f();
      done.set_value();
    });
    return future.wait_for(kMustHappenWithin) == std::future_status::ready;
  }

  bool finishedWithin(std::chrono::seconds limit) {
    return finished_.get_future().wait_for(limit) == std::future_status::ready;
  }

  Loop loop{0};

 private:
  std::promise<void> finished_;
  std::thread thread_;
};

TEST(LoopDrive, HandlersPostedFromAnotherThreadWakeIt) {
  DrivenLoop driven;
  // Many in a row: each finds the loop blocked in its own epoll set again.
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(driven.runOnLoop([] {})) << "post " << i << " never ran";
  }
}

TEST(LoopDrive, AnIdleLoopBlocks) {
  // Asio's descriptor is a level-triggered member of the loop's set: if Asio never took
  // its events (no reactor task, say), every wait would return at once. Idle for 300 ms,
  // a blocking loop turns a handful of times at most; a spinning one, thousands.
  DrivenLoop driven;
  std::uint64_t before = 0;
  std::uint64_t after = 0;
  ASSERT_TRUE(driven.runOnLoop([&] { before = driven.loop.turns(); }));
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(driven.runOnLoop([&] { after = driven.loop.turns(); }));
  EXPECT_LT(after - before, 20u);
}

TEST(LoopDrive, StopFromAnotherThreadEndsIt) {
  auto driven = std::make_unique<DrivenLoop>();
  driven->loop.io().stop();
  EXPECT_TRUE(driven->finishedWithin(kMustHappenWithin));
}

TEST(LoopDrive, AsioTimersFire) {
  DrivenLoop driven;
  std::promise<void> fired;
  auto future = fired.get_future();
  asio::steady_timer timer(driven.loop.io());
  ASSERT_TRUE(driven.runOnLoop([&] {
    timer.expires_after(20ms);
    timer.async_wait([&](const std::error_code& error) {
      EXPECT_FALSE(error);
      fired.set_value();
    });
  }));
  EXPECT_EQ(future.wait_for(kMustHappenWithin), std::future_status::ready);
}

TEST(LoopDrive, PostOnTheLoopThreadRunsLaterInOrder) {
  DrivenLoop driven;
  std::vector<int> order;
  std::promise<void> done;
  auto future = done.get_future();
  ASSERT_TRUE(driven.runOnLoop([&] {
    driven.loop.post([&] {
      order.push_back(2);
      driven.loop.post([&] {
        order.push_back(4);
        done.set_value();
      });
      order.push_back(3);
    });
    order.push_back(1);  // post() never runs the callback inside the caller
  }));
  ASSERT_EQ(future.wait_for(kMustHappenWithin), std::future_status::ready);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

TEST(LoopDrive, AsioHandlersQueuedOnTheLoopThreadOutsideAsioRun) {
  // A poller client's event is dispatched outside io_context::poll(): a handler it posts to
  // Asio directly lands in Asio's shared queue without waking anything. The loop must see
  // the queue and run it instead of blocking.
  DrivenLoop driven;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  std::promise<void> ran;
  auto future = ran.get_future();
  struct Client final : PollClient {
    asio::io_context* io = nullptr;
    std::promise<void>* ran = nullptr;
    bool posted = false;
    void onEvents(std::uint32_t events) override {
      if ((events & EPOLLIN) == 0 || posted) return;
      posted = true;
      asio::post(*io, [this] { ran->set_value(); });
    }
  } client;
  client.io = &driven.loop.io();
  client.ran = &ran;
  ASSERT_TRUE(driven.runOnLoop([&] { driven.loop.poller().add(fds[0], client); }));
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  EXPECT_EQ(future.wait_for(kMustHappenWithin), std::future_status::ready);
  ASSERT_TRUE(driven.runOnLoop([&] { driven.loop.poller().remove(fds[0]); }));
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(LoopDrive, PollerEventsAreDispatchedAndPostsRunAtTheTurnsEnd) {
  DrivenLoop driven;
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  std::promise<void> flushed;
  auto future = flushed.get_future();
  struct Client final : PollClient {
    Loop* loop = nullptr;
    int fd = -1;
    std::promise<void>* flushed = nullptr;
    std::vector<char> received;
    bool flushing = false;
    void onEvents(std::uint32_t events) override {
      if ((events & EPOLLIN) == 0) return;
      char buffer[64];
      ssize_t n;
      while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
        received.insert(received.end(), buffer, buffer + n);
      if (!received.empty() && !flushing) {
        flushing = true;
        loop->post([this] { flushed->set_value(); });  // as a connection's flush does
      }
    }
  } client;
  client.loop = &driven.loop;
  client.fd = fds[0];
  client.flushed = &flushed;
  ASSERT_TRUE(driven.runOnLoop([&] { driven.loop.poller().add(fds[0], client); }));
  ASSERT_EQ(::write(fds[1], "hello", 5), 5);
  ASSERT_EQ(future.wait_for(kMustHappenWithin), std::future_status::ready);
  ASSERT_TRUE(driven.runOnLoop([&] {
    EXPECT_EQ(std::string(client.received.begin(), client.received.end()), "hello");
    driven.loop.poller().remove(fds[0]);
  }));
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(LoopDrive, HandlersFromAnotherThreadRunWhileTheTurnsEndQueueStaysBusy) {
  // A loop busy with its own end-of-turn callbacks never blocks, so it is never armed and
  // a post from another thread wakes nothing: the loop must still look at Asio's queue
  // every turn, not only on turns with nothing else to do (under load, those never come).
  DrivenLoop driven;
  constexpr std::uint64_t kChainLimit = 20000;  // turns the chain may keep the loop busy
  std::uint64_t chainRuns = 0;
  std::uint64_t turnsAtPost = 0;
  std::uint64_t turnsAtRun = 0;
  bool handlerRan = false;
  std::promise<void> chainEnded;
  auto ended = chainEnded.get_future();
  std::function<void()> chain = [&] {
    ++chainRuns;
    if (chainRuns == 10) {
      // Queued in Asio, from another thread, by the time this callback returns.
      std::thread([&] {
        driven.loop.post([&] {
          turnsAtRun = driven.loop.turns();
          handlerRan = true;
        });
      }).join();
      turnsAtPost = driven.loop.turns();
    }
    if (handlerRan || chainRuns == kChainLimit) {
      chainEnded.set_value();
      return;
    }
    driven.loop.post(chain);  // re-queued every turn: the loop never idles
  };
  ASSERT_TRUE(driven.runOnLoop([&] { driven.loop.post(chain); }));
  ASSERT_EQ(ended.wait_for(kMustHappenWithin), std::future_status::ready);
  ASSERT_TRUE(driven.runOnLoop([] {}));
  ASSERT_TRUE(handlerRan);
  EXPECT_LE(turnsAtRun - turnsAtPost, 2u) << "the handler waited for the busy chain to end";
  EXPECT_LT(chainRuns, kChainLimit);
}

TEST(LoopDrive, CallbacksQueuedAtTheStopStillRun) {
  Loop loop(0);
  bool ranAfterStop = false;
  std::thread thread([&] {
    loop.post([&] {
      loop.post([&] { ranAfterStop = true; });  // a flush holding a connection, say
      loop.io().stop();
    });
    loop.drive();
  });
  thread.join();
  EXPECT_TRUE(ranAfterStop);
}

TEST(LoopDrive, PostFromOtherThreadsUnderContention) {
  DrivenLoop driven;
  std::atomic<int> ran{0};
  constexpr int kThreads = 4;
  constexpr int kPosts = 2000;
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < kPosts; ++i)
        driven.loop.post([&] { ran.fetch_add(1, std::memory_order_relaxed); });
    });
  }
  for (auto& poster : posters)
    poster.join();
  // Every one runs, the last ones without any later post to wake the loop for them.
  ASSERT_TRUE(driven.runOnLoop([] {}));
  const auto deadline = std::chrono::steady_clock::now() + kMustHappenWithin;
  while (ran.load() < kThreads * kPosts && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(ran.load(), kThreads * kPosts);
}

}  // namespace
}  // namespace aerie::net
