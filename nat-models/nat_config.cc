#include "nat-models/nat_config.h"

#include <set>

namespace warren::nat {
namespace {

constexpr const char* kBehaviourNames[] = {"endpoint-independent", "address-dependent",
                                           "address-and-port-dependent"};
constexpr const char* kPortAssignmentNames[] = {"preserve", "sequential", "random"};

struct Preset {
  const char* name;
  Behaviour mapping;
  Behaviour filtering;
  PortAssignment ports;
  int64_t udp_timeout_s;
};

constexpr Behaviour kEI = Behaviour::endpoint_independent;
constexpr Behaviour kAD = Behaviour::address_dependent;
constexpr Behaviour kAPD = Behaviour::address_and_port_dependent;

// The order is the one nat_preset_names() reports and the header documents.
constexpr Preset kPresets[] = {
    {"full-cone", kEI, kEI, PortAssignment::preserve, 300},
    {"restricted-cone", kEI, kAD, PortAssignment::preserve, 300},
    {"port-restricted-cone", kEI, kAPD, PortAssignment::preserve, 300},
    {"symmetric", kAPD, kAPD, PortAssignment::random, 300},
    {"symmetric-sequential", kAPD, kAPD, PortAssignment::sequential, 300},
    {"cgnat", kEI, kAPD, PortAssignment::random, 60},
    {"cgnat-aggressive", kEI, kAPD, PortAssignment::random, 30},
};

std::string join_quoted(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += '"' + n + '"';
  }
  return out;
}

}  // namespace

const char* to_string(Behaviour b) {
  switch (b) {
    case Behaviour::endpoint_independent:
      return kBehaviourNames[0];
    case Behaviour::address_dependent:
      return kBehaviourNames[1];
    case Behaviour::address_and_port_dependent:
      return kBehaviourNames[2];
  }
  return "?";
}

Result<Behaviour> parse_behaviour(std::string_view text) {
  if (text == kBehaviourNames[0]) return Behaviour::endpoint_independent;
  if (text == kBehaviourNames[1]) return Behaviour::address_dependent;
  if (text == kBehaviourNames[2]) return Behaviour::address_and_port_dependent;
  return make_error("unknown NAT behaviour \"" + std::string(text.substr(0, 80)) +
                    "\"; use one of \"endpoint-independent\", \"address-dependent\", "
                    "\"address-and-port-dependent\"");
}

const char* to_string(PortAssignment p) {
  switch (p) {
    case PortAssignment::preserve:
      return kPortAssignmentNames[0];
    case PortAssignment::sequential:
      return kPortAssignmentNames[1];
    case PortAssignment::random:
      return kPortAssignmentNames[2];
  }
  return "?";
}

Result<PortAssignment> parse_port_assignment(std::string_view text) {
  if (text == kPortAssignmentNames[0]) return PortAssignment::preserve;
  if (text == kPortAssignmentNames[1]) return PortAssignment::sequential;
  if (text == kPortAssignmentNames[2]) return PortAssignment::random;
  return make_error("unknown port assignment \"" + std::string(text.substr(0, 80)) +
                    "\"; use one of \"preserve\", \"sequential\", \"random\"");
}

bool NatConfig::operator==(const NatConfig& o) const {
  return mapping == o.mapping && filtering == o.filtering && ports == o.ports &&
         external_addresses == o.external_addresses && port_min == o.port_min &&
         port_max == o.port_max && udp_timeout == o.udp_timeout &&
         tcp_established_timeout == o.tcp_established_timeout &&
         tcp_transitory_timeout == o.tcp_transitory_timeout && hairpinning == o.hairpinning &&
         inbound_refresh == o.inbound_refresh && preset == o.preset;
}

Status validate_nat_config(const NatConfig& config) {
  if (config.external_addresses.empty()) {
    return make_error("NAT config has no external_addresses; give the NAT its outside address");
  }
  std::set<IpAddress> seen;
  for (const auto& a : config.external_addresses) {
    if (!a.is_v4()) {
      return make_error("NAT external address " + a.to_string() +
                        " is not IPv4; IPv6 is routed through Ipv6Firewall, not translated");
    }
    if (!seen.insert(a).second) {
      return make_error("NAT external address " + a.to_string() + " is listed twice");
    }
  }
  if (config.port_min == 0 || config.port_min > config.port_max) {
    return make_error("NAT port range [" + std::to_string(config.port_min) + ", " +
                      std::to_string(config.port_max) +
                      "] is invalid; need 1 <= port_min <= port_max <= 65535");
  }
  if (config.udp_timeout <= Duration::zero()) return make_error("NAT udp_timeout must be > 0");
  if (config.tcp_established_timeout <= Duration::zero()) {
    return make_error("NAT tcp_established_timeout must be > 0");
  }
  if (config.tcp_transitory_timeout <= Duration::zero()) {
    return make_error("NAT tcp_transitory_timeout must be > 0");
  }
  return Status::success();
}

Result<NatConfig> nat_preset(std::string_view name) {
  for (const Preset& p : kPresets) {
    if (name != p.name) continue;
    NatConfig c;
    c.mapping = p.mapping;
    c.filtering = p.filtering;
    c.ports = p.ports;
    c.udp_timeout = Duration::seconds(p.udp_timeout_s);
    c.preset = p.name;
    return c;
  }
  return make_error("unknown NAT preset \"" + std::string(name.substr(0, 80)) + "\"; use one of " +
                    join_quoted(nat_preset_names()));
}

std::vector<std::string> nat_preset_names() {
  std::vector<std::string> names;
  for (const Preset& p : kPresets) names.emplace_back(p.name);
  return names;
}

}  // namespace warren::nat
