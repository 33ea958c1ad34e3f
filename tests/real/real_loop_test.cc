#include "nodes/real/real_loop.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <thread>
#include <vector>

namespace warren {
namespace {

TEST(RealLoop, RunUntilReturnsFalseAfterTheTimeout) {
  RealLoop loop;
  const Timestamp start = loop.clock().now();
  EXPECT_FALSE(loop.run_until([] { return false; }, Duration::milliseconds(30)));
  EXPECT_GE(loop.clock().now() - start, Duration::milliseconds(30));
}

TEST(RealLoop, RunUntilReturnsAtOnceWhenAlreadyDone) {
  RealLoop loop;
  bool ran = false;
  loop.clock().schedule_after(Duration::zero(), [&] { ran = true; });
  EXPECT_TRUE(loop.run_until([] { return true; }, Duration::seconds(10)));
  EXPECT_FALSE(ran);  // nothing ran: done() was checked first
}

TEST(RealLoop, ClockIsMonotonicAndTimersNeverRunInsideScheduleAt) {
  RealLoop loop;
  Clock& clock = loop.clock();
  const Timestamp a = clock.now();
  bool ran = false;
  clock.schedule_at(a - Duration::seconds(1), [&] { ran = true; });  // already due
  EXPECT_FALSE(ran);
  EXPECT_TRUE(loop.run_until([&] { return ran; }, Duration::seconds(5)));
  EXPECT_GE(clock.now(), a);
}

TEST(RealLoop, CancelledTimersDoNotRun) {
  RealLoop loop;
  Clock& clock = loop.clock();
  std::vector<int> order;
  TimerId early = clock.schedule_after(Duration::milliseconds(5), [&] { order.push_back(1); });
  clock.schedule_after(Duration::milliseconds(10), [&] { order.push_back(2); });
  clock.cancel(early);
  clock.cancel(early);
  EXPECT_TRUE(loop.run_until([&] { return !order.empty(); }, Duration::seconds(5)));
  loop.run_for(Duration::milliseconds(10));
  EXPECT_EQ(order, (std::vector<int>{2}));
}

TEST(RealLoop, ManyTimersDueAtOnceAllRunInOrder) {
  RealLoop loop;
  Clock& clock = loop.clock();
  std::vector<int> order;
  const Timestamp when = clock.now() + Duration::milliseconds(5);
  constexpr int kCount = 1000;  // more than one wakeup's worth
  for (int i = 0; i < kCount; ++i) clock.schedule_at(when, [&order, i] { order.push_back(i); });
  ASSERT_TRUE(loop.run_until([&] { return order.size() == kCount; }, Duration::seconds(5)));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(order[i], i);
}

TEST(RealLoop, StopFromAHandlerEndsRun) {
  RealLoop loop;
  bool ran = false;
  loop.clock().schedule_after(Duration::milliseconds(5), [&] {
    ran = true;
    loop.stop();
  });
  loop.run();
  EXPECT_TRUE(ran);
  // The stop was consumed: the loop runs again afterwards.
  bool again = false;
  loop.clock().schedule_after(Duration::milliseconds(1), [&] { again = true; });
  EXPECT_TRUE(loop.run_until([&] { return again; }, Duration::seconds(5)));
}

TEST(RealLoop, StopFromAnotherThreadEndsRun) {
  RealLoop loop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    loop.stop();
  });
  loop.run();
  stopper.join();
  SUCCEED();
}

TEST(RealLoop, StopEndsRunUntilEarly) {
  RealLoop loop;
  loop.clock().schedule_after(Duration::milliseconds(5), [&] { loop.stop(); });
  const Timestamp start = loop.clock().now();
  EXPECT_FALSE(loop.run_until([] { return false; }, Duration::seconds(30)));
  EXPECT_LT(loop.clock().now() - start, Duration::seconds(10));
}

TEST(RealLoop, SigtermStopsTheLoop) {
  RealLoop loop;
  loop.stop_on_signals();
  loop.clock().schedule_after(Duration::milliseconds(5), [] { ::raise(SIGTERM); });
  loop.run();  // returns because of the signal; otherwise the process would have died
  SUCCEED();
}

}  // namespace
}  // namespace warren
