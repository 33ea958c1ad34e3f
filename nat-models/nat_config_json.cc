#include "nat-models/nat_config_json.h"

#include <cmath>
#include <initializer_list>
#include <optional>
#include <string>

namespace warren::nat {
namespace {

using nlohmann::json;

// A short, never-throwing rendering of a value for error messages (dump() throws on invalid
// UTF-8 unless told to replace it).
std::string show(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string quoted_list(std::initializer_list<const char*> names) {
  std::string out;
  for (const char* n : names) {
    if (!out.empty()) out += ", ";
    out += '"';
    out += n;
    out += '"';
  }
  return out;
}

Error key_error(const char* what, const std::string& key, const std::string& expected,
                const json& got) {
  return make_error(std::string(what) + " key \"" + key + "\" must be " + expected + ", got " +
                    show(got));
}

Status check_object(const char* what, const json& j, std::initializer_list<const char*> keys) {
  if (!j.is_object()) {
    return make_error(std::string(what) + " must be a JSON object, got " + show(j));
  }
  // nlohmann::json objects iterate in key order, so the first unknown key reported is stable.
  for (const auto& item : j.items()) {
    bool known = false;
    for (const char* k : keys) known = known || item.key() == k;
    if (!known) {
      return make_error(std::string(what) + " has unknown key \"" + item.key().substr(0, 60) +
                        "\"; allowed keys: " + quoted_list(keys));
    }
  }
  return Status::success();
}

Result<Duration> timeout_from(const char* what, const std::string& key, const json& v) {
  const std::string expected =
      "a number of seconds from 1 to " + std::to_string(kMaxTimeoutSeconds);
  if (!v.is_number()) return key_error(what, key, expected, v);
  const double s = v.get<double>();
  if (!(s >= 1.0 && s <= static_cast<double>(kMaxTimeoutSeconds))) {
    return key_error(what, key, expected, v);
  }
  return Duration::nanoseconds(std::llround(s * 1e9));
}

Result<bool> bool_from(const char* what, const std::string& key, const json& v) {
  if (!v.is_boolean()) return key_error(what, key, "true or false", v);
  return v.get<bool>();
}

std::optional<uint16_t> port_from(const json& v) {
  if (v.is_number_unsigned()) {
    const auto p = v.get<uint64_t>();
    if (p >= 1 && p <= 65535) return static_cast<uint16_t>(p);
  } else if (v.is_number_integer()) {
    const auto p = v.get<int64_t>();
    if (p >= 1 && p <= 65535) return static_cast<uint16_t>(p);
  }
  return std::nullopt;
}

json seconds_json(Duration d) {
  if (d.ns() % 1000000000 == 0) return d.ns() / 1000000000;
  return d.seconds_f();
}

// Applies the timeout keys shared by NAT and firewall configs.
Status apply_timeouts(const char* what, const json& j, Duration& udp, Duration& tcp_established,
                      Duration& tcp_transitory) {
  const std::pair<const char*, Duration*> timeouts[] = {
      {"udp_timeout_s", &udp},
      {"tcp_established_timeout_s", &tcp_established},
      {"tcp_transitory_timeout_s", &tcp_transitory},
  };
  for (const auto& [key, field] : timeouts) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    Result<Duration> d = timeout_from(what, key, *it);
    if (!d) return d.error();
    *field = *d;
  }
  return Status::success();
}

constexpr const char* kNat = "NAT config";
constexpr const char* kFirewall = "IPv6 firewall config";

}  // namespace

Result<NatConfig> nat_config_from_json(const json& j) {
  Status shape = check_object(
      kNat, j,
      {"preset", "mapping", "filtering", "ports", "port_range", "udp_timeout_s",
       "tcp_established_timeout_s", "tcp_transitory_timeout_s", "hairpinning", "inbound_refresh"});
  if (!shape) return shape.error();

  NatConfig c;
  if (auto it = j.find("preset"); it != j.end()) {
    if (!it->is_string()) return key_error(kNat, "preset", "a preset name string", *it);
    Result<NatConfig> base = nat_preset(it->get_ref<const std::string&>());
    if (!base) return make_error(std::string(kNat) + " key \"preset\": " + base.error().message);
    c = std::move(*base);
  }
  const std::pair<const char*, Behaviour*> behaviours[] = {{"mapping", &c.mapping},
                                                           {"filtering", &c.filtering}};
  for (const auto& [key, field] : behaviours) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    const std::string expected =
        "one of " +
        quoted_list({"endpoint-independent", "address-dependent", "address-and-port-dependent"});
    if (!it->is_string()) return key_error(kNat, key, expected, *it);
    Result<Behaviour> b = parse_behaviour(it->get_ref<const std::string&>());
    if (!b) return key_error(kNat, key, expected, *it);
    *field = *b;
  }
  if (auto it = j.find("ports"); it != j.end()) {
    const std::string expected = "one of " + quoted_list({"preserve", "sequential", "random"});
    if (!it->is_string()) return key_error(kNat, "ports", expected, *it);
    Result<PortAssignment> p = parse_port_assignment(it->get_ref<const std::string&>());
    if (!p) return key_error(kNat, "ports", expected, *it);
    c.ports = *p;
  }
  if (auto it = j.find("port_range"); it != j.end()) {
    const char* expected = "[LO, HI] with integers 1 <= LO <= HI <= 65535";
    if (!it->is_array() || it->size() != 2) return key_error(kNat, "port_range", expected, *it);
    std::optional<uint16_t> lo = port_from((*it)[0]);
    std::optional<uint16_t> hi = port_from((*it)[1]);
    if (!lo || !hi || *lo > *hi) return key_error(kNat, "port_range", expected, *it);
    c.port_min = *lo;
    c.port_max = *hi;
  }
  Status t =
      apply_timeouts(kNat, j, c.udp_timeout, c.tcp_established_timeout, c.tcp_transitory_timeout);
  if (!t) return t.error();
  const std::pair<const char*, bool*> flags[] = {{"hairpinning", &c.hairpinning},
                                                 {"inbound_refresh", &c.inbound_refresh}};
  for (const auto& [key, field] : flags) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    Result<bool> b = bool_from(kNat, key, *it);
    if (!b) return b.error();
    *field = *b;
  }
  return c;
}

