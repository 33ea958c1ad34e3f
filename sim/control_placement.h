// Scenario parameters of the control roles, checked against the topology and turned into
// factories (see role_catalog.h). Parameters and defaults are documented in scenarios/README.md.
#pragma once

#include <string>
#include <vector>

#include "nodes/common/x25519.h"
#include "sim/control_client_role.h"
#include "sim/role_catalog.h"

namespace warren::sim {

// The control port when a scenario names none: plain HTTP's, as a client given the URL
// "http://<server>" would use (the channel is HTTP Upgrade + Noise; TLS is a proxy's job).
constexpr uint16_t kDefaultControlPort = 80;

Result<std::vector<PlacedRole>> place_control_server(const Scenario& scenario, const RoleSpec& spec,
                                                     RoleRecords& records,
                                                     const std::string& where);
Result<std::vector<PlacedRole>> place_control_client(const Scenario& scenario, const RoleSpec& spec,
                                                     RoleRecords& records,
                                                     const std::string& where);

// For roles that embed a control client (relay-probe): what one node's ControlClientRole needs.
struct ControlClientPlan {
  int node = -1;
  ControlClientSetup setup;
  const ControlServerRecord* server = nullptr;  // owned by `records`
  ControlClientRecord* record = nullptr;        // owned by `records`
};
// Reads the control-client keys of `spec.params` ("server", "key", "start_jitter_s"; the caller
// checks that no other key is there) and makes one plan per node of the spec. Each node gets
// its ControlClientRecord, so it counts as a control client in the report.
Result<std::vector<ControlClientPlan>> plan_control_clients(const Scenario& scenario,
                                                            const RoleSpec& spec,
                                                            RoleRecords& records,
                                                            const std::string& where);

// Where the control-server role on `node` listens (its node's address of the family it
// listens on); an error naming `where` if the node runs no control server.
Result<Endpoint> control_server_endpoint(const Scenario& scenario, const std::string& node,
                                         const std::string& where);
// The static key of the control server on `node`: fixed per node and seed.
PrivateKey control_server_key(const Scenario& scenario, const std::string& node);

}  // namespace warren::sim
