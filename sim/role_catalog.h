// Turns a scenario's role list into factories for RoleApplication, one per (role, node),
// validating each role's parameters against the topology first so that a typo fails before
// the simulation starts. Roles known today: "stun-server" and "stun-client".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nodes/net/result.h"
#include "sim/role_application.h"
#include "sim/scenario.h"
#include "nodes/relay/stun_server.h"
#include "sim/stun_roles.h"

namespace warren::sim {

// Results of roles that outlive any one start of them; owned by the runner.
struct RoleRecords {
  std::map<std::string, StunClientRecord> stun_clients;  // by node name
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
