#include "nat-models/ns3/nat_middlebox.h"

#include <algorithm>

#include <ns3/ipv4-header.h>
#include <ns3/ipv6-header.h>
#include <ns3/log.h>
#include <ns3/simulator.h>
#include <ns3/tcp-header.h>
#include <ns3/trace-source-accessor.h>
#include <ns3/udp-header.h>

#include "nat-models/ns3/ns3_address.h"

namespace warren::nat {

NS_LOG_COMPONENT_DEFINE("WarrenNatMiddlebox");
NS_OBJECT_ENSURE_REGISTERED(NatMiddlebox);

namespace {

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;
constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;
constexpr uint8_t kIpProtoIpv6Fragment = 44;
constexpr uint8_t kIpProtoIcmpv6 = 58;
constexpr uint32_t kIpv4HeaderBytes = 20;  // ns-3 never sends IPv4 options
constexpr uint32_t kIpv6HeaderBytes = 40;
constexpr uint32_t kUdpHeaderBytes = 8;
constexpr uint32_t kTcpMinHeaderBytes = 20;
// Lookups expire mappings lazily; this sweep, run from the packet path (never a self-scheduled
// event, which would keep an otherwise idle simulation running), only bounds table memory.
constexpr Duration kExpireInterval = Duration::seconds(30);

Timestamp SimNow() {
  return Timestamp::from_ns(ns3::Simulator::Now().GetNanoSeconds());
}

MiddleboxDrop FromTableDrop(Drop d) {
  switch (d) {
    case Drop::no_mapping:
      return MiddleboxDrop::nat_no_mapping;
    case Drop::filtered:
      return MiddleboxDrop::nat_filtered;
    case Drop::ports_exhausted:
      return MiddleboxDrop::nat_ports_exhausted;
    case Drop::hairpin_disabled:
      return MiddleboxDrop::nat_hairpin_disabled;
    case Drop::not_external:
    case Drop::none:
      break;
  }
  return MiddleboxDrop::nat_not_external;
}

TcpFlags FlagsOf(const ns3::TcpHeader& tcp) {
  uint8_t f = tcp.GetFlags();
  TcpFlags flags;
  flags.syn = (f & ns3::TcpHeader::SYN) != 0;
  flags.ack = (f & ns3::TcpHeader::ACK) != 0;
  flags.fin = (f & ns3::TcpHeader::FIN) != 0;
  flags.rst = (f & ns3::TcpHeader::RST) != 0;
  return flags;
}

// The TCP data offset in bytes, read without deserializing; 0 when the packet is too short.
uint32_t TcpHeaderBytes(const ns3::Packet& p) {
  if (p.GetSize() < kTcpMinHeaderBytes) return 0;
  uint8_t head[13];
  p.CopyData(head, sizeof(head));
  uint32_t bytes = static_cast<uint32_t>(head[12] >> 4) * 4;
  if (bytes < kTcpMinHeaderBytes || bytes > p.GetSize()) return 0;
  return bytes;
}

}  // namespace

const char* to_string(MiddleboxDrop reason) {
  switch (reason) {
    case MiddleboxDrop::malformed:
      return "malformed";
    case MiddleboxDrop::bad_checksum:
      return "bad-checksum";
    case MiddleboxDrop::fragment:
      return "fragment";
    case MiddleboxDrop::icmp:
      return "icmp";
    case MiddleboxDrop::unsupported_protocol:
      return "unsupported-protocol";
    case MiddleboxDrop::ttl_expired:
      return "ttl-expired";
    case MiddleboxDrop::no_route:
      return "no-route";
    case MiddleboxDrop::link_scope:
      return "link-scope";
    case MiddleboxDrop::nat_no_mapping:
      return "nat-no-mapping";
    case MiddleboxDrop::nat_filtered:
      return "nat-filtered";
    case MiddleboxDrop::nat_ports_exhausted:
      return "nat-ports-exhausted";
    case MiddleboxDrop::nat_hairpin_disabled:
      return "nat-hairpin-disabled";
    case MiddleboxDrop::nat_not_external:
      return "nat-not-external";
    case MiddleboxDrop::firewall:
      return "firewall";
    case MiddleboxDrop::firewall_table_full:
      return "firewall-table-full";
    case MiddleboxDrop::queue_full:
      return "queue-full";
  }
  return "unknown";
}

uint64_t NatMiddleboxStats::dropped_total() const {
  uint64_t total = 0;
  for (uint64_t n : drops) total += n;
  return total;
}

// One packet's transport header, removed from the packet while it is being rewritten.
struct NatMiddlebox::L4 {
  Protocol proto = Protocol::udp;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  TcpFlags flags;
  ns3::TcpHeader tcp;  // kept whole so its options survive re-adding
};

ns3::TypeId NatMiddlebox::GetTypeId() {
  static ns3::TypeId tid =
      ns3::TypeId("warren::nat::NatMiddlebox")
          .SetParent<ns3::Object>()
          .SetGroupName("Warren")
          .AddConstructor<NatMiddlebox>()
          .AddTraceSource("Drop", "A packet the middlebox did not forward, and why.",
                          ns3::MakeTraceSourceAccessor(&NatMiddlebox::drop_trace_),
                          "warren::nat::NatMiddlebox::DropTracedCallback")
          .AddTraceSource("Forward", "A packet handed to an outgoing device, as rewritten.",
                          ns3::MakeTraceSourceAccessor(&NatMiddlebox::forward_trace_),
                          "warren::nat::NatMiddlebox::ForwardTracedCallback");
  return tid;
}

NatMiddlebox::NatMiddlebox() = default;
NatMiddlebox::~NatMiddlebox() = default;

void NatMiddlebox::DoDispose() {
  node_ = nullptr;
  outside_ = nullptr;
  routes_.clear();
  host_routes_.clear();
  ns3::Object::DoDispose();
}

void NatMiddlebox::Install(ns3::Ptr<ns3::Node> node, ns3::Ptr<ns3::NetDevice> outside,
                           Config config, SeededRng rng) {
  NS_ABORT_MSG_IF(node_ != nullptr, "NatMiddlebox::Install called twice");
  NS_ABORT_MSG_IF(outside == nullptr && (config.nat || config.ipv6_firewall),
                  "NatMiddlebox: a NAT or firewall needs an outside device");
  NS_ABORT_MSG_IF(outside != nullptr && outside->GetNode() != node,
                  "NatMiddlebox: the outside device must belong to the NAT's node");
  node_ = node;
  outside_ = outside;
  config_ = std::move(config);
  rng_ = std::make_unique<SeededRng>(rng);
  if (config_.nat) table_ = std::make_unique<NatTable>(*config_.nat, *rng_);
  if (config_.ipv6_firewall) firewall_ = std::make_unique<Ipv6Firewall>(config_.firewall);
  // A null device registers the handler on every device of the node.
  node->RegisterProtocolHandler(ns3::MakeCallback(&NatMiddlebox::ReceiveIpv4, this), kEtherIpv4,
                                nullptr);
  node->RegisterProtocolHandler(ns3::MakeCallback(&NatMiddlebox::ReceiveIpv6, this), kEtherIpv6,
                                nullptr);
  node->AggregateObject(ns3::Ptr<NatMiddlebox>(this));
}

void NatMiddlebox::AddRoute(const Prefix& destination, ns3::Ptr<ns3::NetDevice> device) {
  const int host_length = destination.family() == Family::ipv4 ? 32 : 128;
  if (destination.length() == host_length) {
    host_routes_.emplace(destination.network(), device);  // keeps an earlier equal route
    return;
  }
  RouteEntry entry{destination, device};
  // Keep longest prefixes first; equal lengths keep insertion order (upper_bound).
  auto pos = std::upper_bound(routes_.begin(), routes_.end(), entry,
                              [](const RouteEntry& a, const RouteEntry& b) {
                                return a.destination.length() > b.destination.length();
                              });
  routes_.insert(pos, entry);
}

void NatMiddlebox::Flush() {
  if (table_) table_->flush();
  if (firewall_) firewall_->flush();
}

ns3::Ptr<ns3::NetDevice> NatMiddlebox::Lookup(const IpAddress& destination) const {
  // A host route is the longest possible match, so it wins over everything in routes_.
  auto host = host_routes_.find(destination);
  if (host != host_routes_.end()) return host->second;
  for (const auto& r : routes_) {
    if (r.destination.family() == destination.family() && r.destination.contains(destination)) {
      return r.device;
    }
  }
  return nullptr;
}

void NatMiddlebox::DropPacket(ns3::Ptr<const ns3::Packet> packet, MiddleboxDrop reason) {
  ++stats_.drops[static_cast<size_t>(reason)];
  NS_LOG_LOGIC(config_.name << " drop " << to_string(reason));
  drop_trace_(packet, to_string(reason));
}

void NatMiddlebox::DropForTable(ns3::Ptr<const ns3::Packet> packet, nat::Drop reason) {
  DropPacket(packet, FromTableDrop(reason));
}

void NatMiddlebox::MaybeExpire(Timestamp now) {
  if (now < next_expire_) return;
  if (table_) table_->expire(now);
  if (firewall_) firewall_->expire(now);
  next_expire_ = now + kExpireInterval;
}

bool NatMiddlebox::Send(ns3::Ptr<const ns3::Packet> original, ns3::Ptr<ns3::Packet> packet,
                        ns3::Ptr<ns3::NetDevice> device, uint16_t protocol) {
  forward_trace_(packet, device);
  // No queue disc on a stack-less node: false means the device queue was full.
  if (!device->Send(packet, device->GetBroadcast(), protocol)) {
    DropPacket(original, MiddleboxDrop::queue_full);
    return false;
  }
  return true;
}

void NatMiddlebox::ReceiveIpv4(ns3::Ptr<ns3::NetDevice> device, ns3::Ptr<const ns3::Packet> packet,
                               uint16_t /*protocol*/, const ns3::Address& /*from*/,
                               const ns3::Address& /*to*/, ns3::NetDevice::PacketType /*type*/) {
  ++stats_.received;
  if (packet->GetSize() < kIpv4HeaderBytes) return DropPacket(packet, MiddleboxDrop::malformed);
  const bool checksums = ns3::Node::ChecksumEnabled();
  ns3::Ptr<ns3::Packet> p = packet->Copy();
  ns3::Ipv4Header ip;
  if (checksums) ip.EnableChecksum();  // verified on removal, rewritten on re-adding
  if (p->RemoveHeader(ip) == 0) return DropPacket(packet, MiddleboxDrop::malformed);
  if (checksums && !ip.IsChecksumOk()) return DropPacket(packet, MiddleboxDrop::bad_checksum);
  if (ip.GetPayloadSize() > p->GetSize()) return DropPacket(packet, MiddleboxDrop::malformed);
  if (ip.GetPayloadSize() < p->GetSize()) p->RemoveAtEnd(p->GetSize() - ip.GetPayloadSize());
  if (ip.GetTtl() <= 1) return DropPacket(packet, MiddleboxDrop::ttl_expired);
  ip.SetTtl(ip.GetTtl() - 1);

  const IpAddress dst = from_ns3(ip.GetDestination());
  const bool from_outside = device == outside_;
  Path path = Path::forward;
  ns3::Ptr<ns3::NetDevice> out;
  if (table_ && from_outside) {
    path = Path::inbound;
  } else if (table_ && table_->owns(dst)) {
    path = Path::hairpin;
  } else {
    out = Lookup(dst);
    if (out == nullptr) return DropPacket(packet, MiddleboxDrop::no_route);
    if (table_ && out == outside_) path = Path::outbound;
  }
  if (path != Path::forward) return TranslateIpv4(packet, p, ip, path, out);
  // Untranslated forwarding is what a router does: any protocol, fragments included.
  p->AddHeader(ip);
  if (Send(packet, p, out, kEtherIpv4)) ++stats_.forwarded_ipv4;
}

void NatMiddlebox::TranslateIpv4(ns3::Ptr<const ns3::Packet> original, ns3::Ptr<ns3::Packet> p,
                                 ns3::Ipv4Header& ip, Path path, ns3::Ptr<ns3::NetDevice> out) {
  if (!ip.IsLastFragment() || ip.GetFragmentOffset() != 0) {
    return DropPacket(original, MiddleboxDrop::fragment);
  }
  const uint8_t proto = ip.GetProtocol();
  if (proto == kIpProtoIcmp) return DropPacket(original, MiddleboxDrop::icmp);
  if (proto != kIpProtoUdp && proto != kIpProtoTcp) {
    return DropPacket(original, MiddleboxDrop::unsupported_protocol);
  }
  const bool checksums = ns3::Node::ChecksumEnabled();
  L4 l4;
  if (auto drop = RemoveL4(p, proto, ip.GetSource(), ip.GetDestination(), checksums, l4)) {
    return DropPacket(original, *drop);
  }
  const Timestamp now = SimNow();
  MaybeExpire(now);
  Endpoint new_src(from_ns3(ip.GetSource()), l4.src_port);
  Endpoint new_dst(from_ns3(ip.GetDestination()), l4.dst_port);
  if (path == Path::outbound) {
    Translation t = table_->outbound(l4.proto, new_src, new_dst, now, l4.flags);
    if (!t.ok()) return DropForTable(original, t.drop);
    new_src = t.endpoint;
  } else if (path == Path::inbound) {
    Translation t = table_->inbound(l4.proto, new_src, new_dst, now, l4.flags);
    if (!t.ok()) return DropForTable(original, t.drop);
    new_dst = t.endpoint;
  } else {
    NatTable::Hairpin h = table_->hairpin(l4.proto, new_src, new_dst, now, l4.flags);
    if (!h.ok()) return DropForTable(original, h.drop);
    new_src = h.source;
    new_dst = h.destination;
  }
  if (path != Path::outbound) {
    out = Lookup(new_dst.address);
    if (out == nullptr || out == outside_) return DropPacket(original, MiddleboxDrop::no_route);
  }

  const ns3::Ipv4Address ns3_src = to_ns3_v4(new_src.address);
  const ns3::Ipv4Address ns3_dst = to_ns3_v4(new_dst.address);
  if (l4.proto == Protocol::udp) {
    // Never re-add a deserialized UdpHeader (it writes back the stale checksum and a wrong
    // length in ns-3 3.37); a fresh one computes both.
    ns3::UdpHeader udp;
    udp.SetSourcePort(new_src.port);
    udp.SetDestinationPort(new_dst.port);
    if (checksums) {
      udp.EnableChecksums();
      udp.InitializeChecksum(ns3_src, ns3_dst, kIpProtoUdp);
    }
    p->AddHeader(udp);
  } else {
    l4.tcp.SetSourcePort(new_src.port);
    l4.tcp.SetDestinationPort(new_dst.port);
    if (checksums) l4.tcp.InitializeChecksum(ns3_src, ns3_dst, kIpProtoTcp);
    p->AddHeader(l4.tcp);
  }
  ip.SetSource(ns3_src);
  ip.SetDestination(ns3_dst);
  ip.SetPayloadSize(static_cast<uint16_t>(p->GetSize()));
  p->AddHeader(ip);
  if (!Send(original, p, out, kEtherIpv4)) return;
  if (path == Path::outbound) ++stats_.translated_outbound;
  if (path == Path::inbound) ++stats_.translated_inbound;
  if (path == Path::hairpin) ++stats_.hairpinned;
}

std::optional<MiddleboxDrop> NatMiddlebox::RemoveL4(ns3::Ptr<ns3::Packet> p, uint8_t proto,
                                                    ns3::Ipv4Address src, ns3::Ipv4Address dst,
                                                    bool checksums, L4& l4) {
  if (proto == kIpProtoUdp) {
    if (p->GetSize() < kUdpHeaderBytes) return MiddleboxDrop::malformed;
    ns3::UdpHeader udp;
    if (checksums) {
      udp.EnableChecksums();
      udp.InitializeChecksum(src, dst, kIpProtoUdp);
    }
    p->RemoveHeader(udp);
    if (checksums && !udp.IsChecksumOk()) return MiddleboxDrop::bad_checksum;
    l4.proto = Protocol::udp;
    l4.src_port = udp.GetSourcePort();
    l4.dst_port = udp.GetDestinationPort();
    return std::nullopt;
  }
  if (TcpHeaderBytes(*p) == 0) return MiddleboxDrop::malformed;
  if (checksums) {
    l4.tcp.EnableChecksums();
    l4.tcp.InitializeChecksum(src, dst, kIpProtoTcp);
  }
  p->RemoveHeader(l4.tcp);
  if (checksums && !l4.tcp.IsChecksumOk()) return MiddleboxDrop::bad_checksum;
  l4.proto = Protocol::tcp;
  l4.src_port = l4.tcp.GetSourcePort();
  l4.dst_port = l4.tcp.GetDestinationPort();
  l4.flags = FlagsOf(l4.tcp);
  return std::nullopt;
}

void NatMiddlebox::ReceiveIpv6(ns3::Ptr<ns3::NetDevice> device, ns3::Ptr<const ns3::Packet> packet,
                               uint16_t /*protocol*/, const ns3::Address& /*from*/,
                               const ns3::Address& /*to*/, ns3::NetDevice::PacketType /*type*/) {
  ++stats_.received;
  if (packet->GetSize() < kIpv6HeaderBytes) return DropPacket(packet, MiddleboxDrop::malformed);
  ns3::Ptr<ns3::Packet> p = packet->Copy();
  ns3::Ipv6Header ip;
  if (p->RemoveHeader(ip) == 0) return DropPacket(packet, MiddleboxDrop::malformed);
  const ns3::Ipv6Address ns3_src = ip.GetSource();
  const ns3::Ipv6Address ns3_dst = ip.GetDestination();
  // Hosts' DAD, router and neighbour solicitations: link-scope noise, never forwarded.
  if (ns3_src.IsAny() || ns3_src.IsLinkLocal() || ns3_dst.IsMulticast() || ns3_dst.IsLinkLocal()) {
    return DropPacket(packet, MiddleboxDrop::link_scope);
  }
  if (ip.GetPayloadLength() > p->GetSize()) return DropPacket(packet, MiddleboxDrop::malformed);
  if (ip.GetPayloadLength() < p->GetSize()) {
    p->RemoveAtEnd(p->GetSize() - ip.GetPayloadLength());
  }
  if (ip.GetHopLimit() <= 1) return DropPacket(packet, MiddleboxDrop::ttl_expired);
  ns3::Ptr<ns3::NetDevice> out = Lookup(from_ns3(ns3_dst));
  if (out == nullptr) return DropPacket(packet, MiddleboxDrop::no_route);
  const bool from_outside = device == outside_;
  const bool to_outside = out == outside_;
  if (firewall_ && from_outside != to_outside) {
    if (auto drop = FilterIpv6(p, ip, from_outside)) return DropPacket(packet, *drop);
  }
  ip.SetHopLimit(ip.GetHopLimit() - 1);
  p->AddHeader(ip);
  if (Send(packet, p, out, kEtherIpv6)) ++stats_.forwarded_ipv6;
}

std::optional<MiddleboxDrop> NatMiddlebox::FilterIpv6(ns3::Ptr<const ns3::Packet> p,
                                                      const ns3::Ipv6Header& ip,
                                                      bool from_outside) {
  const uint8_t next = ip.GetNextHeader();
  if (next == kIpProtoIcmpv6) return MiddleboxDrop::icmp;
  if (next == kIpProtoIpv6Fragment) return MiddleboxDrop::fragment;
  if (next != kIpProtoUdp && next != kIpProtoTcp) return MiddleboxDrop::unsupported_protocol;
  // The transport header is only read: addresses do not change, so checksums stay valid.
  L4 l4;
  if (next == kIpProtoUdp) {
    if (p->GetSize() < kUdpHeaderBytes) return MiddleboxDrop::malformed;
    ns3::UdpHeader udp;
    p->PeekHeader(udp);
    l4.proto = Protocol::udp;
    l4.src_port = udp.GetSourcePort();
    l4.dst_port = udp.GetDestinationPort();
  } else {
    if (TcpHeaderBytes(*p) == 0) return MiddleboxDrop::malformed;
    p->PeekHeader(l4.tcp);
    l4.proto = Protocol::tcp;
    l4.src_port = l4.tcp.GetSourcePort();
    l4.dst_port = l4.tcp.GetDestinationPort();
    l4.flags = FlagsOf(l4.tcp);
  }
  const Endpoint src(from_ns3(ip.GetSource()), l4.src_port);
  const Endpoint dst(from_ns3(ip.GetDestination()), l4.dst_port);
  const Timestamp now = SimNow();
  MaybeExpire(now);
  if (from_outside) {
    if (!firewall_->inbound(l4.proto, src, dst, now, l4.flags)) return MiddleboxDrop::firewall;
  } else if (!firewall_->outbound(l4.proto, src, dst, now, l4.flags)) {
    return MiddleboxDrop::firewall_table_full;
  }
  return std::nullopt;
}

}  // namespace warren::nat
