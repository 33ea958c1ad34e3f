// An IPv4 NAT's translation state: one table per NAT, keyed as RFC 4787 (UDP) and RFC 5382
// (TCP) describe. Pure: it sees packets as (protocol, endpoints, TCP flags, now) and never
// reads a clock; random ports come from the Rng it is given. The ns-3 middlebox
// (nat-models/ns3) and unit tests drive it the same way.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "nat-models/flow.h"
#include "nat-models/nat_config.h"
#include "nodes/net/endpoint.h"
#include "nodes/net/rng.h"
#include "nodes/net/time.h"

namespace warren::nat {

// A mapping remembers the remotes it has sent to (for filtering and per-connection TCP
// state), each with its own idle timer. A bound keeps a scan through one EIM mapping from
// growing memory without limit; 4096 covers a mesh client talking to a few candidate
// endpoints of each of several hundred peers from one socket. When full, expired remotes go
// first, then the one closest to expiry (counted in NatStats::remotes_evicted).
inline constexpr size_t kMaxRemotesPerMapping = 4096;

// Why a packet was not translated; each reason has its own counter in NatStats.
enum class Drop : uint8_t {
  none,
  no_mapping,        // inbound to an external port with no live mapping
  filtered,          // a mapping exists but the filtering behaviour rejects this source
  ports_exhausted,   // no free external port for a new mapping
  hairpin_disabled,  // inside host addressed the NAT's external address, hairpinning off
  not_external,      // inbound to an address this NAT does not own
};
const char* to_string(Drop d);

struct Translation {
  Drop drop = Drop::none;
  Endpoint endpoint;  // outbound: the new source; inbound: the inside destination
  bool ok() const { return drop == Drop::none; }
};

// Counters since construction (flush() keeps them). `outbound`/`inbound` count translated
// packets; every dropped packet counts under exactly one dropped_* reason.
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
  uint64_t remotes_evicted = 0;  // see kMaxRemotesPerMapping
};

// Timing: a mapping or permission refreshed at t with timeout T is live while now < t + T and
// gone from t + T on. Expired mappings are removed lazily when a lookup meets them and by
// expire(); their external ports are reusable at once (RFC 6888 REQ-8's 120 s reuse delay is
// CGNAT work for a later issue). Timestamps must not go backwards.
// Not thread-safe; one table per NAT, driven by one event loop. Move-only.
class NatTable {
 public:
  // `config` should pass validate_nat_config(); with no external address or an empty port
  // range every new mapping fails as ports_exhausted. `rng` must outlive the table and is
  // only drawn from for random port assignment.
  NatTable(NatConfig config, Rng& rng);
  ~NatTable();
  NatTable(NatTable&&) noexcept;
  NatTable& operator=(NatTable&&) noexcept;

  // A packet from inside host `inside_src` to `remote`: the external source to rewrite to.
  // Creates or refreshes the mapping (outbound refresh, RFC 4787 REQ-6) and records `remote`
  // as contacted for filtering. A new mapping takes the inside address's paired external
  // address and a port per config().ports; Drop::ports_exhausted when none is free. Any
  // outbound TCP packet creates a mapping, not only a SYN (tcp_connection.h has the states).
  Translation outbound(Protocol proto, const Endpoint& inside_src, const Endpoint& remote,
                       Timestamp now, TcpFlags flags = {});
  // A packet from `remote` to `external_dst` (one of our external endpoints): the inside
  // destination, if a live mapping exists and filtering admits `remote`. Inbound packets
  // refresh UDP mappings only with config().inbound_refresh; TCP state follows the flags in
  // both directions. Drops: not_external, no_mapping, filtered.
  Translation inbound(Protocol proto, const Endpoint& remote, const Endpoint& external_dst,
                      Timestamp now, TcpFlags flags = {});
  // Hairpinning (RFC 4787 REQ-9): inside host sends to one of our external endpoints. The
  // source is translated as for outbound, then the packet is admitted inbound as if it came
  // from that external source. Returns the new source and the inside destination. Counts as
  // one outbound and one inbound packet. Drops: not_external (`external_dst` is not ours:
  // use outbound()), hairpin_disabled, then outbound()'s and inbound()'s reasons.
  struct Hairpin {
    Drop drop = Drop::none;
    Endpoint source;       // external source seen by the destination host
    Endpoint destination;  // inside destination
    bool ok() const { return drop == Drop::none; }
  };
  Hairpin hairpin(Protocol proto, const Endpoint& inside_src, const Endpoint& external_dst,
                  Timestamp now, TcpFlags flags = {});

  bool owns(const IpAddress& address) const;  // is it one of our external addresses?
  void flush();  // a reboot: every mapping gone, port cursors reset; stats kept
  // Removes mappings idle past their timeout; lookups also expire lazily, so calling this
  // only bounds memory.
  void expire(Timestamp now);
  size_t mapping_count() const;  // including expired ones not yet removed
  const NatStats& stats() const { return stats_; }
  const NatConfig& config() const { return config_; }

 private:
  struct Impl;
  // Implementation state lives in nat_table.cc; the header stays the contract.
  NatConfig config_;
  Rng* rng_;
  NatStats stats_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warren::nat
