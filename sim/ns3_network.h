// The Network of nodes/net for one ns-3 node: UDP sockets, TCP streams and listeners on the
// node's Internet stack, and its addresses. Binding checks what a real OS checks: the family
// must exist on the node, the address must be unspecified, loopback or one of the node's own,
// and the port free.
//
// The node must outlive this object; sockets it returns may be destroyed at any time.
#pragma once

#include <ns3/node.h>
#include <ns3/ptr.h>

#include "nodes/net/network.h"

namespace warren::sim {

class Ns3Network final : public Network {
 public:
  explicit Ns3Network(ns3::Ptr<ns3::Node> node);

  Result<std::unique_ptr<UdpSocket>> open_udp(const Endpoint& bind) override;
  Result<std::unique_ptr<StreamListener>> listen(const Endpoint& bind) override;
  std::unique_ptr<Stream> connect(const Endpoint& remote) override;
  // Global unicast addresses of the node's interfaces, IPv4 first, sorted, without duplicates
  // (a router carries one address on many interfaces).
  std::vector<IpAddress> local_addresses() const override;

  ns3::Ptr<ns3::Node> GetNode() const { return node_; }

 private:
  bool HasFamily(Family family) const;
  Status CheckBindable(const Endpoint& bind, const char* what) const;

  ns3::Ptr<ns3::Node> node_;
};

}  // namespace warren::sim
