#include "sim/relay_placement.h"

#include <algorithm>
#include <map>
#include <optional>

#include "nodes/common/json_checks.h"
#include "nodes/net/rng.h"
#include "sim/control_placement.h"
#include "sim/relay_probe_role.h"
#include "sim/relay_server_role.h"

namespace warren::sim {
namespace {

using nlohmann::json;
using namespace json_checks;  // NOLINT: role validation is built from these checks

const std::vector<std::string> kServerKeys = {"control", "port",        "stun_port",
                                              "family",  "region",      "region_code",
                                              "mesh",    "queue_depth", "rate_limit_bytes_per_s"};
const std::vector<std::string> kProbeKeys = {
    "server", "key", "start_jitter_s", "register", "relay",
    "mode",   "to",  "count",          "size",     "interval_ms"};
const std::vector<std::string> kControlClientKeys = {"server", "key", "start_jitter_s"};
const std::vector<std::string> kSendKeys = {"to", "count", "size", "interval_ms"};
constexpr int64_t kMaxRegionId = 65535;
// Per client queue depth: the relay clamps to this too; more is a typo.
constexpr int64_t kMaxQueueDepth = 1 << 16;
constexpr int64_t kDefaultProbeCount = 10;
constexpr int64_t kDefaultProbeSize = 128;
constexpr int64_t kDefaultProbeIntervalMs = 100;
// An hour between probe packets is a typo (seconds written as milliseconds... or worse).
constexpr int64_t kMaxProbeIntervalMs = 3600 * 1000;

// One relay-server role on one node, its parameters read.
struct RelayPlan {
  const RoleSpec* spec = nullptr;
  std::string where;  // the role's location in the scenario file
  int node = -1;
  std::string name;
  int region = kDefaultRelayRegion;
  std::string code;  // empty: not given by this role
  uint16_t port = kDefaultRelayPort;
  uint16_t stun_port = kDefaultRelayStunPort;
  Family family = Family::ipv4;        // the stream port's
  std::optional<bool> mesh;            // as given; resolved per region
  bool meshes = false;                 // resolved
  std::string control;                 // empty: no control server
  relay::RelayServerOptions tunables;  // queue_depth and rate only
};

struct RelayPlans {
  std::vector<RelayPlan> relays;     // topology order
  std::map<int, std::string> codes;  // region id -> code
};

PrivateKey derived_key(const Scenario& sc, const std::string& node, const char* purpose) {
  SeededRng rng = SeededRng(sc.seed, "node:" + node).derive(purpose);
  return generate_private_key(rng);
}

const IpAddress& address_of(const topo::Node& node, Family f) {
  return f == Family::ipv4 ? *node.ipv4 : *node.ipv6;
}

Result<RelayPlan> read_relay_params(const Scenario& sc, const RoleSpec& spec,
                                    const std::string& name, const std::string& where) {
  const json& params = spec.params;
  if (Status s = check_keys(params, where, kServerKeys); !s) return s.error();
  RelayPlan plan;
  plan.spec = &spec;
  plan.where = where;
  plan.node = *sc.topology.find(name);
  plan.name = name;
  const topo::Node& node = sc.topology.nodes[plan.node];
  if (node.kind != topo::NodeKind::host) return error_at(where, in_quotes(name) + " is not a host");
  auto port = optional_integer(params, "port", where, 1, 65535);
  if (!port) return port.error();
  plan.port = static_cast<uint16_t>(port->value_or(kDefaultRelayPort));
  auto stun_port = optional_integer(params, "stun_port", where, 0, 65535);
  if (!stun_port) return stun_port.error();
  plan.stun_port = static_cast<uint16_t>(stun_port->value_or(kDefaultRelayStunPort));
  auto family = optional_string(params, "family", where);
  if (!family) return family.error();
  plan.family = node.has(Family::ipv4) ? Family::ipv4 : Family::ipv6;
  if (*family) {
    auto f = parse_family(**family);
    if (!f) return error_at(where + ".family", "must be \"ipv4\" or \"ipv6\"");
    if (!node.has(*f)) return error_at(where + ".family", in_quotes(name) + " has no " + **family);
    plan.family = *f;
  }
  auto region = optional_integer(params, "region", where, 1, kMaxRegionId);
  if (!region) return region.error();
  plan.region = static_cast<int>(region->value_or(kDefaultRelayRegion));
  auto code = optional_string(params, "region_code", where);
  if (!code) return code.error();
  if (*code) {
    if (Status s = check_name(**code, where + ".region_code"); !s) return s.error();
    plan.code = **code;
  }
  auto mesh = optional_bool(params, "mesh", where);
  if (!mesh) return mesh.error();
  plan.mesh = *mesh;
  auto depth = optional_integer(params, "queue_depth", where, 1, kMaxQueueDepth);
  if (!depth) return depth.error();
  if (*depth) plan.tunables.queue_depth = static_cast<size_t>(**depth);
  auto rate = optional_integer(params, "rate_limit_bytes_per_s", where, 0, UINT32_MAX);
  if (!rate) return rate.error();
  if (*rate) plan.tunables.rate_bytes_per_s = static_cast<uint32_t>(**rate);
  auto control = optional_string(params, "control", where);
  if (!control) return control.error();
  if (*control) {
    auto endpoint = control_server_endpoint(sc, **control, where + ".control");
    if (!endpoint) return endpoint.error();
    if (!node.has(endpoint->family())) {
      return error_at(where + ".control", in_quotes(name) + " has no " +
                                              to_string(endpoint->family()) +
                                              ", the family its control server listens on");
    }
    plan.control = **control;
  }
  return plan;
}

// Every relay-server role of the scenario, read and checked together: a region's code, and
// whether and how its relays mesh, depend on all of them.
Result<RelayPlans> relay_plans(const Scenario& sc) {
  RelayPlans out;
  for (size_t i = 0; i < sc.roles.size(); ++i) {
    const RoleSpec& spec = sc.roles[i];
    if (spec.role != "relay-server") continue;
    const std::string where = sc.source + ": roles[" + std::to_string(i) + "]";
    for (const std::string& name : spec.nodes) {
      for (const RelayPlan& other : out.relays) {
        if (other.name == name) {
          return error_at(where, in_quotes(name) + " already runs a relay (one per node; see " +
                                     other.where + ")");
        }
      }
      auto plan = read_relay_params(sc, spec, name, where);
      if (!plan) return plan.error();
      out.relays.push_back(std::move(*plan));
    }
  }
  std::stable_sort(out.relays.begin(), out.relays.end(),
                   [](const RelayPlan& a, const RelayPlan& b) { return a.node < b.node; });
  std::map<int, size_t> counts;
  for (const RelayPlan& r : out.relays) {
    ++counts[r.region];
    if (r.code.empty()) continue;
    auto [it, inserted] = out.codes.emplace(r.region, r.code);
    if (!inserted && it->second != r.code) {
      return error_at(r.where + ".region_code", "region " + std::to_string(r.region) +
                                                    " is called " + in_quotes(it->second) +
                                                    " by another relay and " + in_quotes(r.code) +
                                                    " here; give its relays one code");
    }
  }
  for (const auto& [region, count] : counts) {
    out.codes.emplace(region, "region-" + std::to_string(region));
  }
  // A region's meshing relays reach each other's stream ports: one family for all of them.
  std::map<int, const RelayPlan*> first_mesher;
  for (RelayPlan& r : out.relays) {
    r.meshes = r.mesh.value_or(counts[r.region] > 1);
    if (!r.meshes) continue;
    auto [it, inserted] = first_mesher.emplace(r.region, &r);
    if (!inserted && it->second->family != r.family) {
      return error_at(r.where, in_quotes(r.name) + " listens on " + to_string(r.family) + " but " +
                                   in_quotes(it->second->name) + " of the same region on " +
                                   to_string(it->second->family) +
                                   "; meshed relays need one family (set \"family\")");
    }
  }
  return out;
}

RelayServerSetup server_setup(const Scenario& sc, const RelayPlans& plans, const RelayPlan& plan) {
  const topo::Node& node = sc.topology.nodes[plan.node];
  RelayServerSetup setup;
  setup.key = relay_server_key(sc, plan.name);
  relay::RelayServerOptions& o = setup.options;
  // Clients may reach it on every family the node has (the relay map lists every address):
  // `family` is the first, the one meshed relays use among themselves.
  o.listen = Endpoint(IpAddress::any(plan.family), plan.port);
  for (Family f : node.families) {
    if (f != plan.family) o.additional_listen.emplace_back(IpAddress::any(f), plan.port);
  }
  if (plan.stun_port != 0) {
    for (Family f : node.families) o.stun_listen.emplace_back(IpAddress::any(f), plan.stun_port);
  }
  o.queue_depth = plan.tunables.queue_depth;
  o.rate_bytes_per_s = plan.tunables.rate_bytes_per_s;
  if (plan.meshes) {
    o.mesh_key = relay_mesh_key(sc, plan.region);
    for (const RelayPlan& peer : plans.relays) {
      if (!peer.meshes || peer.region != plan.region || peer.name == plan.name) continue;
      const topo::Node& peer_node = sc.topology.nodes[peer.node];
      o.mesh_peers.push_back(
          relay::MeshPeerConfig{Endpoint(address_of(peer_node, peer.family), peer.port), peer.name,
                                public_key(relay_server_key(sc, peer.name))});
    }
  }
  if (!plan.control.empty()) {
    relay::AdmissionFeedOptions feed;
    feed.server = *control_server_endpoint(sc, plan.control, plan.where);  // checked when read
    feed.host = plan.control;
    feed.relay_key = setup.key;
    feed.server_key = public_key(control_server_key(sc, plan.control));
    setup.control = std::move(feed);
  }
  return setup;
}

// A relay-probe role's node is named by "to" of another probe: it must register too.
const RoleSpec* probe_spec_on(const Scenario& sc, const std::string& node) {
  for (const RoleSpec& spec : sc.roles) {
    if (spec.role != "relay-probe") continue;
    for (const std::string& n : spec.nodes)
      if (n == node) return &spec;
  }
  return nullptr;
}

}  // namespace

PrivateKey relay_server_key(const Scenario& sc, const std::string& node) {
  return derived_key(sc, node, "relay-server/static-key");
}

relay::MeshKey relay_mesh_key(const Scenario& sc, int region) {
  SeededRng rng = SeededRng(sc.seed, "relay-mesh").derive("region:" + std::to_string(region));
  Key32 bytes{};
  rng.fill(bytes.data(), bytes.size());
  relay::MeshKey key(bytes);
  secure_wipe(bytes.data(), bytes.size());
  return key;
}

Result<control::RelayMap> scenario_relay_map(const Scenario& sc, const std::string& control_node) {
  auto plans = relay_plans(sc);
  if (!plans) return plans.error();
  std::map<int, control::RelayRegion> regions;
  for (const RelayPlan& r : plans->relays) {
    if (r.control != control_node) continue;
    control::RelayRegion& region = regions[r.region];
    region.id = r.region;
    region.code = plans->codes.at(r.region);
    region.name = region.code;
    const topo::Node& node = sc.topology.nodes[r.node];
    control::Relay relay;
    relay.name = r.name;
    relay.host = r.name;
    relay.port = r.port;
    relay.addresses.push_back(address_of(node, r.family));
    for (Family f : node.families) {
      if (f != r.family) relay.addresses.push_back(address_of(node, f));
    }
    relay.stun_port = r.stun_port;
    relay.key = public_key(relay_server_key(sc, r.name));
    region.relays.push_back(std::move(relay));
  }
  control::RelayMap map;
  for (auto& [id, region] : regions) map.regions.push_back(std::move(region));
  return map;
}

Result<std::vector<PlacedRole>> place_relay_server(const Scenario& sc, const RoleSpec& spec,
                                                   RoleRecords& records, const std::string& where) {
  if (Status s = check_keys(spec.params, where, kServerKeys); !s) return s.error();
  auto plans = relay_plans(sc);
  if (!plans) return plans.error();
  std::vector<PlacedRole> placed;
  for (const RelayPlan& plan : plans->relays) {
    if (plan.spec != &spec) continue;
    RelayServerRecord* record = &records.relay_servers[plan.name];
    record->region = plan.region;
    record->key = public_key(relay_server_key(sc, plan.name));
    RelayServerSetup setup = server_setup(sc, *plans, plan);
    PlacedRole p{spec.role, plan.node, spec.start, nullptr};
    p.factory = [setup, record](Env& env) -> std::shared_ptr<void> {
      return RelayServerRole::Create(env, setup, *record);
    };
    placed.push_back(std::move(p));
  }
  return placed;
}

Result<std::vector<PlacedRole>> place_relay_probe(const Scenario& sc, const RoleSpec& spec,
                                                  RoleRecords& records, const std::string& where) {
  const json& params = spec.params;
  if (Status s = check_keys(params, where, kProbeKeys); !s) return s.error();
  auto registers = optional_bool(params, "register", where);
  if (!registers) return registers.error();
  const bool register_node = registers->value_or(true);
  if (!register_node) {
    for (const std::string& key : kControlClientKeys) {
      if (params.contains(key)) {
        return error_at(where + "." + key,
                        "only for a probe that registers (this one has \"register\": false)");
      }
    }
  }

  // The relay, when named.
  auto plans = relay_plans(sc);
  if (!plans) return plans.error();
  auto relay_name = optional_string(params, "relay", where);
  if (!relay_name) return relay_name.error();
  const RelayPlan* relay_plan = nullptr;
  if (*relay_name) {
    for (const RelayPlan& r : plans->relays)
      if (r.name == **relay_name) relay_plan = &r;
    if (relay_plan == nullptr) {
      return error_at(where + ".relay", in_quotes(**relay_name) + " runs no relay-server role");
    }
  } else if (!register_node) {
    return error_at(where, "needs \"relay\": a probe that does not register gets no relay map");
  }

  // What it does.
  auto mode = optional_string(params, "mode", where);
  if (!mode) return mode.error();
  const std::string mode_name = mode->value_or(params.contains("to") ? "send" : "echo");
  if (mode_name != "send" && mode_name != "echo") {
    return error_at(where + ".mode", "must be \"echo\" or \"send\", not " + in_quotes(mode_name));
  }
  RelayProbeSetup base;
  base.send = mode_name == "send";
  if (!base.send) {
    for (const std::string& key : kSendKeys) {
      if (params.contains(key)) return error_at(where + "." + key, "only for \"mode\": \"send\"");
    }
  } else {
    if (!register_node) {
      return error_at(where + ".to",
                      "a probe that does not register cannot learn the key of "
                      "the probe it would send to; let it register");
    }
    auto to = required_string(params, "to", where);
    if (!to) return error_at(where, "needs \"to\": the node name of the probe to send to");
    if (!sc.topology.find(*to)) return error_at(where + ".to", "unknown node " + in_quotes(*to));
    const RoleSpec* to_spec = probe_spec_on(sc, *to);
    if (to_spec == nullptr)
      return error_at(where + ".to", in_quotes(*to) + " runs no relay-probe role");
    if (to_spec->params.contains("register") && to_spec->params.at("register") == false) {
      return error_at(where + ".to", in_quotes(*to) +
                                         " does not register, so it has no key in "
                                         "the map to send to");
    }
    if (to_spec->params.value("server", json()) != params.value("server", json())) {
      return error_at(where + ".to", in_quotes(*to) +
                                         " registers with another control server; a probe "
                                         "finds only the nodes of its own control server");
    }
    base.to = *to;
    auto count = optional_integer(params, "count", where, 1, kMaxProbeCount);
    if (!count) return count.error();
    base.count = static_cast<uint32_t>(count->value_or(kDefaultProbeCount));
    auto size = optional_integer(params, "size", where, RelayProbeRole::kHeaderBytes,
                                 relay::kMaxRelayPacketBytes);
    if (!size) return size.error();
    base.size = static_cast<uint32_t>(size->value_or(kDefaultProbeSize));
    auto interval = optional_integer(params, "interval_ms", where, 1, kMaxProbeIntervalMs);
    if (!interval) return interval.error();
    base.interval = Duration::milliseconds(interval->value_or(kDefaultProbeIntervalMs));
  }

  // The control client part, for every node at once.
  std::vector<ControlClientPlan> control_plans;
  if (register_node) {
    auto planned = plan_control_clients(sc, spec, records, where);
    if (!planned) return planned.error();
    control_plans = std::move(*planned);
  }

  std::vector<PlacedRole> placed;
  for (size_t i = 0; i < spec.nodes.size(); ++i) {
    const std::string& name = spec.nodes[i];
    const int idx = *sc.topology.find(name);
    const topo::Node& node = sc.topology.nodes[idx];
    if (node.kind != topo::NodeKind::host)
      return error_at(where, in_quotes(name) + " is not a host");
    if (records.relay_probes.count(name)) {
      return error_at(where, in_quotes(name) + " already runs a relay probe (one per node)");
    }
    if (base.send && base.to == name) {
      return error_at(where + ".to", in_quotes(name) + " would send to itself");
    }
    RelayProbeSetup setup = base;
    setup.families = node.families;
    const ControlServerRecord* server = nullptr;
    ControlClientRecord* control_record = nullptr;
    if (register_node) {
      const ControlClientPlan& plan = control_plans[i];
      setup.control = plan.setup;
      setup.node_key = plan.setup.node_key;
      server = plan.server;
      control_record = plan.record;
    } else {
      setup.node_key = derived_key(sc, name, "relay-probe/node-key");
    }
    if (relay_plan != nullptr) {
      const topo::Node& relay_node = sc.topology.nodes[relay_plan->node];
      if (!node.has(relay_plan->family)) {
        return error_at(where + ".relay", "probe " + in_quotes(name) + " has no " +
                                              to_string(relay_plan->family) + ", the family " +
                                              in_quotes(relay_plan->name) + " listens on");
      }
      setup.relay = RelayTarget{
          relay_plan->name, Endpoint(address_of(relay_node, relay_plan->family), relay_plan->port),
          relay_plan->name, public_key(relay_server_key(sc, relay_plan->name))};
    }
    RelayProbeRecord* record = &records.relay_probes[name];
    record->mode = mode_name;
    record->to = base.to;
    if (relay_plan != nullptr) record->relay = relay_plan->name;
    PlacedRole p{spec.role, idx, spec.start, nullptr};
    p.factory = [setup, server, control_record, record](Env& env) -> std::shared_ptr<void> {
      return std::make_shared<RelayProbeRole>(env, setup, server, control_record, *record);
    };
    placed.push_back(std::move(p));
  }
  return placed;
}

}  // namespace warren::sim
