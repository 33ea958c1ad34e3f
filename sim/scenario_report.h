// Builds report.json's content from a finished simulation: the nodes with their addresses,
// site preset and NAT chain, what each STUN client learned, each control client's overlay
// addresses and map figures (control_report.h), the NATs' counters, the relays' and relay
// probes' figures (relay_report.h), and a summary. Deterministic: only simulated state, in
// topology order.
#pragma once

#include <nlohmann/json.hpp>

#include "sim/role_catalog.h"
#include "sim/scenario.h"
#include "sim/topology_builder.h"

namespace warren::sim {

nlohmann::ordered_json build_report(const Scenario& scenario, const SimNetwork& network,
                                    const RoleRecords& records, const std::string& commit);

// Whether the configured NAT chain in front of `node` maps by destination: true if any NAT
// in it uses address- or address-and-port-dependent mapping. The client never reads this;
// the report shows it beside the client's inference so a reader can check one against the
// other.
bool configured_mapping_varies(const topo::Topology& topology, int node);

}  // namespace warren::sim
