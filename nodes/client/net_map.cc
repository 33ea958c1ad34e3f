#include "nodes/client/net_map.h"

#include <string>
#include <utility>

namespace warren {
namespace {

using control::PeerNode;
using control::PeerPatch;

nlohmann::json strings_of(const std::vector<Prefix>& prefixes) {
  nlohmann::json out = nlohmann::json::array();
  for (const Prefix& p : prefixes) out.push_back(p.to_string());
  return out;
}

nlohmann::json strings_of(const std::vector<Endpoint>& endpoints) {
  nlohmann::json out = nlohmann::json::array();
  for (const Endpoint& e : endpoints) out.push_back(e.to_string());
  return out;
}

nlohmann::json addresses_of(const PeerNode& node) {
  return nlohmann::json::array({node.ipv4.to_string(), node.ipv6.to_string()});
}

nlohmann::json time_or_null(int64_t unix_s) {
  return unix_s == 0 ? nlohmann::json(nullptr) : nlohmann::json(unix_s);
}

nlohmann::json self_summary(const PeerNode& node) {
  return nlohmann::json{{"id", node.id},
                        {"name", node.name},
                        {"user", node.user},
                        {"tags", node.tags},
                        {"addresses", addresses_of(node)},
                        {"routes", strings_of(node.routes)},
                        {"key_expiry", time_or_null(node.key_expiry_unix_s)}};
}

nlohmann::json peer_summary(const PeerNode& node) {
  nlohmann::json out = self_summary(node);
  out["node_key"] = to_base64(node.node_key);
  out["allowed_ips"] = strings_of(node.allowed_ips());
  out["endpoints"] = strings_of(node.endpoints);
  out["home_relay"] = node.home_relay;
  out["online"] = node.online;
  out["last_seen"] = time_or_null(node.last_seen_unix_s);
  return out;
}

void apply_patch(PeerNode& node, const PeerPatch& patch) {
  if (patch.endpoints) node.endpoints = *patch.endpoints;
  if (patch.home_relay) node.home_relay = *patch.home_relay;
  if (patch.online) node.online = *patch.online;
  if (patch.last_seen_unix_s) node.last_seen_unix_s = *patch.last_seen_unix_s;
  if (patch.disco_key) node.disco_key = *patch.disco_key;
}

}  // namespace

Status NetMap::apply(const control::MapMessage& message) {
  if (!message.full && !has_full_) {
    ++counters_.rejected;
    return make_error("map delta (seq " + std::to_string(message.seq) +
                      ") before any full map; reconnect for a full map");
  }
  if (has_full_ && message.seq <= seq_) {
    ++counters_.rejected;
    return make_error("map message seq " + std::to_string(message.seq) + " after seq " +
                      std::to_string(seq_) + ": out of order; reconnect for a full map");
  }
  seq_ = message.seq;
  if (message.full) {
    ++counters_.full_maps;
    has_full_ = true;
    self_ = message.self;
    peers_.clear();
    for (const PeerNode& p : message.peers) peers_[p.id] = p;
    relay_map_ = message.relay_map.value_or(control::RelayMap{});
    packet_filter_ = message.packet_filter.value_or(control::PacketFilter{});
    return Status::success();
  }
  ++counters_.deltas;
  if (message.self) self_ = message.self;
  for (control::NodeId id : message.peers_removed) {
    if (peers_.erase(id) == 0) ++counters_.unknown_peer_removals;
  }
  for (const PeerNode& p : message.peers_changed) peers_[p.id] = p;
  for (const PeerPatch& patch : message.peer_patches) {
    auto it = peers_.find(patch.id);
    if (it == peers_.end()) {
      ++counters_.unknown_peer_patches;
      continue;
    }
    apply_patch(it->second, patch);
  }
  if (message.relay_map) relay_map_ = *message.relay_map;
  if (message.packet_filter) packet_filter_ = *message.packet_filter;
  return Status::success();
}

void NetMap::reset() {
  NetMapCounters kept = counters_;
  *this = NetMap();
  counters_ = kept;
}

const control::PeerNode* NetMap::find_peer(control::NodeId id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

nlohmann::json NetMap::summary() const {
  nlohmann::json peers = nlohmann::json::array();
  for (const auto& [id, peer] : peers_) peers.push_back(peer_summary(peer));
  nlohmann::json regions = nlohmann::json::array();
  for (const control::RelayRegion& r : relay_map_.regions) regions.push_back(r.id);
  return nlohmann::json{{"seq", seq_},
                        {"self", self_ ? self_summary(*self_) : nlohmann::json(nullptr)},
                        {"peers", std::move(peers)},
                        {"packet_filter", control::packet_filter_to_json(packet_filter_)},
                        {"relay_regions", std::move(regions)}};
}

}  // namespace warren