json nat_config_to_json(const NatConfig& c) {
  json j = {
      {"mapping", to_string(c.mapping)},
      {"filtering", to_string(c.filtering)},
      {"ports", to_string(c.ports)},
      {"port_range", {c.port_min, c.port_max}},
      {"udp_timeout_s", seconds_json(c.udp_timeout)},
      {"tcp_established_timeout_s", seconds_json(c.tcp_established_timeout)},
      {"tcp_transitory_timeout_s", seconds_json(c.tcp_transitory_timeout)},
      {"hairpinning", c.hairpinning},
      {"inbound_refresh", c.inbound_refresh},
  };
  if (!c.preset.empty()) j["preset"] = c.preset;
  return j;
}

Result<FirewallConfig> firewall_config_from_json(const json& j) {
  Status shape = check_object(kFirewall, j,
                              {"udp_timeout_s", "tcp_established_timeout_s",
                               "tcp_transitory_timeout_s", "inbound_refresh"});
  if (!shape) return shape.error();
  FirewallConfig c;
  Status t = apply_timeouts(kFirewall, j, c.udp_timeout, c.tcp_established_timeout,
                            c.tcp_transitory_timeout);
  if (!t) return t.error();
  if (auto it = j.find("inbound_refresh"); it != j.end()) {
    Result<bool> b = bool_from(kFirewall, "inbound_refresh", *it);
    if (!b) return b.error();
    c.inbound_refresh = *b;
  }
  return c;
}

json firewall_config_to_json(const FirewallConfig& c) {
  return {
      {"udp_timeout_s", seconds_json(c.udp_timeout)},
      {"tcp_established_timeout_s", seconds_json(c.tcp_established_timeout)},
      {"tcp_transitory_timeout_s", seconds_json(c.tcp_transitory_timeout)},
      {"inbound_refresh", c.inbound_refresh},
  };
}

}  // namespace warren::nat
