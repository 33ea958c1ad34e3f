// The real backend's Network: OS sockets on one io_context. Single-threaded: use it only from
// the loop's thread. Sockets, listeners and streams must be destroyed before the io_context.
#pragma once

#include <boost/asio/io_context.hpp>

#include "nodes/net/network.h"

namespace warren {

class RealNetwork final : public Network {
 public:
  explicit RealNetwork(boost::asio::io_context& io) : io_(io) {}

  Result<std::unique_ptr<UdpSocket>> open_udp(const Endpoint& bind) override;
  Result<std::unique_ptr<StreamListener>> listen(const Endpoint& bind) override;
  std::unique_ptr<Stream> connect(const Endpoint& remote) override;
  // Addresses of interfaces that are up, without loopback and link-local, sorted.
  std::vector<IpAddress> local_addresses() const override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace warren
