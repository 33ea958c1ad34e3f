// An ns-3 NAT router: installed on a node with no Internet stack, it takes IPv4 and IPv6
// packets from every point-to-point device of that node through protocol handlers and
//  - IPv4 UDP/TCP from an inside device to a destination routed out of the outside device:
//    source translated through a NatTable (outbound);
//  - IPv4 UDP/TCP from the outside device: destination translated (inbound, filtered as the
//    table's config says; anything not addressed to an external address is dropped);
//  - IPv4 from an inside device to an external address of ours: hairpinned through the table;
//  - IPv4 between inside devices: forwarded untranslated, like a router;
//  - IPv6: forwarded untranslated; traffic crossing the outside boundary passes an RFC 6092
//    firewall when configured (outbound opens state, inbound must match it).
// Link-scope and multicast IPv6 is never forwarded. Every forwarded packet has its TTL / hop
// limit decremented. On translated or firewalled paths ICMP and fragments are dropped and
// counted (a later issue translates ICMP); plain forwarding passes them. Every drop is counted
// by reason and reported on the "Drop" trace source. NATs nest: an outer NAT sees an inner
// NAT's outside address as an ordinary inside host.
//
// Without a NAT config and without a firewall it is a plain static router (longest-prefix
// forwarding for both families). The topology builder uses it for routers too, because ns-3's
// own IPv6 forwarding drops 2001:db8::/32 (RFC 3849, documentation), the prefix warren's
// topologies use for public IPv6.
//
// Ownership: the middlebox is aggregated to its node and lives as long as the node; the node's
// devices call it through handlers registered in Install. Times come from the ns-3 simulator.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <ns3/ipv4-address.h>
#include <ns3/ipv4-header.h>
#include <ns3/ipv6-header.h>
#include <ns3/net-device.h>
#include <ns3/node.h>
#include <ns3/object.h>
#include <ns3/packet.h>
#include <ns3/traced-callback.h>

#include "nat-models/ipv6_firewall.h"
#include "nat-models/nat_table.h"
#include "nodes/net/prefix.h"
#include "nodes/net/rng.h"

namespace warren::nat {

// Why the middlebox did not forward a packet. Table drops keep the table's reason.
enum class MiddleboxDrop : uint8_t {
  malformed,             // shorter than its headers say, or not IPv4/IPv6
  bad_checksum,          // only checked when ns-3's ChecksumEnabled is set
  fragment,              // IPv4 and IPv6 fragments are not reassembled
  icmp,                  // ICMP/ICMPv6 on a translated or firewalled path (not translated yet)
  unsupported_protocol,  // neither UDP nor TCP (IPv6 extension headers included)
  ttl_expired,           // TTL / hop limit would reach 0
  no_route,              // no route for the destination, or it points back outside
  link_scope,            // IPv6 link-local/multicast/unspecified (DAD, RS, NS noise)
  nat_no_mapping,
  nat_filtered,
  nat_ports_exhausted,
  nat_hairpin_disabled,
  nat_not_external,
  firewall,             // IPv6 inbound with no matching firewall state
  firewall_table_full,  // IPv6 outbound while the firewall's state table is full
  queue_full,           // the outgoing device queue refused the packet (NetDevice::Send false)
};
inline constexpr size_t kMiddleboxDropCount = static_cast<size_t>(MiddleboxDrop::queue_full) + 1;
const char* to_string(MiddleboxDrop reason);

struct NatMiddleboxStats {
  uint64_t received = 0;
  uint64_t translated_outbound = 0;  // IPv4 inside -> outside
  uint64_t translated_inbound = 0;   // IPv4 outside -> inside
  uint64_t hairpinned = 0;           // IPv4 inside -> our external address -> inside
  uint64_t forwarded_ipv4 = 0;       // IPv4 forwarded untranslated
  uint64_t forwarded_ipv6 = 0;
  std::array<uint64_t, kMiddleboxDropCount> drops{};

  uint64_t dropped(MiddleboxDrop reason) const { return drops[static_cast<size_t>(reason)]; }
  uint64_t dropped_total() const;
};

class NatMiddlebox : public ns3::Object {
 public:
  struct Config {
    std::string name;              // for logs and traces
    std::optional<NatConfig> nat;  // IPv4 translation; absent: IPv4 is forwarded as a router
    bool ipv6_firewall = false;    // absent: IPv6 is forwarded as a router
    FirewallConfig firewall;
  };

  // (packet as received, with its IP header; reason as to_string(MiddleboxDrop))
  using DropTracedCallback = void (*)(ns3::Ptr<const ns3::Packet> packet,
                                      const std::string& reason);
  // (packet as sent, with its rewritten IP header; the device it leaves through)
  using ForwardTracedCallback = void (*)(ns3::Ptr<const ns3::Packet> packet,
                                         ns3::Ptr<ns3::NetDevice> device);

