#include "tests/support/manual_clock.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace warren {
namespace {

Timestamp at_ms(int64_t ms) {
  return Timestamp() + Duration::milliseconds(ms);
}

TEST(ManualClock, StartsWhereToldAndMovesOnlyWhenAdvanced) {
  ManualClock clock(at_ms(5));
  EXPECT_EQ(clock.now(), at_ms(5));
  clock.advance(Duration::milliseconds(10));
  EXPECT_EQ(clock.now(), at_ms(15));
  clock.advance_to(at_ms(3));  // never backwards
  EXPECT_EQ(clock.now(), at_ms(15));
}

TEST(ManualClock, RunsTimersInDeadlineThenSchedulingOrderEachAtItsDeadline) {
  ManualClock clock;
  std::vector<std::string> order;
  std::vector<Timestamp> seen;
  auto record = [&](std::string name) {
    return [&order, &seen, &clock, name] {
      order.push_back(name);
      seen.push_back(clock.now());
    };
  };
  clock.schedule_at(at_ms(20), record("c"));
  clock.schedule_at(at_ms(10), record("a"));
  clock.schedule_at(at_ms(20), record("d"));
  clock.schedule_at(at_ms(10), record("b"));
  clock.schedule_at(at_ms(31), record("late"));
  EXPECT_EQ(clock.pending(), 5u);
  clock.advance(Duration::milliseconds(30));
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(seen, (std::vector<Timestamp>{at_ms(10), at_ms(10), at_ms(20), at_ms(20)}));
  EXPECT_EQ(clock.now(), at_ms(30));
  EXPECT_EQ(clock.pending(), 1u);
}

TEST(ManualClock, NeverRunsATimerInsideScheduleAt) {
  ManualClock clock(at_ms(100));
  bool ran = false;
  clock.schedule_at(at_ms(1), [&] { ran = true; });  // in the past: due now, but not yet run
  EXPECT_FALSE(ran);
  clock.advance(Duration::zero());
  EXPECT_TRUE(ran);
  EXPECT_EQ(clock.now(), at_ms(100));
}

TEST(ManualClock, PastDeadlinesQueueBehindTimersAlreadyDueNow) {
  ManualClock clock(at_ms(100));
  std::vector<int> order;
  clock.schedule_at(at_ms(100), [&] { order.push_back(1); });
  clock.schedule_at(at_ms(50), [&] { order.push_back(2); });
  clock.advance(Duration::zero());
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(ManualClock, TimersScheduledByTimersRunIfDueWithinTheSameAdvance) {
  ManualClock clock;
  std::vector<Timestamp> seen;
  clock.schedule_at(at_ms(10), [&] {
    seen.push_back(clock.now());
    clock.schedule_after(Duration::milliseconds(5), [&] { seen.push_back(clock.now()); });
    clock.schedule_after(Duration::milliseconds(50), [&] { seen.push_back(clock.now()); });
  });
  clock.advance(Duration::milliseconds(20));
  EXPECT_EQ(seen, (std::vector<Timestamp>{at_ms(10), at_ms(15)}));
  EXPECT_EQ(clock.pending(), 1u);
}

TEST(ManualClock, CancelledTimersDoNotRunAndCancelIsIdempotent) {
  ManualClock clock;
  int runs = 0;
  TimerId a = clock.schedule_after(Duration::milliseconds(1), [&] { ++runs; });
  TimerId b = clock.schedule_after(Duration::milliseconds(2), [&] { ++runs; });
  EXPECT_NE(a, 0u);
  EXPECT_NE(a, b);
  clock.cancel(a);
  clock.cancel(a);
  clock.cancel(12345);  // unknown id
  clock.advance(Duration::milliseconds(5));
  EXPECT_EQ(runs, 1);
  clock.cancel(b);  // already ran
  EXPECT_EQ(clock.pending(), 0u);
}

TEST(ManualClock, RunNextJumpsToTheEarliestDeadline) {
  ManualClock clock;
  EXPECT_FALSE(clock.run_next());
  EXPECT_FALSE(clock.next_deadline().has_value());
  int runs = 0;
  clock.schedule_at(at_ms(70), [&] { ++runs; });
  clock.schedule_at(at_ms(40), [&] { ++runs; });
  EXPECT_EQ(clock.next_deadline(), at_ms(40));
  EXPECT_TRUE(clock.run_next());
  EXPECT_EQ(clock.now(), at_ms(40));
  EXPECT_EQ(runs, 1);
}

TEST(Timer, FiresOnceAtItsDeadline) {
  ManualClock clock;
  Timer timer(clock);
  int runs = 0;
  timer.arm_after(Duration::milliseconds(10), [&] { ++runs; });
  EXPECT_TRUE(timer.armed());
  EXPECT_EQ(timer.deadline(), at_ms(10));
  clock.advance(Duration::milliseconds(9));
  EXPECT_EQ(runs, 0);
  clock.advance(Duration::milliseconds(1));
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(timer.armed());
  clock.advance(Duration::seconds(1));
  EXPECT_EQ(runs, 1);
}

TEST(Timer, RearmingReplacesThePendingRun) {
  ManualClock clock;
  Timer timer(clock);
  std::vector<int> runs;
  timer.arm_after(Duration::milliseconds(10), [&] { runs.push_back(1); });
  timer.arm_after(Duration::milliseconds(20), [&] { runs.push_back(2); });
  clock.advance(Duration::milliseconds(30));
  EXPECT_EQ(runs, (std::vector<int>{2}));
  EXPECT_EQ(clock.pending(), 0u);
}

TEST(Timer, CancelStopsIt) {
  ManualClock clock;
  Timer timer(clock);
  bool ran = false;
  timer.arm_after(Duration::milliseconds(1), [&] { ran = true; });
  timer.cancel();
  EXPECT_FALSE(timer.armed());
  clock.advance(Duration::milliseconds(5));
  EXPECT_FALSE(ran);
}

TEST(Timer, CanRearmItselfFromItsCallback) {
  ManualClock clock;
  Timer timer(clock);
  std::vector<Timestamp> ticks;
  std::function<void()> tick = [&] {
    ticks.push_back(clock.now());
    if (ticks.size() < 3) timer.arm_after(Duration::milliseconds(10), tick);
  };
  timer.arm_after(Duration::milliseconds(10), tick);
  clock.advance(Duration::milliseconds(100));
  EXPECT_EQ(ticks, (std::vector<Timestamp>{at_ms(10), at_ms(20), at_ms(30)}));
  EXPECT_FALSE(timer.armed());
}

TEST(Timer, DestroyingItCancelsThePendingRun) {
  ManualClock clock;
  bool ran = false;
  {
    Timer timer(clock);
    timer.arm_after(Duration::milliseconds(1), [&] { ran = true; });
    EXPECT_EQ(clock.pending(), 1u);
  }
  EXPECT_EQ(clock.pending(), 0u);
  clock.advance(Duration::milliseconds(5));
  EXPECT_FALSE(ran);
}

TEST(Timer, ItsOwnerMayDestroyItFromTheCallback) {
  ManualClock clock;
  auto timer = std::make_unique<Timer>(clock);
  bool ran = false;
  timer->arm_after(Duration::milliseconds(1), [&] {
    ran = true;
    timer.reset();
  });
  clock.advance(Duration::milliseconds(5));
  EXPECT_TRUE(ran);
  EXPECT_EQ(timer, nullptr);
}

}  // namespace
}  // namespace warren
