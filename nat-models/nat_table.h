// An IPv4 NAT's translation state: one table per NAT, keyed as RFC 4787 (UDP) and RFC 5382
// (TCP) describe. Pure: it sees packets as (protocol, endpoints, TCP flags, now) and never
// reads a clock; random ports come from the Rng it is given. The ns-3 middlebox
// (nat-models/ns3) and unit tests drive it the same way.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "nat-models/nat_config.h"
#include "nodes/net/endpoint.h"
#include "nodes/net/rng.h"
#include "nodes/net/time.h"

namespace warren::nat {

enum class Protocol : uint8_t { tcp = 6, udp = 17 };
const char* to_string(Protocol p);

struct TcpFlags {
  bool syn = false;
  bool ack = false;
  bool fin = false;
  bool rst = false;
};

// Why a packet was not translated; each reason has its own counter in NatStats.
enum class Drop : uint8_t {
  none,
  no_mapping,       // inbound to an external port with no live mapping
  filtered,         // a mapping exists but the filtering behaviour rejects this source
  ports_exhausted,  // no free external port for a new mapping
  hairpin_disabled, // inside host addressed the NAT's external address, hairpinning off
  not_external,     // inbound to an address this NAT does not own
};
const char* to_string(Drop d);

struct Translation {
  Drop drop = Drop::none;
  Endpoint endpoint;  // outbound: the new source; inbound: the inside destination
  bool ok() const { return drop == Drop::none; }
};

struct NatStats {
  uint64_t outbound = 0;
  uint64_t inbound = 0;
  uint64_t mappings_created = 0;
  uint64_t mappings_expired = 0;
  uint64_t dropped_no_mapping = 0;
  uint64_t dropped_filtered = 0;
  uint64_t dropped_ports_exhausted = 0;
  uint64_t dropped_hairpin_disabled = 0;
  uint64_t dropped_not_external = 0;
};

class NatTable {
 public:
  // `config.external_addresses` must not be empty. `rng` must outlive the table.
  NatTable(NatConfig config, Rng& rng);

  // A packet from inside host `inside_src` to `remote`: the external source to rewrite to.
  // Creates or refreshes the mapping (outbound refresh, RFC 4787 REQ-6) and records `remote`
  // as contacted for filtering.
  Translation outbound(Protocol proto, const Endpoint& inside_src, const Endpoint& remote,
                       Timestamp now, TcpFlags flags = {});
  // A packet from `remote` to `external_dst` (one of our external endpoints): the inside
  // destination, if a live mapping exists and filtering admits `remote`. Inbound packets
  // never refresh UDP mappings; TCP state follows the flags in both directions.
  Translation inbound(Protocol proto, const Endpoint& remote, const Endpoint& external_dst,
                      Timestamp now, TcpFlags flags = {});
  // Hairpinning (RFC 4787 REQ-9): inside host sends to one of our external endpoints. The
  // source is translated as for outbound, then the packet is admitted inbound as if it came
  // from that external source. Returns the new source and the inside destination.
  struct Hairpin {
    Drop drop = Drop::none;
    Endpoint source;       // external source seen by the destination host
    Endpoint destination;  // inside destination
    bool ok() const { return drop == Drop::none; }
  };
  Hairpin hairpin(Protocol proto, const Endpoint& inside_src, const Endpoint& external_dst,
                  Timestamp now, TcpFlags flags = {});

  bool owns(const IpAddress& address) const;  // is it one of our external addresses?
  void flush();                               // a reboot: every mapping gone
  // Removes mappings idle past their timeout; lookups also expire lazily, so calling this
  // only bounds memory.
  void expire(Timestamp now);
  size_t mapping_count() const;
  const NatStats& stats() const { return stats_; }
  const NatConfig& config() const { return config_; }

 private:
  struct Impl;
  // Implementation state lives in nat_table.cc; the header stays the contract.
  NatConfig config_;
  Rng* rng_;
  NatStats stats_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace warren::nat
