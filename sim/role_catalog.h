// Turns a scenario's role list into factories for RoleApplication, one per (role, node),
// validating each role's parameters against the topology first so that a typo fails before
// the simulation starts. Roles known today: "stun-server", "stun-client", "control-server",
// "control-client", "relay-server" and "relay-probe" (parameters in scenarios/README.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nodes/net/memory_store.h"
#include "nodes/net/result.h"
#include "nodes/relay/stun_server.h"
#include "sim/control_records.h"
#include "sim/relay_records.h"
#include "sim/role_application.h"
#include "sim/scenario.h"
#include "sim/stun_roles.h"

namespace warren::sim {

// Results of roles that outlive any one start of them; owned by the runner.
// Everything here is keyed by node name.
struct RoleRecords {
  std::map<std::string, StunClientRecord> stun_clients;
  std::map<std::string, ControlServerRecord> control_servers;
  std::map<std::string, ControlClientRecord> control_clients;
  std::map<std::string, RelayServerRecord> relay_servers;
  std::map<std::string, RelayProbeRecord> relay_probes;
  // Each node's disk: what durable roles on it committed. A role stopped and started again by
  // scenario events opens a new MemoryStore over the same data and finds its state.
  std::map<std::string, std::shared_ptr<MemoryStoreData>> disks;

  // The node's disk, created empty on first use.
  std::shared_ptr<MemoryStoreData> disk(const std::string& node);
};

struct PlacedRole {
  std::string role;
  int node = -1;
  Duration start;
  RoleApplication::Factory factory;
};

// `records` must outlive every factory returned.
Result<std::vector<PlacedRole>> place_roles(const Scenario& scenario, RoleRecords& records);
// The same checks without keeping anything: for refusing a bad scenario before running it.
Status validate_roles(const Scenario& scenario);

}  // namespace warren::sim