  static ns3::TypeId GetTypeId();
  NatMiddlebox();
  ~NatMiddlebox() override;

  // Handles every device of `node` (those it has and any added later). `outside` must be one
  // of them, the others are inside; it may be null only without NAT and firewall (a router).
  // `rng` picks random external ports (the builder derives it from the scenario seed and
  // "nat:" + name). The node must not have an Internet stack. Aggregates this object to the
  // node. Call once.
  void Install(ns3::Ptr<ns3::Node> node, ns3::Ptr<ns3::NetDevice> outside, Config config,
               SeededRng rng);
  // Packets for `destination` leave through `device`; longest prefix wins, IPv4 and IPv6 alike.
  void AddRoute(const Prefix& destination, ns3::Ptr<ns3::NetDevice> device);

  // A reboot: every NAT mapping and firewall state is forgotten.
  void Flush();

  const NatMiddleboxStats& GetStats() const { return stats_; }
  const NatTable* GetNatTable() const { return table_.get(); }         // null without IPv4 NAT
  const Ipv6Firewall* GetFirewall() const { return firewall_.get(); }  // null without
  const std::string& GetName() const { return config_.name; }
  ns3::Ptr<ns3::NetDevice> GetOutsideDevice() const { return outside_; }

 protected:
  void DoDispose() override;

 private:
  struct RouteEntry {
    Prefix destination;
    ns3::Ptr<ns3::NetDevice> device;
  };
  struct L4;  // transport ports and flags of one packet, see the .cc
  enum class Path { forward, outbound, inbound, hairpin };

  void ReceiveIpv4(ns3::Ptr<ns3::NetDevice> device, ns3::Ptr<const ns3::Packet> packet,
                   uint16_t protocol, const ns3::Address& from, const ns3::Address& to,
                   ns3::NetDevice::PacketType type);
  void ReceiveIpv6(ns3::Ptr<ns3::NetDevice> device, ns3::Ptr<const ns3::Packet> packet,
                   uint16_t protocol, const ns3::Address& from, const ns3::Address& to,
                   ns3::NetDevice::PacketType type);

  void TranslateIpv4(ns3::Ptr<const ns3::Packet> original, ns3::Ptr<ns3::Packet> p,
                     ns3::Ipv4Header& ip, Path path, ns3::Ptr<ns3::NetDevice> out);
  // Takes the UDP/TCP header off `p` into `l4`; a drop reason if it cannot.
  static std::optional<MiddleboxDrop> RemoveL4(ns3::Ptr<ns3::Packet> p, uint8_t proto,
                                               ns3::Ipv4Address src, ns3::Ipv4Address dst,
                                               bool checksums, L4& l4);
  // The firewall's verdict on a packet crossing the outside boundary; nullopt admits it.
  std::optional<MiddleboxDrop> FilterIpv6(ns3::Ptr<const ns3::Packet> p, const ns3::Ipv6Header& ip,
                                          bool from_outside);
  ns3::Ptr<ns3::NetDevice> Lookup(const IpAddress& destination) const;
  void DropPacket(ns3::Ptr<const ns3::Packet> packet, MiddleboxDrop reason);
  void DropForTable(ns3::Ptr<const ns3::Packet> packet, nat::Drop reason);
  // False (and counted) when the device queue refused the packet.
  bool Send(ns3::Ptr<const ns3::Packet> original, ns3::Ptr<ns3::Packet> packet,
            ns3::Ptr<ns3::NetDevice> device, uint16_t protocol);
  void MaybeExpire(Timestamp now);

  Config config_;
  ns3::Ptr<ns3::Node> node_;
  ns3::Ptr<ns3::NetDevice> outside_;
  std::vector<RouteEntry> routes_;  // longest prefix first, then in insertion order
  // Host routes (/32, /128) by address, the first added winning as in routes_: a core router
  // holds one per host of its realm, and a linear scan over a thousand of them per packet was
  // the router's hot spot. Lookups only; never iterated, so its order reaches no output.
  std::unordered_map<IpAddress, ns3::Ptr<ns3::NetDevice>> host_routes_;
  std::unique_ptr<SeededRng> rng_;  // stable address for the table's reference
  std::unique_ptr<NatTable> table_;
  std::unique_ptr<Ipv6Firewall> firewall_;
  Timestamp next_expire_;
  NatMiddleboxStats stats_;
  ns3::TracedCallback<ns3::Ptr<const ns3::Packet>, const std::string&> drop_trace_;
  ns3::TracedCallback<ns3::Ptr<const ns3::Packet>, ns3::Ptr<ns3::NetDevice>> forward_trace_;
};

}  // namespace warren::nat
