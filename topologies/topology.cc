#include "topologies/topology.h"

#include <algorithm>

namespace warren::topo {

const char* to_string(NodeKind k) {
  switch (k) {
    case NodeKind::host:
      return "host";
    case NodeKind::router:
      return "router";
    case NodeKind::nat:
      return "nat";
  }
  return "?";
}

bool Node::has(Family f) const {
  return std::find(families.begin(), families.end(), f) != families.end();
}

std::optional<IpAddress> Node::inside_address(Family f) const {
  const std::optional<Prefix>& lan = f == Family::ipv4 ? lan_ipv4 : lan_ipv6;
  if (kind != NodeKind::nat || !lan) return std::nullopt;
  auto a = lan->host(1);
  if (!a) return std::nullopt;
  return *a;
}

std::optional<int> Topology::find(std::string_view wanted) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].name == wanted) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::vector<int> Topology::nat_chain(int node) const {
  std::vector<int> chain;
  if (node < 0 || static_cast<size_t>(node) >= nodes.size()) return chain;
  // The loader rejects cycles of NATs; the bound keeps a hand-built Topology from looping.
  int at = nodes[static_cast<size_t>(node)].realm_nat;
  while (at >= 0 && static_cast<size_t>(at) < nodes.size() && chain.size() < nodes.size()) {
    chain.push_back(at);
    at = nodes[static_cast<size_t>(at)].realm_nat;
  }
  return chain;
}

int Topology::peer(int link, int node) const {
  if (link < 0 || static_cast<size_t>(link) >= links.size()) return -1;
  const Link& l = links[static_cast<size_t>(link)];
  if (l.a == node) return l.b;
  if (l.b == node) return l.a;
  return -1;
}

}  // namespace warren::topo
