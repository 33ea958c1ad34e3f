// Shared fixtures for the NAT tests: addresses from the documentation ranges, a manual clock
// as plain Timestamps, and config builders.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "nat-models/flow.h"
#include "nat-models/nat_config.h"
#include "nodes/net/endpoint.h"
#include "nodes/net/time.h"

namespace warren::nat::testing {

inline Endpoint ep(std::string_view text) {
  Result<Endpoint> e = Endpoint::parse(text);
  EXPECT_TRUE(e.ok()) << text;
  return e.ok() ? *e : Endpoint();
}

// The manual clock: seconds (and nanoseconds) since the start of the test.
inline Timestamp at_s(int64_t s) {
  return Timestamp() + Duration::seconds(s);
}
inline Timestamp at_ns(int64_t ns) {
  return Timestamp::from_ns(ns);
}

inline const IpAddress kNatAddress = IpAddress::v4(192, 0, 2, 1);
inline const IpAddress kNatAddress2 = IpAddress::v4(192, 0, 2, 2);

inline NatConfig make_config(Behaviour mapping, Behaviour filtering,
                             PortAssignment ports = PortAssignment::preserve) {
  NatConfig c;
  c.mapping = mapping;
  c.filtering = filtering;
  c.ports = ports;
  c.external_addresses = {kNatAddress};
  return c;
}

inline TcpFlags tcp_flags(bool syn, bool ack, bool fin = false, bool rst = false) {
  TcpFlags f;
  f.syn = syn;
  f.ack = ack;
  f.fin = fin;
  f.rst = rst;
  return f;
}
inline const TcpFlags kSyn = tcp_flags(true, false);
inline const TcpFlags kSynAck = tcp_flags(true, true);
inline const TcpFlags kAck = tcp_flags(false, true);
inline const TcpFlags kFinAck = tcp_flags(false, true, true);
inline const TcpFlags kRst = tcp_flags(false, false, false, true);

inline NatConfig with_address(NatConfig c) {
  c.external_addresses = {kNatAddress};
  return c;
}

}  // namespace warren::nat::testing
