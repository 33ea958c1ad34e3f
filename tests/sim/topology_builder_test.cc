#include "sim/topology_builder.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "tests/sim/sim_test_util.h"
#include "tests/support/echo.h"

namespace warren::sim::testing {
namespace {

using nat::MiddleboxDrop;

// a (10.0.1.2, 2001:db8:1::2) -- r1 -- r2 -- b (10.0.2.2, 2001:db8:2::2)
TopoSketch ChainSketch(topo::LinkParams last_hop = {}) {
  TopoSketch t("chain");
  int a = t.Host("a", "10.0.1.2", "2001:db8:1::2");
  int r1 = t.Router("r1", "10.0.0.1", "2001:db8::1");
  int r2 = t.Router("r2", "10.0.0.2", "2001:db8::2");
  int b = t.Host("b", "10.0.2.2", "2001:db8:2::2");
  int l_a = t.Link(a, r1);
  int l_core = t.Link(r1, r2);
  int l_b = t.Link(r2, b, last_hop);
  t.Route(a, "0.0.0.0/0", l_a);
  t.Route(a, "::/0", l_a);
  t.Route(r1, "10.0.1.0/24", l_a);
  t.Route(r1, "2001:db8:1::/48", l_a);
  t.Route(r1, "0.0.0.0/0", l_core);
  t.Route(r1, "::/0", l_core);
  t.Route(r2, "10.0.2.0/24", l_b);
  t.Route(r2, "2001:db8:2::/48", l_b);
  t.Route(r2, "0.0.0.0/0", l_core);
  t.Route(r2, "::/0", l_core);
  t.Route(b, "0.0.0.0/0", l_b);
  t.Route(b, "::/0", l_b);
  return t;
}

class TopologyBuilderTest : public SimTest {};

TEST_F(TopologyBuilderTest, NodesLinksAndDevicesAreFoundByTopologyNames) {
  auto net = Build(ChainSketch());
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->FindNode("r2"), 2);
  EXPECT_EQ(net->GetNode("b"), net->GetNode(3));
  EXPECT_EQ(net->GetNode("nope"), nullptr);
  EXPECT_EQ(net->FindLink(2, 1), 1);
  EXPECT_FALSE(net->FindLink(0, 3).has_value());
  EXPECT_EQ(net->GetDevice(1, 2)->GetNode(), net->GetNode("r2"));
  EXPECT_EQ(net->GetDevice(1, 0), nullptr);
  EXPECT_NE(net->GetMiddlebox(1), nullptr) << "routers forward through a middlebox";
  EXPECT_EQ(net->GetNat(1), nullptr) << "but are no NATs";
  EXPECT_EQ(net->GetMiddlebox(0), nullptr);
}

TEST_F(TopologyBuilderTest, StaticRoutesCarryBothFamiliesAcrossRouters) {
  auto net = Build(ChainSketch());
  ASSERT_NE(net, nullptr);
  auto server = net->InstallRole(
      3, "echo",
      [](Env& env) {
        auto s = std::make_shared<EchoServer>(env);
        EXPECT_TRUE(s->start_udp(Ep("[::]:7")).ok());
        EXPECT_TRUE(s->start_tcp(Ep("0.0.0.0:7")).ok());
        return s;
      },
      nullptr, LogLevel::info, Duration::zero());
  auto v4 = net->InstallRole(
      0, "v4", [](Env& env) { return std::make_shared<EchoClient>(env); }, nullptr, LogLevel::info,
      Duration::zero());
  auto v6 = net->InstallRole(
      0, "v6", [](Env& env) { return std::make_shared<EchoClient>(env); }, nullptr, LogLevel::info,
      Duration::zero());
  At(net->GetNode("a"), 1.0, [&] {
    EchoClient& c6 = *v6->role<EchoClient>();
    ASSERT_TRUE(c6.open_udp(Ep("[::]:0")).ok());
    EXPECT_TRUE(c6.send(Ep("[2001:db8:2::2]:7"), ByteView(std::string_view("six"))).ok());
    v4->role<EchoClient>()->connect(Ep("10.0.2.2:7"));
    EXPECT_TRUE(v4->role<EchoClient>()->write(ByteView(std::string_view("four"))).ok());
  });
  RunUntil(2.0);
  ASSERT_EQ(v6->role<EchoClient>()->replies().size(), 1u);
  EXPECT_EQ(v6->role<EchoClient>()->replies()[0].from, Ep("[2001:db8:2::2]:7"));
  EXPECT_EQ(server->role<EchoServer>()->stats().last_from.address,
            IpAddress::parse("2001:db8:1::2").value());
  EXPECT_EQ(std::string(v4->role<EchoClient>()->received().begin(),
                        v4->role<EchoClient>()->received().end()),
            "four");
  const auto& r1 = net->GetMiddlebox(1)->GetStats();
  EXPECT_EQ(r1.forwarded_ipv6, 2u);
  EXPECT_GT(r1.forwarded_ipv4, 3u);
}

TEST_F(TopologyBuilderTest, LinkDownLosesTrafficAndUpRestoresIt) {
  auto net = Build(ChainSketch());
  ASSERT_NE(net, nullptr);
  auto a = InstallUdpPeer(*net, "a", Family::ipv4, {5000});
  auto b = InstallUdpPeer(*net, "b", Family::ipv4, {5000});
  const int core = *net->FindLink(1, 2);
  auto send = [&](double t, const std::string& payload) {
    At(net->GetNode("a"), t,
       [&a, payload] { a->role<UdpPeer>()->Send(5000, Ep("10.0.2.2:5000"), payload); });
  };
  send(1.0, "up");
  At(net->GetNode("r1"), 2.0, [&] { EXPECT_TRUE(net->SetLinkUp(core, false).ok()); });
  send(3.0, "down");
  At(net->GetNode("r1"), 4.0, [&] { EXPECT_TRUE(net->SetLinkUp(core, true).ok()); });
  send(5.0, "up-again");
  RunUntil(6.0);
  const UdpPeer& peer = *b->role<UdpPeer>();
  EXPECT_NE(peer.Find("up"), nullptr);
  EXPECT_EQ(peer.Find("down"), nullptr);
  EXPECT_NE(peer.Find("up-again"), nullptr);
  EXPECT_EQ(net->GetLinkDownDrops(core), 1u);
  EXPECT_TRUE(net->IsLinkUp(core));
  EXPECT_FALSE(net->SetLinkUp(99, false).ok());
}

// Datagrams that cross a lossy link, for one seed.
size_t Delivered(uint64_t seed) {
  topo::LinkParams lossy;
  lossy.loss = 0.3;
  auto built = TopologyBuilder::Build(ChainSketch(lossy).topology(), seed);
  EXPECT_TRUE(built.ok());
  SimNetwork& net = *built.value();
  auto a = InstallUdpPeer(net, "a", Family::ipv4, {5000});
  auto b = InstallUdpPeer(net, "b", Family::ipv4, {5000});
  for (int i = 0; i < 200; ++i) {
    At(net.GetNode("a"), 1.0 + i * 0.001,
       [&a, i] { a->role<UdpPeer>()->Send(5000, Ep("10.0.2.2:5000"), std::to_string(i)); });
  }
  RunUntil(2.0);
  size_t delivered = b->role<UdpPeer>()->received().size();
  ns3::Simulator::Destroy();
  return delivered;
}

TEST_F(TopologyBuilderTest, LossIsRandomButReproducible) {
  const size_t first = Delivered(3);
  EXPECT_GT(first, 100u);
  EXPECT_LT(first, 180u);
  EXPECT_EQ(Delivered(3), first);
}

TEST_F(TopologyBuilderTest, AFullDeviceQueueIsACountedDrop) {
  topo::LinkParams slow;
  slow.rate_bps = 1'000'000;
  slow.queue_packets = 5;
  auto net = Build(ChainSketch(slow));
  ASSERT_NE(net, nullptr);
  auto a = InstallUdpPeer(*net, "a", Family::ipv4, {5000});
  auto b = InstallUdpPeer(*net, "b", Family::ipv4, {5000});
  const std::string payload(1000, 'x');
  At(net->GetNode("a"), 1.0, [&] {
    for (int i = 0; i < 50; ++i) a->role<UdpPeer>()->Send(5000, Ep("10.0.2.2:5000"), payload);
  });
  RunUntil(3.0);
  const uint64_t queue_drops = net->GetMiddlebox(2)->GetStats().dropped(MiddleboxDrop::queue_full);
  EXPECT_GT(queue_drops, 0u);
  EXPECT_EQ(b->role<UdpPeer>()->received().size() + queue_drops, 50u);
}

TEST_F(TopologyBuilderTest, PcapFilesArePerDeviceAndNamedByNodes) {
  const auto dir = std::filesystem::temp_directory_path() / "warren_sim_pcap_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto net = Build(ChainSketch());
  ASSERT_NE(net, nullptr);
  net->EnablePcapAll((dir / "chain").string());
  auto a = InstallUdpPeer(*net, "a", Family::ipv4, {5000});
  auto b = InstallUdpPeer(*net, "b", Family::ipv4, {5000});
  At(net->GetNode("a"), 1.0,
     [&] { a->role<UdpPeer>()->Send(5000, Ep("10.0.2.2:5000"), "captured"); });
  RunUntil(2.0);
  net->ClosePcap();
  for (const char* name : {"chain-a-r1.pcap", "chain-r1-a.pcap", "chain-r1-r2.pcap",
                           "chain-r2-r1.pcap", "chain-r2-b.pcap", "chain-b-r2.pcap"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / name)) << name;
  }
  // More than the 24-byte pcap file header: the datagram (and IPv6 host noise) was captured.
  EXPECT_GE(std::filesystem::file_size(dir / "chain-b-r2.pcap"), 24u + 16 + 2 + 20 + 8 + 8);
  std::filesystem::remove_all(dir);
}

