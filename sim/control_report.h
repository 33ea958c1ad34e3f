// The control roles' part of report.json (documented in scenarios/README.md): per client node
// its overlay addresses and what it heard, per server node its counters, and summary figures
// (nodes registered, maps and bytes sent, time until all registered, peers seen).
// Deterministic: reads only simulated state, iterates ordered containers.
#pragma once

#include <nlohmann/json.hpp>

#include "sim/role_catalog.h"

namespace warren::sim {

// Adds "overlay_ipv4", "overlay_ipv6" (null until registered) and "control" to the entry of a
// node that runs a control client, and "control_server" to one that runs a server.
void add_control_node_fields(nlohmann::ordered_json& entry, const std::string& node,
                             const RoleRecords& records);

// Adds the control figures to `summary` when the scenario runs control roles.
void add_control_summary(nlohmann::ordered_json& summary, const RoleRecords& records);

}  // namespace warren::sim
