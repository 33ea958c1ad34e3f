// A bound UDP socket of one address family (IPv6 sockets never carry IPv4-mapped traffic, in
// every backend). Destroying the socket closes it; no handler runs after that.
#pragma once

#include <functional>

#include "nodes/net/bytes.h"
#include "nodes/net/endpoint.h"
#include "nodes/net/result.h"

namespace warren {

class UdpSocket {
 public:
  // `from`: the sender. `local`: the address and port the datagram arrived on, which for a
  // socket bound to 0.0.0.0 or :: is the concrete local address. `payload` is valid only
  // during the call.
  using ReceiveHandler =
      std::function<void(const Endpoint& from, const Endpoint& local, ByteView payload)>;

  virtual ~UdpSocket() = default;
  // The bound address and port (the port the system chose, if bound to port 0).
  virtual Endpoint local_endpoint() const = 0;
  // Success means the datagram appears to have been sent; UDP gives no delivery promise.
  // Errors: family mismatch with the socket, no route, send buffer full (a counted drop).
  virtual Status send_to(const Endpoint& to, ByteView payload) = 0;
  // Datagrams that arrive before a handler is set are dropped. The handler may destroy the
  // socket.
  virtual void set_receive_handler(ReceiveHandler handler) = 0;
};

}  // namespace warren
