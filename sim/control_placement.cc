#include "sim/control_placement.h"

#include <cmath>
#include <set>

#include "nodes/common/json_checks.h"
#include "nodes/control/policy.h"
#include "sim/control_client_role.h"
#include "sim/control_server_role.h"
#include "sim/relay_placement.h"

namespace warren::sim {
namespace {

using nlohmann::json;
using namespace json_checks;  // NOLINT: role validation is built from these checks

const std::vector<std::string> kServerKeys = {"port",
                                              "family",
                                              "users",
                                              "keys",
                                              "policy",
                                              "relay_map",
                                              "batch_window_ms",
                                              "keepalive_s",
                                              "offline_grace_s",
                                              "ephemeral_timeout_s",
                                              "node_key_expiry_s"};
const std::vector<std::string> kClientKeys = {"server", "key", "start_jitter_s"};
const std::vector<std::string> kAuthKeyKeys = {"name",      "user",         "reusable",
                                               "ephemeral", "expiration_s", "tags"};
// Longest duration a control parameter takes: ten years (node key expiry), as seconds.
constexpr double kMaxControlSeconds = 10.0 * 365 * 24 * 3600;
// A start jitter longer than a day is a typo (milliseconds written as seconds).
constexpr double kMaxStartJitterSeconds = 24 * 3600;
const Duration kDefaultStartJitter = Duration::seconds(1);

Duration seconds(double s) {
  return Duration::nanoseconds(static_cast<int64_t>(std::llround(s * 1e9)));
}

// What a control-server role's parameters say, for the server itself and for its clients.
struct ServerParams {
  uint16_t port = kDefaultControlPort;
  std::optional<Family> family;  // absent: ipv4 when the node has it, else ipv6
  ControlServerSetup setup;
  control::ControlServerOptions options;  // `listen` is filled per node
};

Family listen_family(const ServerParams& p, const topo::Node& node) {
  if (p.family) return *p.family;
  return node.has(Family::ipv4) ? Family::ipv4 : Family::ipv6;
}

bool valid_user_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

Result<std::optional<Duration>> seconds_param(const json& params, const char* key,
                                              const std::string& where, double min, double max,
                                              double scale = 1.0) {
  auto v = optional_number(params, key, where, min, max);
  if (!v) return v.error();
  if (!*v) return std::optional<Duration>();
  return std::optional<Duration>(seconds(**v * scale));
}

Result<ScenarioAuthKey> parse_auth_key(const json& k, const std::string& where,
                                       const std::set<std::string>& users) {
  if (!k.is_object()) return error_at(where, "must be an object {\"name\", \"user\", ...}");
  if (Status s = check_keys(k, where, kAuthKeyKeys); !s) return s.error();
  ScenarioAuthKey key;
  auto name = required_string(k, "name", where);
  if (!name) return name.error();
  if (name->empty()) return error_at(where + ".name", "must not be empty");
  key.name = *name;
  auto user = required_string(k, "user", where);
  if (!user) return user.error();
  if (!users.count(*user)) {
    return error_at(where + ".user",
                    "unknown user " + in_quotes(*user) + " (declare it in the role's \"users\")");
  }
  key.user = *user;
  auto reusable = optional_bool(k, "reusable", where);
  if (!reusable) return reusable.error();
  key.reusable = reusable->value_or(false);
  auto ephemeral = optional_bool(k, "ephemeral", where);
  if (!ephemeral) return ephemeral.error();
  key.ephemeral = ephemeral->value_or(false);
  auto expiration = seconds_param(k, "expiration_s", where, 0, kMaxControlSeconds);
  if (!expiration) return expiration.error();
  key.expiration = expiration->value_or(Duration::zero());
  if (k.contains("tags")) {
    const json& tags = k.at("tags");
    if (!tags.is_array()) return error_at(where + ".tags", "must be a list like [\"tag:server\"]");
    for (const json& t : tags) {
      if (!t.is_string() || t.get<std::string>().rfind("tag:", 0) != 0 ||
          t.get<std::string>().size() == 4) {
        return error_at(where + ".tags", "each tag must be a string \"tag:NAME\", not " + t.dump());
      }
      key.tags.push_back(t.get<std::string>());
    }
  }
  return key;
}

Result<ServerParams> parse_server_params(const json& params, const std::string& where) {
  if (Status s = check_keys(params, where, kServerKeys); !s) return s.error();
  ServerParams p;
  auto port = optional_integer(params, "port", where, 1, 65535);
  if (!port) return port.error();
  if (*port) p.port = static_cast<uint16_t>(**port);
  auto family = optional_string(params, "family", where);
  if (!family) return family.error();
  if (*family) {
    auto f = parse_family(**family);
    if (!f) return error_at(where + ".family", "must be \"ipv4\" or \"ipv6\"");
    p.family = *f;
  }
  std::set<std::string> users;
  if (params.contains("users")) {
    const json& list = params.at("users");
    if (!list.is_array()) return error_at(where + ".users", "must be a list of user names");
    for (size_t i = 0; i < list.size(); ++i) {
      std::string w = where + ".users[" + std::to_string(i) + "]";
      if (!list[i].is_string() || !valid_user_name(list[i].get<std::string>())) {
        return error_at(w,
                        "must be a user name: lowercase letters and digits, then also . _ -, "
                        "at most 63 characters");
      }
      if (!users.insert(list[i].get<std::string>()).second) return error_at(w, "user listed twice");
      p.setup.users.push_back(list[i].get<std::string>());
    }
  }
  if (params.contains("keys")) {
    const json& list = params.at("keys");
    if (!list.is_array()) return error_at(where + ".keys", "must be a list of pre-auth keys");
    std::set<std::string> names;
    for (size_t i = 0; i < list.size(); ++i) {
      std::string w = where + ".keys[" + std::to_string(i) + "]";
      auto key = parse_auth_key(list[i], w, users);
      if (!key) return key.error();
      if (!names.insert(key->name).second) return error_at(w + ".name", "key name used twice");
      p.setup.keys.push_back(std::move(*key));
    }
  }
  if (params.contains("policy")) {
    const json& policy = params.at("policy");
    if (!policy.is_object()) return error_at(where + ".policy", "must be an ACL policy object");
    std::string text = policy.dump(2);
    auto parsed = control::parse_policy(text);
    if (!parsed) {
      return error_at(where + ".policy", parsed.error().message +
                                             " (lines count in the policy "
                                             "as printed with two-space indent)");
    }
    p.setup.policy = text;
  }
  if (params.contains("relay_map")) {
    auto map = control::relay_map_from_json(params.at("relay_map"));
    if (!map) return error_at(where + ".relay_map", map.error().message);
    p.options.core.relay_map = std::move(*map);
  }
  auto batch = seconds_param(params, "batch_window_ms", where, 1, 60000, 1e-3);
  if (!batch) return batch.error();
  if (*batch) p.options.core.batch_window = **batch;
  auto keepalive = seconds_param(params, "keepalive_s", where, 1, 3600);
  if (!keepalive) return keepalive.error();
  if (*keepalive) p.options.core.keepalive_interval = **keepalive;
  auto grace = seconds_param(params, "offline_grace_s", where, 0, kMaxControlSeconds);
  if (!grace) return grace.error();
  if (*grace) p.options.core.offline_grace = **grace;
  auto ephemeral = seconds_param(params, "ephemeral_timeout_s", where, 0, kMaxControlSeconds);
  if (!ephemeral) return ephemeral.error();
  if (*ephemeral) p.options.core.ephemeral_timeout = **ephemeral;
  auto expiry = seconds_param(params, "node_key_expiry_s", where, 0, kMaxControlSeconds);
  if (!expiry) return expiry.error();
  if (*expiry) p.options.registry.node_key_expiry = **expiry;
  return p;
}

// The control-server role on `node`, if the scenario places one there.
const RoleSpec* server_spec_on(const Scenario& sc, const std::string& node) {
  for (const RoleSpec& spec : sc.roles) {
    if (spec.role != "control-server") continue;
    for (const std::string& n : spec.nodes)
      if (n == node) return &spec;
  }
  return nullptr;
}

PrivateKey node_key_for(const Scenario& sc, const std::string& node, const char* purpose) {
  SeededRng rng = SeededRng(sc.seed, "node:" + node).derive(purpose);
  return generate_private_key(rng);
}

}  // namespace

Result<std::vector<PlacedRole>> place_control_server(const Scenario& sc, const RoleSpec& spec,
                                                     RoleRecords& records,
                                                     const std::string& where) {
  auto params = parse_server_params(spec.params, where);
  if (!params) return params.error();
  std::vector<PlacedRole> placed;
  for (const std::string& name : spec.nodes) {
    int idx = *sc.topology.find(name);
    const topo::Node& node = sc.topology.nodes[idx];
    if (node.kind != topo::NodeKind::host)
      return error_at(where, in_quotes(name) + " is not a host");
    if (server_spec_on(sc, name) != &spec) {
      return error_at(where, in_quotes(name) + " already runs a control server (one per node)");
    }
    Family family = listen_family(*params, node);
    if (!node.has(family)) {
      return error_at(where + ".family", in_quotes(name) + " has no " + to_string(family));
    }
    control::ControlServerOptions options = params->options;
    options.listen = Endpoint(IpAddress::any(family), params->port);
    if (!spec.params.contains("relay_map")) {
      // The relays that name this server as their control, as the scenario places them.
      auto relay_map = scenario_relay_map(sc, name);
      if (!relay_map) return relay_map.error();
      options.core.relay_map = std::move(*relay_map);
    }
    ControlServerSetup setup = params->setup;
    PrivateKey key = control_server_key(sc, name);
    ControlServerRecord* record = &records.control_servers[name];
    std::shared_ptr<MemoryStoreData> disk = records.disk(name);
    PlacedRole p{spec.role, idx, spec.start, nullptr};
    p.factory = [disk, key, options, setup, record](Env& env) -> std::shared_ptr<void> {
      return ControlServerRole::Create(env, disk, key, options, setup, *record);
    };
    placed.push_back(std::move(p));
  }
  return placed;
}

Result<Endpoint> control_server_endpoint(const Scenario& sc, const std::string& node,
                                         const std::string& where) {
  auto server_index = sc.topology.find(node);
  if (!server_index) return error_at(where, "unknown node " + in_quotes(node));
  const RoleSpec* server_spec = server_spec_on(sc, node);
  if (server_spec == nullptr)
    return error_at(where, in_quotes(node) + " runs no control-server role");
  // The server's own parameters are checked where they are written; here they only matter
  // for the port and family.
  auto server = parse_server_params(server_spec->params, where + " (its server)");
  if (!server) return server.error();
  const topo::Node& server_node = sc.topology.nodes[*server_index];
  const Family family = listen_family(*server, server_node);
  const auto& server_address = family == Family::ipv4 ? server_node.ipv4 : server_node.ipv6;
  if (!server_address) {
    return error_at(where,
                    in_quotes(node) + " has no " + to_string(family) + " address to listen on");
  }
  return Endpoint(*server_address, server->port);
}

PrivateKey control_server_key(const Scenario& sc, const std::string& node) {
  // Fixed per node and seed (not drawn from the role's running Rng): a restarted server must
  // present the key its clients pinned, as the real one reads it from its state directory.
  return node_key_for(sc, node, "control-server/static-key");
}

Result<std::vector<ControlClientPlan>> plan_control_clients(const Scenario& sc,
                                                            const RoleSpec& spec,
                                                            RoleRecords& records,
                                                            const std::string& where) {
  auto server_name = required_string(spec.params, "server", where);
  if (!server_name) {
    return error_at(where, "needs \"server\": the name of a node running a control-server role");
  }
  auto server_endpoint = control_server_endpoint(sc, *server_name, where + ".server");
  if (!server_endpoint) return server_endpoint.error();
  auto server =
      parse_server_params(server_spec_on(sc, *server_name)->params, where + " (its server)");
  if (!server) return server.error();
  auto key_name = required_string(spec.params, "key", where);
  if (!key_name) {
    return error_at(where, "needs \"key\": the name of a pre-auth key the server role declares");
  }
  bool declared = false;
  std::vector<std::string> key_names;
  for (const ScenarioAuthKey& k : server->setup.keys) {
    declared = declared || k.name == *key_name;
    key_names.push_back(k.name);
  }
  if (!declared) {
    return error_at(where + ".key", "the control server on " + in_quotes(*server_name) +
                                        " declares no key " + in_quotes(*key_name) +
                                        suggestion(*key_name, key_names));
  }
  auto jitter = seconds_param(spec.params, "start_jitter_s", where, 0, kMaxStartJitterSeconds);
  if (!jitter) return jitter.error();
  const Family family = server_endpoint->family();
  const ControlServerRecord* server_record = &records.control_servers[*server_name];
  std::vector<ControlClientPlan> plans;
  for (const std::string& name : spec.nodes) {
    int idx = *sc.topology.find(name);
    const topo::Node& node = sc.topology.nodes[idx];
    if (node.kind != topo::NodeKind::host)
      return error_at(where, in_quotes(name) + " is not a host");
    if (!node.has(family)) {
      return error_at(where, "client " + in_quotes(name) + " has no " + to_string(family) +
                                 ", the family its control server listens on");
    }
    if (records.control_clients.count(name)) {
      return error_at(where, in_quotes(name) + " already runs a control client (one per node)");
    }
    ControlClientPlan plan;
    plan.node = idx;
    plan.setup = ControlClientSetup{*server_endpoint,
                                    *server_name,
                                    name,
                                    *key_name,
                                    jitter->value_or(kDefaultStartJitter),
                                    node_key_for(sc, name, "control-client/machine-key"),
                                    node_key_for(sc, name, "control-client/node-key")};
    plan.server = server_record;
    plan.record = &records.control_clients[name];
    plans.push_back(std::move(plan));
  }
  return plans;
}

Result<std::vector<PlacedRole>> place_control_client(const Scenario& sc, const RoleSpec& spec,
                                                     RoleRecords& records,
                                                     const std::string& where) {
  if (Status s = check_keys(spec.params, where, kClientKeys); !s) return s.error();
  auto plans = plan_control_clients(sc, spec, records, where);
  if (!plans) return plans.error();
  std::vector<PlacedRole> placed;
  for (const ControlClientPlan& plan : *plans) {
    PlacedRole p{spec.role, plan.node, spec.start, nullptr};
    p.factory = [setup = plan.setup, server = plan.server,
                 record = plan.record](Env& env) -> std::shared_ptr<void> {
      return std::make_shared<ControlClientRole>(env, setup, *server, *record);
    };
    placed.push_back(std::move(p));
  }
  return placed;
}

}  // namespace warren::sim
