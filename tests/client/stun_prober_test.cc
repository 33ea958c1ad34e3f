#include "nodes/client/stun_prober.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nodes/net/rng.h"
#include "nodes/relay/stun_server.h"
#include "tests/support/memory_network.h"

namespace warren {
namespace {

using ::testing::HasSubstr;

// Real StunServers and a StunProber on the in-memory network (1 ms one-way latency).
class StunProberTest : public ::testing::Test {
 protected:
  StunProberTest() {
    for (int i = 0; i < 2; ++i) {
      const std::string v4 = "192.0.2." + std::to_string(i + 1);
      const std::string v6 = "2001:db8::" + std::to_string(i + 1);
      MemoryHost& host = world_.add_host("relay" + std::to_string(i),
                                         {*IpAddress::parse(v4), *IpAddress::parse(v6)});
      server_envs_.push_back(std::make_unique<Env>(Env{world_.clock(), host, rng_, Logger()}));
      servers_.push_back(std::make_unique<StunServer>(*server_envs_.back()));
      EXPECT_TRUE(servers_.back()
                      ->start({*Endpoint::parse("0.0.0.0:3478"), *Endpoint::parse("[::]:3478")})
                      .ok());
    }
  }

  // Runs the prober to completion; returns the manual time it took.
  Duration run(StunProber& prober, const std::vector<StunServerSpec>& servers,
               const std::vector<Endpoint>& bind = {}) {
    bool finished = false;
    const Timestamp start = world_.clock().now();
    Timestamp end;
    EXPECT_TRUE(prober
                    .start(
                        servers,
                        [&] {
                          finished = true;
                          end = world_.clock().now();
                        },
                        bind)
                    .ok());
    EXPECT_FALSE(finished);
    EXPECT_TRUE(world_.run_until([&] { return finished; }, Duration::seconds(120)));
    EXPECT_TRUE(prober.done());
    return end - start;
  }

  MemoryWorld world_;
  SeededRng rng_{42, "stun-prober-test"};
  std::vector<std::unique_ptr<Env>> server_envs_;
  std::vector<std::unique_ptr<StunServer>> servers_;
  MemoryHost& client_host_ = world_.add_host(
      "client", {*IpAddress::parse("203.0.113.7"), *IpAddress::parse("2001:db8::7")});
  Env client_env_{world_.clock(), client_host_, rng_, Logger()};

  const std::vector<StunServerSpec> v4_servers_ = {{"r0", *Endpoint::parse("192.0.2.1:3478")},
                                                   {"r1", *Endpoint::parse("192.0.2.2:3478")}};
};

TEST_F(StunProberTest, TwoServersSeeTheSameMappingFromOneSocket) {
  StunProber prober(client_env_);
  run(prober, v4_servers_, {*Endpoint::parse("0.0.0.0:41641")});
  ASSERT_EQ(prober.results().size(), 2u);
  for (const auto& r : prober.results()) {
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.mapped->to_string(), "203.0.113.7:41641");
    EXPECT_EQ(r.rtt, Duration::milliseconds(2));
    EXPECT_EQ(r.transmissions, 1);
  }
  EXPECT_EQ(prober.results()[1].name, "r1");
  EXPECT_EQ(prober.mapping_varies_by_destination(Family::ipv4), false);
  EXPECT_EQ(prober.mapping_varies_by_destination(Family::ipv6), std::nullopt);
  EXPECT_EQ(prober.local_endpoint(Family::ipv4)->port, 41641);
  EXPECT_FALSE(prober.local_endpoint(Family::ipv6).has_value());
}

TEST_F(StunProberTest, Ipv6ServerReportsIpv6Mapping) {
  StunProber prober(client_env_);
  run(prober, {{"r0-v4", *Endpoint::parse("192.0.2.1:3478")},
               {"r0-v6", *Endpoint::parse("[2001:db8::1]:3478")},
               {"r1-v6", *Endpoint::parse("[2001:db8::2]:3478")}});
  const auto& r = prober.results();
  ASSERT_TRUE(r[1].ok() && r[2].ok()) << r[1].error << r[2].error;
  EXPECT_EQ(r[1].mapped->address.to_string(), "2001:db8::7");
  EXPECT_EQ(r[1].mapped->port, prober.local_endpoint(Family::ipv6)->port);
  EXPECT_EQ(r[0].mapped->address.to_string(), "203.0.113.7");
  EXPECT_EQ(prober.mapping_varies_by_destination(Family::ipv6), false);
  EXPECT_EQ(prober.mapping_varies_by_destination(Family::ipv4), std::nullopt);
}

TEST_F(StunProberTest, RetransmissionRecoversFromLoss) {
  int to_drop = 3;
  const Endpoint lossy = *Endpoint::parse("192.0.2.1:3478");
  world_.set_udp_filter(
      [&](const Endpoint&, const Endpoint& to, ByteView) { return to == lossy && to_drop-- > 0; });
  StunProber prober(client_env_);
  const Duration took = run(prober, v4_servers_);
  const auto& r = prober.results();
  ASSERT_TRUE(r[0].ok()) << r[0].error;
  EXPECT_EQ(r[0].transmissions, 4);  // three requests lost, the fourth (at 3.5 s) answered
  EXPECT_EQ(r[1].transmissions, 1);
  EXPECT_EQ(took, Duration::milliseconds(3502));
}

TEST_F(StunProberTest, TotalLossEndsAfterTheBoundedScheduleWithNoAnswer) {
  world_.set_udp_filter([](const Endpoint&, const Endpoint&, ByteView) { return true; });
  StunProber prober(client_env_);
  const Duration took = run(prober, v4_servers_);
  EXPECT_EQ(took, StunRetransmitOptions().transaction_timeout());
  EXPECT_EQ(took, Duration::milliseconds(500 + 1000 + 2000 + 4000 + 8000 + 16000 + 8000));
  for (const auto& r : prober.results()) {
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.transmissions, 7);
    EXPECT_THAT(r.error, HasSubstr("no STUN response"));
  }
  EXPECT_EQ(prober.mapping_varies_by_destination(Family::ipv4), std::nullopt);
}

