// The packet filter a node enforces on traffic arriving from the overlay: a list of accept
// rules; anything no rule accepts is dropped (counted) at the receiver. Produced per node by
// PolicyIndex, shipped in map messages as JSON, parsed by clients (untrusted bytes).
//
// JSON: [{"src": ["100.64.0.1/32", "*"], "dst": [{"prefix": "100.64.0.2/32", "ports": "22"}],
//         "proto": ["tcp", "udp", "icmp"]}]
//   "*" in src means any address (and makes the other sources redundant: they are dropped);
//   "ports" is "*", "N" or "N-M"; "proto" entries are "tcp" (6), "udp" (17), "icmp" (1),
//   "ipv6-icmp" (58), "sctp" (132) or a number 0-255; "proto" empty/absent means tcp, udp and
//   icmp (v4 and v6). Parsing normalises (sources and protocols sorted and unique), so
//   from_json(to_json(f)) == f for any f that from_json produced.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/net/prefix.h"
#include "nodes/net/result.h"

namespace warren::control {

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 65535;
  bool operator==(const PortRange& o) const { return first == o.first && last == o.last; }
};

struct FilterDestination {
  Prefix prefix;
  PortRange ports;
  bool operator==(const FilterDestination& o) const {
    return prefix == o.prefix && ports == o.ports;
  }
};

struct FilterRule {
  bool any_source = false;      // "*": every address
  std::vector<Prefix> sources;  // sorted, unique
  std::vector<FilterDestination> destinations;
  std::vector<uint8_t> protocols;  // IANA numbers (6, 17, 1, 58), sorted; empty = tcp+udp+icmp
  bool operator==(const FilterRule& o) const {
    return any_source == o.any_source && sources == o.sources && destinations == o.destinations &&
           protocols == o.protocols;
  }
};

using PacketFilter = std::vector<FilterRule>;

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpV6 = 58;
constexpr uint8_t kProtoSctp = 132;

nlohmann::json packet_filter_to_json(const PacketFilter& filter);
// Errors name the rule index and field ("packet_filter[2].dst[0].ports: ...").
Result<PacketFilter> packet_filter_from_json(const nlohmann::json& json);

// Whether some rule accepts a packet from `src` to `dst`:`dst_port` with IP protocol `proto`.
// Ports are compared only for TCP, UDP and SCTP; other protocols (ICMP) match on addresses.
bool packet_filter_accepts(const PacketFilter& filter, const IpAddress& src, const IpAddress& dst,
                           uint8_t proto, uint16_t dst_port);

}  // namespace warren::control
