// Conversions between warren's address values and ns-3's. Shared by the middlebox and sim/
// (which links this target), so the two never disagree on byte order.
#pragma once

#include <optional>

#include <ns3/inet-socket-address.h>
#include <ns3/inet6-socket-address.h>
#include <ns3/ipv4-address.h>
#include <ns3/ipv6-address.h>

#include "nodes/net/endpoint.h"
#include "nodes/net/ip_address.h"

namespace warren {

// `a` must be IPv4.
inline ns3::Ipv4Address to_ns3_v4(const IpAddress& a) {
  return ns3::Ipv4Address(a.v4_value());
}

// `a` must be IPv6.
inline ns3::Ipv6Address to_ns3_v6(const IpAddress& a) {
  uint8_t bytes[16];
  for (int i = 0; i < 16; ++i) bytes[i] = a.bytes()[i];
  return ns3::Ipv6Address(bytes);
}

inline IpAddress from_ns3(ns3::Ipv4Address a) {
  return IpAddress::v4(a.Get());
}

inline IpAddress from_ns3(const ns3::Ipv6Address& a) {
  uint8_t buf[16];
  a.GetBytes(buf);
  std::array<uint8_t, 16> bytes{};
  for (int i = 0; i < 16; ++i) bytes[i] = buf[i];
  return IpAddress::v6(bytes);
}

// An InetSocketAddress or Inet6SocketAddress for `e`, by its family.
inline ns3::Address to_ns3_socket_address(const Endpoint& e) {
  if (e.address.is_v4()) return ns3::InetSocketAddress(to_ns3_v4(e.address), e.port);
  return ns3::Inet6SocketAddress(to_ns3_v6(e.address), e.port);
}

// The endpoint in an InetSocketAddress / Inet6SocketAddress; nullopt for any other kind.
inline std::optional<Endpoint> from_ns3_socket_address(const ns3::Address& a) {
  if (ns3::InetSocketAddress::IsMatchingType(a)) {
    auto inet = ns3::InetSocketAddress::ConvertFrom(a);
    return Endpoint(from_ns3(inet.GetIpv4()), inet.GetPort());
  }
  if (ns3::Inet6SocketAddress::IsMatchingType(a)) {
    auto inet6 = ns3::Inet6SocketAddress::ConvertFrom(a);
    return Endpoint(from_ns3(inet6.GetIpv6()), inet6.GetPort());
  }
  return std::nullopt;
}

}  // namespace warren
