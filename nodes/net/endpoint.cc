#include "nodes/net/endpoint.h"

namespace warren {
namespace {

Result<uint16_t> parse_port(std::string_view s, std::string_view whole) {
  if (s.empty() || s.size() > 5) {
    return make_error("'" + std::string(whole.substr(0, 80)) + "' has no valid port");
  }
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return make_error("'" + std::string(whole.substr(0, 80)) + "' has a non-numeric port");
    }
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return make_error("port " + std::string(s) + " is out of range (0..65535)");
  return static_cast<uint16_t>(v);
}

}  // namespace

Result<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return make_error("'" + std::string(text.substr(0, 80)) +
                        "' is not an endpoint (expected [2001:db8::1]:PORT)");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return make_error("'" + std::string(text.substr(0, 80)) +
                        "' is not an endpoint (expected ADDRESS:PORT, e.g. 192.0.2.1:3478)");
    }
    if (text.find(':') != colon) {
      return make_error("'" + std::string(text.substr(0, 80)) +
                        "': put IPv6 addresses in brackets, e.g. [2001:db8::1]:3478");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto addr = IpAddress::parse(host);
  if (!addr) return addr.error();
  auto p = parse_port(port, text);
  if (!p) return p.error();
  if (addr->is_v4() && !host.empty() && text[0] == '[') {
    return make_error("'" + std::string(text.substr(0, 80)) + "': brackets are for IPv6 only");
  }
  return Endpoint(*addr, *p);
}

std::string Endpoint::to_string() const {
  if (address.is_v6()) return "[" + address.to_string() + "]:" + std::to_string(port);
  return address.to_string() + ":" + std::to_string(port);
}

}  // namespace warren
