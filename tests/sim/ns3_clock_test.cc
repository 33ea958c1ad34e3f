#include "sim/ns3_clock.h"

#include <gtest/gtest.h>

#include <ns3/node.h>

#include "tests/sim/sim_test_util.h"

namespace warren::sim::testing {
namespace {

class Ns3ClockTest : public SimTest {};

TEST_F(Ns3ClockTest, NowIsSimulationTime) {
  Ns3Clock clock(0);
  Timestamp seen;
  ns3::Simulator::Schedule(ns3::MilliSeconds(1500), [&] { seen = clock.now(); });
  RunUntil(2.0);
  EXPECT_EQ(seen, Timestamp::from_ns(1'500'000'000));
}

TEST_F(Ns3ClockTest, SameInstantTimersRunInSchedulingOrder) {
  auto node = ns3::CreateObject<ns3::Node>();
  Ns3Clock clock(node->GetId());
  std::vector<int> order;
  At(node, 1.0, [&] {
    for (int i = 0; i < 5; ++i)
      clock.schedule_after(Duration::milliseconds(10), [&order, i] { order.push_back(i); });
  });
  RunUntil(2.0);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(Ns3ClockTest, TimersRunInTheNodesContext) {
  auto a = ns3::CreateObject<ns3::Node>();
  auto b = ns3::CreateObject<ns3::Node>();
  Ns3Clock clock(b->GetId());
  uint32_t from_own_context = 0;
  uint32_t from_other_context = 0;
  // Armed from b's own context (cancellable path) and from a's (ScheduleWithContext path).
  At(b, 1.0, [&] {
    clock.schedule_after(Duration::seconds(1),
                         [&] { from_own_context = ns3::Simulator::GetContext(); });
  });
  At(a, 1.0, [&] {
    clock.schedule_after(Duration::seconds(1),
                         [&] { from_other_context = ns3::Simulator::GetContext(); });
  });
  RunUntil(3.0);
  EXPECT_EQ(from_own_context, b->GetId());
  EXPECT_EQ(from_other_context, b->GetId());
}

TEST_F(Ns3ClockTest, CancelledTimersNeverRun) {
  auto a = ns3::CreateObject<ns3::Node>();
  auto b = ns3::CreateObject<ns3::Node>();
  Ns3Clock clock(b->GetId());
  int runs = 0;
  At(b, 1.0, [&] {
    TimerId id = clock.schedule_after(Duration::seconds(1), [&] { ++runs; });
    clock.cancel(id);
    clock.cancel(id);  // a no-op the second time
  });
  At(a, 1.0, [&] {
    TimerId id = clock.schedule_after(Duration::seconds(1), [&] { ++runs; });
    clock.cancel(id);
  });
  RunUntil(3.0);
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(clock.PendingCount(), 0u);
}

TEST_F(Ns3ClockTest, PastDeadlineRunsSoonButNeverInsideScheduleAt) {
  auto node = ns3::CreateObject<ns3::Node>();
  Ns3Clock clock(node->GetId());
  bool ran = false;
  bool ran_inside = false;
  Timestamp ran_at;
  At(node, 2.0, [&] {
    clock.schedule_at(Timestamp::from_ns(1), [&] {
      ran = true;
      ran_at = clock.now();
    });
    ran_inside = ran;
  });
  RunUntil(3.0);
  EXPECT_TRUE(ran);
  EXPECT_FALSE(ran_inside);
  EXPECT_EQ(ran_at, Timestamp::from_ns(2'000'000'000));
}

TEST_F(Ns3ClockTest, DestroyingTheClockCancelsItsTimers) {
  auto node = ns3::CreateObject<ns3::Node>();
  auto clock = std::make_unique<Ns3Clock>(node->GetId());
  int runs = 0;
  At(node, 1.0, [&] { clock->schedule_after(Duration::seconds(1), [&] { ++runs; }); });
  clock->schedule_after(Duration::seconds(2), [&] { ++runs; });  // from outside any node
  At(node, 1.5, [&] { clock.reset(); });
  RunUntil(3.0);
  EXPECT_EQ(runs, 0);
}

TEST_F(Ns3ClockTest, TimerRaiiWorksOnTheSimulator) {
  auto node = ns3::CreateObject<ns3::Node>();
  Ns3Clock clock(node->GetId());
  Timer timer(clock);
  std::vector<double> fired;
  At(node, 1.0, [&] {
    timer.arm_after(Duration::seconds(1), [&] { fired.push_back(clock.now().seconds_f()); });
    // Re-arming replaces the pending run.
    timer.arm_after(Duration::milliseconds(500), [&] { fired.push_back(clock.now().seconds_f()); });
  });
  RunUntil(3.0);
  EXPECT_EQ(fired, std::vector<double>{1.5});
}

}  // namespace
}  // namespace warren::sim::testing
