#include "sim/role_catalog.h"

#include "nodes/common/json_checks.h"
#include "sim/control_placement.h"
#include "sim/relay_placement.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace warren::sim {
namespace {

using nlohmann::json;
using namespace json_checks;  // NOLINT: role validation is built from these checks

constexpr uint16_t kDefaultStunPort = 3478;  // RFC 8489 section 9
const std::vector<std::string> kKnownRoles = {"stun-server",    "stun-client",  "control-server",
                                              "control-client", "relay-server", "relay-probe"};

Result<uint16_t> port_param(const json& params, const std::string& where) {
  if (!params.contains("port")) return kDefaultStunPort;
  const json& p = params.at("port");
  if (!p.is_number_integer() || p.get<int64_t>() < 1 || p.get<int64_t>() > 65535) {
    return error_at(where + ".port", "must be an integer port 1..65535");
  }
  return static_cast<uint16_t>(p.get<int64_t>());
}

Result<std::vector<PlacedRole>> place_stun_server(const Scenario& sc, const RoleSpec& spec,
                                                  const std::string& where) {
  if (Status s = check_keys(spec.params, where, {"port"}); !s) return s.error();
  auto port = port_param(spec.params, where);
  if (!port) return port.error();
  std::vector<PlacedRole> placed;
  for (const std::string& name : spec.nodes) {
    int idx = *sc.topology.find(name);
    const topo::Node& node = sc.topology.nodes[idx];
    if (node.kind != topo::NodeKind::host) return error_at(where, "\"" + name + "\" is not a host");
    std::vector<Endpoint> listen;
    for (Family f : node.families) listen.emplace_back(IpAddress::any(f), *port);
    PlacedRole p{spec.role, idx, spec.start, nullptr};
    p.factory = [listen](Env& env) -> std::shared_ptr<void> {
      auto server = std::make_shared<StunServer>(env);
      if (Status s = server->start(listen); !s) {
        env.log.error("STUN server not started: " + s.error().message);
        return nullptr;
      }
      return server;
    };
    placed.push_back(std::move(p));
  }
  return placed;
}

Result<std::vector<PlacedRole>> place_stun_client(const Scenario& sc, const RoleSpec& spec,
                                                  RoleRecords& records, const std::string& where) {
  if (Status s = check_keys(spec.params, where,
                            {"servers", "port", "interval_s", "rto_ms", "max_transmissions"});
      !s) {
    return s.error();
  }
  StunRetransmitOptions retransmit;
  if (spec.params.contains("rto_ms")) {
    const json& v = spec.params.at("rto_ms");
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 60000) {
      return error_at(where + ".rto_ms",
                      "must be an integer of milliseconds, 1..60000 (RFC 8489 default: 500)");
    }
    retransmit.initial_rto = Duration::milliseconds(v.get<int64_t>());
  }
  if (spec.params.contains("max_transmissions")) {
    const json& v = spec.params.at("max_transmissions");
    if (!v.is_number_integer() || v.get<int64_t>() < 1 ||
        v.get<int64_t>() > StunRetransmitOptions::kMaxTransmissionsLimit) {
      return error_at(where + ".max_transmissions",
                      "must be an integer 1.." +
                          std::to_string(StunRetransmitOptions::kMaxTransmissionsLimit) +
                          " (RFC 8489 default: 7)");
    }
    retransmit.max_transmissions = static_cast<int>(v.get<int64_t>());
  }
  auto port = port_param(spec.params, where);
  if (!port) return port.error();
  if (!spec.params.contains("servers") || !spec.params.at("servers").is_array() ||
      spec.params.at("servers").empty()) {
    return error_at(where, "needs \"servers\": a list of STUN server node names");
  }
  std::vector<int> servers;
  for (const json& s : spec.params.at("servers")) {
    if (!s.is_string() || !sc.topology.find(s.get<std::string>())) {
      return error_at(where + ".servers", "unknown node " + s.dump());
    }
    servers.push_back(*sc.topology.find(s.get<std::string>()));
  }
  Duration interval = Duration::zero();
  if (spec.params.contains("interval_s")) {
    const json& v = spec.params.at("interval_s");
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0) {
      return error_at(where + ".interval_s",
                      "must be a non-negative number of seconds (0: probe once)");
    }
    interval = Duration::nanoseconds(static_cast<int64_t>(std::llround(v.get<double>() * 1e9)));
  }
  std::vector<PlacedRole> placed;
  for (const std::string& name : spec.nodes) {
    int idx = *sc.topology.find(name);
    const topo::Node& node = sc.topology.nodes[idx];
    if (node.kind != topo::NodeKind::host) return error_at(where, "\"" + name + "\" is not a host");
    // Every family the client has, every server that has it: mapping inference compares
    // answers to one socket per family.
    std::vector<StunServerSpec> specs;
    for (Family f : node.families) {
      for (int s : servers) {
        const topo::Node& server = sc.topology.nodes[s];
        const auto& addr = f == Family::ipv4 ? server.ipv4 : server.ipv6;
        if (server.has(f) && addr) specs.push_back({server.name, Endpoint(*addr, *port)});
      }
    }
    if (specs.empty()) {
      return error_at(where,
                      "client \"" + name + "\" shares no address family with any of its servers");
    }
    StunClientRecord* record = &records.stun_clients[name];
    PlacedRole p{spec.role, idx, spec.start, nullptr};
    p.factory = [specs, interval, retransmit, record](Env& env) -> std::shared_ptr<void> {
      return std::make_shared<StunClientRole>(env, specs, interval, retransmit, *record);
    };
    placed.push_back(std::move(p));
  }
  return placed;
}

}  // namespace

std::shared_ptr<MemoryStoreData> RoleRecords::disk(const std::string& node) {
  std::shared_ptr<MemoryStoreData>& d = disks[node];
  if (!d) d = std::make_shared<MemoryStoreData>();
  return d;
}

Result<std::vector<PlacedRole>> place_roles(const Scenario& sc, RoleRecords& records) {
  std::vector<PlacedRole> all;
  for (size_t i = 0; i < sc.roles.size(); ++i) {
    const RoleSpec& spec = sc.roles[i];
    std::string where = sc.source + ": roles[" + std::to_string(i) + "]";
    Result<std::vector<PlacedRole>> placed = make_error("");
    if (spec.role == "stun-server") {
      placed = place_stun_server(sc, spec, where);
    } else if (spec.role == "stun-client") {
      placed = place_stun_client(sc, spec, records, where);
    } else if (spec.role == "control-server") {
      placed = place_control_server(sc, spec, records, where);
    } else if (spec.role == "control-client") {
      placed = place_control_client(sc, spec, records, where);
    } else if (spec.role == "relay-server") {
      placed = place_relay_server(sc, spec, records, where);
    } else if (spec.role == "relay-probe") {
      placed = place_relay_probe(sc, spec, records, where);
    } else {
      std::string known;
      for (const std::string& r : kKnownRoles) known += (known.empty() ? "" : ", ") + r;
      return error_at(where + ".role", "unknown role \"" + spec.role + "\" (known: " + known + ")" +
                                           suggestion(spec.role, kKnownRoles));
    }
    if (!placed) return placed.error();
    for (auto& p : *placed) all.push_back(std::move(p));
  }
  return all;
}

Status validate_roles(const Scenario& scenario) {
  RoleRecords scratch;
  auto placed = place_roles(scenario, scratch);
  if (!placed) return placed.error();
  return Status::success();
}

}  // namespace warren::sim
