// Graphviz (DOT) rendering of a loaded topology, for `warren topo dot`. NATs are boxes
// labelled with preset, mapping/filtering and addresses; each NAT's inside realm is a dashed
// cluster (nested for nested NATs); links are labelled with their delay (and rate and loss
// when not the defaults). Deterministic: node and link order as in the Topology.
#pragma once

#include <string>

#include "topologies/topology.h"

namespace warren::topo {

std::string to_dot(const Topology& topology);

}  // namespace warren::topo
