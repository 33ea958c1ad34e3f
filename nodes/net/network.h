// The sockets a host offers protocol code. Implemented by nodes/real (the OS), sim/ (ns-3)
// and tests/support (an in-memory network with a manual clock).
#pragma once

#include <memory>
#include <vector>

#include "nodes/net/endpoint.h"
#include "nodes/net/result.h"
#include "nodes/net/stream.h"
#include "nodes/net/udp_socket.h"

namespace warren {

class Network {
 public:
  virtual ~Network() = default;
  // Binds a UDP socket; port 0 picks a free port. Errors: address not on this host, port in
  // use, family not available on this host.
  virtual Result<std::unique_ptr<UdpSocket>> open_udp(const Endpoint& bind) = 0;
  virtual Result<std::unique_ptr<StreamListener>> listen(const Endpoint& bind) = 0;
  // Starts connecting and returns at once; the result arrives as on_connected or on_closed.
  virtual std::unique_ptr<Stream> connect(const Endpoint& remote) = 0;
  // This host's unicast addresses, loopback and link-local excluded, in a stable order.
  virtual std::vector<IpAddress> local_addresses() const = 0;
};

}  // namespace warren
