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
enum class Behaviour {
  endpoint_independent,
  address_dependent,
  address_and_port_dependent,
};
// "endpoint-independent", "address-dependent", "address-and-port-dependent"
const char* to_string(Behaviour b);
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
  // outside address; a table needs at least one.
  std::vector<IpAddress> external_addresses;
  uint16_t port_min = 1024;  // external ports are drawn from [port_min, port_max]
  uint16_t port_max = 65535;
  Duration udp_timeout = Duration::seconds(300);                  // RFC 4787 REQ-5c
  Duration tcp_established_timeout = Duration::seconds(7440);     // RFC 5382 REQ-5
  Duration tcp_transitory_timeout = Duration::seconds(240);       // RFC 5382 REQ-5
  bool hairpinning = true;                                        // RFC 4787 REQ-9
};

// Presets by name: "full-cone" (EIM+EIF), "restricted-cone" (EIM+ADF), "port-restricted-cone"
// (EIM+APDF), "symmetric" (APDM+APDF, random ports), "symmetric-sequential" (APDM+APDF,
// sequential ports), "cgnat" (EIM+APDF, 60 s UDP timeout, random ports).
Result<NatConfig> nat_preset(std::string_view name);
std::vector<std::string> nat_preset_names();

}  // namespace warren::nat
