#include "nodes/real/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "nodes/real/asio_endpoint.h"

namespace warren {
namespace {

std::string quoted(std::string_view text) {
  constexpr size_t kMaxShown = 80;  // keep hostile input from flooding the message
  return "'" + std::string(text.substr(0, kMaxShown)) + (text.size() > kMaxShown ? "...'" : "'");
}

}  // namespace

Result<std::vector<IpAddress>> resolve_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return make_error("cannot resolve an empty host name");
  if (auto literal = IpAddress::parse(host)) return std::vector<IpAddress>{literal->unmap()};
  const std::string name(host);
  if (name.find('\0') != std::string::npos) {
    return make_error("cannot resolve " + quoted(host) + ": it contains a NUL byte");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;  // one entry per address instead of one per socket type
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
  if (rc != 0) return make_error("cannot resolve " + quoted(host) + ": " + gai_strerror(rc));
  std::vector<IpAddress> out;
  for (addrinfo* i = list; i != nullptr && out.size() < kMaxResolvedAddresses; i = i->ai_next) {
    Endpoint e;
    if (i->ai_addr == nullptr || !from_sockaddr(i->ai_addr, i->ai_addrlen, e)) continue;
    const IpAddress a = e.address.unmap();
    if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  ::freeaddrinfo(list);
  if (out.empty())
    return make_error("cannot resolve " + quoted(host) + ": no IPv4 or IPv6 address");
  return out;
}

Result<Endpoint> resolve_endpoint(std::string_view host_port, Family preferred) {
  std::string_view host, port;
  if (!host_port.empty() && host_port.front() == '[') {
    const size_t close = host_port.find(']');
    if (close == std::string_view::npos || close + 1 >= host_port.size() ||
        host_port[close + 1] != ':') {
      return make_error(quoted(host_port) + " is not HOST:PORT (expected e.g. [2001:db8::1]:3478)");
    }
    host = host_port.substr(1, close - 1);
    port = host_port.substr(close + 2);
  } else {
    const size_t colon = host_port.rfind(':');
    if (colon == std::string_view::npos) {
      return make_error(quoted(host_port) +
                        " has no port (expected HOST:PORT, e.g. stun.example.org:3478)");
    }
    if (host_port.find(':') != colon) {
      return make_error(quoted(host_port) +
                        ": put IPv6 addresses in brackets, e.g. [2001:db8::1]:3478");
    }
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
  }
  if (host.empty()) return make_error(quoted(host_port) + " has no host before the port");
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return make_error(quoted(host_port) + " has no valid port (expected 0-65535)");
  }
  const unsigned long port_value = std::stoul(std::string(port));
  if (port_value > 65535) {
    return make_error(quoted(host_port) + ": port " + std::string(port) +
                      " is out of range (0-65535)");
  }
  auto addresses = resolve_host(host);
  if (!addresses) return addresses.error();
  IpAddress chosen = addresses->front();
  for (const IpAddress& a : *addresses) {
    if (a.family() == preferred) {
      chosen = a;
      break;
    }
  }
  return Endpoint(chosen, static_cast<uint16_t>(port_value));
}

}  // namespace warren
