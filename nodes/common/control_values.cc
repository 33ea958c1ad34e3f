// The values inside control messages (declared in control_messages.h): nodes, patches and
// the relay map.
#include <algorithm>
#include <utility>

#include "nodes/common/control_json.h"
#include "nodes/common/control_messages.h"

namespace warren::control {
namespace {

using namespace wire;  // NOLINT: the codec helpers, in this file only
using json_checks::check_keys;
using json_checks::error_at;
using json_checks::in_quotes;
using json_checks::type_name;

Result<Relay> relay_from_json(const json& v, const std::string& where) {
  if (!v.is_object()) {
    return error_at(where, std::string("expected an object, got ") + type_name(v));
  }
  if (Status s =
          check_keys(v, where, {"name", "host", "port", "addresses", "stun_port", "tls", "key"});
      !s) {
    return s.error();
  }
  Relay r;
  auto name = json_checks::required_string(v, "name", where);
  if (!name) return name.error();
  if (Status s = json_checks::check_name(*name, at(where, "name")); !s) return s.error();
  r.name = std::move(*name);
  auto host = required_text(v, "host", where, 253);
  if (!host) return host.error();
  if (host->empty()) return error_at(at(where, "host"), "empty host");
  r.host = std::move(*host);
  auto port = json_checks::optional_integer(v, "port", where, 1, 65535);
  if (!port) return port.error();
  r.port = static_cast<uint16_t>(port->value_or(443));
  if (find(v, "addresses")) {
    auto addresses =
        list_of<IpAddress>(v, "addresses", where, kMaxEndpoints,
                           [](const json& a, const std::string& w) -> Result<IpAddress> {
                             if (!a.is_string()) {
                               return error_at(w, std::string("expected an IP "
                                                              "address, got ") +
                                                      type_name(a));
                             }
                             auto ip = IpAddress::parse(a.get_ref<const std::string&>());
                             if (!ip) return error_at(w, ip.error().message);
                             return *ip;
                           });
    if (!addresses) return addresses.error();
    r.addresses = std::move(*addresses);
  }
  auto stun_port = json_checks::optional_integer(v, "stun_port", where, 0, 65535);
  if (!stun_port) return stun_port.error();
  r.stun_port = static_cast<uint16_t>(stun_port->value_or(3478));
  auto tls = json_checks::optional_bool(v, "tls", where);
  if (!tls) return tls.error();
  r.tls = tls->value_or(false);
  const json* key = find(v, "key");
  if (!key) {
    return error_at(where,
                    "missing \"key\" (the relay's public key, as `warren relay` prints "
                    "it; it authenticates the relay to the control server)");
  }
  WARREN_ASSIGN_OR_RETURN(r.key, key_value(*key, at(where, "key")));
  return r;
}

Result<RelayRegion> region_from_json(const json& v, const std::string& where) {
  if (!v.is_object()) {
    return error_at(where, std::string("expected an object, got ") + type_name(v));
  }
  if (Status s = check_keys(v, where, {"id", "code", "name", "relays"}); !s) return s.error();
  RelayRegion region;
  auto id = required_integer(v, "id", where, 1, kMaxRelayRegionId);
  if (!id) return id.error();
  region.id = static_cast<int>(*id);
  auto code = json_checks::required_string(v, "code", where);
  if (!code) return code.error();
  if (Status s = json_checks::check_name(*code, at(where, "code")); !s) return s.error();
  region.code = std::move(*code);
  if (const json* name = find(v, "name")) {
    WARREN_ASSIGN_OR_RETURN(region.name, text_value(*name, at(where, "name"), kMaxTextBytes));
  } else {
    region.name = region.code;
  }
  auto relays = list_of<Relay>(v, "relays", where, SIZE_MAX, relay_from_json);
  if (!relays) return relays.error();
  if (relays->empty()) return error_at(at(where, "relays"), "a region needs at least one relay");
  region.relays = std::move(*relays);
  return region;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::vector<Prefix> PeerNode::allowed_ips() const {
  std::vector<Prefix> out;
  out.reserve(2 + routes.size());
  out.push_back(Prefix::containing(ipv4, 32));
  out.push_back(Prefix::containing(ipv6, 128));
  out.insert(out.end(), routes.begin(), routes.end());
  return out;
}

bool PeerNode::operator==(const PeerNode& o) const {
  return id == o.id && name == o.name && user == o.user && tags == o.tags &&
         node_key == o.node_key && machine_key == o.machine_key && disco_key == o.disco_key &&
         ipv4 == o.ipv4 && ipv6 == o.ipv6 && routes == o.routes && endpoints == o.endpoints &&
         home_relay == o.home_relay && online == o.online &&
         last_seen_unix_s == o.last_seen_unix_s && key_expiry_unix_s == o.key_expiry_unix_s;
}

bool PeerPatch::operator==(const PeerPatch& o) const {
  return id == o.id && endpoints == o.endpoints && home_relay == o.home_relay &&
         online == o.online && last_seen_unix_s == o.last_seen_unix_s && disco_key == o.disco_key;
}

json peer_node_to_json(const PeerNode& n) {
  json tags = json::array();
  for (const std::string& t : n.tags) tags.push_back(t);
  return {{"id", n.id},
          {"name", n.name},
          {"user", n.user},
          {"tags", std::move(tags)},
          {"node_key", to_base64(n.node_key)},
          {"machine_key", to_base64(n.machine_key)},
          {"disco_key", to_base64(n.disco_key)},
          {"addresses", json::array({Prefix::containing(n.ipv4, 32).to_string(),
                                     Prefix::containing(n.ipv6, 128).to_string()})},
          {"allowed_ips", prefixes_to_json(n.allowed_ips())},
          {"routes", prefixes_to_json(n.routes)},
          {"endpoints", endpoints_to_json(n.endpoints)},
          {"home_relay", n.home_relay},
          {"online", n.online},
          {"last_seen", unix_seconds_to_json(n.last_seen_unix_s)},
          {"key_expiry", unix_seconds_to_json(n.key_expiry_unix_s)}};
}

Result<PeerNode> peer_node_from_json(const json& v, const std::string& where) {
  if (!v.is_object()) {
    return error_at(where, std::string("expected an object, got ") + type_name(v));
  }
  if (Status s = check_keys(v, where,
                            {"id", "name", "user", "tags", "node_key", "machine_key", "disco_key",
                             "addresses", "allowed_ips", "routes", "endpoints", "home_relay",
                             "online", "last_seen", "key_expiry"});
      !s) {
    return s.error();
  }
  PeerNode n;
  const json* id_json = find(v, "id");
  if (!id_json) return error_at(where, "missing \"id\"");
  WARREN_ASSIGN_OR_RETURN(n.id, id_value(*id_json, at(where, "id")));
  WARREN_ASSIGN_OR_RETURN(n.name, required_text(v, "name", where, kMaxTextBytes));
  WARREN_ASSIGN_OR_RETURN(n.user, required_text(v, "user", where, kMaxTextBytes));
  auto tags = list_of<std::string>(
      v, "tags", where, SIZE_MAX,
      [](const json& t, const std::string& w) { return text_value(t, w, kMaxTextBytes); });
  if (!tags) return tags.error();
  n.tags = std::move(*tags);
  for (auto [key, out] : {std::pair<const char*, PublicKey*>{"node_key", &n.node_key},
                          {"machine_key", &n.machine_key},
                          {"disco_key", &n.disco_key}}) {
    WARREN_ASSIGN_OR_RETURN(*out, required_key(v, key, where));
  }
  auto addresses = list_of<Prefix>(v, "addresses", where, 2, prefix_value);
  if (!addresses) return addresses.error();
  if (addresses->size() != 2 || !(*addresses)[0].network().is_v4() ||
      (*addresses)[0].length() != 32 || !(*addresses)[1].network().is_v6() ||
      (*addresses)[1].length() != 128) {
    return error_at(at(where, "addresses"), "expected [\"<ipv4>/32\", \"<ipv6>/128\"]");
  }
  n.ipv4 = (*addresses)[0].network();
  n.ipv6 = (*addresses)[1].network();
  WARREN_ASSIGN_OR_RETURN(n.routes, list_of<Prefix>(v, "routes", where, SIZE_MAX, prefix_value));
  auto allowed = list_of<Prefix>(v, "allowed_ips", where, SIZE_MAX, prefix_value);
  if (!allowed) return allowed.error();
  if (*allowed != n.allowed_ips()) {
    return error_at(at(where, "allowed_ips"), "must be the addresses followed by the routes");
  }
  WARREN_ASSIGN_OR_RETURN(n.endpoints,
                          list_of<Endpoint>(v, "endpoints", where, SIZE_MAX, endpoint_value));
  const json* home_relay_json = find(v, "home_relay");
  if (!home_relay_json) return error_at(where, "missing \"home_relay\"");
  WARREN_ASSIGN_OR_RETURN(n.home_relay,
                          relay_region_value(*home_relay_json, at(where, "home_relay")));
  WARREN_ASSIGN_OR_RETURN(n.online, required_bool(v, "online", where));
  for (auto [key, out] : {std::pair<const char*, int64_t*>{"last_seen", &n.last_seen_unix_s},
                          {"key_expiry", &n.key_expiry_unix_s}}) {
    const json* t = find(v, key);
    if (!t) return error_at(where, "missing " + in_quotes(key));
    WARREN_ASSIGN_OR_RETURN(*out, unix_seconds_value(*t, at(where, key)));
  }
  return n;
}

json peer_patch_to_json(const PeerPatch& p) {
  json j = {{"id", p.id}};
  if (p.endpoints) j["endpoints"] = endpoints_to_json(*p.endpoints);
  if (p.home_relay) j["home_relay"] = *p.home_relay;
  if (p.online) j["online"] = *p.online;
  if (p.last_seen_unix_s) j["last_seen"] = unix_seconds_to_json(*p.last_seen_unix_s);
  if (p.disco_key) j["disco_key"] = to_base64(*p.disco_key);
  return j;
}

Result<PeerPatch> peer_patch_from_json(const json& v, const std::string& where) {
  if (!v.is_object()) {
    return error_at(where, std::string("expected an object, got ") + type_name(v));
  }
  if (Status s = check_keys(v, where,
                            {"id", "endpoints", "home_relay", "online", "last_seen", "disco_key"});
      !s) {
    return s.error();
  }
  PeerPatch p;
  const json* id_json = find(v, "id");
  if (!id_json) return error_at(where, "missing \"id\"");
  WARREN_ASSIGN_OR_RETURN(p.id, id_value(*id_json, at(where, "id")));
  if (find(v, "endpoints")) {
    WARREN_ASSIGN_OR_RETURN(p.endpoints,
                            list_of<Endpoint>(v, "endpoints", where, SIZE_MAX, endpoint_value));
  }
  if (const json* r = find(v, "home_relay")) {
    WARREN_ASSIGN_OR_RETURN(p.home_relay, relay_region_value(*r, at(where, "home_relay")));
  }
  if (find(v, "online")) {
    WARREN_ASSIGN_OR_RETURN(p.online, required_bool(v, "online", where));
  }
  if (const json* t = find(v, "last_seen")) {
    WARREN_ASSIGN_OR_RETURN(p.last_seen_unix_s, unix_seconds_value(*t, at(where, "last_seen")));
  }
  if (find(v, "disco_key")) {
    WARREN_ASSIGN_OR_RETURN(p.disco_key, required_key(v, "disco_key", where));
  }
  return p;
}

json relay_map_to_json(const RelayMap& map) {
  json regions = json::array();
  for (const RelayRegion& region : map.regions) {
    json relays = json::array();
    for (const Relay& r : region.relays) {
      json addresses = json::array();
      for (const IpAddress& a : r.addresses) addresses.push_back(a.to_string());
      relays.push_back({{"name", r.name},
                        {"host", r.host},
                        {"port", r.port},
                        {"addresses", std::move(addresses)},
                        {"stun_port", r.stun_port},
                        {"tls", r.tls},
                        {"key", to_base64(r.key)}});
    }
    regions.push_back({{"id", region.id},
                       {"code", region.code},
                       {"name", region.name},
                       {"relays", std::move(relays)}});
  }
  return {{"regions", std::move(regions)}};
}

Result<RelayMap> relay_map_from_json(const json& v, const std::string& where) {
  if (!v.is_object()) {
    return error_at(where, std::string("expected an object, got ") + type_name(v));
  }
  if (Status s = check_keys(v, where, {"regions"}); !s) return s.error();
  auto regions = list_of<RelayRegion>(v, "regions", where, SIZE_MAX, region_from_json);
  if (!regions) return regions.error();
  // Duplicates are reported at the later entry, by the path a person can find in the file.
  std::vector<std::pair<int, size_t>> ids;
  std::vector<std::pair<std::string, std::string>> names;  // name -> path of first use
  for (size_t i = 0; i < regions->size(); ++i) {
    const RelayRegion& region = (*regions)[i];
    std::string region_at = at(at(where, "regions"), i);
    for (const auto& [id, index] : ids) {
      if (id == region.id) {
        return error_at(at(region_at, "id"), "region id " + std::to_string(id) +
                                                 " is already used by regions[" +
                                                 std::to_string(index) + "]");
      }
    }
    ids.emplace_back(region.id, i);
    for (size_t j = 0; j < region.relays.size(); ++j) {
      std::string relay_at = at(at(region_at, "relays"), j);
      for (const auto& [name, first] : names) {
        if (name == region.relays[j].name) {
          return error_at(at(relay_at, "name"),
                          "relay name " + in_quotes(name) + " is already used at " + first);
        }
      }
      names.emplace_back(region.relays[j].name, relay_at);
    }
  }
  RelayMap map;
  map.regions = std::move(*regions);
  std::sort(map.regions.begin(), map.regions.end(),
            [](const RelayRegion& a, const RelayRegion& b) { return a.id < b.id; });
  return map;
}

}  // namespace warren::control
