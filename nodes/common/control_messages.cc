#include "nodes/common/control_messages.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "nodes/common/control_json.h"

namespace warren::control {
namespace {

using namespace wire;  // NOLINT: the codec helpers, in this file only
using json_checks::check_keys;
using json_checks::error_at;
using json_checks::in_quotes;
using json_checks::type_name;

// Our messages nest at most five deep (map > peers > node > addresses); anything far deeper
// is an attack on the parser's memory, refused before parsing.
constexpr int kMaxJsonDepth = 32;

const std::vector<std::string> kClientTypes = {"register", "map_request", "update",
                                               "relay_subscribe"};
const std::vector<std::string> kServerTypes = {"register_response", "map", "keepalive",
                                               "relay_keys", "error"};

// ---------------------------------------------------------------------------------------------
// Parsing helpers. Each takes the JSON path of the value for its error messages.

Status check_depth(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return make_error("control message: nested deeper than " + std::to_string(kMaxJsonDepth) +
                          " levels");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return Status::success();
}

Result<json> parse_object(ByteView bytes) {
  std::string_view text = bytes.as_string();
  if (Status s = check_depth(text); !s) return s.error();
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) return make_error("control message: not valid JSON");
  if (!doc.is_object()) {
    return make_error(std::string("control message: expected an object, got ") + type_name(doc));
  }
  return doc;
}

Result<std::string> message_type_of(const json& doc, const std::vector<std::string>& known) {
  auto type = json_checks::required_string(doc, "type", "control message");
  if (!type) return type.error();
  if (std::find(known.begin(), known.end(), *type) == known.end()) {
    std::string hint = json_checks::suggestion(*type, known);
    if (hint.empty()) {
      hint = " (known:";
      for (const std::string& k : known) hint += " " + k;
      hint += ")";
    }
    return make_error("control message: unknown type " + in_quotes(*type) + hint);
  }
  return std::move(*type);
}

// ---------------------------------------------------------------------------------------------
// Client messages.

Result<ClientMessage> decode_register(const json& doc) {
  const std::string where = "register";
  if (Status s = check_keys(doc, where,
                            {"type", "node_key", "disco_key", "auth_key", "hostname", "routes"});
      !s) {
    return s.error();
  }
  RegisterMessage m;
  WARREN_ASSIGN_OR_RETURN(m.node_key, required_key(doc, "node_key", where));
  WARREN_ASSIGN_OR_RETURN(m.disco_key, required_key(doc, "disco_key", where));
  if (const json* v = find(doc, "auth_key")) {
    WARREN_ASSIGN_OR_RETURN(m.auth_key, text_value(*v, at(where, "auth_key"), kMaxAuthKeyBytes));
  }
  WARREN_ASSIGN_OR_RETURN(m.hostname, required_text(doc, "hostname", where, kMaxHostnameBytes));
  if (find(doc, "routes")) {
    auto routes = list_of<Prefix>(doc, "routes", where, kMaxRoutes, prefix_value);
    if (!routes) return routes.error();
    if (Status s = check_ascending_unique_prefixes(*routes, at(where, "routes")); !s) {
      return s.error();
    }
    m.routes = std::move(*routes);
  }
  return ClientMessage(std::move(m));
}

Result<ClientMessage> decode_map_request(const json& doc) {
  const std::string where = "map_request";
  if (Status s = check_keys(
          doc, where,
          {"type", "node_key", "disco_key", "hostname", "endpoints", "home_relay", "routes"});
      !s) {
    return s.error();
  }
  MapRequestMessage m;
  WARREN_ASSIGN_OR_RETURN(m.node_key, required_key(doc, "node_key", where));
  WARREN_ASSIGN_OR_RETURN(m.disco_key, required_key(doc, "disco_key", where));
  if (const json* v = find(doc, "hostname")) {
    WARREN_ASSIGN_OR_RETURN(m.hostname, text_value(*v, at(where, "hostname"), kMaxHostnameBytes));
  }
  WARREN_ASSIGN_OR_RETURN(
      m.endpoints, list_of<Endpoint>(doc, "endpoints", where, kMaxEndpoints, endpoint_value));
  if (const json* v = find(doc, "home_relay")) {
    WARREN_ASSIGN_OR_RETURN(m.home_relay, relay_region_value(*v, at(where, "home_relay")));
  }
  if (find(doc, "routes")) {
    auto routes = list_of<Prefix>(doc, "routes", where, kMaxRoutes, prefix_value);
    if (!routes) return routes.error();
    if (Status s = check_ascending_unique_prefixes(*routes, at(where, "routes")); !s) {
      return s.error();
    }
    m.routes = std::move(*routes);
  }
  return ClientMessage(std::move(m));
}

Result<ClientMessage> decode_update(const json& doc) {
  const std::string where = "update";
  if (Status s = check_keys(doc, where,
                            {"type", "endpoints", "home_relay", "disco_key", "hostname", "routes"});
      !s) {
    return s.error();
  }
  UpdateMessage m;
  if (find(doc, "endpoints")) {
    WARREN_ASSIGN_OR_RETURN(
        m.endpoints, list_of<Endpoint>(doc, "endpoints", where, kMaxEndpoints, endpoint_value));
  }
  if (const json* v = find(doc, "home_relay")) {
    WARREN_ASSIGN_OR_RETURN(m.home_relay, relay_region_value(*v, at(where, "home_relay")));
  }
  if (find(doc, "disco_key")) {
    WARREN_ASSIGN_OR_RETURN(m.disco_key, required_key(doc, "disco_key", where));
  }
  if (const json* v = find(doc, "hostname")) {
    WARREN_ASSIGN_OR_RETURN(m.hostname, text_value(*v, at(where, "hostname"), kMaxHostnameBytes));
  }
  if (find(doc, "routes")) {
    auto routes = list_of<Prefix>(doc, "routes", where, kMaxRoutes, prefix_value);
    if (!routes) return routes.error();
    if (Status s = check_ascending_unique_prefixes(*routes, at(where, "routes")); !s) {
      return s.error();
    }
    m.routes = std::move(*routes);
  }
  return ClientMessage(std::move(m));
}

json client_to_json(const RegisterMessage& m) {
  json j = {{"type", "register"},
            {"node_key", to_base64(m.node_key)},
            {"disco_key", to_base64(m.disco_key)},
            {"hostname", m.hostname}};
  if (!m.auth_key.empty()) j["auth_key"] = m.auth_key;
  if (!m.routes.empty()) j["routes"] = prefixes_to_json(m.routes);
  return j;
}

json client_to_json(const MapRequestMessage& m) {
  json j = {{"type", "map_request"},
            {"node_key", to_base64(m.node_key)},
            {"disco_key", to_base64(m.disco_key)},
            {"endpoints", endpoints_to_json(m.endpoints)},
            {"home_relay", m.home_relay}};
  if (!m.hostname.empty()) j["hostname"] = m.hostname;
  if (m.routes) j["routes"] = prefixes_to_json(*m.routes);
  return j;
}

json client_to_json(const UpdateMessage& m) {
  json j = {{"type", "update"}};
  if (m.endpoints) j["endpoints"] = endpoints_to_json(*m.endpoints);
  if (m.home_relay) j["home_relay"] = *m.home_relay;
  if (m.disco_key) j["disco_key"] = to_base64(*m.disco_key);
  if (m.hostname) j["hostname"] = *m.hostname;
  if (m.routes) j["routes"] = prefixes_to_json(*m.routes);
  return j;
}

json client_to_json(const RelaySubscribeMessage&) {
  return {{"type", "relay_subscribe"}};
}

// ---------------------------------------------------------------------------------------------
// Server messages.

Result<std::vector<PeerNode>> node_list(const json& doc, const char* key,
                                        const std::string& where) {
  auto nodes = list_of<PeerNode>(
      doc, key, where, SIZE_MAX,
      [](const json& v, const std::string& w) { return peer_node_from_json(v, w); });
  if (!nodes) return nodes.error();
  if (Status s = check_ascending(*nodes, at(where, key), [](const PeerNode& n) { return n.id; });
      !s) {
    return s.error();
  }
  return nodes;
}

Result<ServerMessage> decode_map(const json& doc) {
  const std::string where = "map";
  if (Status s = check_keys(doc, where,
                            {"type", "seq", "full", "self", "peers", "peers_changed",
                             "peers_removed", "peer_patches", "relay_map", "packet_filter"});
      !s) {
    return s.error();
  }
  MapMessage m;
  auto seq = required_integer(doc, "seq", where, 1, INT64_MAX);
  if (!seq) return seq.error();
  m.seq = static_cast<uint64_t>(*seq);
  auto full = json_checks::optional_bool(doc, "full", where);
  if (!full) return full.error();
  m.full = full->value_or(false);
  if (m.full) {
    for (const char* key : {"peers_changed", "peers_removed", "peer_patches"}) {
      if (find(doc, key)) return error_at(at(where, key), "not allowed in a full map");
    }
    for (const char* key : {"self", "peers", "relay_map", "packet_filter"}) {
      if (!find(doc, key)) return error_at(where, "a full map needs " + in_quotes(key));
    }
    WARREN_ASSIGN_OR_RETURN(m.peers, node_list(doc, "peers", where));
  } else {
    if (find(doc, "peers")) {
      return error_at(at(where, "peers"), "only allowed in a full map (deltas use peers_changed)");
    }
    if (find(doc, "peers_changed")) {
      WARREN_ASSIGN_OR_RETURN(m.peers_changed, node_list(doc, "peers_changed", where));
    }
    if (find(doc, "peers_removed")) {
      auto removed = list_of<NodeId>(doc, "peers_removed", where, SIZE_MAX, id_value);
      if (!removed) return removed.error();
      if (Status s =
              check_ascending(*removed, at(where, "peers_removed"), [](NodeId id) { return id; });
          !s) {
        return s.error();
      }
      m.peers_removed = std::move(*removed);
    }
    if (find(doc, "peer_patches")) {
      auto patches = list_of<PeerPatch>(
          doc, "peer_patches", where, SIZE_MAX,
          [](const json& v, const std::string& w) { return peer_patch_from_json(v, w); });
      if (!patches) return patches.error();
      if (Status s = check_ascending(*patches, at(where, "peer_patches"),
                                     [](const PeerPatch& p) { return p.id; });
          !s) {
        return s.error();
      }
      m.peer_patches = std::move(*patches);
    }
  }
  if (const json* v = find(doc, "self")) {
    WARREN_ASSIGN_OR_RETURN(m.self, peer_node_from_json(*v, at(where, "self")));
  }
  if (const json* v = find(doc, "relay_map")) {
    WARREN_ASSIGN_OR_RETURN(m.relay_map, relay_map_from_json(*v, at(where, "relay_map")));
  }
  if (const json* v = find(doc, "packet_filter")) {
    auto filter = packet_filter_from_json(*v);
    if (!filter) return error_at(where, filter.error().message);
    m.packet_filter = std::move(*filter);
  }
  return ServerMessage(std::move(m));
}

Result<std::vector<PublicKey>> key_list(const json& doc, const char* key,
                                        const std::string& where) {
  auto keys = list_of<PublicKey>(doc, key, where, SIZE_MAX, key_value);
  if (!keys) return keys.error();
  if (Status s = check_ascending(*keys, at(where, key), [](const PublicKey& k) { return k; }); !s) {
    return s.error();
  }
  return keys;
}

// {"key", "reason"}: the reason is shown in relay logs and sent to refused nodes, so it must be
// one line of printable text.
Result<RemovedRelayKey> removed_key_value(const json& v, const std::string& where) {
  if (!v.is_object()) {
    return error_at(where,
                    std::string("expected an object {\"key\", \"reason\"}, got ") + type_name(v));
  }
  if (Status s = check_keys(v, where, {"key", "reason"}); !s) return s.error();
  RemovedRelayKey out;
  WARREN_ASSIGN_OR_RETURN(out.key, required_key(v, "key", where));
  auto reason = required_text(v, "reason", where, kMaxRemovalReasonBytes);
  if (!reason) return reason.error();
  if (reason->empty()) return error_at(at(where, "reason"), "empty; say why the key was removed");
  for (unsigned char c : *reason) {
    if (c < 0x20 || c == 0x7f) {
      return error_at(at(where, "reason"), "contains a control character; expected one line");
    }
  }
  out.reason = std::move(*reason);
  return out;
}

Result<ServerMessage> decode_relay_keys(const json& doc) {
  const std::string where = "relay_keys";
  if (Status s = check_keys(doc, where, {"type", "seq", "full", "keys", "added", "removed"}); !s) {
    return s.error();
  }
  RelayKeysMessage m;
  auto seq = required_integer(doc, "seq", where, 1, INT64_MAX);
  if (!seq) return seq.error();
  m.seq = static_cast<uint64_t>(*seq);
  auto full = json_checks::optional_bool(doc, "full", where);
  if (!full) return full.error();
  m.full = full->value_or(false);
  if (m.full) {
    for (const char* key : {"added", "removed"}) {
      if (find(doc, key)) return error_at(at(where, key), "not allowed in a full key set");
    }
    WARREN_ASSIGN_OR_RETURN(m.keys, key_list(doc, "keys", where));
  } else {
    if (find(doc, "keys")) return error_at(at(where, "keys"), "only allowed with \"full\": true");
    if (find(doc, "added")) {
      WARREN_ASSIGN_OR_RETURN(m.added, key_list(doc, "added", where));
    }
    if (find(doc, "removed")) {
      auto removed = list_of<RemovedRelayKey>(doc, "removed", where, SIZE_MAX, removed_key_value);
      if (!removed) return removed.error();
      if (Status s = check_ascending(*removed, at(where, "removed"),
                                     [](const RemovedRelayKey& r) { return r.key; });
          !s) {
        return s.error();
      }
      m.removed = std::move(*removed);
    }
  }
  return ServerMessage(std::move(m));
}

Result<ServerMessage> decode_register_response(const json& doc) {
  const std::string where = "register_response";
  if (Status s = check_keys(doc, where, {"type", "ok", "error", "node"}); !s) return s.error();
  RegisterResponse m;
  WARREN_ASSIGN_OR_RETURN(m.ok, required_bool(doc, "ok", where));
  if (m.ok) {
    if (find(doc, "error")) return error_at(at(where, "error"), "not allowed when ok is true");
    const json* node = find(doc, "node");
    if (!node) return error_at(where, "missing \"node\"");
    WARREN_ASSIGN_OR_RETURN(m.node, peer_node_from_json(*node, at(where, "node")));
  } else {
    if (find(doc, "node")) return error_at(at(where, "node"), "not allowed when ok is false");
    WARREN_ASSIGN_OR_RETURN(m.error, required_text(doc, "error", where, kMaxTextBytes * 4));
  }
  return ServerMessage(std::move(m));
}

Result<ServerMessage> decode_error(const json& doc) {
  const std::string where = "error";
  if (Status s = check_keys(doc, where, {"type", "error"}); !s) return s.error();
  auto error = required_text(doc, "error", where, kMaxTextBytes * 4);
  if (!error) return error.error();
  return ServerMessage(ErrorMessage{std::move(*error)});
}

json peers_to_json(const std::vector<PeerNode>& peers) {
  json out = json::array();
  for (const PeerNode& p : peers) out.push_back(peer_node_to_json(p));
  return out;
}

json server_to_json(const RegisterResponse& m) {
  json j = {{"type", "register_response"}, {"ok", m.ok}};
  if (m.ok) {
    j["node"] = m.node ? peer_node_to_json(*m.node) : json(nullptr);
  } else {
    j["error"] = m.error;
  }
  return j;
}

json server_to_json(const MapMessage& m) {
  json j = {{"type", "map"}, {"seq", m.seq}};
  if (m.full) {
    j["full"] = true;
    j["self"] = m.self ? peer_node_to_json(*m.self) : json(nullptr);
    j["peers"] = peers_to_json(m.peers);
    j["relay_map"] = relay_map_to_json(m.relay_map.value_or(RelayMap{}));
    j["packet_filter"] = packet_filter_to_json(m.packet_filter.value_or(PacketFilter{}));
    return j;
  }
  if (m.self) j["self"] = peer_node_to_json(*m.self);
  if (!m.peers_changed.empty()) j["peers_changed"] = peers_to_json(m.peers_changed);
  if (!m.peers_removed.empty()) j["peers_removed"] = m.peers_removed;
  if (!m.peer_patches.empty()) {
    json patches = json::array();
    for (const PeerPatch& p : m.peer_patches) patches.push_back(peer_patch_to_json(p));
    j["peer_patches"] = std::move(patches);
  }
  if (m.relay_map) j["relay_map"] = relay_map_to_json(*m.relay_map);
  if (m.packet_filter) j["packet_filter"] = packet_filter_to_json(*m.packet_filter);
  return j;
}

json server_to_json(const KeepaliveMessage&) {
  return {{"type", "keepalive"}};
}

json server_to_json(const RelayKeysMessage& m) {
  json j = {{"type", "relay_keys"}, {"seq", m.seq}};
  if (m.full) {
    j["full"] = true;
    j["keys"] = keys_to_json(m.keys);
    return j;
  }
  if (!m.added.empty()) j["added"] = keys_to_json(m.added);
  if (!m.removed.empty()) {
    json removed = json::array();
    for (const RemovedRelayKey& r : m.removed) {
      removed.push_back({{"key", to_base64(r.key)}, {"reason", r.reason}});
    }
    j["removed"] = std::move(removed);
  }
  return j;
}

json server_to_json(const ErrorMessage& m) {
  return {{"type", "error"}, {"error", m.error}};
}

}  // namespace

