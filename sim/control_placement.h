// Scenario parameters of the control roles, checked against the topology and turned into
// factories (see role_catalog.h). Parameters and defaults are documented in scenarios/README.md.
#pragma once

#include <string>
#include <vector>

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

}  // namespace warren::sim
