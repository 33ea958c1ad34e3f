#include "nodes/control/map_engine.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <utility>

#include "nodes/control/json_splicer.h"

namespace warren::control {
namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;
// The message buffer is kept between sends up to this size; a full map of a large tailnet
// (several MB) is built in a buffer of its own and given back.
constexpr size_t kKeptScratchBytes = 1u << 20;

// Whole seconds for the wire; a set time never rounds down to 0 ("never").
int64_t to_unix_seconds(int64_t unix_ns) {
  if (unix_ns <= 0) return 0;
  return std::max<int64_t>(1, unix_ns / kNsPerSecond);
}

PolicySubject subject_of(const Node& node, const std::string& user_name) {
  PolicySubject s;
  s.id = node.id;
  s.user = user_name;
  s.tags = node.tags;
  s.ipv4 = node.ipv4;
  s.ipv6 = node.ipv6;
  s.approved_routes = node.approved_routes;
  return s;
}

// Everything but the live fields (endpoints, home relay, online).
void set_registered_fields(PeerNode& p, const Node& node, const std::string& user_name) {
  p.id = node.id;
  p.name = node.name;
  p.user = user_name;
  p.tags = node.tags;
  p.node_key = node.node_key;
  p.machine_key = node.machine_key;
  p.disco_key = node.disco_key;
  p.ipv4 = node.ipv4;
  p.ipv6 = node.ipv6;
  p.routes = node.approved_routes;
  p.last_seen_unix_s = to_unix_seconds(node.last_seen_unix_ns);
  p.key_expiry_unix_s = to_unix_seconds(node.expiry_unix_ns);
}

bool same_subject(const PolicySubject& a, const PolicySubject& b) {
  return a.user == b.user && a.tags == b.tags && a.ipv4 == b.ipv4 && a.ipv6 == b.ipv6 &&
         a.approved_routes == b.approved_routes;
}

// Fields only a whole node carries (a patch cannot express them).
bool whole_node_differs(const PeerNode& a, const PeerNode& b) {
  return a.name != b.name || a.user != b.user || a.tags != b.tags || a.node_key != b.node_key ||
         a.machine_key != b.machine_key || a.ipv4 != b.ipv4 || a.ipv6 != b.ipv6 ||
         a.routes != b.routes || a.key_expiry_unix_s != b.key_expiry_unix_s;
}

// Two ascending id lists: calls only_a / only_b / both for each id.
template <typename A, typename B, typename Both>
void diff_sorted(const std::vector<NodeId>& a, const std::vector<NodeId>& b, A only_a, B only_b,
                 Both both) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i] < b[j])) {
      only_a(a[i++]);
    } else if (i == a.size() || b[j] < a[i]) {
      only_b(b[j++]);
    } else {
      both(a[i]);
      ++i;
      ++j;
    }
  }
}

