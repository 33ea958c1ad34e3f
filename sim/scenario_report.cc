#include "sim/scenario_report.h"

#include <cmath>

#include "nat-models/nat_config_json.h"
#include "nat-models/ns3/nat_middlebox.h"
#include "sim/control_report.h"
#include "sim/relay_report.h"

namespace warren::sim {
namespace {

using nlohmann::ordered_json;

// Milliseconds rounded to the microsecond: enough for a report, and free of the last-digit
// noise a raw double division would print.
double ms(Duration d) {
  return static_cast<double>(d.us()) / 1000.0;
}

ordered_json families_json(const topo::Node& n) {
  ordered_json f = ordered_json::array();
  for (Family fam : n.families) f.push_back(to_string(fam));
  return f;
}

ordered_json nat_chain_json(const topo::Topology& t, int node) {
  ordered_json chain = ordered_json::array();
  for (int idx : t.nat_chain(node)) {
    const topo::Node& nat = t.nodes[idx];
    ordered_json entry;
    entry["node"] = nat.name;
    const nlohmann::json config = nat::nat_config_to_json(*nat.nat);
    for (auto it = config.begin(); it != config.end(); ++it) entry[it.key()] = it.value();
    entry["ipv6_firewall"] = nat.ipv6_firewall;
    chain.push_back(entry);
  }
  return chain;
}

bool behind_ipv6_firewall(const topo::Topology& t, int node) {
  if (!t.nodes[node].has(Family::ipv6)) return false;
  for (int idx : t.nat_chain(node))
    if (t.nodes[idx].ipv6_firewall) return true;
  return false;
}

// The site preset a node was expanded from; else, for a NAT, the preset its behaviour started
// from; else "public" for a host with no NAT in front and "custom" for anything hand-built.
std::string preset_of(const topo::Topology& t, int node) {
  const topo::Node& n = t.nodes[node];
  if (!n.site.empty()) return n.site;
  if (n.kind == topo::NodeKind::nat)
    return n.nat && !n.nat->preset.empty() ? n.nat->preset : "custom";
  return t.nat_chain(node).empty() ? "public" : "custom";
}

ordered_json optional_bool(const std::optional<bool>& b) {
  return b ? ordered_json(*b) : ordered_json(nullptr);
}

ordered_json probe_json(const StunProbeResult& r) {
  ordered_json e;
  e["server"] = r.name;
  e["family"] = to_string(r.server.family());
  if (r.ok()) {
    e["endpoint"] = r.mapped->to_string();
    e["rtt_ms"] = ms(r.rtt);
  } else {
    e["error"] = r.error;
  }
  e["transmissions"] = r.transmissions;
  return e;
}

ordered_json stun_json(const StunClientRecord& rec, const topo::Topology& t, int node) {
  static const std::vector<StunProbeResult> kNone;
  const std::vector<StunProbeResult>& latest =
      rec.rounds.empty() ? kNone : rec.rounds.back().results;
  ordered_json s;
  s["rounds"] = rec.rounds_completed;
  s["role_starts"] = rec.starts;
  ordered_json mapped = ordered_json::array(), unanswered = ordered_json::array();
  for (const StunProbeResult& r : latest) (r.ok() ? mapped : unanswered).push_back(probe_json(r));
  s["mapped"] = mapped;
  s["unanswered"] = unanswered;
  const topo::Node& n = t.nodes[node];
  ordered_json by_family;
  for (Family f : n.families)
    by_family[to_string(f)] = optional_bool(mapping_varies_by_destination(latest, f));
  // The headline answer is about the IPv4 NAT when the node has IPv4: IPv6 is not translated.
  Family headline = n.has(Family::ipv4) ? Family::ipv4 : Family::ipv6;
  s["mapping_varies_by_destination"] =
      optional_bool(mapping_varies_by_destination(latest, headline));
  s["mapping_varies_by_family"] = by_family;
  s["configured_mapping_varies"] = headline == Family::ipv4 && configured_mapping_varies(t, node);
  // Every kept round, compactly: what each server saw (null: no answer) and the retries,
  // in the order of `servers`.
  ordered_json servers = ordered_json::array();
  for (const StunProbeResult& r : latest) {
    servers.push_back({{"server", r.name},
                       {"family", to_string(r.server.family())},
                       {"endpoint", r.server.to_string()}});
  }
  s["servers"] = servers;
  ordered_json history = ordered_json::array();
  for (const StunRound& round : rec.rounds) {
    ordered_json endpoints = ordered_json::array(), transmissions = ordered_json::array();
    for (const StunProbeResult& r : round.results) {
      endpoints.push_back(r.ok() ? ordered_json(r.mapped->to_string()) : ordered_json(nullptr));
      transmissions.push_back(r.transmissions);
    }
    history.push_back({{"started_s", round.started.seconds_f()},
                       {"ended_s", round.ended.seconds_f()},
                       {"mapped", endpoints},
                       {"transmissions", transmissions}});
  }
  s["history"] = history;
  return s;
}

}  // namespace

bool configured_mapping_varies(const topo::Topology& t, int node) {
  for (int idx : t.nat_chain(node)) {
    if (t.nodes[idx].nat && t.nodes[idx].nat->mapping != nat::Behaviour::endpoint_independent)
      return true;
  }
  return false;
}

ordered_json build_report(const Scenario& sc, const SimNetwork& net, const RoleRecords& records,
                          const std::string& commit) {
  const topo::Topology& t = sc.topology;
  ordered_json r;
  r["scenario"] = sc.name;
  r["description"] = sc.description;
  r["seed"] = net.seed();
  r["commit"] = commit;
  r["duration_s"] = sc.duration.seconds_f();
  r["topology"] = {{"name", t.name}, {"nodes", t.nodes.size()}, {"links", t.links.size()}};

  ordered_json nodes = ordered_json::array();
  int clients = 0, answered = 0, matches = 0;
  ordered_json mismatches = ordered_json::array();
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    const topo::Node& n = t.nodes[i];
    if (n.kind != topo::NodeKind::host) continue;
    ordered_json e;
    e["name"] = n.name;
    e["families"] = families_json(n);
    e["ipv4"] = n.ipv4 ? ordered_json(n.ipv4->to_string()) : ordered_json(nullptr);
    e["ipv6"] = n.ipv6 ? ordered_json(n.ipv6->to_string()) : ordered_json(nullptr);
    e["preset"] = preset_of(t, static_cast<int>(i));
    e["nat"] = nat_chain_json(t, static_cast<int>(i));
    e["ipv6_firewall"] = behind_ipv6_firewall(t, static_cast<int>(i));
    auto rec = records.stun_clients.find(n.name);
    if (rec != records.stun_clients.end()) {
      e["stun"] = stun_json(rec->second, t, static_cast<int>(i));
      ++clients;
      const ordered_json& varies = e["stun"]["mapping_varies_by_destination"];
      if (!varies.is_null()) {
        ++answered;
        if (varies.get<bool>() == e["stun"]["configured_mapping_varies"].get<bool>())
          ++matches;
        else
          mismatches.push_back(n.name);
      }
    }
    add_control_node_fields(e, n.name, records);
    nodes.push_back(e);
  }
  r["nodes"] = nodes;

