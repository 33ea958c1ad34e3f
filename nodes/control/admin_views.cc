#include "nodes/control/admin_views.h"

#include <algorithm>

#include "nodes/control/registry_rules.h"

namespace warren::control {
namespace {

using nlohmann::json;

constexpr int64_t kNsPerSecond = 1000000000;

json unix_seconds_or_null(int64_t unix_ns) {
  return unix_ns == 0 ? json(nullptr) : json(unix_ns / kNsPerSecond);
}

json strings(const std::vector<std::string>& items) {
  json out = json::array();
  for (const auto& s : items) out.push_back(valid_utf8(s));
  return out;
}

json prefixes(const std::vector<Prefix>& items) {
  json out = json::array();
  for (const auto& p : items) out.push_back(p.to_string());
  return out;
}

std::string user_name(const Registry& registry, UserId id) {
  const User* u = registry.find_user(id);
  return u ? u->name : std::to_string(id);
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(i + 1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(i + 1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8_sequence(text, i);
    if (n == 0) {
      out += '?';
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

json user_view(const User& user) {
  return {{"id", user.id},
          {"name", valid_utf8(user.name)},
          {"created", unix_seconds_or_null(user.created_unix_ns)}};
}

json auth_key_view(const AuthKey& key, const Registry& registry, int64_t now_unix_ns) {
  bool expired = key.expires_unix_ns != 0 && now_unix_ns >= key.expires_unix_ns;
  return {{"id", key.id},
          {"prefix", valid_utf8(key.prefix)},
          {"user", valid_utf8(user_name(registry, key.user))},
          {"reusable", key.reusable},
          {"ephemeral", key.ephemeral},
          {"used", key.used},
          {"revoked", key.revoked},
          {"expired", expired},
          {"expiration", unix_seconds_or_null(key.expires_unix_ns)},
          {"tags", strings(key.tags)},
          {"created", unix_seconds_or_null(key.created_unix_ns)}};
}

json node_view(const Node& node, const Registry& registry, const NodeLive& live) {
  json endpoints = json::array();
  for (const Endpoint& e : live.endpoints) endpoints.push_back(e.to_string());
  return {{"id", node.id},
          {"name", valid_utf8(node.name)},
          {"hostname", valid_utf8(node.hostname)},
          {"user", valid_utf8(user_name(registry, node.user))},
          {"tags", strings(node.tags)},
          {"ipv4", node.ipv4.to_string()},
          {"ipv6", node.ipv6.to_string()},
          {"node_key", to_base64(node.node_key)},
          {"machine_key", to_base64(node.machine_key)},
          {"online", live.online},
          {"last_seen", unix_seconds_or_null(node.last_seen_unix_ns)},
          {"expiry", unix_seconds_or_null(node.expiry_unix_ns)},
          {"expired", registry.node_expired(node)},
          {"ephemeral", node.ephemeral},
          {"endpoints", std::move(endpoints)},
          {"home_relay", live.home_relay},
          {"created", unix_seconds_or_null(node.created_unix_ns)},
          {"advertised_routes", prefixes(node.advertised_routes)},
          {"approved_routes", prefixes(node.approved_routes)}};
}

json route_views(const Node& node) {
  json out = json::array();
  for (const Prefix& p : node.advertised_routes) {
    bool approved = std::binary_search(node.approved_routes.begin(), node.approved_routes.end(), p);
    out.push_back({{"node", valid_utf8(node.name)},
                   {"node_id", node.id},
                   {"prefix", p.to_string()},
                   {"advertised", true},
                   {"approved", approved},
                   {"exit", is_exit_route(p)}});
  }
  return out;
}

}  // namespace warren::control
