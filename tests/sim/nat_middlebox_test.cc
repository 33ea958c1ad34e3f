// The ns-3 NAT middlebox, observed the way a user of warren sees it: through Ns3Network
// sockets on hosts behind it. Every scenario is a few simulated seconds.
#include "nat-models/ns3/nat_middlebox.h"

#include <gtest/gtest.h>

#include "tests/sim/sim_test_util.h"
#include "tests/support/echo.h"

namespace warren::sim::testing {
namespace {

using nat::MiddleboxDrop;

// h1, h2 (192.168.1.2/.3, 2001:db8:1::2/::3) -- nat (203.0.113.1) -- r -- s1, s2
// (198.51.100.10/.20, 2001:db8:ff::10/::20).
TopoSketch HomeSketch(const std::string& preset, bool ipv6 = false, bool firewall = false) {
  TopoSketch t("home");
  const std::string v6_h1 = ipv6 ? "2001:db8:1::2" : "";
  const std::string v6_h2 = ipv6 ? "2001:db8:1::3" : "";
  int h1 = t.Host("h1", "192.168.1.2", v6_h1);
  int h2 = t.Host("h2", "192.168.1.3", v6_h2);
  int nat = t.Nat("nat", preset, "203.0.113.1", ipv6, firewall);
  int r = t.Router("r", "198.51.100.1", ipv6 ? "2001:db8:ff::1" : "");
  int s1 = t.Host("s1", "198.51.100.10", ipv6 ? "2001:db8:ff::10" : "");
  int s2 = t.Host("s2", "198.51.100.20", ipv6 ? "2001:db8:ff::20" : "");
  int l_h1 = t.Link(h1, nat);
  int l_h2 = t.Link(h2, nat);
  int l_out = t.Link(nat, r, {}, nat);
  int l_s1 = t.Link(r, s1);
  int l_s2 = t.Link(r, s2);
  t.Route(h1, "0.0.0.0/0", l_h1);
  t.Route(h2, "0.0.0.0/0", l_h2);
  t.Route(nat, "192.168.1.2/32", l_h1);
  t.Route(nat, "192.168.1.3/32", l_h2);
  t.Route(nat, "0.0.0.0/0", l_out);
  t.Route(r, "203.0.113.1/32", l_out);
  t.Route(r, "198.51.100.10/32", l_s1);
  t.Route(r, "198.51.100.20/32", l_s2);
  t.Route(s1, "0.0.0.0/0", l_s1);
  t.Route(s2, "0.0.0.0/0", l_s2);
  if (ipv6) {
    t.Route(h1, "::/0", l_h1);
    t.Route(h2, "::/0", l_h2);
    t.Route(nat, "2001:db8:1::2/128", l_h1);
    t.Route(nat, "2001:db8:1::3/128", l_h2);
    t.Route(nat, "::/0", l_out);
    t.Route(r, "2001:db8:1::/48", l_out);
    t.Route(r, "2001:db8:ff::10/128", l_s1);
    t.Route(r, "2001:db8:ff::20/128", l_s2);
    t.Route(s1, "::/0", l_s1);
    t.Route(s2, "::/0", l_s2);
  }
  return t;
}

// h (192.168.1.2) -- home NAT (100.64.0.2) -- cgnat (203.0.113.1) -- r -- s1 (198.51.100.10)
TopoSketch NestedSketch() {
  TopoSketch t("nested");
  int h = t.Host("h1", "192.168.1.2");
  int home = t.Nat("home", "port-restricted-cone", "100.64.0.2");
  int cgnat = t.Nat("cgnat", "cgnat", "203.0.113.1");
  int r = t.Router("r", "198.51.100.1");
  int s1 = t.Host("s1", "198.51.100.10");
  int l_h = t.Link(h, home);
  int l_home = t.Link(home, cgnat, {}, home);
  int l_cg = t.Link(cgnat, r, {}, cgnat);
  int l_s1 = t.Link(r, s1);
  t.Route(h, "0.0.0.0/0", l_h);
  t.Route(home, "192.168.1.2/32", l_h);
  t.Route(home, "0.0.0.0/0", l_home);
  t.Route(cgnat, "100.64.0.2/32", l_home);
  t.Route(cgnat, "0.0.0.0/0", l_cg);
  t.Route(r, "203.0.113.1/32", l_cg);
  t.Route(r, "198.51.100.10/32", l_s1);
  t.Route(s1, "0.0.0.0/0", l_s1);
  return t;
}

Bytes Pattern(size_t size) {
  Bytes out(size);
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>((i * 7 + 3) % 251);
  return out;
}

ns3::Ptr<RoleApplication> InstallEchoServer(SimNetwork& net, const std::string& node,
                                            const Endpoint& udp, const Endpoint& tcp) {
  return net.InstallRole(
      *net.FindNode(node), "echo-server",
      [udp, tcp](Env& env) {
        auto server = std::make_shared<EchoServer>(env);
        EXPECT_TRUE(server->start_udp(udp).ok());
        EXPECT_TRUE(server->start_tcp(tcp).ok());
        return server;
      },
      nullptr, LogLevel::info, Duration::zero());
}

ns3::Ptr<RoleApplication> InstallEchoClient(SimNetwork& net, const std::string& node) {
  return net.InstallRole(
      *net.FindNode(node), "echo-client",
      [](Env& env) { return std::make_shared<EchoClient>(env); }, nullptr, LogLevel::info,
      Duration::zero());
}

class NatMiddleboxTest : public SimTest {};

struct PresetCase {
  const char* preset;
  bool admits_other_port;  // s1 from another port reaches h1 through the mapping
  bool admits_other_host;  // s2 reaches h1 through the mapping
  bool endpoint_independent_mapping;
};

// Named by preset in test output (gtest would otherwise dump the struct's bytes, padding too).
void PrintTo(const PresetCase& c, std::ostream* os) {
  *os << c.preset;
}

class NatPresetTest : public SimTest, public ::testing::WithParamInterface<PresetCase> {};

TEST_P(NatPresetTest, FilteringAndMappingFollowRfc4787) {
  const PresetCase& c = GetParam();
  auto net = Build(HomeSketch(c.preset));
  ASSERT_NE(net, nullptr);
  auto h1 = InstallUdpPeer(*net, "h1", Family::ipv4, {40000});
  auto s1 = InstallUdpPeer(*net, "s1", Family::ipv4, {3478, 3479});
  auto s2 = InstallUdpPeer(*net, "s2", Family::ipv4, {3478});
  Endpoint mapped;
  At(net->GetNode("h1"), 1.0,
     [&] { h1->role<UdpPeer>()->Send(40000, Ep("198.51.100.10:3478"), "probe1"); });
  At(net->GetNode("s1"), 2.0, [&] {
    const auto* d = s1->role<UdpPeer>()->Find("probe1");
    ASSERT_NE(d, nullptr);
    mapped = d->from;
    s1->role<UdpPeer>()->Send(3478, mapped, "same");
    s1->role<UdpPeer>()->Send(3479, mapped, "other-port");
  });
  At(net->GetNode("s2"), 2.1, [&] { s2->role<UdpPeer>()->Send(3478, mapped, "other-host"); });
  At(net->GetNode("h1"), 3.0,
     [&] { h1->role<UdpPeer>()->Send(40000, Ep("198.51.100.20:3478"), "probe2"); });
  RunUntil(4.0);

  EXPECT_EQ(mapped.address, IpAddress::parse("203.0.113.1").value());
  const UdpPeer& inside = *h1->role<UdpPeer>();
  const auto* same = inside.Find("same");
  ASSERT_NE(same, nullptr) << "a reply from the contacted endpoint always passes";
  EXPECT_EQ(same->from, Ep("198.51.100.10:3478"));
  EXPECT_EQ(same->local, Ep("192.168.1.2:40000"));
  EXPECT_EQ(inside.Find("other-port") != nullptr, c.admits_other_port);
  EXPECT_EQ(inside.Find("other-host") != nullptr, c.admits_other_host);
  const int filtered = (c.admits_other_port ? 0 : 1) + (c.admits_other_host ? 0 : 1);
  EXPECT_EQ(net->GetNat(*net->FindNode("nat"))->GetStats().dropped(MiddleboxDrop::nat_filtered),
            static_cast<uint64_t>(filtered));

  const auto* probe2 = s2->role<UdpPeer>()->Find("probe2");
  ASSERT_NE(probe2, nullptr);
  if (c.endpoint_independent_mapping) {
    EXPECT_EQ(probe2->from, mapped);
    EXPECT_EQ(mapped.port, 40000) << "preserve keeps the inside port";
  } else {
    EXPECT_NE(probe2->from.port, mapped.port) << "a new mapping per destination";
  }
}

INSTANTIATE_TEST_SUITE_P(Presets, NatPresetTest,
                         ::testing::Values(PresetCase{"full-cone", true, true, true},
                                           PresetCase{"restricted-cone", true, false, true},
                                           PresetCase{"port-restricted-cone", false, false, true},
                                           PresetCase{"symmetric", false, false, false}),
                         [](const ::testing::TestParamInfo<PresetCase>& param_info) {
                           std::string name = param_info.param.preset;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

TEST_F(NatMiddleboxTest, SecondHostWantingTheSamePortGetsAnotherOne) {
  auto net = Build(HomeSketch("port-restricted-cone"));
  ASSERT_NE(net, nullptr);
  auto h1 = InstallUdpPeer(*net, "h1", Family::ipv4, {40000});
  auto h2 = InstallUdpPeer(*net, "h2", Family::ipv4, {40000});
  auto s1 = InstallUdpPeer(*net, "s1", Family::ipv4, {3478});
  At(net->GetNode("h1"), 1.0,
     [&] { h1->role<UdpPeer>()->Send(40000, Ep("198.51.100.10:3478"), "from-h1"); });
  At(net->GetNode("h2"), 1.5,
     [&] { h2->role<UdpPeer>()->Send(40000, Ep("198.51.100.10:3478"), "from-h2"); });
  RunUntil(2.0);
  const auto* a = s1->role<UdpPeer>()->Find("from-h1");
  const auto* b = s1->role<UdpPeer>()->Find("from-h2");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->from, Ep("203.0.113.1:40000"));
  EXPECT_EQ(b->from.address, a->from.address);
  EXPECT_NE(b->from.port, 40000);
}

// The external ports a symmetric NAT picks for two destinations, for one seed.
std::pair<uint16_t, uint16_t> SymmetricPorts(uint64_t seed) {
  auto built = TopologyBuilder::Build(HomeSketch("symmetric").topology(), seed);
  EXPECT_TRUE(built.ok());
  SimNetwork& net = *built.value();
  auto h1 = InstallUdpPeer(net, "h1", Family::ipv4, {40000});
  auto s1 = InstallUdpPeer(net, "s1", Family::ipv4, {3478});
  auto s2 = InstallUdpPeer(net, "s2", Family::ipv4, {3478});
  At(net.GetNode("h1"), 1.0, [&] {
    h1->role<UdpPeer>()->Send(40000, Ep("198.51.100.10:3478"), "a");
    h1->role<UdpPeer>()->Send(40000, Ep("198.51.100.20:3478"), "b");
  });
  RunUntil(2.0);
  const auto* a = s1->role<UdpPeer>()->Find("a");
  const auto* b = s2->role<UdpPeer>()->Find("b");
  std::pair<uint16_t, uint16_t> ports{a ? a->from.port : 0, b ? b->from.port : 0};
  ns3::Simulator::Destroy();
  return ports;
}

TEST_F(NatMiddleboxTest, RandomPortsDependOnlyOnTheSeed) {
  auto first = SymmetricPorts(7);
  auto again = SymmetricPorts(7);
  auto other = SymmetricPorts(8);
  EXPECT_NE(first.first, 0);
  EXPECT_NE(first.second, 0);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
}

TEST_F(NatMiddleboxTest, TcpMegabyteBothWaysWithChecksums) {
  EnableChecksums();
  auto net = Build(HomeSketch("port-restricted-cone"));
  ASSERT_NE(net, nullptr);
  auto server = InstallEchoServer(*net, "s1", Ep("0.0.0.0:3478"), Ep("0.0.0.0:8080"));
  auto client = InstallEchoClient(*net, "h1");
  const Bytes data = Pattern(1 << 20);
  At(net->GetNode("h1"), 1.0, [&] {
    client->role<EchoClient>()->connect(Ep("198.51.100.10:8080"));
    EXPECT_TRUE(client->role<EchoClient>()->write(data).ok());
  });
  RunUntil(10.0);
  const EchoClient& c = *client->role<EchoClient>();
  EXPECT_TRUE(c.connected());
  EXPECT_EQ(server->role<EchoServer>()->stats().stream_bytes, data.size());
  ASSERT_EQ(c.received().size(), data.size());
  EXPECT_TRUE(c.received() == data) << "bytes arrived altered";
  const auto& stats = net->GetNat(*net->FindNode("nat"))->GetStats();
  EXPECT_EQ(stats.dropped(MiddleboxDrop::bad_checksum), 0u);
  EXPECT_GT(stats.translated_outbound, 700u);
  EXPECT_GT(stats.translated_inbound, 700u);
}

TEST_F(NatMiddleboxTest, UdpWithChecksumsReachesTheServerTranslated) {
  EnableChecksums();
  auto net = Build(HomeSketch("port-restricted-cone"));
  ASSERT_NE(net, nullptr);
  auto server = InstallEchoServer(*net, "s1", Ep("0.0.0.0:3478"), Ep("0.0.0.0:8080"));
  auto client = InstallEchoClient(*net, "h1");
  At(net->GetNode("h1"), 1.0, [&] {
    EchoClient& c = *client->role<EchoClient>();
    ASSERT_TRUE(c.open_udp(Ep("0.0.0.0:5000")).ok());
    EXPECT_TRUE(c.send(Ep("198.51.100.10:3478"), ByteView(std::string_view("ping"))).ok());
  });
  RunUntil(2.0);
  EXPECT_EQ(server->role<EchoServer>()->stats().last_from, Ep("203.0.113.1:5000"));
  ASSERT_EQ(client->role<EchoClient>()->replies().size(), 1u);
  EXPECT_EQ(client->role<EchoClient>()->replies()[0].local, Ep("192.168.1.2:5000"));
}

TEST_F(NatMiddleboxTest, NestedHomeNatInsideCgnat) {
  auto net = Build(NestedSketch());
  ASSERT_NE(net, nullptr);
  auto server = InstallEchoServer(*net, "s1", Ep("0.0.0.0:3478"), Ep("0.0.0.0:8080"));
  auto client = InstallEchoClient(*net, "h1");
  const Bytes data = Pattern(1 << 20);
  At(net->GetNode("h1"), 1.0, [&] {
    EchoClient& c = *client->role<EchoClient>();
    ASSERT_TRUE(c.open_udp(Ep("0.0.0.0:5000")).ok());
    EXPECT_TRUE(c.send(Ep("198.51.100.10:3478"), ByteView(std::string_view("ping"))).ok());
    c.connect(Ep("198.51.100.10:8080"));
    EXPECT_TRUE(c.write(data).ok());
  });
  RunUntil(10.0);
  const EchoClient& c = *client->role<EchoClient>();
  EXPECT_EQ(server->role<EchoServer>()->stats().last_from.address,
            IpAddress::parse("203.0.113.1").value())
      << "the server sees the CGNAT's address";
  EXPECT_EQ(c.replies().size(), 1u);
  ASSERT_EQ(c.received().size(), data.size());
  EXPECT_TRUE(c.received() == data);
  const auto* home = net->GetNat(*net->FindNode("home"))->GetNatTable();
  const auto* cgnat = net->GetNat(*net->FindNode("cgnat"))->GetNatTable();
  EXPECT_EQ(home->mapping_count(), 2u);  // one UDP, one TCP
  EXPECT_EQ(cgnat->mapping_count(), 2u);
}

class HairpinTest : public SimTest, public ::testing::WithParamInterface<bool> {};

TEST_P(HairpinTest, InsideHostsMeetDirectlyAndThroughTheExternalAddress) {
  const bool hairpinning = GetParam();
  TopoSketch sketch = HomeSketch("full-cone");
  sketch.NatConfigOf(sketch.Index("nat")).hairpinning = hairpinning;
  auto net = Build(sketch);
  ASSERT_NE(net, nullptr);
  auto h1 = InstallUdpPeer(*net, "h1", Family::ipv4, {40000});
  auto h2 = InstallUdpPeer(*net, "h2", Family::ipv4, {50000});
  auto s1 = InstallUdpPeer(*net, "s1", Family::ipv4, {3478});
  Endpoint h2_mapped;
  At(net->GetNode("h2"), 1.0,
     [&] { h2->role<UdpPeer>()->Send(50000, Ep("198.51.100.10:3478"), "open"); });
  At(net->GetNode("h1"), 2.0, [&] {
    const auto* d = s1->role<UdpPeer>()->Find("open");
    ASSERT_NE(d, nullptr);
    h2_mapped = d->from;
    h1->role<UdpPeer>()->Send(40000, Ep("192.168.1.3:50000"), "direct");
    h1->role<UdpPeer>()->Send(40000, h2_mapped, "hairpin");
  });
  RunUntil(3.0);
  EXPECT_EQ(h2_mapped, Ep("203.0.113.1:50000"));
  const UdpPeer& peer = *h2->role<UdpPeer>();
  const auto* direct = peer.Find("direct");
  ASSERT_NE(direct, nullptr);
  EXPECT_EQ(direct->from, Ep("192.168.1.2:40000")) << "inside traffic is not translated";
  const auto* hairpin = peer.Find("hairpin");
  const auto& stats = net->GetNat(*net->FindNode("nat"))->GetStats();
  if (hairpinning) {
    ASSERT_NE(hairpin, nullptr);
    EXPECT_EQ(hairpin->from, Ep("203.0.113.1:40000")) << "seen from h1's external mapping";
    EXPECT_EQ(stats.hairpinned, 1u);
  } else {
    EXPECT_EQ(hairpin, nullptr);
    EXPECT_EQ(stats.dropped(MiddleboxDrop::nat_hairpin_disabled), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(OnOff, HairpinTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "hairpinning" : "no_hairpinning";
                         });

TEST_F(NatMiddleboxTest, FlushForgetsMappings) {
  auto net = Build(HomeSketch("full-cone"));
  ASSERT_NE(net, nullptr);
  auto h1 = InstallUdpPeer(*net, "h1", Family::ipv4, {40000});
  auto s1 = InstallUdpPeer(*net, "s1", Family::ipv4, {3478});
  const int nat = *net->FindNode("nat");
  At(net->GetNode("h1"), 1.0,
     [&] { h1->role<UdpPeer>()->Send(40000, Ep("198.51.100.10:3478"), "open"); });
  At(net->GetNode("s1"), 2.0,
     [&] { s1->role<UdpPeer>()->Send(3478, Ep("203.0.113.1:40000"), "before"); });
  At(net->GetNode("nat"), 3.0, [&] { EXPECT_TRUE(net->FlushNat(nat).ok()); });
  At(net->GetNode("s1"), 4.0,
     [&] { s1->role<UdpPeer>()->Send(3478, Ep("203.0.113.1:40000"), "after"); });
  RunUntil(5.0);
  EXPECT_NE(h1->role<UdpPeer>()->Find("before"), nullptr);
  EXPECT_EQ(h1->role<UdpPeer>()->Find("after"), nullptr);
  EXPECT_EQ(net->GetNat(nat)->GetStats().dropped(MiddleboxDrop::nat_no_mapping), 1u);
  EXPECT_FALSE(net->FlushNat(*net->FindNode("h1")).ok());
}

class Ipv6FirewallTest : public SimTest, public ::testing::WithParamInterface<bool> {};

TEST_P(Ipv6FirewallTest, RepliesPassUnsolicitedInboundOnlyWithoutFirewall) {
  const bool firewall = GetParam();
  auto net = Build(HomeSketch("port-restricted-cone", true, firewall));
  ASSERT_NE(net, nullptr);
  auto h1 = InstallUdpPeer(*net, "h1", Family::ipv6, {40000});
  auto s1 = InstallUdpPeer(*net, "s1", Family::ipv6, {3478});
  auto s2 = InstallUdpPeer(*net, "s2", Family::ipv6, {3478});
  At(net->GetNode("h1"), 1.0,
     [&] { h1->role<UdpPeer>()->Send(40000, Ep("[2001:db8:ff::10]:3478"), "out"); });
  At(net->GetNode("s1"), 2.0, [&] {
    const auto* d = s1->role<UdpPeer>()->Find("out");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->from, Ep("[2001:db8:1::2]:40000")) << "IPv6 is not translated";
    s1->role<UdpPeer>()->Send(3478, d->from, "reply");
  });
  At(net->GetNode("s2"), 2.0,
     [&] { s2->role<UdpPeer>()->Send(3478, Ep("[2001:db8:1::2]:40000"), "unsolicited"); });
  RunUntil(3.0);
  const UdpPeer& inside = *h1->role<UdpPeer>();
  const auto* reply = inside.Find("reply");
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->from, Ep("[2001:db8:ff::10]:3478"));
  EXPECT_EQ(reply->local, Ep("[2001:db8:1::2]:40000"));
  auto nat = net->GetNat(*net->FindNode("nat"));
  if (firewall) {
    EXPECT_EQ(inside.Find("unsolicited"), nullptr);
    EXPECT_EQ(nat->GetStats().dropped(MiddleboxDrop::firewall), 1u);
    EXPECT_EQ(nat->GetFirewall()->stats().inbound_dropped, 1u);
  } else {
    EXPECT_NE(inside.Find("unsolicited"), nullptr);
    EXPECT_EQ(nat->GetFirewall(), nullptr);
  }
}

TEST_P(Ipv6FirewallTest, TcpFromInsidePasses) {
  auto net = Build(HomeSketch("port-restricted-cone", true, GetParam()));
  ASSERT_NE(net, nullptr);
  auto server = InstallEchoServer(*net, "s1", Ep("[::]:3478"), Ep("[::]:8080"));
  auto client = InstallEchoClient(*net, "h1");
  const Bytes data = Pattern(64 * 1024);
  At(net->GetNode("h1"), 1.0, [&] {
    client->role<EchoClient>()->connect(Ep("[2001:db8:ff::10]:8080"));
    EXPECT_TRUE(client->role<EchoClient>()->write(data).ok());
  });
  RunUntil(5.0);
  EXPECT_TRUE(client->role<EchoClient>()->received() == data);
  EXPECT_EQ(client->role<EchoClient>()->stream()->local_endpoint().address,
            IpAddress::parse("2001:db8:1::2").value());
}

INSTANTIATE_TEST_SUITE_P(OnOff, Ipv6FirewallTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "firewall" : "no_firewall";
                         });

TEST_F(NatMiddleboxTest, DropTraceReportsReasons) {
  auto net = Build(HomeSketch("port-restricted-cone"));
  ASSERT_NE(net, nullptr);
  std::vector<std::string> reasons;
  auto nat = net->GetNat(*net->FindNode("nat"));
  nat->TraceConnectWithoutContext(
      "Drop", ns3::MakeBoundCallback(
                  +[](std::vector<std::string>* out, ns3::Ptr<const ns3::Packet>,
                      const std::string& reason) { out->push_back(reason); },
                  &reasons));
  auto s1 = InstallUdpPeer(*net, "s1", Family::ipv4, {3478});
  At(net->GetNode("s1"), 1.0,
     [&] { s1->role<UdpPeer>()->Send(3478, Ep("203.0.113.1:40000"), "unsolicited"); });
  RunUntil(2.0);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], "nat-no-mapping");
  EXPECT_EQ(nat->GetStats().dropped_total(), 1u);
}

}  // namespace
}  // namespace warren::sim::testing
