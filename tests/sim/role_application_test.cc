#include "sim/role_application.h"

#include <gtest/gtest.h>

#include "tests/sim/sim_test_util.h"
#include "tests/support/capture_log_sink.h"

namespace warren::sim::testing {
namespace {

// A role that records its life: an id per construction, the first random value it drew, and a
// timer that would fire after the role is stopped.
struct Lifecycle {
  int constructed = 0;
  int destroyed = 0;
  int late_timer_runs = 0;
};

class CountingRole {
 public:
  // `life` is shared: roles still running at the end die in Simulator::Destroy, after the
  // test body's locals.
  CountingRole(Env& env, std::shared_ptr<Lifecycle> life)
      : env_(env), life_(std::move(life)), timer_(env.clock) {
    id_ = ++life_->constructed;
    first_draw_ = env_.rng.next_u64();
    env_.log.info("started " + std::to_string(id_));
    timer_.arm_after(Duration::seconds(10), [this] { ++life_->late_timer_runs; });
    // A raw timer the role forgets to cancel: Stop must cancel it for the role.
    env_.clock.schedule_after(Duration::seconds(10), [life = life_] { ++life->late_timer_runs; });
  }
  ~CountingRole() { ++life_->destroyed; }
  int id() const { return id_; }
  uint64_t first_draw() const { return first_draw_; }
  Env& env() { return env_; }

 private:
  Env& env_;
  std::shared_ptr<Lifecycle> life_;
  Timer timer_;
  int id_ = 0;
  uint64_t first_draw_ = 0;
};

class RoleApplicationTest : public SimTest {
 protected:
  std::unique_ptr<SimNetwork> OneHost() {
    TopoSketch t("one");
    int a = t.Host("a", "10.0.0.1");
    int b = t.Host("b", "10.0.0.2");
    t.Link(a, b);
    return Build(t, 42);
  }
};

TEST_F(RoleApplicationTest, RestartBuildsAFreshRoleWithTheRngContinuing) {
  auto net = OneHost();
  ASSERT_NE(net, nullptr);
  auto life = std::make_shared<Lifecycle>();
  CaptureLogSink sink;
  auto app = net->InstallRole(
      0, "counter", [life](Env& env) { return std::make_shared<CountingRole>(env, life); }, &sink,
      LogLevel::info, Duration::seconds(1));
  std::vector<int> ids;
  std::vector<uint64_t> draws;
  auto record = [&] {
    ids.push_back(app->role<CountingRole>()->id());
    draws.push_back(app->role<CountingRole>()->first_draw());
  };
  At(net->GetNode(0), 2.0, record);
  At(net->GetNode(0), 3.0, [&] { app->Stop(); });
  At(net->GetNode(0), 3.5, [&] { EXPECT_FALSE(app->IsRunning()); });
  At(net->GetNode(0), 4.0, [&] { EXPECT_TRUE(app->Start()); });
  At(net->GetNode(0), 5.0, record);
  RunUntil(6.0);
  EXPECT_EQ(ids, (std::vector<int>{1, 2}));
  EXPECT_EQ(life->constructed, 2);
  EXPECT_EQ(life->destroyed, 1);
  EXPECT_EQ(app->GetStartCount(), 2u);
  SeededRng replica = net->RoleRng(0, "counter");
  ASSERT_EQ(draws.size(), 2u);
  EXPECT_EQ(draws[0], replica.next_u64());
  EXPECT_EQ(draws[1], replica.next_u64()) << "the RNG continues across a restart";
  ASSERT_EQ(sink.lines().size(), 2u);
  EXPECT_EQ(sink.lines()[0].component, "a/counter");
  EXPECT_EQ(sink.lines()[0].when, Timestamp::from_ns(1'000'000'000)) << "simulated time";
  EXPECT_EQ(sink.lines()[1].message, "started 2");
}

TEST_F(RoleApplicationTest, StopCancelsTheRolesTimers) {
  auto net = OneHost();
  ASSERT_NE(net, nullptr);
  auto life = std::make_shared<Lifecycle>();
  auto app = net->InstallRole(
      0, "counter", [life](Env& env) { return std::make_shared<CountingRole>(env, life); }, nullptr,
      LogLevel::info, Duration::seconds(1));
  At(net->GetNode(0), 2.0, [&] { app->Stop(); });
  RunUntil(20.0);
  EXPECT_EQ(life->late_timer_runs, 0);
  EXPECT_EQ(app->GetClock()->PendingCount(), 0u);
}

TEST_F(RoleApplicationTest, WithoutAStartTimeOnlyStartStartsIt) {
  auto net = OneHost();
  ASSERT_NE(net, nullptr);
  auto life = std::make_shared<Lifecycle>();
  auto app = net->InstallRole(
      1, "counter", [life](Env& env) { return std::make_shared<CountingRole>(env, life); }, nullptr,
      LogLevel::info, std::nullopt);
  bool running_at_1 = true;
  uint32_t context_at_start = 0;
  At(net->GetNode(1), 1.0, [&] { running_at_1 = app->IsRunning(); });
  At(net->GetNode(1), 2.0, [&] {
    app->Start();
    context_at_start = ns3::Simulator::GetContext();
  });
  RunUntil(3.0);
  EXPECT_FALSE(running_at_1);
  EXPECT_TRUE(app->IsRunning());
  EXPECT_EQ(context_at_start, net->GetNode(1)->GetId());
  EXPECT_EQ(app->role<CountingRole>()->env().network.local_addresses(),
            std::vector<IpAddress>{IpAddress::parse("10.0.0.2").value()});
}

TEST_F(RoleApplicationTest, AFactoryReturningNullLeavesTheRoleStopped) {
  auto net = OneHost();
  ASSERT_NE(net, nullptr);
  CaptureLogSink sink;
  auto app = net->InstallRole(
      0, "broken", [](Env&) { return std::shared_ptr<void>(); }, &sink, LogLevel::info,
      Duration::seconds(1));
  RunUntil(2.0);
  EXPECT_FALSE(app->IsRunning());
  EXPECT_TRUE(sink.contains("could not be built", LogLevel::error)) << sink.text();
}

TEST_F(RoleApplicationTest, DisposingTheSimulationDestroysRunningRoles) {
  auto net = OneHost();
  ASSERT_NE(net, nullptr);
  auto life = std::make_shared<Lifecycle>();
  net->InstallRole(
      0, "counter", [life](Env& env) { return std::make_shared<CountingRole>(env, life); }, nullptr,
      LogLevel::info, Duration::seconds(1));
  RunUntil(2.0);
  ns3::Simulator::Destroy();
  EXPECT_EQ(life->constructed, 1);
  EXPECT_EQ(life->destroyed, 1);
}

}  // namespace
}  // namespace warren::sim::testing
