#include "tests/sim/sim_test_util.h"

#include <cstdlib>
#include <iostream>

#include <ns3/boolean.h>
#include <ns3/global-value.h>

namespace warren::sim::testing {

namespace {

IpAddress ParseAddress(const std::string& text) {
  auto a = IpAddress::parse(text);
  if (!a) {
    std::cerr << "bad address in test: " << text << "\n";
    std::abort();
  }
  return *a;
}

}  // namespace

Endpoint Ep(const std::string& text) {
  auto e = Endpoint::parse(text);
  if (!e) {
    std::cerr << "bad endpoint in test: " << text << "\n";
    std::abort();
  }
  return *e;
}

int TopoSketch::Add(const std::string& name, topo::NodeKind kind, const std::string& ipv4,
                    const std::string& ipv6) {
  topo::Node n;
  n.name = name;
  n.kind = kind;
  if (!ipv4.empty()) {
    n.families.push_back(Family::ipv4);
    n.ipv4 = ParseAddress(ipv4);
  }
  if (!ipv6.empty()) {
    n.families.push_back(Family::ipv6);
    n.ipv6 = ParseAddress(ipv6);
  }
  topology_.nodes.push_back(n);
  return static_cast<int>(topology_.nodes.size()) - 1;
}

int TopoSketch::Host(const std::string& name, const std::string& ipv4, const std::string& ipv6) {
  return Add(name, topo::NodeKind::host, ipv4, ipv6);
}

int TopoSketch::Router(const std::string& name, const std::string& ipv4, const std::string& ipv6) {
  return Add(name, topo::NodeKind::router, ipv4, ipv6);
}

int TopoSketch::Nat(const std::string& name, const std::string& preset, const std::string& ipv4,
                    bool ipv6, bool ipv6_firewall) {
  int index = Add(name, topo::NodeKind::nat, ipv4, "");
  topo::Node& n = topology_.nodes.back();
  if (ipv6) n.families.push_back(Family::ipv6);
  n.ipv6_firewall = ipv6_firewall;
  if (!preset.empty()) {
    auto config = nat::nat_preset(preset);
    if (!config) {
      std::cerr << "bad preset in test: " << preset << "\n";
      std::abort();
    }
    n.nat = *config;
    n.nat->external_addresses = {ParseAddress(ipv4)};
  }
  return index;
}

nat::NatConfig& TopoSketch::NatConfigOf(int nat) {
  return *topology_.nodes.at(static_cast<size_t>(nat)).nat;
}

int TopoSketch::Index(const std::string& name) const {
  for (size_t i = 0; i < topology_.nodes.size(); ++i) {
    if (topology_.nodes[i].name == name) return static_cast<int>(i);
  }
  std::cerr << "no node " << name << " in test topology\n";
  std::abort();
}

int TopoSketch::Link(int a, int b, topo::LinkParams params, int outside_of) {
  topology_.links.push_back(topo::Link{a, b, params});
  const int l = static_cast<int>(topology_.links.size()) - 1;
  topology_.nodes.at(static_cast<size_t>(a)).links.push_back(l);
  topology_.nodes.at(static_cast<size_t>(b)).links.push_back(l);
  if (outside_of >= 0) topology_.nodes.at(static_cast<size_t>(outside_of)).outside_link = l;
  return l;
}

void TopoSketch::Route(int node, const std::string& prefix, int link) {
  auto p = Prefix::parse(prefix);
  if (!p) {
    std::cerr << "bad prefix in test: " << prefix << "\n";
    std::abort();
  }
  topology_.nodes.at(static_cast<size_t>(node)).routes.push_back(topo::Route{*p, link});
}

void SimTest::TearDown() {
  ns3::Simulator::Destroy();
  ns3::GlobalValue::Bind("ChecksumEnabled", ns3::BooleanValue(false));
}

void SimTest::EnableChecksums() {
  ns3::GlobalValue::Bind("ChecksumEnabled", ns3::BooleanValue(true));
}

std::unique_ptr<SimNetwork> SimTest::Build(const TopoSketch& sketch, uint64_t seed) {
  auto net = TopologyBuilder::Build(sketch.topology(), seed);
  EXPECT_TRUE(net.ok()) << (net.ok() ? "" : net.error().message);
  if (!net.ok()) return nullptr;
  return std::move(net.value());
}

void At(ns3::Ptr<ns3::Node> node, double at_s, std::function<void()> fn) {
  const ns3::Time delay = ns3::Seconds(at_s) - ns3::Simulator::Now();
  ns3::Simulator::ScheduleWithContext(node->GetId(), delay, [fn = std::move(fn)] { fn(); });
}

void RunUntil(double until_s) {
  ns3::Simulator::Stop(ns3::Seconds(until_s) - ns3::Simulator::Now());
  ns3::Simulator::Run();
}

UdpPeer::UdpPeer(Env& env, Family family, std::vector<uint16_t> ports) : env_(env) {
  for (uint16_t port : ports) {
    auto socket = env_.network.open_udp(Endpoint(IpAddress::any(family), port));
    if (!socket) {
      ADD_FAILURE() << "open_udp: " << socket.error().message;
      continue;
    }
    (*socket)->set_receive_handler(
        [this](const Endpoint& from, const Endpoint& local, ByteView payload) {
          received_.push_back({from, local, std::string(payload.as_string())});
        });
    sockets_.push_back(std::move(*socket));
  }
}

bool UdpPeer::Send(uint16_t from_port, const Endpoint& to, const std::string& payload) {
  for (auto& s : sockets_) {
    if (s->local_endpoint().port != from_port) continue;
    Status sent = s->send_to(to, ByteView(payload));
    if (!sent) ADD_FAILURE() << "send_to " << to.to_string() << ": " << sent.error().message;
    return sent.ok();
  }
  ADD_FAILURE() << "no socket on port " << from_port;
  return false;
}

const UdpPeer::Datagram* UdpPeer::Find(const std::string& payload) const {
  for (const auto& d : received_) {
    if (d.payload == payload) return &d;
  }
  return nullptr;
}

ns3::Ptr<RoleApplication> InstallUdpPeer(SimNetwork& net, const std::string& node, Family family,
                                         std::vector<uint16_t> ports) {
  auto index = net.FindNode(node);
  EXPECT_TRUE(index.has_value()) << node;
  return net.InstallRole(
      *index, "udp-peer",
      [family, ports](Env& env) { return std::make_shared<UdpPeer>(env, family, ports); }, nullptr,
      LogLevel::info, Duration::zero());
}

}  // namespace warren::sim::testing
