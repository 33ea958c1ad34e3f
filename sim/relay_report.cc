#include "sim/relay_report.h"

#include "sim/relay_server_role.h"

namespace warren::sim {
namespace {

using nlohmann::ordered_json;

// Milliseconds rounded to the microsecond, as the rest of the report.
double ms(Duration d) {
  return static_cast<double>(d.us()) / 1000.0;
}

const char* mode_name(relay::Admission::Mode mode) {
  switch (mode) {
    case relay::Admission::Mode::no_control:
      return "no-control";
    case relay::Admission::Mode::waiting:
      return "waiting";
    case relay::Admission::Mode::live:
      return "live";
  }
  return "unknown";
}

ordered_json relay_map_json(const control::RelayMap& map) {
  ordered_json regions = ordered_json::array();
  for (const control::RelayRegion& region : map.regions) {
    ordered_json relays = ordered_json::array();
    for (const control::Relay& r : region.relays) relays.push_back(r.name);
    regions.push_back({{"id", region.id}, {"code", region.code}, {"relays", relays}});
  }
  return regions;
}

ordered_json relay_json(const std::string& node, const RelayServerRecord& r) {
  relay::RelayServerCounters c = r.finished;
  relay::AdmissionFeedCounters feed = r.feed_finished;
  uint64_t stun = r.stun_requests_finished;
  ordered_json e;
  e["node"] = node;
  e["region"] = r.region;
  e["key"] = to_base64(r.key);
  e["role_starts"] = r.starts;
  e["failed_starts"] = r.failed_starts;
  e["running"] = r.running != nullptr;
  ordered_json admission;
  if (r.running != nullptr) {
    const RelayServerRole& role = *r.running;
    add_counters(c, role.server().counters());
    if (role.feed() != nullptr) add_counters(feed, role.feed()->counters());
    stun += role.server().stun_stats().binding_requests;
    e["clients"] = role.server().clients();
    e["mesh_links_up"] = role.server().mesh_links_up();
    e["mesh_routes"] = role.server().mesh_routes();
    admission["mode"] = mode_name(role.admission().mode());
    admission["keys"] = role.admission().size();
  } else {
    e["clients"] = 0;
    e["mesh_links_up"] = 0;
    e["mesh_routes"] = 0;
    admission["mode"] = nullptr;
    admission["keys"] = 0;
  }
  admission["feed_connects"] = feed.connects;
  admission["full_sets"] = feed.full_sets;
  admission["deltas"] = feed.deltas;
  admission["feed_errors"] = feed.errors;
  e["admission"] = admission;
  e["channels_accepted"] = c.channels_accepted;
  e["clients_admitted"] = c.clients_admitted;
  e["mesh_clients_admitted"] = c.mesh_clients_admitted;
  e["refused"] = {{"unknown_key", c.refused_unknown_key}, {"removed_key", c.refused_removed_key},
                  {"not_ready", c.refused_not_ready},     {"bad_mesh_key", c.refused_bad_mesh_key},
                  {"protocol_error", c.refused_protocol}, {"server_full", c.refused_full}};
  e["disconnected"] = {{"removed", c.disconnected_removed},
                       {"replaced", c.disconnected_replaced},
                       {"stalled", c.disconnected_stalled},
                       {"malformed", c.closed_malformed}};
  e["packets_received"] = c.packets_received;
  e["packets_delivered"] = c.packets_delivered;
  e["packets_meshed"] = c.packets_meshed;
  e["packets_from_mesh"] = c.packets_from_mesh;
  e["bytes_delivered"] = c.bytes_delivered;
  e["dropped"] = {{"unknown_dest", c.dropped_unknown_dest},
                  {"unknown_dest_on_forward", c.dropped_unknown_dest_on_forward},
                  {"queue_head", c.dropped_queue_head},
                  {"rate_limit", c.dropped_rate_limit},
                  {"forward_not_mesh", c.dropped_forward_not_mesh},
                  {"mesh_send", c.dropped_mesh_send}};
  e["peer_gone_sent"] = c.peer_gone_sent;
  e["keepalives_sent"] = c.keepalives_sent;
  e["pings_answered"] = c.pings_answered;
  e["unknown_frames"] = c.unknown_frames;
  e["stun_requests"] = stun;
  if (!r.last_error.empty()) e["last_error"] = r.last_error;
  return e;
}

ordered_json probe_json(const std::string& node, const RelayProbeRecord& r) {
  ordered_json e;
  e["node"] = node;
  e["relay"] = r.relay.empty() ? ordered_json(nullptr) : ordered_json(r.relay);
  e["mode"] = r.mode;
  if (r.mode == "send") e["to"] = r.to;
  e["role_starts"] = r.starts;
  e["relay_map"] = r.relay_map ? relay_map_json(*r.relay_map) : ordered_json(nullptr);
  e["connected_s"] =
      r.first_connected ? ordered_json(r.first_connected->seconds_f()) : ordered_json(nullptr);
  e["connects"] = r.connects;
  e["sent"] = r.sent;
  e["send_failed"] = r.send_failed;
  e["received"] = r.received;
  e["duplicates"] = r.duplicates;
  e["unexpected"] = r.unexpected;
  e["echoed"] = r.echoed;
  if (r.received > 0) {
    const Duration avg = Duration::nanoseconds(r.rtt_sum.ns() / static_cast<int64_t>(r.received));
    e["rtt_ms"] = {{"min", ms(r.rtt_min)}, {"avg", ms(avg)}, {"max", ms(r.rtt_max)}};
  } else {
    e["rtt_ms"] = nullptr;
  }
  e["refusals"] = r.refusals;
  e["retried_refusals"] = r.retried_refusals;
  if (!r.last_refusal.empty()) e["last_refusal"] = r.last_refusal;
  e["errors"] = r.errors;
  if (!r.last_error.empty()) e["last_error"] = r.last_error;
  return e;
}

}  // namespace

void add_relay_sections(ordered_json& report, const Scenario& sc, const RoleRecords& records) {
  if (records.relay_servers.empty() && records.relay_probes.empty()) return;
  ordered_json relays = ordered_json::array();
  ordered_json probes = ordered_json::array();
  for (const topo::Node& n : sc.topology.nodes) {
    auto relay = records.relay_servers.find(n.name);
    if (relay != records.relay_servers.end()) relays.push_back(relay_json(n.name, relay->second));
    auto probe = records.relay_probes.find(n.name);
    if (probe != records.relay_probes.end()) probes.push_back(probe_json(n.name, probe->second));
  }
  report["relays"] = relays;
  report["relay_probes"] = probes;
}

void add_relay_summary(ordered_json& summary, const RoleRecords& records) {
  if (records.relay_probes.empty()) return;
  uint64_t sent = 0, received = 0, connected = 0, refused = 0;
  for (const auto& [name, r] : records.relay_probes) {
    sent += r.sent;
    received += r.received;
    if (r.connects > 0) ++connected;
    if (r.refusals > 0) ++refused;
  }
  summary["relay_probes"] = records.relay_probes.size();
  summary["relay_probes_connected"] = connected;
  summary["relay_probes_refused"] = refused;
  summary["relay_probe_packets_sent"] = sent;
  summary["relay_probe_packets_answered"] = received;
}

}  // namespace warren::sim
