// UdpSocket over an ns-3 UDP socket (UdpSocketFactory) of one node, IPv4 or IPv6 by the bind
// family. Datagrams are received with RecvPktInfo so the handler learns the concrete local
// address even for a wildcard bind. IPv6 sockets see only IPv6 traffic: ns-3 keeps separate
// IPv4 and IPv6 endpoint tables.
//
// Lifetime: ns-3 calls back into a reference-counted core, never into this object. Destroying
// the socket detaches the core and closes the ns-3 socket, so no handler runs afterwards, even
// when the handler itself destroys the socket.
#pragma once

#include <memory>

#include <ns3/node.h>
#include <ns3/ptr.h>

#include "nodes/net/udp_socket.h"

namespace warren::sim {

class Ns3UdpSocket final : public UdpSocket {
 public:
  // Binds on `node`. The caller (Ns3Network) has checked that the family exists on the node
  // and the address is one of its own. Errors: port in use, or ns-3 refused the bind.
  static Result<std::unique_ptr<UdpSocket>> Open(ns3::Ptr<ns3::Node> node, const Endpoint& bind);
  ~Ns3UdpSocket() override;

  Endpoint local_endpoint() const override;
  Status send_to(const Endpoint& to, ByteView payload) override;
  void set_receive_handler(ReceiveHandler handler) override;

  class Core;  // the part ns-3 calls back into; defined in the .cc

 private:
  explicit Ns3UdpSocket(ns3::Ptr<Core> core);
  ns3::Ptr<Core> core_;
};

}  // namespace warren::sim
