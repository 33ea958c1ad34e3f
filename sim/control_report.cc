#include "sim/control_report.h"

#include <algorithm>
#include <set>
#include <vector>

#include "nodes/control/control_server.h"
#include "sim/control_server_role.h"

namespace warren::sim {
namespace {

using nlohmann::ordered_json;

double ms(Duration d) {
  return static_cast<double>(d.us()) / 1000.0;
}

ordered_json time_s(const std::optional<Timestamp>& t) {
  return t ? ordered_json(t->seconds_f()) : ordered_json(nullptr);
}

ordered_json address(const std::optional<IpAddress>& a) {
  return a ? ordered_json(a->to_string()) : ordered_json(nullptr);
}

// The server's counters over every start: the stopped ones' sum plus the running one's.
control::ControlCoreCounters total_counters(const ControlServerRecord& r) {
  control::ControlCoreCounters c = r.finished;
  if (r.running == nullptr) return c;
  add_counters(c, r.running->core().counters());
  return c;
}

uint64_t registered_nodes(const ControlServerRecord& r) {
  return r.running != nullptr ? r.running->registry().nodes().size() : r.nodes_at_stop;
}

// The value at quantile q (0..1) of sorted `v`, nearest rank.
double quantile(const std::vector<double>& v, double q) {
  size_t rank = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(rank, v.size() - 1)];
}

}  // namespace

void add_control_node_fields(ordered_json& entry, const std::string& node,
                             const RoleRecords& records) {
  auto client = records.control_clients.find(node);
  if (client != records.control_clients.end()) {
    const ControlClientRecord& r = client->second;
    entry["overlay_ipv4"] = address(r.overlay_ipv4);
    entry["overlay_ipv6"] = address(r.overlay_ipv6);
    ordered_json c;
    c["name"] = r.node_name.empty() ? ordered_json(nullptr) : ordered_json(r.node_name);
    c["id"] = r.node_id == 0 ? ordered_json(nullptr) : ordered_json(r.node_id);
    c["first_try_s"] = time_s(r.first_try);
    c["registered_s"] = time_s(r.first_registered);
    c["registrations"] = r.registrations;
    c["address_changes"] = r.address_changes;
    c["full_maps"] = r.full_maps;
    c["deltas"] = r.deltas;
    c["peers"] = r.peers;
    c["last_map_s"] = time_s(r.last_map);
    c["role_starts"] = r.starts;
    c["errors"] = r.errors;
    if (!r.last_error.empty()) c["last_error"] = r.last_error;
    entry["control"] = c;
  }
  auto server = records.control_servers.find(node);
  if (server != records.control_servers.end()) {
    const ControlServerRecord& r = server->second;
    const control::ControlCoreCounters c = total_counters(r);
    ordered_json s;
    s["role_starts"] = r.starts;
    s["failed_starts"] = r.failed_starts;
    s["running"] = r.running != nullptr;
    s["nodes"] = registered_nodes(r);
    ordered_json keys = ordered_json::array();
    for (const auto& [name, key] : r.keys) keys.push_back({{"name", name}, {"prefix", key.prefix}});
    s["keys"] = keys;
    s["provisioned_s"] = time_s(r.provisioned);
    s["sessions_opened"] = c.sessions_opened;
    s["sessions_rejected"] = c.sessions_rejected;
    s["sessions_too_slow"] = c.sessions_too_slow;
    s["registrations"] = c.registrations;
    s["registrations_refused"] = c.registrations_refused;
    s["messages_received"] = c.messages_received;
    s["messages_malformed"] = c.messages_malformed;
    s["full_maps_sent"] = c.full_maps_sent;
    s["deltas_sent"] = c.map_messages_sent - std::min(c.map_messages_sent, c.full_maps_sent);
    s["keepalives_sent"] = c.keepalives_sent;
    s["bytes_sent"] = c.bytes_sent;
    s["nodes_expired"] = c.nodes_expired;
    s["ephemeral_deleted"] = c.ephemeral_deleted;
    if (!r.last_error.empty()) s["last_error"] = r.last_error;
    entry["control_server"] = s;
  }
}

void add_control_summary(ordered_json& summary, const RoleRecords& records) {
  if (records.control_clients.empty() && records.control_servers.empty()) return;
  control::ControlCoreCounters sent;
  uint64_t server_nodes = 0;
  for (const auto& [name, r] : records.control_servers) {
    const control::ControlCoreCounters c = total_counters(r);
    sent.full_maps_sent += c.full_maps_sent;
    sent.map_messages_sent += c.map_messages_sent;
    sent.bytes_sent += c.bytes_sent;
    sent.sessions_opened += c.sessions_opened;
    sent.registrations_refused += c.registrations_refused;
    server_nodes += registered_nodes(r);
  }
  uint64_t registered = 0, with_errors = 0, address_changes = 0, full_maps = 0, deltas = 0;
  std::optional<Timestamp> last_registered;
  std::vector<double> registration_ms;
  std::optional<uint64_t> peers_min, peers_max;
  std::set<IpAddress> v4, v6;
  bool unique = true;
  for (const auto& [name, r] : records.control_clients) {
    if (r.errors > 0) ++with_errors;
    address_changes += r.address_changes;
    full_maps += r.full_maps;
    deltas += r.deltas;
    if (!r.first_registered || !r.overlay_ipv4 || !r.overlay_ipv6) continue;
    ++registered;
    unique = v4.insert(*r.overlay_ipv4).second && unique;
    unique = v6.insert(*r.overlay_ipv6).second && unique;
    if (!last_registered || *last_registered < *r.first_registered)
      last_registered = r.first_registered;
    if (r.first_try) registration_ms.push_back(ms(*r.first_registered - *r.first_try));
    peers_min = std::min(peers_min.value_or(r.peers), r.peers);
    peers_max = std::max(peers_max.value_or(r.peers), r.peers);
  }
  std::sort(registration_ms.begin(), registration_ms.end());
  const bool all = registered == records.control_clients.size() && registered > 0;
  summary["control_clients"] = records.control_clients.size();
  summary["nodes_registered"] = registered;
  summary["nodes_on_control_servers"] = server_nodes;
  summary["overlay_addresses_unique"] = unique;
  summary["overlay_address_changes"] = address_changes;
  summary["all_registered_s"] = all ? time_s(last_registered) : ordered_json(nullptr);
  summary["registration_ms_median"] = registration_ms.empty()
                                          ? ordered_json(nullptr)
                                          : ordered_json(quantile(registration_ms, 0.5));
  summary["registration_ms_max"] =
      registration_ms.empty() ? ordered_json(nullptr) : ordered_json(registration_ms.back());
  summary["control_sessions_opened"] = sent.sessions_opened;
  summary["registrations_refused"] = sent.registrations_refused;
  summary["full_maps_sent"] = sent.full_maps_sent;
  summary["map_deltas_sent"] =
      sent.map_messages_sent - std::min(sent.map_messages_sent, sent.full_maps_sent);
  summary["control_bytes_sent"] = sent.bytes_sent;
  summary["full_maps_received"] = full_maps;
  summary["map_deltas_received"] = deltas;
  summary["peers_seen_min"] = peers_min ? ordered_json(*peers_min) : ordered_json(nullptr);
  summary["peers_seen_max"] = peers_max ? ordered_json(*peers_max) : ordered_json(nullptr);
  summary["control_clients_with_errors"] = with_errors;
}

}  // namespace warren::sim
