// NAT behaviour as RFC 4787 / RFC 5382 describe it, not by folklore names: how mappings are
// keyed, how inbound packets are filtered, how external ports are chosen, and timeouts.
// The classic names (full cone, ...) are presets over these parameters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "nodes/net/ip_address.h"
#include "nodes/net/result.h"
#include "nodes/net/time.h"

namespace warren::nat {

// RFC 4787 section 4.1 (mapping) and 5 (filtering) use the same three classes.
//   mapping:   which outbound flows of one inside endpoint share one external endpoint:
//              all of them / those to the same remote address / those to the same remote
//              address and port.
//   filtering: which remotes may send in through a mapping: anyone / addresses the mapping
//              has sent to / address-and-port pairs the mapping has sent to.
enum class Behaviour {
  endpoint_independent,
  address_dependent,
  address_and_port_dependent,
};
// "endpoint-independent", "address-dependent", "address-and-port-dependent"
const char* to_string(Behaviour b);
// Accepts exactly the spellings above; the error lists them.
Result<Behaviour> parse_behaviour(std::string_view text);

enum class PortAssignment {
  preserve,    // keep the inside port when free, else the next free one upward
  sequential,  // the next port after the last one handed out, wrapping in the range
  random,      // a uniformly random free port from the NAT's seeded Rng
};
const char* to_string(PortAssignment p);  // "preserve", "sequential", "random"
Result<PortAssignment> parse_port_assignment(std::string_view text);

struct NatConfig {
  Behaviour mapping = Behaviour::endpoint_independent;  // RFC 4787 REQ-1
  Behaviour filtering = Behaviour::address_and_port_dependent;
  PortAssignment ports = PortAssignment::preserve;
  // External addresses the NAT owns (IPv4). Filled in by the topology loader from the NAT's
  // outside address; a table needs at least one. With several, pooling is "paired" (RFC 4787
  // REQ-2): every mapping of one inside address uses the same external address.
  std::vector<IpAddress> external_addresses;
  uint16_t port_min = 1024;  // external ports are drawn from [port_min, port_max], 1 <= min <= max
  uint16_t port_max = 65535;
  // Idle timeouts, all > 0. UDP mappings are refreshed by outbound packets (RFC 4787 REQ-6)
  // and, only if `inbound_refresh`, by inbound ones; TCP mappings by any translated packet
  // of a live connection, with the timeout picked by the connection's state (RFC 5382).
  Duration udp_timeout = Duration::seconds(300);               // RFC 4787 REQ-5c
  Duration tcp_established_timeout = Duration::seconds(7440);  // RFC 5382 REQ-5
  Duration tcp_transitory_timeout = Duration::seconds(240);    // RFC 5382 REQ-5
  bool hairpinning = true;                                     // RFC 4787 REQ-9
  bool inbound_refresh = false;  // RFC 4787 section 4.3: inbound refresh is optional (UDP)
  // The preset this config started from ("" for none). Informational: the fields above are
  // authoritative, and overrides applied after the preset may differ from it.
  std::string preset;

  bool operator==(const NatConfig& o) const;
  bool operator!=(const NatConfig& o) const { return !(*this == o); }
};

// Whether a table can run with `config`: at least one external address, all IPv4 and
// distinct; 1 <= port_min <= port_max; every timeout > 0. The error names the field.
Status validate_nat_config(const NatConfig& config);

// Presets by name. All keep hairpinning on and RFC timeouts unless noted; external addresses
// are left empty for the topology to fill.
//   "full-cone"             EIM + EIF, preserve ports. Anyone may send to a live mapping.
//   "restricted-cone"       EIM + ADF, preserve ports.
//   "port-restricted-cone"  EIM + APDF, preserve ports. Linux masquerade's mapping and
//                           filtering (Tailscale "easy"); Linux's own UDP timeouts are 30 s
//                           unreplied / 120 s assured, set udp_timeout to model them.
//   "symmetric"             APDM + APDF, random ports: a new external port per remote
//                           endpoint (Tailscale "hard", Linux `masquerade random-fully`).
//   "symmetric-sequential"  APDM + APDF, sequential ports: as "symmetric" but predictable
//                           (pion vnet; port-prediction experiments).
//   "cgnat"                 EIM + APDF, random ports, UDP timeout 60 s: a carrier-grade NAT
//                           (RFC 6888 REQ-1 wants EIM) with a short UDP timer as measured on
//                           mobile CGNs. Per-subscriber quotas and port blocks come later.
//   "cgnat-aggressive"      as "cgnat" with a 30 s UDP timeout.
Result<NatConfig> nat_preset(std::string_view name);
std::vector<std::string> nat_preset_names();  // in the order above

}  // namespace warren::nat
