// The real backend's UDP socket: an asio socket used for readiness only, with recvmsg/sendmsg
// so that each datagram reports the local address it arrived on (IP_PKTINFO /
// IPV6_RECVPKTINFO) even on a wildcard bind. IPv6 sockets are IPV6_V6ONLY. Single-threaded.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "nodes/net/udp_socket.h"

namespace warren {

class RealUdpSocket final : public UdpSocket {
 public:
  // Datagrams read per readiness wakeup before other sockets and timers get a turn.
  static constexpr size_t kMaxDatagramsPerWakeup = 64;
  // Larger than any UDP payload over IPv4 or (non-jumbo) IPv6; truncated reads are dropped.
  static constexpr size_t kReceiveBufferSize = 65536;

  // Errors name the address: "cannot bind 192.0.2.1:3478: Address already in use".
  static Result<std::unique_ptr<UdpSocket>> open(boost::asio::io_context& io, const Endpoint& bind);
  ~RealUdpSocket() override;

  Endpoint local_endpoint() const override;
  // Never blocks. A full send buffer is an error ("send buffer full") the caller counts as a
  // drop.
  Status send_to(const Endpoint& to, ByteView payload) override;
  void set_receive_handler(ReceiveHandler handler) override;

  struct State;  // shared with the pending readiness wait

 private:
  explicit RealUdpSocket(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace warren
