// A loaded topology as JSON, for `warren topo check --json` and for reports: per node its
// kind, families, addresses, site/group, NAT chain (innermost first) and, for NATs, their
// behaviour and LAN prefixes. Key order is fixed, so the output is deterministic.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "topologies/topology.h"

namespace warren::topo {

struct TopologyCounts {
  size_t hosts = 0;
  size_t routers = 0;
  size_t nats = 0;
  size_t links = 0;
  size_t realms = 0;  // the public realm plus one per NAT
};
TopologyCounts count(const Topology& topology);

// "12 nodes (9 hosts, 1 router, 2 NATs), 11 links, 3 realms"
std::string summary_line(const Topology& topology);

// With `with_routes`, each node also lists its routes as {"destination", "link", "via"}.
nlohmann::ordered_json topology_to_json(const Topology& topology, bool with_routes = false);

}  // namespace warren::topo
