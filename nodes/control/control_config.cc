#include "nodes/control/control_config.h"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/common/config_file.h"
#include "nodes/common/control_messages.h"
#include "nodes/common/json_checks.h"

namespace warren::control {
namespace {

using json_checks::in_quotes;
using Rooted = ConfigErrors;
using json_checks::json;

const std::vector<std::string> kTopKeys = {
    "listen",          "state_dir",           "prefixes",        "admin_socket",
    "policy_file",     "node_key_expiry_s",   "batch_window_ms", "keepalive_s",
    "offline_grace_s", "ephemeral_timeout_s", "log_level",       "relay_map"};

// Bounds that keep a typo from making the server useless (a 0 ms batch window spins, a
// keepalive of a day lets NATs forget the channel) while leaving room for odd deployments.
constexpr int64_t kMaxBatchWindowMs = 60'000;
constexpr int64_t kMaxKeepaliveS = 3'600;
constexpr int64_t kMaxOfflineGraceS = 86'400;
constexpr int64_t kMaxEphemeralTimeoutS = 30 * 86'400;
constexpr int64_t kMaxNodeKeyExpiryS = 10LL * 365 * 86'400;
// Overlay prefixes must leave room for nodes: a /30 holds two hosts after the network and
// broadcast addresses; IPv6 is held to the same count of usable addresses.
constexpr int kMaxIpv4PrefixLength = 30;
constexpr int kMaxIpv6PrefixLength = 126;

Result<std::string> non_empty_string(const json& doc, const char* key, const Rooted& rooted,
                                     bool required, const std::string& fallback) {
  if (!required && doc.find(key) == doc.end()) return fallback;
  auto s = json_checks::required_string(doc, key, "");
  if (!s) return rooted(s.error());
  if (s->empty()) return rooted.at(key, "must not be empty");
  return std::move(*s);
}

// "listen": an IP literal endpoint, or HOST:PORT for the caller's resolver.
Status parse_listen(const std::string& text, ControlConfigFile& config, const Rooted& rooted) {
  config.listen_text = text;
  if (auto endpoint = Endpoint::parse(text); endpoint.ok()) {
    config.server.listen = *endpoint;
    config.listen_resolved = true;
    return Status::success();
  }
  const std::string example =
      "expected ADDR:PORT such as \"0.0.0.0:8080\", \"[::]:8080\" or "
      "\"control.example:443\", got " +
      in_quotes(text);
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return rooted.at("listen", example);
  }
  const std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return rooted.at("listen", "port " + in_quotes(port) + " is not a number in 0..65535");
  }
  // A name: letters, digits, '-', '.'; anything else (a bracketed v6 that did not parse, a
  // stray ':') is a typo rather than a host we could resolve.
  if (host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") !=
      std::string::npos) {
    return rooted.at("listen", example);
  }
  return Status::success();
}

Status parse_prefixes(const json& doc, RegistryConfig& registry, const Rooted& rooted) {
  auto it = doc.find("prefixes");
  if (it == doc.end()) return Status::success();
  if (!it->is_object()) {
    return rooted.at("prefixes", std::string("expected an object such as {\"v4\": "
                                             "\"100.64.0.0/10\", \"v6\": "
                                             "\"fd7a:115c:a1e0::/48\"}, got ") +
                                     json_checks::type_name(*it));
  }
  if (Status s = json_checks::check_keys(*it, "prefixes", {"v4", "v6"}); !s) {
    return rooted(s.error());
  }
  struct Family {
    const char* key;
    bool v4;
    int max_length;
    Prefix* out;
  };
  for (const Family& f : {Family{"v4", true, kMaxIpv4PrefixLength, &registry.ipv4_prefix},
                          Family{"v6", false, kMaxIpv6PrefixLength, &registry.ipv6_prefix}}) {
    auto text = json_checks::optional_string(*it, f.key, "prefixes");
    if (!text) return rooted(text.error());
    if (!*text) continue;
    const std::string path = std::string("prefixes.") + f.key;
    auto prefix = Prefix::parse(**text);
    if (!prefix) return rooted.at(path, prefix.error().message);
    if (prefix->network().is_v4() != f.v4) {
      return rooted.at(path,
                       in_quotes(**text) + " is not an " + (f.v4 ? "IPv4" : "IPv6") + " prefix");
    }
    if (prefix->length() > f.max_length) {
      return rooted.at(path, in_quotes(**text) + " leaves no room for nodes; use a prefix of /" +
                                 std::to_string(f.max_length) + " or shorter");
    }
    *f.out = *prefix;
  }
  return Status::success();
}