std::vector<NodeId> union_sorted(std::vector<NodeId> a, const std::vector<NodeId>& b) {
  std::vector<NodeId> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

MapEngine::MapEngine(Clock& clock, MapOutput& output, Duration batch_window, RelayMap relay_map,
                     Policy policy)
    : output_(output),
      batch_window_(batch_window),
      relay_map_(std::move(relay_map)),
      relay_map_json_(relay_map_to_json(relay_map_).dump()),
      index_(std::make_unique<PolicyIndex>(std::move(policy))),
      flush_timer_(clock),
      relay_flush_timer_(clock) {}

MapEngine::~MapEngine() = default;

// ---------------------------------------------------------------------------------------------
// Lookups and bookkeeping.

MapEngine::NodeState* MapEngine::find_node(NodeId id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

MapEngine::MapSession* MapEngine::stream_of(NodeId id) {
  NodeState* state = find_node(id);
  return state ? state->stream : nullptr;
}

void MapEngine::arm_flush() {
  if (!flush_timer_.armed()) flush_timer_.arm_after(batch_window_, [this] { flush(); });
}

void MapEngine::mark_dirty(MapSession& session) {
  if (!session.dirty) {
    session.dirty = true;
    dirty_.push_back(&session);
  }
  arm_flush();
}

void MapEngine::mark_relay_dirty(MapSessionId id, RelaySession& relay) {
  if (!relay.dirty) {
    relay.dirty = true;
    dirty_relays_.push_back(id);
  }
  // Relays get key changes on the next clock turn, not after the batch window: a node that
  // has just registered connects to its relay right away and must find its key there, and a
  // removed key must be cut off promptly. Changes of one turn still go out as one delta.
  if (!relay_flush_timer_.armed()) {
    relay_flush_timer_.arm_after(Duration::zero(), [this] { flush_relays(); });
  }
}

void MapEngine::discard(MapSession& session) {
  if (session.self && session.self->stream == &session) session.self->stream = nullptr;
  auto it = map_sessions_.find(session.id);
  if (it == map_sessions_.end()) return;
  if (session.dirty) {
    // dirty_ still points at it: the flush skips it and frees it.
    session.closed = true;
    closed_while_dirty_.push_back(std::move(it->second));
  }
  map_sessions_.erase(it);
}

template <typename Fn>
void MapEngine::for_each_peer_stream(NodeId id, Fn fn) {
  index_->for_each_peer(id, [&](NodeId peer) {
    if (MapSession* s = stream_of(peer)) fn(*s);
  });
}

template <typename Fn>
void MapEngine::for_each_stream_in(const std::vector<NodeId>& ids, Fn fn) {
  for (NodeId id : ids) {
    if (MapSession* s = stream_of(id)) fn(*s);
  }
}

std::vector<NodeId> MapEngine::peers_of(const PolicyIndex& index, NodeId id) const {
  std::vector<NodeId> out;
  index.for_each_peer(id, [&](NodeId peer) { out.push_back(peer); });
  return out;
}

std::vector<NodeId> MapEngine::filter_dependents(const PolicySubject& subject) const {
  std::vector<NodeId> out;
  index_->for_each_filter_dependent(subject, [&](NodeId id) { out.push_back(id); });
  return out;
}

std::vector<NodeId> MapEngine::sorted_visible_ids() const {
  std::vector<NodeId> ids;
  for (const auto& [id, state] : nodes_) {
    if (state.visible) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

const std::string& MapEngine::node_json(NodeState& state) {
  if (state.json.empty()) {
    state.json = peer_node_to_json(state.peer).dump();
    ++stats_.peer_encodings;
  }
  return state.json;
}

const std::string& MapEngine::patch_json(NodeState& state, uint8_t fields) {
  auto [it, inserted] = patch_cache_.try_emplace({state.peer.id, fields});
  if (inserted) {
    PeerPatch patch;
    patch.id = state.peer.id;
    if (fields & kPatchEndpoints) patch.endpoints = state.peer.endpoints;
    if (fields & kPatchHomeRelay) patch.home_relay = state.peer.home_relay;
    if (fields & kPatchOnline) patch.online = state.peer.online;
    if (fields & kPatchLastSeen) patch.last_seen_unix_s = state.peer.last_seen_unix_s;
    if (fields & kPatchDiscoKey) patch.disco_key = state.peer.disco_key;
    it->second = peer_patch_to_json(patch).dump();
    ++stats_.patch_encodings;
  }
  return it->second;
}

std::string MapEngine::filter_json(NodeId id, size_t& hash) {
  std::string text = packet_filter_to_json(index_->filter_for(id)).dump();
  hash = std::hash<std::string>()(text);
  return text;
}

void MapEngine::acquire_relay_key(const PublicKey& key) {
  if (relay_keys_[key]++ > 0) return;
  for (auto& [id, relay] : relay_sessions_) {
    relay.pending.key_added(key);
    mark_relay_dirty(id, relay);
  }
}

void MapEngine::release_relay_key(const PublicKey& key, const char* reason) {
  auto it = relay_keys_.find(key);
  if (it == relay_keys_.end() || --it->second > 0) return;
  relay_keys_.erase(it);
  const std::string text = reason;
  for (auto& [id, relay] : relay_sessions_) {
    relay.pending.key_removed(key, text);
    mark_relay_dirty(id, relay);
  }
}

// ---------------------------------------------------------------------------------------------
// Registry side.

void MapEngine::upsert_node(const Node& node, const std::string& user_name, bool expired) {
  NodeState& state = nodes_[node.id];
  const PeerNode before = state.peer;
  const PolicySubject next_subject = subject_of(node, user_name);
  PeerNode& p = state.peer;
  set_registered_fields(p, node, user_name);

  if (expired) {
    // The key it was shown with leaves the feeds (it may expire and re-key in one update).
    if (state.visible) {
      hide(state, before.node_key, "node key expired; register again with an auth key",
           kRelayKeyExpired);
    }
    state.subject = next_subject;
    state.json.clear();
    return;
  }
  if (!state.visible) {
    state.subject = next_subject;
    state.json.clear();
    show(state);
    return;
  }

  const bool whole = whole_node_differs(before, p);
  uint8_t fields = 0;
  if (before.disco_key != p.disco_key) fields |= kPatchDiscoKey;
  // While the node is online its last-seen time means nothing to peers; they get it with the
  // offline patch. Holding it back also keeps a reconnect within the grace period invisible.
  if (before.last_seen_unix_s != p.last_seen_unix_s && !p.online) fields |= kPatchLastSeen;
  if (before != p) state.json.clear();

  if (before.node_key != p.node_key) {
    acquire_relay_key(p.node_key);
    release_relay_key(before.node_key, kRelayKeyReplaced);
  }
  if (!same_subject(state.subject, next_subject)) {
    change_subject(state, next_subject);  // whole nodes both ways, self and filters
    return;
  }
  if (whole) {
    for_each_peer_stream(node.id, [&](MapSession& s) {
      s.pending.peer_changed(node.id);
      mark_dirty(s);
    });
    if (MapSession* own = state.stream) {
      own->pending.self_changed();
      mark_dirty(*own);
    }
  } else if (fields) {
    for_each_peer_stream(node.id, [&](MapSession& s) {
      s.pending.peer_patched(node.id, fields);
      mark_dirty(s);
    });
  }
}

void MapEngine::remove_node(NodeId id, const std::string& reason) {
  NodeState* state = find_node(id);
  if (!state) return;
  if (state->visible) hide(*state, state->peer.node_key, reason, kRelayKeyDeleted);
  if (state->stream) discard(*state->stream);  // cannot happen: streams need visible nodes
  nodes_.erase(id);
}

void MapEngine::show(NodeState& state) {
  const NodeId id = state.peer.id;
  index_->upsert(state.subject);
  state.visible = true;
  for_each_peer_stream(id, [&](MapSession& s) {
    s.pending.peer_added(id);
    mark_dirty(s);
  });
  for_each_stream_in(filter_dependents(state.subject), [&](MapSession& s) {
    s.pending.filter_changed();
    mark_dirty(s);
  });
  acquire_relay_key(state.peer.node_key);
}

void MapEngine::hide(NodeState& state, const PublicKey& relay_key, const std::string& reason,
                     const char* relay_reason) {
  const NodeId id = state.peer.id;
  std::vector<NodeId> peers = peers_of(*index_, id);
  std::vector<NodeId> dependents = filter_dependents(state.subject);
  index_->remove(id);
  state.visible = false;
  for_each_stream_in(peers, [&](MapSession& s) {
    s.pending.peer_removed(id);
    mark_dirty(s);
  });
  for_each_stream_in(dependents, [&](MapSession& s) {
    s.pending.filter_changed();
    mark_dirty(s);
  });
  release_relay_key(relay_key, relay_reason);
  if (MapSession* own = state.stream) {
    const MapSessionId own_id = own->id;
    discard(*own);
    output_.end_session(own_id, reason);
  }
}

void MapEngine::change_subject(NodeState& state, const PolicySubject& next) {
  const NodeId id = state.peer.id;
  std::vector<NodeId> old_peers = peers_of(*index_, id);
  std::vector<NodeId> old_dependents = filter_dependents(state.subject);
  state.subject = next;
  index_->upsert(next);
  std::vector<NodeId> new_peers = peers_of(*index_, id);
  std::vector<NodeId> dependents = union_sorted(std::move(old_dependents), filter_dependents(next));

  MapSession* own = state.stream;
  auto mark = [&](NodeId peer, auto&& on_peer, auto&& on_own) {
    if (MapSession* s = stream_of(peer)) {
      on_peer(s->pending);
      mark_dirty(*s);
    }
    if (own) on_own(own->pending);
  };
  diff_sorted(
      old_peers, new_peers,
      [&](NodeId gone) {
        mark(
            gone, [&](PendingMapDelta& d) { d.peer_removed(id); },
            [&](PendingMapDelta& d) { d.peer_removed(gone); });
      },
      [&](NodeId added) {
        mark(
            added, [&](PendingMapDelta& d) { d.peer_added(id); },
            [&](PendingMapDelta& d) { d.peer_added(added); });
      },
      [&](NodeId kept) {
        // Its user, tags, addresses or routes changed: all in the whole node.
        mark(
            kept, [&](PendingMapDelta& d) { d.peer_changed(id); }, [](PendingMapDelta&) {});
      });
  for_each_stream_in(dependents, [&](MapSession& s) {
    s.pending.filter_changed();
    mark_dirty(s);
  });
  if (own) {
    own->pending.self_changed();
    own->pending.filter_changed();
    mark_dirty(*own);
  }
}

void MapEngine::set_policy(const Policy& policy) {
  auto next = std::make_unique<PolicyIndex>(policy);
  const std::vector<NodeId> visible_ids = sorted_visible_ids();
  for (NodeId id : visible_ids) next->upsert(nodes_.at(id).subject);
  // Streams in node order, so the flush order does not depend on hash-table order.
  for (NodeId id : visible_ids) {
    MapSession* s = nodes_.at(id).stream;
    if (!s) continue;
    diff_sorted(
        peers_of(*index_, id), peers_of(*next, id),
        [&](NodeId gone) { s->pending.peer_removed(gone); },
        [&](NodeId added) { s->pending.peer_added(added); }, [](NodeId) {});
    s->pending.filter_changed();
    mark_dirty(*s);
  }
  index_ = std::move(next);
}

void MapEngine::reset(const std::vector<NodeInput>& nodes, const Policy& policy) {
  std::unordered_map<NodeId, NodeState> previous = std::move(nodes_);
  nodes_.clear();
  index_ = std::make_unique<PolicyIndex>(policy);
  relay_keys_.clear();
  for (const NodeInput& input : nodes) {
    const Node& node = *input.node;
    NodeState& state = nodes_[node.id];
    if (auto old = previous.find(node.id); old != previous.end()) {
      // Live facts survive a reload of the registry.
      state.peer.endpoints = old->second.peer.endpoints;
      state.peer.home_relay = old->second.peer.home_relay;
      state.peer.online = old->second.peer.online;
    }
    set_registered_fields(state.peer, node, input.user_name);
    state.subject = subject_of(node, input.user_name);
    state.visible = !input.expired;
    if (state.visible) {
      index_->upsert(state.subject);
      ++relay_keys_[state.peer.node_key];
    }
  }
  // Streams of nodes that are gone or expired end; every other one starts over with a full map
  // (re-linked to the rebuilt node states).
  std::vector<MapSessionId> ids;
  for (const auto& [sid, session] : map_sessions_) ids.push_back(sid);
  std::sort(ids.begin(), ids.end());
  std::vector<MapSessionId> ended;
  for (MapSessionId sid : ids) {
    MapSession& s = *map_sessions_.at(sid);
    const NodeId node = s.self ? s.self->peer.id : 0;
    s.self = nullptr;
    NodeState* state = find_node(node);
    if (!state || !state->visible || state->stream) {
      discard(s);
      ended.push_back(sid);
      continue;
    }
    s.self = state;
    state->stream = &s;
    s.pending.need_full_map();
    mark_dirty(s);
  }
  for (auto& [sid, relay] : relay_sessions_) {
    relay.pending.need_full_set();
    mark_relay_dirty(sid, relay);
  }
  for (MapSessionId sid : ended) output_.end_session(sid, "the server reloaded its state");
}

// ---------------------------------------------------------------------------------------------
// Live side.

void MapEngine::update_live(NodeId id, const LiveUpdate& update) {
  NodeState* state = find_node(id);
  if (!state) return;
  PeerNode& p = state->peer;
  uint8_t fields = 0;
  if (update.endpoints && *update.endpoints != p.endpoints) {
    p.endpoints = *update.endpoints;
    fields |= kPatchEndpoints;
  }
  if (update.home_relay && *update.home_relay != p.home_relay) {
    p.home_relay = *update.home_relay;
    fields |= kPatchHomeRelay;
  }
  if (update.online && *update.online != p.online) {
    p.online = *update.online;
    fields |= kPatchOnline;
    if (!p.online) fields |= kPatchLastSeen;  // peers show "last seen" next to "offline"
  }
  if (fields == 0) return;
  state->json.clear();
  if (!state->visible) return;
  for_each_peer_stream(id, [&](MapSession& s) {
    s.pending.peer_patched(id, fields);
    mark_dirty(s);
  });
}

NodeLive MapEngine::live(NodeId id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return NodeLive{};
  NodeLive out;
  out.online = it->second.peer.online;
  out.endpoints = it->second.peer.endpoints;
  out.home_relay = it->second.peer.home_relay;
  return out;
}

bool MapEngine::visible(NodeId id) const {
  auto it = nodes_.find(id);
  return it != nodes_.end() && it->second.visible;
}

std::optional<PeerNode> MapEngine::peer_node(NodeId id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return std::nullopt;
  return it->second.peer;
}

// ---------------------------------------------------------------------------------------------
// Sessions.

void MapEngine::open_map_session(MapSessionId sid, NodeId node) {
  NodeState* state = find_node(node);
  if (!state || !state->visible) {
    output_.end_session(sid, "node is not registered or its key expired; register again");
    return;
  }
  if (MapSession* old = state->stream) {
    const MapSessionId old_id = old->id;
    discard(*old);
    output_.end_session(old_id, "replaced by a newer connection of the same node");
    state = find_node(node);  // end_session may have changed the tables
    if (!state || !state->visible || state->stream) return;
  }
  auto owned = std::make_unique<MapSession>();
  MapSession& s = *owned;
  s.id = sid;
  s.self = state;
  map_sessions_[sid] = std::move(owned);
  state->stream = &s;
  send_built(sid, [&](std::string& out) { build_full_map(s, out); });
}

void MapEngine::open_relay_session(MapSessionId sid) {
  RelaySession& relay = relay_sessions_[sid];
  send_built(sid, [&](std::string& out) { build_relay_full(relay, out); });
}

void MapEngine::close_session(MapSessionId sid) {
  if (auto it = map_sessions_.find(sid); it != map_sessions_.end()) {
    discard(*it->second);
    return;
  }
  relay_sessions_.erase(sid);  // a queued id of it is skipped by the flush
}

// ---------------------------------------------------------------------------------------------
// Flush and encoding.

template <typename Build>
void MapEngine::send_built(MapSessionId id, Build build) {
  // The buffer is taken, not borrowed: the output may re-enter the engine, which then builds
  // in a buffer of its own.
  std::string buffer = std::move(scratch_);
  buffer.clear();
  build(buffer);
  if (!buffer.empty()) {
    stats_.bytes += buffer.size();
    output_.send(id, ByteView(std::string_view(buffer)));
  }
  if (buffer.capacity() <= kKeptScratchBytes) scratch_ = std::move(buffer);
}

void MapEngine::flush() {
  flush_timer_.cancel();
  ++stats_.flushes;
  // Sessions closed before now are freed when this returns; those closed during it, next time.
  std::vector<std::unique_ptr<MapSession>> closed = std::move(closed_while_dirty_);
  closed_while_dirty_.clear();
  std::vector<MapSession*> dirty = std::move(dirty_);
  dirty_.clear();
  for (MapSession* s : dirty) {
    if (s->closed) continue;
    s->dirty = false;
    const bool full = s->pending.full();
    const MapSessionId id = s->id;
    send_built(id, [&](std::string& out) {
      if (full) {
        build_full_map(*s, out);
      } else {
        build_delta(*s, out);
      }
      s->pending.clear();
    });
    // `s` may be gone now (the output closed it).
  }
  flush_relays();
  patch_cache_.clear();
}

void MapEngine::flush_relays() {
  relay_flush_timer_.cancel();
  std::vector<MapSessionId> relays = std::move(dirty_relays_);
  dirty_relays_.clear();
  for (MapSessionId id : relays) {
    auto it = relay_sessions_.find(id);
    if (it == relay_sessions_.end() || !it->second.dirty) continue;
    RelaySession& relay = it->second;
    relay.dirty = false;
    send_built(id, [&](std::string& out) {
      if (relay.pending.full()) {
        build_relay_full(relay, out);
      } else {
        build_relay_delta(relay, out);
      }
      relay.pending.clear();
    });
  }
}

void MapEngine::build_full_map(MapSession& s, std::string& out) {
  NodeState& self = *s.self;
  const NodeId id = self.peer.id;
  std::vector<NodeState*> peers;
  size_t bytes = relay_map_json_.size() + node_json(self).size() + 256;
  index_->for_each_peer(id, [&](NodeId peer) {
    NodeState* state = find_node(peer);
    if (!state) return;
    peers.push_back(state);
    bytes += node_json(*state).size() + 1;
  });
  std::string filter = filter_json(id, s.filter_hash);
  out.reserve(bytes + filter.size());
  JsonSplicer j(out);
  j.field("type", "\"map\"");
  j.field("seq", std::to_string(++s.seq));
  j.field("full", "true");
  j.field("self", self.json);
  j.begin_array("peers");
  for (NodeState* peer : peers) j.item(peer->json);
  j.end_array();
  j.field("relay_map", relay_map_json_);
  j.field("packet_filter", filter);
  j.finish();
  ++stats_.map_messages;
  ++stats_.full_maps;
}

void MapEngine::build_delta(MapSession& s, std::string& out) {
  NodeState& self = *s.self;
  const PendingMapDelta& d = s.pending;
  bool any_changed = false;
  bool any_removed = false;
  bool any_patched = false;
  for (const PendingMapDelta::Entry& e : d.peers()) {
    if (e.kind == PendingMapDelta::Kind::removed) {
      any_removed = true;
      continue;
    }
    NodeState* state = find_node(e.id);
    if (!state || !state->visible) continue;  // hidden since; its removal is queued too
    if (e.kind == PendingMapDelta::Kind::patched) {
      any_patched = true;
      patch_json(*state, e.fields);
    } else {
      any_changed = true;
      node_json(*state);
    }
  }
  std::string filter;
  if (d.filter()) {
    size_t hash = 0;
    filter = filter_json(self.peer.id, hash);
    if (hash == s.filter_hash) {
      filter.clear();  // recomputed but the same: nothing to send
    } else {
      s.filter_hash = hash;
    }
  }
  if (d.self()) node_json(self);
  if (!any_changed && !any_removed && !any_patched && filter.empty() && !d.self() &&
      !d.relay_map()) {
    return;
  }
  JsonSplicer j(out);
  j.field("type", "\"map\"");
  j.field("seq", std::to_string(++s.seq));
  // Each list walks the ascending entries again; the JSON it copies was built above.
  auto list = [&](const char* key, PendingMapDelta::Kind a, PendingMapDelta::Kind b, auto&& item) {
    j.begin_array(key);
    for (const PendingMapDelta::Entry& e : d.peers()) {
      if (e.kind == a || e.kind == b) item(e);
    }
    j.end_array();
  };
  using Kind = PendingMapDelta::Kind;
  if (any_changed) {
    list("peers_changed", Kind::added, Kind::changed, [&](const PendingMapDelta::Entry& e) {
      NodeState* state = find_node(e.id);
      if (state && state->visible) j.item(state->json);
    });
  }
  if (any_removed) {
    list("peers_removed", Kind::removed, Kind::removed,
         [&](const PendingMapDelta::Entry& e) { j.item(std::to_string(e.id)); });
  }
  if (any_patched) {
    list("peer_patches", Kind::patched, Kind::patched, [&](const PendingMapDelta::Entry& e) {
      NodeState* state = find_node(e.id);
      if (state && state->visible) j.item(patch_json(*state, e.fields));
    });
  }
  if (d.self()) j.field("self", self.json);
  if (d.relay_map()) j.field("relay_map", relay_map_json_);
  if (!filter.empty()) j.field("packet_filter", filter);
  j.finish();
  ++stats_.map_messages;
}

void MapEngine::build_relay_full(RelaySession& relay, std::string& out) {
  out.reserve(64 + relay_keys_.size() * (kKeyBase64Chars + 3));
  JsonSplicer j(out);
  j.field("type", "\"relay_keys\"");
  j.field("seq", std::to_string(++relay.seq));
  j.field("full", "true");
  j.begin_array("keys");
  for (const auto& [key, count] : relay_keys_) j.item("\"" + to_base64(key) + "\"");
  j.end_array();
  j.finish();
  ++stats_.relay_messages;
}

void MapEngine::build_relay_delta(RelaySession& relay, std::string& out) {
  const auto& keys = relay.pending.keys();
  if (keys.empty()) return;
  JsonSplicer j(out);
  j.field("type", "\"relay_keys\"");
  j.field("seq", std::to_string(++relay.seq));
  for (bool added : {true, false}) {
    bool any = false;
    for (const auto& [key, change] : keys) {
      if (change.added != added) continue;
      if (!any) j.begin_array(added ? "added" : "removed");
      any = true;
      if (added) {
        j.item("\"" + to_base64(key) + "\"");
      } else {
        // The reason is one of our constants, but escape it like any string.
        j.item("{\"key\":\"" + to_base64(key) +
               "\",\"reason\":" + nlohmann::json(change.reason).dump() + "}");
      }
    }
    if (any) j.end_array();
  }
  j.finish();
  ++stats_.relay_messages;
}

}  // namespace warren::control
