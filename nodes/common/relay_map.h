// The relay map the control server distributes: regions, each with one or more relays. Shared by
// the control server (config, map messages), relays (mesh peers) and clients (home relay).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nodes/common/x25519.h"
#include "nodes/net/ip_address.h"

namespace warren::control {

struct Relay {
  std::string name;      // unique in the map
  std::string host;      // DNS name or address clients connect to
  uint16_t port = 443;   // relay (stream) port
  std::vector<IpAddress> addresses;  // optional pinned addresses (skip DNS)
  uint16_t stun_port = 3478;         // 0 = no STUN
  bool tls = false;                  // clients connect with https (production issue)
  PublicKey key;                     // the relay's static key; authenticates it to control
};

struct RelayRegion {
  int id = 0;  // 1..65535
  std::string code;
  std::string name;
  std::vector<Relay> relays;
};

struct RelayMap {
  std::vector<RelayRegion> regions;  // ascending id
};

}  // namespace warren::control