TEST_F(StunProberTest, DetectsMappingThatVariesByDestination) {
  // A server that reports a different port than the real one does, as the second server
  // behind an address-dependent NAT would see.
  MemoryHost& liar_host = world_.add_host("liar", {*IpAddress::parse("198.51.100.1")});
  auto liar = liar_host.open_udp(*Endpoint::parse("0.0.0.0:3478"));
  ASSERT_TRUE(liar.ok());
  UdpSocket* liar_socket = liar->get();
  liar_socket->set_receive_handler([&](const Endpoint& from, const Endpoint&, ByteView p) {
    auto m = parse_stun(p);
    ASSERT_TRUE(m.ok());
    Endpoint other = from;
    other.port = static_cast<uint16_t>(from.port + 1);
    EXPECT_TRUE(liar_socket->send_to(from, build_binding_success(m->transaction_id, other)).ok());
  });
  StunProber prober(client_env_);
  run(prober, {v4_servers_[0], {"liar", *Endpoint::parse("198.51.100.1:3478")}});
  EXPECT_EQ(prober.mapping_varies_by_destination(Family::ipv4), true);
}

TEST_F(StunProberTest, MissingFamilyFailsOnlyItsServers) {
  MemoryHost& v4_only = world_.add_host("v4only", {*IpAddress::parse("203.0.113.8")});
  Env env{world_.clock(), v4_only, rng_, Logger()};
  StunProber prober(env);
  run(prober, {{"v6", *Endpoint::parse("[2001:db8::1]:3478")}, v4_servers_[0]});
  const auto& r = prober.results();
  EXPECT_FALSE(r[0].ok());
  EXPECT_THAT(r[0].error, HasSubstr("cannot open a UDP socket"));
  EXPECT_TRUE(r[1].ok()) << r[1].error;

  StunProber v6_only(env);
  Status s = v6_only.start({{"v6", *Endpoint::parse("[2001:db8::1]:3478")}}, [] {});
  EXPECT_FALSE(s.ok());
  StunProber none(client_env_);
  EXPECT_FALSE(none.start({}, [] {}).ok());
}

TEST_F(StunProberTest, DestructionMidProbeIsSafe) {
  auto prober = std::make_unique<StunProber>(client_env_);
  world_.set_udp_filter([](const Endpoint&, const Endpoint&, ByteView) { return true; });
  ASSERT_TRUE(prober->start(v4_servers_, [] { FAIL() << "must not complete"; }).ok());
  world_.run_for(Duration::seconds(2));
  prober.reset();  // pending timers must not fire into a destroyed prober
  world_.run_for(Duration::seconds(60));
}

}  // namespace
}  // namespace warren
