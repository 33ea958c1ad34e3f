// A network topology as the simulator builds it: nodes (hosts, routers, NATs), point-to-point
// links, addresses assigned deterministically, and static routes computed from the graph.
// Produced from JSON by topology_loader.h; consumed by sim/ and by `warren topo`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nat-models/ipv6_firewall.h"
#include "nat-models/nat_config.h"
#include "nodes/net/ip_address.h"
#include "nodes/net/prefix.h"
#include "nodes/net/time.h"

namespace warren::topo {

enum class NodeKind { host, router, nat };
const char* to_string(NodeKind k);  // "host", "router", "nat"

struct LinkParams {
  Duration delay = Duration::milliseconds(1);  // one way
  uint64_t rate_bps = 1'000'000'000;
  double loss = 0.0;              // probability in [0, 1) per packet, each direction
  uint32_t queue_packets = 1000;  // device queue; a full queue is a counted drop
};

struct Link {
  int a = -1;  // node indices
  int b = -1;
  LinkParams params;
};

// Packets for `destination` leave through `link` (the node's end of it). Longest prefix wins.
struct Route {
  Prefix destination;
  int link = -1;
};

struct Node {
  std::string name;
  NodeKind kind = NodeKind::host;
  std::vector<Family> families;     // underlay families this node has, ipv4 first
  std::optional<IpAddress> ipv4;    // its address in its own realm (a NAT: its outside address)
  std::optional<IpAddress> ipv6;
  std::vector<int> links;           // indices into Topology::links, in file order
  std::vector<Route> routes;        // static routes for both families
  std::string site;                 // the site preset this node was expanded from, if any
  std::string group;                // the group it was expanded from, if any
  // The NAT whose inside realm this node sits in (for a NAT: the realm of its outside
  // address); -1 for the public realm.
  int realm_nat = -1;

  // NAT only.
  std::optional<nat::NatConfig> nat;  // external_addresses filled with the outside address
  int outside_link = -1;
  bool ipv6_firewall = false;          // forwards IPv6 through an RFC 6092 stateful firewall
  std::optional<Prefix> lan_ipv4;      // the realm behind it (192.168.x.0/24, 100.64.0.0/10)
  std::optional<Prefix> lan_ipv6;
  nat::FirewallConfig firewall;        // used when ipv6_firewall

  bool has(Family f) const;
  // A NAT's own address on its inside links: host 1 of lan_ipv4 / lan_ipv6 (192.168.N.1,
  // 100.64.0.1, 2001:db8:K::1); nullopt for other nodes or a family the NAT does not carry.
  std::optional<IpAddress> inside_address(Family f) const;
};

struct Topology {
  std::string name;
  std::vector<Node> nodes;
  std::vector<Link> links;

  // Linear in the number of nodes; callers resolving many names should build their own index.
  std::optional<int> find(std::string_view name) const;
  // The NATs between `node` and the public realm, innermost first; empty for a public node.
  std::vector<int> nat_chain(int node) const;
  // The node at the other end of `link` from `node`.
  int peer(int link, int node) const;
};

}  // namespace warren::topo
