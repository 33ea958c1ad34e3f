#include "sim/ns3_network.h"

#include <algorithm>

#include <ns3/ipv4.h>
#include <ns3/ipv6.h>

#include "nat-models/ns3/ns3_address.h"
#include "sim/ns3_stream.h"
#include "sim/ns3_stream_listener.h"
#include "sim/ns3_udp_socket.h"

namespace warren::sim {

namespace {

// Every address configured on the node's interfaces, link-local and loopback included.
std::vector<IpAddress> AllAddresses(const ns3::Ptr<ns3::Node>& node) {
  std::vector<IpAddress> out;
  if (auto ipv4 = node->GetObject<ns3::Ipv4>()) {
    for (uint32_t i = 0; i < ipv4->GetNInterfaces(); ++i) {
      for (uint32_t j = 0; j < ipv4->GetNAddresses(i); ++j) {
        out.push_back(from_ns3(ipv4->GetAddress(i, j).GetLocal()));
      }
    }
  }
  if (auto ipv6 = node->GetObject<ns3::Ipv6>()) {
    for (uint32_t i = 0; i < ipv6->GetNInterfaces(); ++i) {
      for (uint32_t j = 0; j < ipv6->GetNAddresses(i); ++j) {
        out.push_back(from_ns3(ipv6->GetAddress(i, j).GetAddress()));
      }
    }
  }
  return out;
}

}  // namespace

Ns3Network::Ns3Network(ns3::Ptr<ns3::Node> node) : node_(std::move(node)) {}

bool Ns3Network::HasFamily(Family family) const {
  return family == Family::ipv4 ? node_->GetObject<ns3::Ipv4>() != nullptr
                                : node_->GetObject<ns3::Ipv6>() != nullptr;
}

Status Ns3Network::CheckBindable(const Endpoint& bind, const char* what) const {
  if (!HasFamily(bind.family())) {
    return make_error(std::string("cannot bind ") + what + " " + bind.to_string() +
                      ": this host has no " + to_string(bind.family()) +
                      " stack; bind an address of a family the host has");
  }
  const IpAddress& a = bind.address;
  if (a.is_unspecified() || a.is_loopback()) return Status::success();
  std::vector<IpAddress> mine = AllAddresses(node_);
  if (std::find(mine.begin(), mine.end(), a) == mine.end()) {
    return make_error(std::string("cannot bind ") + what + " " + bind.to_string() +
                      ": address not on this host; bind the unspecified address or one of " +
                      "local_addresses()");
  }
  return Status::success();
}

Result<std::unique_ptr<UdpSocket>> Ns3Network::open_udp(const Endpoint& bind) {
  if (Status s = CheckBindable(bind, "UDP"); !s.ok()) return s.error();
  return Ns3UdpSocket::Open(node_, bind);
}

Result<std::unique_ptr<StreamListener>> Ns3Network::listen(const Endpoint& bind) {
  if (Status s = CheckBindable(bind, "TCP"); !s.ok()) return s.error();
  return Ns3StreamListener::Open(node_, bind);
}

std::unique_ptr<Stream> Ns3Network::connect(const Endpoint& remote) {
  return Ns3Stream::Connect(node_, remote);
}

std::vector<IpAddress> Ns3Network::local_addresses() const {
  std::vector<IpAddress> out;
  for (const IpAddress& a : AllAddresses(node_)) {
    if (a.is_unspecified() || a.is_loopback() || a.is_link_local() || a.is_multicast()) continue;
    out.push_back(a);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace warren::sim
