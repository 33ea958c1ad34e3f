#include "nodes/real/real_network.h"

#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>

#include "nodes/real/asio_endpoint.h"
#include "nodes/real/real_stream.h"
#include "nodes/real/real_stream_listener.h"
#include "nodes/real/real_udp_socket.h"

namespace warren {

Result<std::unique_ptr<UdpSocket>> RealNetwork::open_udp(const Endpoint& bind) {
  return RealUdpSocket::open(io_, bind);
}

Result<std::unique_ptr<StreamListener>> RealNetwork::listen(const Endpoint& bind) {
  return RealStreamListener::open(io_, bind);
}

std::unique_ptr<Stream> RealNetwork::connect(const Endpoint& remote) {
  return RealStream::connect(io_, remote);
}

std::vector<IpAddress> RealNetwork::local_addresses() const {
  std::vector<IpAddress> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;  // no interfaces we can see: no addresses
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0 ||
        (i->ifa_flags & IFF_LOOPBACK) != 0) {
      continue;
    }
    const socklen_t length =
        i->ifa_addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    Endpoint e;
    if (!from_sockaddr(i->ifa_addr, length, e)) continue;
    const IpAddress& a = e.address;
    if (a.is_loopback() || a.is_link_local() || a.is_unspecified() || a.is_multicast()) continue;
    out.push_back(a);
  }
  ::freeifaddrs(list);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace warren
