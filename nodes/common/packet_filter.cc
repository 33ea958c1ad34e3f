#include "nodes/common/packet_filter.h"

#include <algorithm>

#include "nodes/common/json_checks.h"

namespace warren::control {
namespace {

using json_checks::error_at;
using json_checks::in_quotes;
using json_checks::type_name;
using nlohmann::json;

// Longer strings are never a prefix, port range or protocol; cuts quoted input in messages.
constexpr size_t kMaxQuotedChars = 60;

std::string quoted(const std::string& s) {
  return in_quotes(s.size() > kMaxQuotedChars ? s.substr(0, kMaxQuotedChars) + "..." : s);
}

struct ProtoName {
  uint8_t number;
  const char* name;
};
constexpr ProtoName kProtoNames[] = {
    {kProtoIcmp, "icmp"},        {kProtoTcp, "tcp"},   {kProtoUdp, "udp"},
    {kProtoIcmpV6, "ipv6-icmp"}, {kProtoSctp, "sctp"},
};

std::string where_of(size_t rule, const char* field) {
  return "packet_filter[" + std::to_string(rule) + "]." + field;
}

bool parse_port(std::string_view s, uint16_t& out) {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

Result<PortRange> parse_ports(const json& v, const std::string& where) {
  if (!v.is_string()) return error_at(where, std::string("expected a string, got ") + type_name(v));
  const std::string& s = v.get_ref<const std::string&>();
  if (s == "*") return PortRange{};
  size_t dash = s.find('-');
  PortRange r;
  bool ok = dash == std::string::npos
                ? parse_port(s, r.first) && (r.last = r.first, true)
                : parse_port(std::string_view(s).substr(0, dash), r.first) &&
                      parse_port(std::string_view(s).substr(dash + 1), r.last);
  if (!ok) {
    return error_at(where, quoted(s) +
                               " is not a port range (expected \"*\", \"N\" or \"N-M\" "
                               "with ports 0-65535)");
  }
  if (r.first > r.last) return error_at(where, quoted(s) + " ends before it starts");
  return r;
}

std::string ports_text(const PortRange& r) {
  if (r.first == 0 && r.last == 65535) return "*";
  if (r.first == r.last) return std::to_string(r.first);
  return std::to_string(r.first) + "-" + std::to_string(r.last);
}

Result<Prefix> parse_prefix(const json& v, const std::string& where) {
  if (!v.is_string()) return error_at(where, std::string("expected a string, got ") + type_name(v));
  auto p = Prefix::parse(v.get_ref<const std::string&>());
  if (!p) return error_at(where, p.error().message);
  return *p;
}

Result<uint8_t> parse_proto(const json& v, const std::string& where) {
  if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= 255) {
    return static_cast<uint8_t>(v.get<int64_t>());
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    for (const ProtoName& p : kProtoNames) {
      if (s == p.name) return p.number;
    }
    uint16_t n = 0;
    if (parse_port(s, n) && n <= 255) return static_cast<uint8_t>(n);
  }
  std::string shown = v.is_string()   ? quoted(v.get<std::string>())
                      : v.is_number() ? v.dump()
                                      : std::string(type_name(v));
  return error_at(where, shown +
                             " is not a protocol (expected tcp, udp, icmp, ipv6-icmp, sctp or a "
                             "number 0-255)");
}

Result<FilterRule> parse_rule(const json& j, size_t index) {
  if (!j.is_object()) {
    return error_at("packet_filter[" + std::to_string(index) + "]",
                    std::string("expected an object, got ") + type_name(j));
  }
  if (Status st = json_checks::check_keys(j, "packet_filter[" + std::to_string(index) + "]",
                                          {"src", "dst", "proto"});
      !st.ok()) {
    return st.error();
  }
  FilterRule rule;

  auto src = j.find("src");
  if (src == j.end() || !src->is_array()) {
    return error_at(
        where_of(index, "src"),
        src == j.end() ? "missing" : std::string("expected an array, got ") + type_name(*src));
  }
  for (size_t i = 0; i < src->size(); ++i) {
    const json& s = (*src)[i];
    std::string where = where_of(index, "src") + "[" + std::to_string(i) + "]";
    if (s.is_string() && s.get_ref<const std::string&>() == "*") {
      rule.any_source = true;
      continue;
    }
    auto p = parse_prefix(s, where);
    if (!p) return p.error();
    rule.sources.push_back(*p);
  }
  if (rule.any_source) rule.sources.clear();
  std::sort(rule.sources.begin(), rule.sources.end());
  rule.sources.erase(std::unique(rule.sources.begin(), rule.sources.end()), rule.sources.end());

  auto dst = j.find("dst");
  if (dst == j.end() || !dst->is_array()) {
    return error_at(
        where_of(index, "dst"),
        dst == j.end() ? "missing" : std::string("expected an array, got ") + type_name(*dst));
  }
  for (size_t i = 0; i < dst->size(); ++i) {
    const json& d = (*dst)[i];
    std::string where = where_of(index, "dst") + "[" + std::to_string(i) + "]";
    if (!d.is_object()) {
      return error_at(where, std::string("expected an object, got ") + type_name(d));
    }
    if (Status st = json_checks::check_keys(d, where, {"prefix", "ports"}); !st.ok()) {
      return st.error();
    }
    FilterDestination fd;
    auto prefix = d.find("prefix");
    if (prefix == d.end()) return error_at(where + ".prefix", "missing");
    auto p = parse_prefix(*prefix, where + ".prefix");
    if (!p) return p.error();
    fd.prefix = *p;
    if (auto ports = d.find("ports"); ports != d.end()) {
      auto r = parse_ports(*ports, where + ".ports");
      if (!r) return r.error();
      fd.ports = *r;
    }
    rule.destinations.push_back(fd);
  }

  if (auto proto = j.find("proto"); proto != j.end()) {
    if (!proto->is_array()) {
      return error_at(where_of(index, "proto"),
                      std::string("expected an array, got ") + type_name(*proto));
    }
    for (size_t i = 0; i < proto->size(); ++i) {
      auto n = parse_proto((*proto)[i], where_of(index, "proto") + "[" + std::to_string(i) + "]");
      if (!n) return n.error();
      rule.protocols.push_back(*n);
    }
    std::sort(rule.protocols.begin(), rule.protocols.end());
    rule.protocols.erase(std::unique(rule.protocols.begin(), rule.protocols.end()),
                         rule.protocols.end());
  }
  return rule;
}

bool port_bearing(uint8_t proto) {
  return proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp;
}

}  // namespace

json packet_filter_to_json(const PacketFilter& filter) {
  json out = json::array();
  for (const FilterRule& rule : filter) {
    json src = json::array();
    if (rule.any_source) {
      src.push_back("*");
    } else {
      for (const Prefix& p : rule.sources) src.push_back(p.to_string());
    }
    json dst = json::array();
    for (const FilterDestination& d : rule.destinations) {
      dst.push_back({{"prefix", d.prefix.to_string()}, {"ports", ports_text(d.ports)}});
    }
    json j = {{"src", std::move(src)}, {"dst", std::move(dst)}};
    if (!rule.protocols.empty()) {
      json proto = json::array();
      for (uint8_t n : rule.protocols) {
        const char* name = nullptr;
        for (const ProtoName& p : kProtoNames) {
          if (p.number == n) name = p.name;
        }
        if (name) {
          proto.push_back(name);
        } else {
          proto.push_back(n);
        }
      }
      j["proto"] = std::move(proto);
    }
    out.push_back(std::move(j));
  }
  return out;
}

Result<PacketFilter> packet_filter_from_json(const json& j) {
  if (!j.is_array()) {
    return error_at("packet_filter", std::string("expected an array, got ") + type_name(j));
  }
  PacketFilter filter;
  filter.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    auto rule = parse_rule(j[i], i);
    if (!rule) return rule.error();
    filter.push_back(std::move(*rule));
  }
  return filter;
}

bool packet_filter_accepts(const PacketFilter& filter, const IpAddress& src, const IpAddress& dst,
                           uint8_t proto, uint16_t dst_port) {
  for (const FilterRule& rule : filter) {
    bool proto_ok = rule.protocols.empty()
                        ? (proto == kProtoTcp || proto == kProtoUdp || proto == kProtoIcmp ||
                           proto == kProtoIcmpV6)
                        : std::binary_search(rule.protocols.begin(), rule.protocols.end(), proto);
    if (!proto_ok) continue;
    bool src_ok = rule.any_source;
    for (size_t i = 0; !src_ok && i < rule.sources.size(); ++i) {
      src_ok = rule.sources[i].contains(src);
    }
    if (!src_ok) continue;
    // Ports only mean something for TCP, UDP and SCTP; other protocols match on addresses.
    for (const FilterDestination& d : rule.destinations) {
      bool ports_ok =
          !port_bearing(proto) || (dst_port >= d.ports.first && dst_port <= d.ports.last);
      if (ports_ok && d.prefix.contains(dst)) return true;
    }
  }
  return false;
}

}  // namespace warren::control