TEST_F(TopologyBuilderTest, InvalidTopologiesNameTheCulprit) {
  {
    TopoSketch t = ChainSketch();
    t.Route(0, "192.0.2.0/24", 2);  // a is not on link 2
    auto built = TopologyBuilder::Build(t.topology(), 1);
    ASSERT_FALSE(built.ok());
    EXPECT_NE(built.error().message.find("node \"a\""), std::string::npos) << built.error().message;
  }
  {
    TopoSketch t("bad-nat");
    int h = t.Host("h", "192.168.1.2");
    int n = t.Nat("n", "full-cone", "203.0.113.1");
    t.Link(h, n);  // no outside link
    auto built = TopologyBuilder::Build(t.topology(), 1);
    ASSERT_FALSE(built.ok());
    EXPECT_NE(built.error().message.find("outside link"), std::string::npos)
        << built.error().message;
  }
  {
    TopoSketch t("v6-route-on-v4-host");
    int h = t.Host("h", "192.168.1.2");
    int g = t.Host("g", "192.168.1.3");
    int l = t.Link(h, g);
    t.Route(h, "::/0", l);
    auto built = TopologyBuilder::Build(t.topology(), 1);
    ASSERT_FALSE(built.ok());
    EXPECT_NE(built.error().message.find("no ipv6"), std::string::npos) << built.error().message;
  }
}

}  // namespace
}  // namespace warren::sim::testing