Bytes encode(const ClientMessage& message) {
  return std::visit([](const auto& m) { return to_bytes(client_to_json(m)); }, message);
}

Bytes encode(const ServerMessage& message) {
  return std::visit([](const auto& m) { return to_bytes(server_to_json(m)); }, message);
}

Result<ClientMessage> decode_client_message(ByteView bytes) {
  auto doc = parse_object(bytes);
  if (!doc) return doc.error();
  auto type = message_type_of(*doc, kClientTypes);
  if (!type) return type.error();
  if (*type == "register") return decode_register(*doc);
  if (*type == "map_request") return decode_map_request(*doc);
  if (*type == "update") return decode_update(*doc);
  if (Status s = check_keys(*doc, *type, {"type"}); !s) return s.error();
  return ClientMessage(RelaySubscribeMessage{});
}

Result<ServerMessage> decode_server_message(ByteView bytes) {
  auto doc = parse_object(bytes);
  if (!doc) return doc.error();
  auto type = message_type_of(*doc, kServerTypes);
  if (!type) return type.error();
  if (*type == "map") return decode_map(*doc);
  if (*type == "relay_keys") return decode_relay_keys(*doc);
  if (*type == "register_response") return decode_register_response(*doc);
  if (*type == "error") return decode_error(*doc);
  if (Status s = check_keys(*doc, *type, {"type"}); !s) return s.error();
  return ServerMessage(KeepaliveMessage{});
}

const char* message_type(const ClientMessage& message) {
  static const char* const kNames[] = {"register", "map_request", "update", "relay_subscribe"};
  return kNames[message.index()];
}

const char* message_type(const ServerMessage& message) {
  static const char* const kNames[] = {"register_response", "map", "keepalive", "relay_keys",
                                       "error"};
  return kNames[message.index()];
}

}  // namespace warren::control
