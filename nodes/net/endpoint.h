// An IP address and a port: "192.0.2.1:3478" or "[2001:db8::1]:3478".
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "nodes/net/ip_address.h"

namespace warren {

struct Endpoint {
  IpAddress address;
  uint16_t port = 0;

  Endpoint() = default;
  Endpoint(IpAddress a, uint16_t p) : address(a), port(p) {}
  // "a.b.c.d:port" or "[v6]:port"; the port is required and must be 0..65535.
  static Result<Endpoint> parse(std::string_view text);

  Family family() const { return address.family(); }
  std::string to_string() const;

  bool operator==(const Endpoint& o) const { return address == o.address && port == o.port; }
  bool operator!=(const Endpoint& o) const { return !(*this == o); }
  bool operator<(const Endpoint& o) const {
    return address != o.address ? address < o.address : port < o.port;
  }
};

}  // namespace warren

template <>
struct std::hash<warren::Endpoint> {
  size_t operator()(const warren::Endpoint& e) const noexcept {
    return std::hash<warren::IpAddress>()(e.address) * 31 + e.port;
  }
};
