// A CIDR prefix ("100.64.0.0/10", "fd7a:115c:a1e0::/48"). Host bits must be zero when parsed;
// `containing` builds the prefix of a given length around any address.
#pragma once

#include <string>
#include <string_view>

#include "nodes/net/ip_address.h"

namespace warren {

class Prefix {
 public:
  Prefix() = default;
  // Rejects lengths beyond the family's width and addresses with host bits set.
  static Result<Prefix> parse(std::string_view text);
  static Result<Prefix> make(IpAddress network, int length);
  // The prefix of `length` bits that contains `address` (host bits cleared).
  static Prefix containing(IpAddress address, int length);

  const IpAddress& network() const { return network_; }
  int length() const { return length_; }
  Family family() const { return network_.family(); }
  bool contains(const IpAddress& a) const;
  // The address `offset` hosts past the network address, or an error if it leaves the prefix.
  Result<IpAddress> host(uint64_t offset) const;
  std::string to_string() const;

  bool operator==(const Prefix& o) const { return network_ == o.network_ && length_ == o.length_; }
  bool operator!=(const Prefix& o) const { return !(*this == o); }
  bool operator<(const Prefix& o) const {
    return network_ != o.network_ ? network_ < o.network_ : length_ < o.length_;
  }

 private:
  IpAddress network_;
  int length_ = 0;
};

}  // namespace warren
