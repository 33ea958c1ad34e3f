// Instantiates a topo::Topology in the current ns-3 simulation and keeps the handles a
// scenario needs: nodes, NAT middleboxes, links (up/down), pcap, role installation.
//
//  - one ns-3 Node per topology node, in topology order;
//  - one point-to-point link per topology link: DataRate, Delay, a DropTail device queue of
//    `queue_packets`, and, when loss > 0, a RateErrorModel (per packet) on each receiving
//    device. There is no queue disc: the device queue is the only queue;
//  - hosts get an Internet stack with the families they have and static routing only (ns-3's
//    global routing aborts on stack-less nodes). The host's address sits on each of its
//    interfaces as a /32 (IPv4) or /128 (IPv6); Node::routes become interface routes without
//    a gateway, which point-to-point links allow (no ARP/NDP). Hosts do not forward. IPv6
//    duplicate address detection is switched off (a global default) so addresses are usable
//    at once;
//  - NATs get no stack and a NatMiddlebox whose random ports come from
//    SeededRng(seed, "nat:" + name), with Node::routes as its forwarding table;
//  - routers get no stack either but a NatMiddlebox without NAT or firewall: a static
//    longest-prefix forwarder. ns-3's own IPv6 forwarding drops 2001:db8::/32 (RFC 3849), the
//    prefix warren's topologies use for public IPv6, and stack-less forwarding is also the
//    cheaper one (ns3-nat.md). Routers therefore carry no roles and send no ICMP errors.
//
// Determinism: everything depends on (topology, seed). Build sets ns-3's RNG run number to the
// seed (RngSeedManager::SetRun; seed value fixed) and assigns the error models' random streams
// from 0 in link order; call it once per simulation, after Simulator::Destroy of the last.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ns3/error-model.h>
#include <ns3/node.h>
#include <ns3/point-to-point-net-device.h>

#include "nat-models/ns3/nat_middlebox.h"
#include "nodes/net/logger.h"
#include "nodes/net/result.h"
#include "nodes/net/rng.h"
#include "sim/link_down_error_model.h"
#include "sim/role_application.h"
#include "topologies/topology.h"

namespace warren::sim {

class SimNetwork {
 public:
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  const topo::Topology& topology() const { return topology_; }
  uint64_t seed() const { return seed_; }

  // Nodes by topology index (0 <= index < node count) or name (null if unknown).
  ns3::Ptr<ns3::Node> GetNode(int index) const;
  ns3::Ptr<ns3::Node> GetNode(std::string_view name) const;
  std::optional<int> FindNode(std::string_view name) const;
  // The middlebox of a NAT node; null for hosts and routers.
  ns3::Ptr<nat::NatMiddlebox> GetNat(int index) const;
  // The forwarding middlebox of a NAT or router (for its stats and traces); null for hosts.
  ns3::Ptr<nat::NatMiddlebox> GetMiddlebox(int index) const;
  // `node`'s device on `link`; null if the node is not on it.
  ns3::Ptr<ns3::PointToPointNetDevice> GetDevice(int link, int node) const;
  // The first link between nodes `a` and `b`, in topology order.
  std::optional<int> FindLink(int a, int b) const;

  // Scenario events. A down link loses every packet both ways (packets already on the wire
  // included), counted per link; up restores its configured loss.
  Status SetLinkUp(int link, bool up);
  bool IsLinkUp(int link) const;
  uint64_t GetLinkDownDrops(int link) const;
  // The NAT forgets every mapping and firewall state (a reboot). Error if `node` is no NAT.
  Status FlushNat(int node);

  // Fixes the random streams of the links' error models, two per lossy link from `stream` in
  // link order; returns how many it used. Build already called it with 0.
  int64_t AssignStreams(int64_t stream);

  // pcap (DLT_PPP) of every link, one file per device: "<prefix>-<node>-<peer>.pcap"
  // ("-<link>" added when two links join the same pair). Call before Simulator::Run. Files
  // are complete once ClosePcap ran (the destructor calls it).
  void EnablePcapAll(const std::string& prefix);
  void EnablePcap(const std::string& prefix, int link);
  // Flushes and closes every pcap file; packets after this are not captured.
  void ClosePcap();

  // The RNG a role named `role` on `node` gets: SeededRng(seed, "node:" + name).derive(role).
  SeededRng RoleRng(int node, std::string_view role) const;
  // Adds a RoleApplication to host `node` (routers and NATs have no stack), named "<node>/<role>"
  // for its logs, with RoleRng. With `start`, the role starts at that simulated time; without, only
  // Start() (a scenario event) starts it. `sink` may be null and must outlive the simulation.
  ns3::Ptr<RoleApplication> InstallRole(int node, std::string_view role,
                                        RoleApplication::Factory factory, LogSink* sink,
                                        LogLevel min_level, std::optional<Duration> start);

 private:
  friend class TopologyBuilder;
  class PcapTap;  // a device's capture into one file; see the .cc
  struct LinkState {
    std::array<ns3::Ptr<ns3::PointToPointNetDevice>, 2> devices;  // on link.a, link.b
    std::array<ns3::Ptr<ns3::RateErrorModel>, 2> loss;            // null when loss == 0
    ns3::Ptr<LinkDownErrorModel> down;
    bool up = true;
  };
  SimNetwork(const topo::Topology& topology, uint64_t seed);
  std::string PcapName(const std::string& prefix, int link, int side) const;

  topo::Topology topology_;
  uint64_t seed_;
  std::vector<ns3::Ptr<ns3::Node>> nodes_;
  std::vector<ns3::Ptr<nat::NatMiddlebox>> middleboxes_;  // null for hosts
  std::vector<LinkState> links_;
  std::map<std::string, int, std::less<>> by_name_;
  std::vector<ns3::Ptr<PcapTap>> pcap_taps_;
};

class TopologyBuilder {
 public:
  // Errors name the node or link at fault: a link to a missing node, a route over a link
  // the node is not on, a NAT without an outside link or outside address, a route of a
  // family the node lacks.
  static Result<std::unique_ptr<SimNetwork>> Build(const topo::Topology& topology, uint64_t seed);
};

}  // namespace warren::sim
