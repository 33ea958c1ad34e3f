// IPv4 and IPv6 addresses as values. Parsing takes untrusted text and returns an error that
// names the offending input; formatting follows RFC 5952 (lower case, longest zero run as ::).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "nodes/net/result.h"

namespace warren {

enum class Family : uint8_t { ipv4 = 4, ipv6 = 6 };
const char* to_string(Family f);  // "ipv4" / "ipv6"
Result<Family> parse_family(std::string_view text);

class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0
  static IpAddress v4(uint32_t host_order);
  static IpAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
  static IpAddress v6(const std::array<uint8_t, 16>& bytes);
  static IpAddress any(Family f);       // 0.0.0.0 or ::
  static IpAddress loopback(Family f);  // 127.0.0.1 or ::1
  // Accepts dotted quad ("192.0.2.1") or RFC 4291 text ("2001:db8::1", "::ffff:192.0.2.1").
  static Result<IpAddress> parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::ipv4; }
  bool is_v6() const { return family_ == Family::ipv6; }
  uint32_t v4_value() const;  // host order; only for IPv4
  // 4 bytes for IPv4, 16 for IPv6, network order.
  const uint8_t* bytes() const { return bytes_.data(); }
  size_t size() const { return is_v4() ? 4 : 16; }
  bool is_unspecified() const;
  bool is_loopback() const;
  bool is_link_local() const;  // 169.254/16, fe80::/10
  bool is_multicast() const;   // 224/4, ff00::/8
  bool is_v4_mapped() const;   // ::ffff:a.b.c.d
  IpAddress unmap() const;     // ::ffff:a.b.c.d -> a.b.c.d; others unchanged

  std::string to_string() const;

  bool operator==(const IpAddress& o) const {
    return family_ == o.family_ && bytes_ == o.bytes_;
  }
  bool operator!=(const IpAddress& o) const { return !(*this == o); }
  bool operator<(const IpAddress& o) const {
    return family_ != o.family_ ? family_ < o.family_ : bytes_ < o.bytes_;
  }

 private:
  Family family_ = Family::ipv4;
  std::array<uint8_t, 16> bytes_{};  // IPv4 uses the first 4
};

}  // namespace warren

template <>
struct std::hash<warren::IpAddress> {
  size_t operator()(const warren::IpAddress& a) const noexcept {
    uint64_t h = static_cast<uint64_t>(a.family()) * 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < a.size(); ++i) h = (h ^ a.bytes()[i]) * 0x100000001B3ull;
    return static_cast<size_t>(h);
  }
};
