// Scenario parameters of the relay roles ("relay-server", "relay-probe"), checked against the
// topology and turned into factories (see role_catalog.h), and the relay map a control server
// hands out when its role gives none. Parameters and defaults: scenarios/README.md.
//
// Everything secret is derived from the scenario seed, so a run reproduces and a restarted
// role presents the same keys: a relay's static key from the seed and its node name, a
// region's mesh key from the seed and the region id.
#pragma once

#include <string>
#include <vector>

#include "nodes/common/relay_frame.h"
#include "nodes/common/relay_map.h"
#include "sim/role_catalog.h"

namespace warren::sim {

// DERP's plain-HTTP port (the relay channel is HTTP Upgrade + Noise; TLS is a proxy's job).
constexpr uint16_t kDefaultRelayPort = 3340;
constexpr uint16_t kDefaultRelayStunPort = 3478;  // RFC 8489 section 9
constexpr int kDefaultRelayRegion = 1;
// Probe series: a million packets is a typo, not a test; 100,000 keeps the send-time table of
// one probe under a megabyte.
constexpr int64_t kMaxProbeCount = 100000;

Result<std::vector<PlacedRole>> place_relay_server(const Scenario& scenario, const RoleSpec& spec,
                                                   RoleRecords& records, const std::string& where);
Result<std::vector<PlacedRole>> place_relay_probe(const Scenario& scenario, const RoleSpec& spec,
                                                  RoleRecords& records, const std::string& where);

// The relay map of the relay-server roles whose "control" is `control_node`: regions by
// ascending id, each with its relays in topology order (name and host = the node's name, its
// addresses with the family the relay listens on first, ports, static key). Empty when no
// relay names that control server. Errors are those of the relay roles' parameters.
Result<control::RelayMap> scenario_relay_map(const Scenario& scenario,
                                             const std::string& control_node);

// The keys the roles use, for tests and tools that check a run from outside.
PrivateKey relay_server_key(const Scenario& scenario, const std::string& node);
relay::MeshKey relay_mesh_key(const Scenario& scenario, int region);

}  // namespace warren::sim
