#include "nodes/net/ip_address.h"

#include <cstdio>
#include <vector>

namespace warren {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses exactly a dotted quad into out[0..3]; no leading zeros beyond a single "0" (as
// inet_pton), so "010.0.0.1" is not silently read as octal or decimal.
bool parse_dotted_quad(std::string_view s, uint8_t* out) {
  int part = 0;
  size_t i = 0;
  while (part < 4) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    if (s[i] == '0' && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') return false;
    int v = 0;
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) {
      v = v * 10 + (s[i] - '0');
      ++i;
      ++digits;
    }
    if (digits > 3 || v > 255) return false;
    out[part++] = static_cast<uint8_t>(v);
    if (part < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  return i == s.size();
}

bool parse_v6(std::string_view s, std::array<uint8_t, 16>& out) {
  // Split into groups around "::"; at most one "::" is allowed.
  std::vector<uint16_t> head, tail;
  bool seen_gap = false;
  size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    seen_gap = true;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return false;
  }
  bool embedded_v4 = false;
  uint8_t v4[4] = {};
  while (i < s.size()) {
    // Look ahead: an embedded IPv4 tail contains '.' before the next ':'.
    size_t end = s.find(':', i);
    std::string_view group = s.substr(i, end == std::string_view::npos ? s.size() - i : end - i);
    if (group.find('.') != std::string_view::npos) {
      if (end != std::string_view::npos || !parse_dotted_quad(group, v4)) return false;
      embedded_v4 = true;
      i = s.size();
      break;
    }
    if (group.empty() || group.size() > 4) return false;
    uint16_t v = 0;
    for (char c : group) {
      int h = hex_value(c);
      if (h < 0) return false;
      v = static_cast<uint16_t>(v << 4 | h);
    }
    (seen_gap ? tail : head).push_back(v);
    if (end == std::string_view::npos) {
      i = s.size();
      break;
    }
    i = end + 1;
    if (i < s.size() && s[i] == ':') {
      if (seen_gap) return false;
      seen_gap = true;
      ++i;
    } else if (i == s.size()) {
      return false;  // trailing single ':'
    }
  }
  size_t groups = head.size() + tail.size() + (embedded_v4 ? 2 : 0);
  if (groups > 8 || (!seen_gap && groups != 8) || (seen_gap && groups == 8)) return false;
  out.fill(0);
  size_t pos = 0;
  for (uint16_t g : head) {
    out[pos++] = static_cast<uint8_t>(g >> 8);
    out[pos++] = static_cast<uint8_t>(g);
  }
  pos = 16 - tail.size() * 2 - (embedded_v4 ? 4 : 0);
  for (uint16_t g : tail) {
    out[pos++] = static_cast<uint8_t>(g >> 8);
    out[pos++] = static_cast<uint8_t>(g);
  }
  if (embedded_v4) {
    for (int k = 0; k < 4; ++k) out[12 + k] = v4[k];
  }
  return true;
}

}  // namespace

const char* to_string(Family f) { return f == Family::ipv4 ? "ipv4" : "ipv6"; }

Result<Family> parse_family(std::string_view text) {
  if (text == "ipv4") return Family::ipv4;
  if (text == "ipv6") return Family::ipv6;
  return make_error("unknown address family '" + std::string(text) + "' (use ipv4 or ipv6)");
}

IpAddress IpAddress::v4(uint32_t host_order) {
  IpAddress a;
  a.family_ = Family::ipv4;
  a.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return v4(uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d);
}

IpAddress IpAddress::v6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = Family::ipv6;
  a.bytes_ = bytes;
  return a;
}

IpAddress IpAddress::any(Family f) {
  return f == Family::ipv4 ? IpAddress() : v6(std::array<uint8_t, 16>{});
}

IpAddress IpAddress::loopback(Family f) {
  if (f == Family::ipv4) return v4(127, 0, 0, 1);
  std::array<uint8_t, 16> b{};
  b[15] = 1;
  return v6(b);
}

Result<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    std::array<uint8_t, 16> b;
    if (text.size() <= 45 && parse_v6(text, b)) return v6(b);
    return make_error("'" + std::string(text.substr(0, 64)) + "' is not a valid IPv6 address");
  }
  uint8_t q[4];
  if (parse_dotted_quad(text, q)) return v4(q[0], q[1], q[2], q[3]);
  return make_error("'" + std::string(text.substr(0, 64)) +
                    "' is not a valid IP address (expected e.g. 192.0.2.1 or 2001:db8::1)");
}

uint32_t IpAddress::v4_value() const {
  return uint32_t{bytes_[0]} << 24 | uint32_t{bytes_[1]} << 16 | uint32_t{bytes_[2]} << 8 |
         bytes_[3];
}

bool IpAddress::is_unspecified() const {
  for (size_t i = 0; i < size(); ++i)
    if (bytes_[i] != 0) return false;
  return true;
}

bool IpAddress::is_loopback() const {
  if (is_v4()) return bytes_[0] == 127;
  return *this == loopback(Family::ipv6);
}

bool IpAddress::is_link_local() const {
  if (is_v4()) return bytes_[0] == 169 && bytes_[1] == 254;
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}

bool IpAddress::is_multicast() const {
  if (is_v4()) return (bytes_[0] & 0xf0) == 0xe0;
  return bytes_[0] == 0xff;
}

bool IpAddress::is_v4_mapped() const {
  if (!is_v6()) return false;
  for (int i = 0; i < 10; ++i)
    if (bytes_[i] != 0) return false;
  return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

IpAddress IpAddress::unmap() const {
  if (!is_v4_mapped()) return *this;
  return v4(bytes_[12], bytes_[13], bytes_[14], bytes_[15]);
}

std::string IpAddress::to_string() const {
  char buf[64];
  if (is_v4()) {
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
    return buf;
  }
  uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<uint16_t>(bytes_[2 * i] << 8 | bytes_[2 * i + 1]);
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first one on ties.
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  if (is_v4_mapped()) {
    std::snprintf(buf, sizeof buf, "::ffff:%u.%u.%u.%u", bytes_[12], bytes_[13], bytes_[14],
                  bytes_[15]);
    return buf;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    out += buf;
  }
  return out;
}

}  // namespace warren
