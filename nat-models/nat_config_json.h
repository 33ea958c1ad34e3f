// The JSON forms of NatConfig and FirewallConfig, as topology files write them and reports
// print them (spellings of DESIGN.md section 6):
//   {"preset": NAME, "mapping": M, "filtering": F, "ports": P, "port_range": [LO, HI],
//    "udp_timeout_s": N, "tcp_established_timeout_s": N, "tcp_transitory_timeout_s": N,
//    "hairpinning": BOOL, "inbound_refresh": BOOL}
// M and F: "endpoint-independent" | "address-dependent" | "address-and-port-dependent";
// P: "preserve" | "sequential" | "random"; NAME: one of nat_preset_names(). Every key is
// optional: the preset (else the RFC-compliant NatConfig defaults) is the base and the other
// keys override it. Timeouts are seconds, 1 to kMaxTimeoutSeconds, fractions allowed; ports
// 1..65535 with LO <= HI. External addresses are not part of the JSON: the topology assigns
// them. Unknown keys, wrong types and out-of-range values are errors naming the key and what
// it accepts. Nothing here throws.
#pragma once

#include <nlohmann/json.hpp>

#include "nat-models/ipv6_firewall.h"
#include "nat-models/nat_config.h"
#include "nodes/net/result.h"

namespace warren::nat {

// A week: longer idle timeouts are indistinguishable from "never" in any simulation we run,
// and the bound keeps seconds-to-nanoseconds conversion far from overflow.
inline constexpr int64_t kMaxTimeoutSeconds = 7 * 24 * 3600;

Result<NatConfig> nat_config_from_json(const nlohmann::json& j);
// Every key above except "preset", which appears only when config.preset is set;
// nat_config_from_json(nat_config_to_json(c)) gives c back without its external addresses.
nlohmann::json nat_config_to_json(const NatConfig& config);

// {"udp_timeout_s": N, "tcp_established_timeout_s": N, "tcp_transitory_timeout_s": N,
//  "inbound_refresh": BOOL}, all optional over the FirewallConfig defaults; same rules.
Result<FirewallConfig> firewall_config_from_json(const nlohmann::json& j);
nlohmann::json firewall_config_to_json(const FirewallConfig& config);

}  // namespace warren::nat