  ordered_json events = ordered_json::array();
  for (const ScenarioEvent& ev : sc.events) {
    ordered_json e{
        {"at_s", ev.at.seconds_f()}, {"action", to_string(ev.action)}, {"node", ev.node}};
    if (!ev.peer.empty()) e["peer"] = ev.peer;
    events.push_back(e);
  }
  r["events"] = events;

  ordered_json nats = ordered_json::array();
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    auto box = net.GetNat(static_cast<int>(i));
    if (!box) continue;
    const auto& st = box->GetStats();
    ordered_json e;
    e["node"] = t.nodes[i].name;
    e["preset"] = preset_of(t, static_cast<int>(i));
    e["received"] = st.received;
    e["translated_outbound"] = st.translated_outbound;
    e["translated_inbound"] = st.translated_inbound;
    e["hairpinned"] = st.hairpinned;
    e["forwarded_ipv6"] = st.forwarded_ipv6;
    ordered_json drops;
    for (size_t d = 0; d < nat::kMiddleboxDropCount; ++d) {
      if (st.drops[d] != 0) drops[nat::to_string(static_cast<nat::MiddleboxDrop>(d))] = st.drops[d];
    }
    e["drops"] = drops.is_null() ? ordered_json::object() : drops;
    nats.push_back(e);
  }
  r["nats"] = nats;
  add_relay_sections(r, sc, records);

  ordered_json summary = ordered_json::object();
  if (clients > 0) {
    summary = {{"stun_clients", clients},
               {"stun_clients_with_inference", answered},
               {"inference_matches_configuration", matches},
               {"inference_mismatches", mismatches}};
  }
  add_control_summary(summary, records);
  add_relay_summary(summary, records);
  if (!summary.empty()) r["summary"] = summary;
  return r;
}

}  // namespace warren::sim
