// Conversions between warren's address types and Boost.Asio's / the socket API's.
// Internal to nodes/real.
#pragma once

#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/basic_endpoint.hpp>

#include "nodes/net/endpoint.h"

namespace warren {

boost::asio::ip::address to_asio(const IpAddress& address);
IpAddress from_asio(const boost::asio::ip::address& address);

template <typename Protocol>
boost::asio::ip::basic_endpoint<Protocol> to_asio_endpoint(const Endpoint& e) {
  return boost::asio::ip::basic_endpoint<Protocol>(to_asio(e.address), e.port);
}

template <typename Protocol>
Endpoint from_asio_endpoint(const boost::asio::ip::basic_endpoint<Protocol>& e) {
  return Endpoint(from_asio(e.address()), e.port());
}

// Fills `out` from `e`; returns the length to pass to the socket call.
socklen_t to_sockaddr(const Endpoint& e, sockaddr_storage& out);
// False if `sa` is neither AF_INET nor AF_INET6 or `length` is too short.
bool from_sockaddr(const sockaddr* sa, socklen_t length, Endpoint& out);

}  // namespace warren
