// Shared pieces of the ns-3 tests: topologies written by hand (no JSON loader), a fixture
// that resets the simulator between tests, scheduling helpers, and a UDP test role.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ns3/simulator.h>

#include "nodes/net/env.h"
#include "sim/role_application.h"
#include "sim/topology_builder.h"
#include "topologies/topology.h"

namespace warren::sim::testing {

// Fills a topo::Topology by hand: nodes, links, routes.
class TopoSketch {
 public:
  explicit TopoSketch(std::string name) { topology_.name = std::move(name); }

  // `ipv4`/`ipv6` may be empty (family absent). For a NAT the IPv4 address is its outside one.
  int Host(const std::string& name, const std::string& ipv4, const std::string& ipv6 = "");
  int Router(const std::string& name, const std::string& ipv4, const std::string& ipv6 = "");
  // A NAT with the given preset (empty: no IPv4 translation). The outside link is set by
  // Link(..., outside=true).
  int Nat(const std::string& name, const std::string& preset, const std::string& ipv4,
          bool ipv6 = false, bool ipv6_firewall = false);
  nat::NatConfig& NatConfigOf(int nat);
  int Index(const std::string& name) const;  // aborts if unknown

  // Links a and b; `outside_of` names a NAT for which this is the outside link.
  int Link(int a, int b, topo::LinkParams params = {}, int outside_of = -1);
  // `node` reaches `prefix` over `link`.
  void Route(int node, const std::string& prefix, int link);

  const topo::Topology& topology() const { return topology_; }

 private:
  int Add(const std::string& name, topo::NodeKind kind, const std::string& ipv4,
          const std::string& ipv6);
  topo::Topology topology_;
};

// Resets ns-3 after every test (and restores checksums off).
class SimTest : public ::testing::Test {
 protected:
  void TearDown() override;
  // Must be called before anything ns-3 is created.
  static void EnableChecksums();

  // Builds `sketch`, failing the test on error.
  std::unique_ptr<SimNetwork> Build(const TopoSketch& sketch, uint64_t seed = 1);
};

// Runs `fn` at simulated time `at_s` seconds in the context of `node`.
void At(ns3::Ptr<ns3::Node> node, double at_s, std::function<void()> fn);
// Runs the simulation until `until_s` seconds.
void RunUntil(double until_s);

// A test role: UDP sockets on the given ports (of one family), recording what arrives.
class UdpPeer {
 public:
  struct Datagram {
    Endpoint from;
    Endpoint local;
    std::string payload;
  };

  UdpPeer(Env& env, Family family, std::vector<uint16_t> ports);
  // Sends `payload` from the socket bound to `from_port`; false on error.
  bool Send(uint16_t from_port, const Endpoint& to, const std::string& payload);
  const std::vector<Datagram>& received() const { return received_; }
  // The first datagram whose payload is `payload`, or null.
  const Datagram* Find(const std::string& payload) const;
  Env& env() { return env_; }

 private:
  Env& env_;
  std::vector<std::unique_ptr<UdpSocket>> sockets_;
  std::vector<Datagram> received_;
};

// Installs a UdpPeer on `node` (started at t=0).
ns3::Ptr<RoleApplication> InstallUdpPeer(SimNetwork& net, const std::string& node, Family family,
                                         std::vector<uint16_t> ports);

Endpoint Ep(const std::string& text);  // parses or aborts the test binary

}  // namespace warren::sim::testing
