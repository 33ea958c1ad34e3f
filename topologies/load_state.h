// What the loader's stages share while turning a JSON document into a Topology: the topology
// being built, where each node and link came from (for messages), and the realm tree.
// Internal to topologies/; the stages run in order parse -> realms -> addresses -> routes.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/net/result.h"
#include "topologies/topology.h"

namespace warren::topo::detail {

// A NAT's inside realm is addressed from 192.168.N.0/24 ("home") or 100.64.0.0/10 ("cgnat").
enum class LanStyle { home, cgnat };

// More NATs than this between a node and the public realm is a generator bug or a typo
// (real paths cross two or three); the bound also keeps the realm walks shallow.
constexpr size_t kMaxNatDepth = 32;

struct LoadState {
  std::string source;  // file name as given, first in every message
  Topology topology;
  // Per node: "nodes[3]", "groups[0] member "pop-17"", "nodes[4] (site of "phone")".
  std::vector<std::string> node_where;
  std::vector<std::string> link_where;  // per link: "links[2]", "nodes[4] (site of "phone")"
  std::vector<LanStyle> lan_style;      // per node; meaningful for NATs only
  // Per node: its links come from its site and no entry of "links" may attach to it.
  std::vector<bool> site_host;

  // Filled by assign_realms: members[0] is the public realm, members[i + 1] the inside realm
  // of node i (empty unless i is a NAT); each in node order.
  std::vector<std::vector<int>> members;

  std::string where(int node) const {
    return source + ": " + node_where[static_cast<size_t>(node)];
  }
  const Node& node(int i) const { return topology.nodes[static_cast<size_t>(i)]; }
  Node& node(int i) { return topology.nodes[static_cast<size_t>(i)]; }
  const std::vector<int>& realm(int nat) const { return members[static_cast<size_t>(nat + 1)]; }
};

// Stage 1: keys, types and values; expands sites and groups; resolves names into links;
// sets each NAT's outside_link. Errors name the JSON path.
Result<LoadState> parse_structure(const nlohmann::json& doc, std::string_view source);

// Stage 2: connectivity (per family), NAT outside/inside links, realm membership
// (Node::realm_nat, LoadState::members), NAT nesting, and IPv6 through NAT chains.
Status assign_realms(LoadState& state);

// Stage 3: IPv4/IPv6 addresses, LAN prefixes, NAT external addresses (README: Addressing).
Status assign_addresses(LoadState& state);

// Stage 4: static routes for every node (README: Routes). Cannot fail on a state that
// passed the earlier stages.
void compute_routes(LoadState& state);

}  // namespace warren::topo::detail
