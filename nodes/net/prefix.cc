#include "nodes/net/prefix.h"

namespace warren {
namespace {

int width(Family f) { return f == Family::ipv4 ? 32 : 128; }

std::array<uint8_t, 16> masked(const IpAddress& a, int length) {
  std::array<uint8_t, 16> b{};
  for (size_t i = 0; i < a.size(); ++i) {
    int bits = length - static_cast<int>(i) * 8;
    uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
    b[i] = a.bytes()[i] & mask;
  }
  return b;
}

IpAddress from_bytes(Family f, const std::array<uint8_t, 16>& b) {
  if (f == Family::ipv6) return IpAddress::v6(b);
  return IpAddress::v4(b[0], b[1], b[2], b[3]);
}

}  // namespace

Result<Prefix> Prefix::make(IpAddress network, int length) {
  if (length < 0 || length > width(network.family())) {
    return make_error("prefix length " + std::to_string(length) + " is out of range for " +
                      warren::to_string(network.family()));
  }
  if (from_bytes(network.family(), masked(network, length)) != network) {
    return make_error(network.to_string() + "/" + std::to_string(length) +
                      " has host bits set; did you mean " +
                      containing(network, length).to_string() + "?");
  }
  Prefix p;
  p.network_ = network;
  p.length_ = length;
  return p;
}

Prefix Prefix::containing(IpAddress address, int length) {
  if (length < 0) length = 0;
  if (length > width(address.family())) length = width(address.family());
  Prefix p;
  p.network_ = from_bytes(address.family(), masked(address, length));
  p.length_ = length;
  return p;
}

Result<Prefix> Prefix::parse(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return make_error("'" + std::string(text.substr(0, 80)) +
                      "' is not a prefix (expected ADDRESS/LENGTH, e.g. 100.64.0.0/10)");
  }
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return addr.error();
  std::string_view len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3) {
    return make_error("'" + std::string(text.substr(0, 80)) + "' has no valid prefix length");
  }
  int v = 0;
  for (char c : len) {
    if (c < '0' || c > '9') {
      return make_error("'" + std::string(text.substr(0, 80)) + "' has no valid prefix length");
    }
    v = v * 10 + (c - '0');
  }
  return make(*addr, v);
}

bool Prefix::contains(const IpAddress& a) const {
  if (a.family() != family()) return false;
  return from_bytes(a.family(), masked(a, length_)) == network_;
}

Result<IpAddress> Prefix::host(uint64_t offset) const {
  int host_bits = width(family()) - length_;
  if (host_bits < 64 && offset >> host_bits != 0) {
    return make_error("host " + std::to_string(offset) + " does not fit in " + to_string());
  }
  std::array<uint8_t, 16> b{};
  for (size_t i = 0; i < network_.size(); ++i) b[i] = network_.bytes()[i];
  // Add offset into the low-order bytes with carry.
  uint64_t carry = offset;
  for (int i = static_cast<int>(network_.size()) - 1; i >= 0 && carry != 0; --i) {
    uint64_t sum = b[i] + (carry & 0xff);
    b[i] = static_cast<uint8_t>(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  return from_bytes(family(), b);
}

std::string Prefix::to_string() const {
  return network_.to_string() + "/" + std::to_string(length_);
}

}  // namespace warren
