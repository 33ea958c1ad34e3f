#include "nodes/real/asio_endpoint.h"

#include <netinet/in.h>

#include <cstring>

namespace warren {

boost::asio::ip::address to_asio(const IpAddress& address) {
  if (address.is_v4()) return boost::asio::ip::address_v4(address.v4_value());
  boost::asio::ip::address_v6::bytes_type bytes;
  std::memcpy(bytes.data(), address.bytes(), 16);
  return boost::asio::ip::address_v6(bytes);
}

IpAddress from_asio(const boost::asio::ip::address& address) {
  if (address.is_v4()) return IpAddress::v4(address.to_v4().to_uint());
  auto bytes = address.to_v6().to_bytes();
  std::array<uint8_t, 16> out;
  std::memcpy(out.data(), bytes.data(), 16);
  return IpAddress::v6(out);
}

socklen_t to_sockaddr(const Endpoint& e, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (e.address.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.port);
    std::memcpy(&sin->sin_addr, e.address.bytes(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(e.port);
  std::memcpy(&sin6->sin6_addr, e.address.bytes(), 16);
  return sizeof(sockaddr_in6);
}

bool from_sockaddr(const sockaddr* sa, socklen_t length, Endpoint& out) {
  if (sa->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    uint8_t b[4];
    std::memcpy(b, &sin->sin_addr, 4);
    out = Endpoint(IpAddress::v4(b[0], b[1], b[2], b[3]), ntohs(sin->sin_port));
    return true;
  }
  if (sa->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::array<uint8_t, 16> b;
    std::memcpy(b.data(), &sin6->sin6_addr, 16);
    out = Endpoint(IpAddress::v6(b), ntohs(sin6->sin6_port));
    return true;
  }
  return false;
}

}  // namespace warren
