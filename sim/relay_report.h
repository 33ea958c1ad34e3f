// The relay roles' part of report.json (documented in scenarios/README.md): "relays" (per relay
// node: admission, clients, packets delivered, meshed and dropped by reason, refusals by
// reason), "relay_probes" (per probe node: its relay, the relay map it was handed, packets
// sent and answered, round-trip times) and a few summary figures. Deterministic: reads only
// simulated state, in topology order.
#pragma once

#include <nlohmann/json.hpp>

#include "sim/role_catalog.h"
#include "sim/scenario.h"

namespace warren::sim {

// Adds "relays" and "relay_probes" to `report` when the scenario runs relay roles.
void add_relay_sections(nlohmann::ordered_json& report, const Scenario& scenario,
                        const RoleRecords& records);

// Adds the relay figures to `summary` when the scenario runs relay probes.
void add_relay_summary(nlohmann::ordered_json& summary, const RoleRecords& records);

}  // namespace warren::sim
