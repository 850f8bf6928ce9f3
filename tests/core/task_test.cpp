// Task<>::ready(): a finished task that a coroutine awaits without suspending, as
// Response::send() returns it; and that ordinary tasks around it still run as before.
#include "aerie/core/task.hpp"

#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <string>

#include "aerie/http/response.hpp"

namespace aerie {
namespace {

struct Outcome {
  bool done = false;
  std::string error;
};

void record(void* context, std::uint64_t, std::exception_ptr error) noexcept {
  auto* outcome = static_cast<Outcome*>(context);
  outcome->done = true;
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      outcome->error = e.what();
    }
  }
}

Task<> awaitReadyTwice(int& steps) {
  ++steps;
  co_await Task<>::ready();
  ++steps;
  co_await Task<>::ready();
  ++steps;
}

Task<int> inner(int value) {
  co_await Task<>::ready();
  co_return value * 2;
}

Task<> outer(int& result) {
  result = co_await inner(21);
}

Task<> failing() {
  co_await Task<>::ready();
  throw std::runtime_error("after a ready task");
}

TEST(TaskReady, IsAwaitedWithoutSuspending) {
  EXPECT_FALSE(Task<>::ready().valid());
  int steps = 0;
  Outcome outcome;
  awaitReadyTwice(steps).start(&record, &outcome);
  // start() runs until the first suspension: there is none, so all of it ran.
  EXPECT_EQ(steps, 3);
  EXPECT_TRUE(outcome.done);
  EXPECT_TRUE(outcome.error.empty());
}

Task<> sumReadyValues(int& sum) {
  Task<int> kept = Task<int>::ready(20);
  Task<int> moved = std::move(kept);  // the value travels with the task
  sum = co_await Task<int>::ready(22) + co_await moved;
  std::string text = co_await Task<std::string>::ready(std::string(100, 'x'));
  sum += static_cast<int>(text.size());
}

TEST(TaskReady, AValueIsAwaitedWithoutAFrame) {
  EXPECT_FALSE(Task<int>::ready(1).valid());
  int sum = 0;
  Outcome outcome;
  sumReadyValues(sum).start(&record, &outcome);
  EXPECT_EQ(sum, 142);  // no suspension: all of it ran inside start()
  EXPECT_TRUE(outcome.done);
  EXPECT_TRUE(outcome.error.empty());
  Outcome readyStarted;
  Task<>::ready().start(&record, &readyStarted);  // nothing to run: done at once
  EXPECT_TRUE(readyStarted.done);
  EXPECT_TRUE(readyStarted.error.empty());
}

TEST(TaskReady, NestedTasksAndExceptionsBehaveAsBefore) {
  int result = 0;
  Outcome outcome;
  outer(result).start(&record, &outcome);
  EXPECT_EQ(result, 42);
  EXPECT_TRUE(outcome.done);
  Outcome failed;
  failing().start(&record, &failed);
  EXPECT_TRUE(failed.done);
  EXPECT_EQ(failed.error, "after a ready task");
}

Task<> respond(http::Response& response) {
  co_await response.send("hello");
}

TEST(TaskReady, ResponseSendFinishesAtOnce) {
  http::Response response;
  Outcome outcome;
  respond(response).start(&record, &outcome);
  EXPECT_TRUE(outcome.done);
  EXPECT_TRUE(response.started());
  EXPECT_EQ(response.body(), "hello");
}

}  // namespace
}  // namespace aerie