// An integer in [min, max] given in `unit`s, stored as a Duration.
Status duration_field(const json& doc, const char* key, int64_t min, int64_t max, Duration unit,
                      Duration& out, const Rooted& rooted) {
  auto v = json_checks::optional_integer(doc, key, "", min, max);
  if (!v) return rooted(v.error());
  if (*v) out = unit * **v;
  return Status::success();
}

}  // namespace

Result<ControlConfigFile> parse_control_config(std::string_view json_text,
                                               const std::string& source) {
  const Rooted rooted(source);
  auto parsed = parse_config_document(
      json_text, kMaxControlConfigBytes, "control",
      "{\"listen\": \"0.0.0.0:8080\", \"state_dir\": \"/var/lib/warren/control\"}", rooted);
  if (!parsed) return parsed.error();
  const json& doc = *parsed;
  if (Status s = json_checks::check_keys(doc, "", kTopKeys); !s) return rooted(s.error());

  ControlConfigFile config;
  auto listen = non_empty_string(doc, "listen", rooted, true, "");
  if (!listen) return listen.error();
  if (Status s = parse_listen(*listen, config, rooted); !s) return s.error();

  auto state_dir = non_empty_string(doc, "state_dir", rooted, true, "");
  if (!state_dir) return state_dir.error();
  config.state_dir = std::move(*state_dir);
  // "/var/lib/warren/control/" + "/admin.sock" would work, but reads badly in messages.
  std::string dir = config.state_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  auto admin_socket =
      non_empty_string(doc, "admin_socket", rooted, false, (dir == "/" ? "" : dir) + "/admin.sock");
  if (!admin_socket) return admin_socket.error();
  config.admin_socket = std::move(*admin_socket);

  if (auto it = doc.find("policy_file"); it != doc.end() && !it->is_null()) {
    auto policy = non_empty_string(doc, "policy_file", rooted, true, "");
    if (!policy) return policy.error();
    config.policy_file = std::move(*policy);
  }

  if (Status s = parse_prefixes(doc, config.server.registry, rooted); !s) return s.error();

  ControlCoreConfig& core = config.server.core;
  const Duration second = Duration::seconds(1);
  Status fields[] = {
      duration_field(doc, "node_key_expiry_s", 0, kMaxNodeKeyExpiryS, second,
                     config.server.registry.node_key_expiry, rooted),
      duration_field(doc, "batch_window_ms", 1, kMaxBatchWindowMs, Duration::milliseconds(1),
                     core.batch_window, rooted),
      duration_field(doc, "keepalive_s", 1, kMaxKeepaliveS, second, core.keepalive_interval,
                     rooted),
      duration_field(doc, "offline_grace_s", 0, kMaxOfflineGraceS, second, core.offline_grace,
                     rooted),
      duration_field(doc, "ephemeral_timeout_s", 0, kMaxEphemeralTimeoutS, second,
                     core.ephemeral_timeout, rooted),
      read_log_level(doc, config.log_level, rooted),
  };
  for (const Status& s : fields) {
    if (!s) return s.error();
  }
  // The jitter spreads keepalives of many sessions; never let it rival a short interval.
  if (core.keepalive_jitter > core.keepalive_interval / 5) {
    core.keepalive_jitter = core.keepalive_interval / 5;
  }

  if (auto it = doc.find("relay_map"); it != doc.end() && !it->is_null()) {
    auto map = relay_map_from_json(*it, "relay_map");
    if (!map) return rooted(map.error());
    core.relay_map = std::move(*map);
  }
  return config;
}

}  // namespace warren::control
