// Helpers shared by the topology tests: load from inline JSON, look nodes up, walk routes.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "topologies/topology.h"
#include "topologies/topology_loader.h"

namespace warren::topo::testing {

// Loads `text`; fails the test (and returns an empty Topology) on an error.
inline Topology load(const std::string& text) {
  auto t = parse_topology_text(text, "t.json");
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? std::move(*t) : Topology{};
}

// The error message for `text`, or "" (and a test failure) if it loads.
inline std::string load_error(const std::string& text) {
  auto t = parse_topology_text(text, "t.json");
  EXPECT_FALSE(t.ok()) << "loaded, but an error was expected";
  return t.ok() ? "" : t.error().message;
}

inline const Node& node(const Topology& t, const std::string& name) {
  static const Node kMissing;
  auto i = t.find(name);
  EXPECT_TRUE(i.has_value()) << "no node " << name;
  return i ? t.nodes[static_cast<size_t>(*i)] : kMissing;
}

inline int index_of(const Topology& t, const std::string& name) {
  auto i = t.find(name);
  EXPECT_TRUE(i.has_value()) << "no node " << name;
  return i.value_or(-1);
}

// Whether `dst` is one of the node's own addresses (a NAT also owns its inside gateways).
inline bool owns(const Node& n, const IpAddress& dst) {
  if ((n.ipv4 && *n.ipv4 == dst) || (n.ipv6 && *n.ipv6 == dst)) return true;
  auto inside = n.inside_address(dst.family());
  return inside && *inside == dst;
}

// Follows the static routes (longest prefix wins) from `from` toward `dst`, as a packet
// would; NATs translate sources only, so the destination never changes. Returns the names of
// the nodes visited, starting with `from`; the last is the owner of `dst`, or "DROP" if a
// node had no route, or "LOOP" after more hops than there are nodes.
inline std::vector<std::string> walk(const Topology& t, const std::string& from,
                                     const IpAddress& dst) {
  std::vector<std::string> path = {from};
  int at = index_of(t, from);
  for (size_t hop = 0; at >= 0 && hop <= t.nodes.size(); ++hop) {
    const Node& n = t.nodes[static_cast<size_t>(at)];
    if (owns(n, dst)) return path;
    const Route* best = nullptr;
    for (const Route& r : n.routes) {
      if (r.destination.family() == dst.family() && r.destination.contains(dst) &&
          (!best || r.destination.length() > best->destination.length())) {
        best = &r;
      }
    }
    if (!best) {
      path.push_back("DROP");
      return path;
    }
    at = t.peer(best->link, at);
    if (at < 0) {
      path.push_back("BAD-LINK");
      return path;
    }
    path.push_back(t.nodes[static_cast<size_t>(at)].name);
  }
  path.push_back("LOOP");
  return path;
}

}  // namespace warren::topo::testing
