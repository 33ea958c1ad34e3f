#include "sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "nodes/common/json_checks.h"
#include "topologies/topology_loader.h"

namespace warren::sim {
namespace {

using nlohmann::json;
using namespace json_checks;  // NOLINT: scenario validation is built from these checks

const char* const kActions[] = {"start", "stop", "link-down", "link-up", "nat-flush"};

Result<Duration> seconds_at(const json& obj, const char* key, const std::string& where) {
  const json& v = obj.at(key);
  if (!v.is_number()) return error_at(where + "." + key, "must be a number of seconds");
  double s = v.get<double>();
  if (!std::isfinite(s) || s < 0 || s > static_cast<double>(kMaxScenarioDurationSeconds)) {
    return error_at(where + "." + key, "must be between 0 and " +
                                      std::to_string(kMaxScenarioDurationSeconds) + " seconds");
  }
  return Duration::nanoseconds(static_cast<int64_t>(std::llround(s * 1e9)));
}

Status check_node(const topo::Topology& t, const std::string& name, const std::string& where) {
  if (t.find(name)) return Status::success();
  return error_at(where, "unknown node \"" + name + "\" (not in topology \"" + t.name + "\")");
}

Result<RoleSpec> parse_role(const json& r, const std::string& where, const topo::Topology& t) {
  if (!r.is_object()) return error_at(where, "must be an object");
  RoleSpec spec;
  auto role = required_string(r, "role", where);
  if (!role) return role.error();
  spec.role = *role;
  const bool has_nodes = r.contains("nodes"), has_groups = r.contains("groups");
  if (!has_nodes && !has_groups) {
    return error_at(where, "needs \"nodes\": a non-empty list of node names (or \"groups\": "
                           "a list of topology group names)");
  }
  std::set<std::string> seen;
  if (has_nodes) {
    if (!r.at("nodes").is_array() || r.at("nodes").empty()) {
      return error_at(where, "needs \"nodes\": a non-empty list of node names");
    }
    for (size_t i = 0; i < r.at("nodes").size(); ++i) {
      const json& n = r.at("nodes")[i];
      std::string w = where + ".nodes[" + std::to_string(i) + "]";
      if (!n.is_string()) return error_at(w, "must be a node name");
      if (Status s = check_node(t, n.get<std::string>(), w); !s) return s.error();
      if (!seen.insert(n.get<std::string>()).second) return error_at(w, "node listed twice");
      spec.nodes.push_back(n.get<std::string>());
    }
  }
  if (has_groups) {
    if (!r.at("groups").is_array() || r.at("groups").empty()) {
      return error_at(where + ".groups", "must be a non-empty list of topology group names");
    }
    std::vector<std::string> known;
    for (const topo::Node& n : t.nodes) {
      if (!n.group.empty() && std::find(known.begin(), known.end(), n.group) == known.end()) {
        known.push_back(n.group);
      }
    }
    for (size_t i = 0; i < r.at("groups").size(); ++i) {
      const json& g = r.at("groups")[i];
      std::string w = where + ".groups[" + std::to_string(i) + "]";
      if (!g.is_string()) return error_at(w, "must be a group name");
      const std::string group = g.get<std::string>();
      if (std::find(known.begin(), known.end(), group) == known.end()) {
        return error_at(w, "unknown group " + in_quotes(group) + " (not in topology \"" + t.name +
                               "\")" + suggestion(group, known));
      }
      // The group's hosts, in topology order (its generated NATs carry no roles).
      for (const topo::Node& n : t.nodes) {
        if (n.group != group || n.kind != topo::NodeKind::host) continue;
        if (!seen.insert(n.name).second) {
          return error_at(w, "node " + in_quotes(n.name) + " of group " + in_quotes(group) +
                                 " is already listed in this role");
        }
        spec.nodes.push_back(n.name);
      }
    }
  }
  for (auto it = r.begin(); it != r.end(); ++it) {
    if (it.key() == "role" || it.key() == "nodes" || it.key() == "groups") continue;
    if (it.key() == "start_s") {
      auto d = seconds_at(r, "start_s", where);
      if (!d) return d.error();
      spec.start = *d;
      continue;
    }
    spec.params[it.key()] = it.value();
  }
  return spec;
}

Result<ScenarioEvent> parse_event(const json& e, const std::string& where, const topo::Topology& t) {
  if (!e.is_object()) return error_at(where, "must be an object");
  if (Status s = check_keys(e, where, {"at_s", "action", "node", "peer"}); !s) return s.error();
  if (!e.contains("at_s")) return error_at(where, "missing \"at_s\" (when, in simulated seconds)");
  ScenarioEvent ev;
  auto at = seconds_at(e, "at_s", where);
  if (!at) return at.error();
  ev.at = *at;
  auto action = required_string(e, "action", where);
  if (!action) return action.error();
  auto found = std::find_if(std::begin(kActions), std::end(kActions),
                            [&](const char* a) { return *action == a; });
  if (found == std::end(kActions)) {
    return error_at(where + ".action", "unknown action \"" + *action +
                                      "\" (one of: start, stop, link-down, link-up, nat-flush)");
  }
  ev.action = static_cast<EventAction>(found - std::begin(kActions));
  auto node = required_string(e, "node", where);
  if (!node) return node.error();
  ev.node = *node;
  if (Status s = check_node(t, ev.node, where + ".node"); !s) return s.error();
  bool is_link = ev.action == EventAction::link_down || ev.action == EventAction::link_up;
  if (is_link) {
    auto peer = required_string(e, "peer", where);
    if (!peer) return error_at(where, "link events need \"node\" and \"peer\": the two ends of the link");
    ev.peer = *peer;
    if (Status s = check_node(t, ev.peer, where + ".peer"); !s) return s.error();
    int a = *t.find(ev.node), b = *t.find(ev.peer);
    bool linked = std::any_of(t.links.begin(), t.links.end(), [&](const topo::Link& l) {
      return (l.a == a && l.b == b) || (l.a == b && l.b == a);
    });
    if (!linked) return error_at(where, "there is no link between \"" + ev.node + "\" and \"" + ev.peer + "\"");
  } else if (e.contains("peer")) {
    return error_at(where + ".peer", std::string("only link events take a peer, not ") + to_string(ev.action));
  }
  if (ev.action == EventAction::nat_flush && t.nodes[*t.find(ev.node)].kind != topo::NodeKind::nat) {
    return error_at(where + ".node", "\"" + ev.node + "\" is not a NAT; nat-flush needs a NAT node");
  }
  return ev;
}

}  // namespace

const char* to_string(EventAction a) { return kActions[static_cast<int>(a)]; }

Result<Scenario> parse_scenario(const json& doc, const std::string& source, const std::string& base_dir) {
  if (!doc.is_object()) return error_at(source, "a scenario must be a JSON object");
  if (Status s = check_keys(doc, source, {"name", "description", "topology", "seed", "duration_s",
                                          "roles", "events"});
      !s) {
    return s.error();
  }
  Scenario sc;
  sc.source = source;
  auto name = required_string(doc, "name", source);
  if (!name) return name.error();
  sc.name = *name;
  if (doc.contains("description")) {
    auto d = required_string(doc, "description", source);
    if (!d) return d.error();
    sc.description = *d;
  }
  auto topo_path = required_string(doc, "topology", source);
  if (!topo_path) return topo_path.error();
  sc.topology_path = (!topo_path->empty() && (*topo_path)[0] == '/') || base_dir.empty()
                         ? *topo_path
                         : base_dir + "/" + *topo_path;
  auto topology = topo::load_topology_file(sc.topology_path);
  if (!topology) return error_at(source + ".topology", topology.error().message);
  sc.topology = std::move(*topology);
  if (doc.contains("seed")) {
    if (!doc.at("seed").is_number_unsigned()) return error_at(source + ".seed", "must be a non-negative integer");
    sc.seed = doc.at("seed").get<uint64_t>();
  }
  if (doc.contains("duration_s")) {
    auto d = seconds_at(doc, "duration_s", source);
    if (!d) return d.error();
    if (*d <= Duration::zero()) return error_at(source + ".duration_s", "must be positive");
    sc.duration = *d;
  }
  if (!doc.contains("roles") || !doc.at("roles").is_array()) {
    return error_at(source, "needs \"roles\": a list of {\"role\": ..., \"nodes\": [...]}");
  }
  for (size_t i = 0; i < doc.at("roles").size(); ++i) {
    auto r = parse_role(doc.at("roles")[i], source + ": roles[" + std::to_string(i) + "]", sc.topology);
    if (!r) return r.error();
    sc.roles.push_back(std::move(*r));
  }
  if (doc.contains("events")) {
    if (!doc.at("events").is_array()) return error_at(source + ".events", "must be a list");
    for (size_t i = 0; i < doc.at("events").size(); ++i) {
      std::string where = source + ": events[" + std::to_string(i) + "]";
      auto e = parse_event(doc.at("events")[i], where, sc.topology);
      if (!e) return e.error();
      if (e->at > sc.duration) {
        return error_at(where + ".at_s", "is after the end of the run (duration_s " +
                                        std::to_string(sc.duration.seconds_f()) + ")");
      }
      sc.events.push_back(std::move(*e));
    }
    std::stable_sort(sc.events.begin(), sc.events.end(),
                     [](const ScenarioEvent& a, const ScenarioEvent& b) { return a.at < b.at; });
  }
  return sc;
}

Result<Scenario> load_scenario_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read scenario " + path + ": no such file or not readable");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    return make_error(path + ": not valid JSON: " + e.what());
  }
  size_t slash = path.rfind('/');
  std::string base = slash == std::string::npos ? "." : path.substr(0, slash);
  return parse_scenario(doc, path, base);
}

}  // namespace warren::sim
