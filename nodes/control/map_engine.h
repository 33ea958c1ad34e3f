// The map streams and relay key feeds of the control server: who sees whom, what each stream
// still owes its client, and the batched flush that sends it.
//
// - A map stream starts with a full map (self, every visible peer, relay map, packet filter),
//   sent at once. Afterwards changes accumulate per stream (PendingMapDelta) and one flush per
//   batch window sends at most one message per stream.
// - Work per change is proportional to the streams it affects: a node's change walks only the
//   nodes that see it (PolicyIndex::for_each_peer) and the nodes whose filter depends on it.
//   Nothing stores a per-stream copy of its peer set: after the next flush every client holds
//   exactly what the index says it sees, so the index before and after a change is the diff.
//   A policy change diffs every stream's peer set under the old and the new policy
//   (O(streams x peers), once per policy change).
// - Each peer's JSON is encoded once after it changes and kept until it changes again; a flush
//   copies it into every recipient's message (full maps too). Patches are encoded once per
//   flush per (peer, field set).
// - Relay feeds carry the node keys of every visible node (known, not expired), full set first,
//   then keys added/removed in the same windows; each removal carries one of the short reasons
//   below, which the relay logs and sends to the node it refuses.
//
// Visible = registered and not expired. Hiding a node (deleted or expired) removes it from
// every stream within one window and ends its own stream through MapOutput::end_session.
// Single-threaded; all calls come from the role's event loop.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "nodes/common/control_messages.h"
#include "nodes/control/model.h"
#include "nodes/control/pending_delta.h"
#include "nodes/control/policy.h"
#include "nodes/control/policy_index.h"
#include "nodes/net/clock.h"

namespace warren::control {

using MapSessionId = uint64_t;

// Why a key leaves the relay feed (a node's own stream gets the longer error with advice).
constexpr const char* kRelayKeyExpired = "node key expired";
constexpr const char* kRelayKeyDeleted = "node deleted";
constexpr const char* kRelayKeyReplaced = "node key replaced by a newer one";

class MapOutput {
 public:
  virtual ~MapOutput() = default;
  // One encoded server message for `session`, valid only during the call. May call
  // MapEngine::close_session(session) before returning (a client too slow to drain its
  // channel).
  virtual void send(MapSessionId session, ByteView message) = 0;
  // The node behind this map stream was deleted or expired. The engine has already forgotten
  // the session; send `error` and close it.
  virtual void end_session(MapSessionId session, const std::string& error) = 0;
};

// Live facts a connected node reports; absent = unchanged.
struct LiveUpdate {
  std::optional<std::vector<Endpoint>> endpoints;
  std::optional<int> home_relay;
  std::optional<bool> online;
};

struct MapEngineStats {
  uint64_t flushes = 0;
  uint64_t map_messages = 0;  // full maps and deltas
  uint64_t full_maps = 0;
  uint64_t relay_messages = 0;   // full key sets and deltas
  uint64_t bytes = 0;            // of the messages above
  uint64_t peer_encodings = 0;   // peer JSON built (once per peer change, reused after)
  uint64_t patch_encodings = 0;  // patch JSON built (once per peer and field set per flush)
};

class MapEngine {
 public:
  struct NodeInput {
    const Node* node = nullptr;
    std::string user_name;
    bool expired = false;
  };

  MapEngine(Clock& clock, MapOutput& output, Duration batch_window, RelayMap relay_map,
            Policy policy = allow_all_policy());
  ~MapEngine();
  MapEngine(const MapEngine&) = delete;
  MapEngine& operator=(const MapEngine&) = delete;

  // --- registry side ---
  // New or changed node. An expired node is hidden (its stream ends with "node key expired").
  void upsert_node(const Node& node, const std::string& user_name, bool expired);
  // Deleted: hidden and forgotten; its stream ends with `reason`.
  void remove_node(NodeId id, const std::string& reason);
  void set_policy(const Policy& policy);
  // Rebuilds from scratch: streams of nodes that are gone end; all others get a full map.
  void reset(const std::vector<NodeInput>& nodes, const Policy& policy);

  // --- live side ---
  void update_live(NodeId id, const LiveUpdate& update);
  NodeLive live(NodeId id) const;
  bool visible(NodeId id) const;
  // The node as peers see it now; nullopt for unknown ids.
  std::optional<PeerNode> peer_node(NodeId id) const;

  // --- sessions ---
  // Sends the full map now. The node must be visible; another stream of it is ended first
  // ("replaced by a newer connection").
  void open_map_session(MapSessionId session, NodeId node);
  void open_relay_session(MapSessionId session);  // sends the full key set now
  void close_session(MapSessionId session);       // unknown: no-op

  // Sends what every stream owes (normally run by the batch timer; relay feeds also go out
  // on their own, one clock turn after a change).
  void flush();

  const MapEngineStats& stats() const { return stats_; }
  size_t map_session_count() const { return map_sessions_.size(); }
  size_t relay_session_count() const { return relay_sessions_.size(); }
  size_t node_count() const { return nodes_.size(); }

 private:
  struct MapSession;
  void flush_relays();
  struct NodeState {
    PeerNode peer;  // what peers see now, live fields included
    PolicySubject subject;
    bool visible = false;          // in the index, the maps and the relay feed
    MapSession* stream = nullptr;  // its map stream, if open
    std::string json;              // encoded peer; empty = not encoded since the last change
  };
  struct MapSession {
    MapSessionId id = 0;
    NodeState* self = nullptr;  // stable: nodes_ never moves its elements
    uint64_t seq = 0;
    PendingMapDelta pending;
    size_t filter_hash = 0;  // of the packet filter JSON last sent
    bool dirty = false;      // queued in dirty_
    bool closed = false;     // closed while queued; freed by the next flush
  };
  struct RelaySession {
    uint64_t seq = 0;
    PendingKeyDelta pending;
    bool dirty = false;
  };

  NodeState* find_node(NodeId id);
  MapSession* stream_of(NodeId id);
  void mark_dirty(MapSession& session);
  void mark_relay_dirty(MapSessionId id, RelaySession& relay);
  void arm_flush();
  // Forgets a map stream (it may still be queued in dirty_: then it is freed by the flush).
  void discard(MapSession& session);
  // fn(MapSession&) for each open stream of a node that sees `id`.
  template <typename Fn>
  void for_each_peer_stream(NodeId id, Fn fn);
  // The same for the streams of the given nodes.
  template <typename Fn>
  void for_each_stream_in(const std::vector<NodeId>& ids, Fn fn);
  const std::string& node_json(NodeState& state);
  const std::string& patch_json(NodeState& state, uint8_t fields);
  std::string filter_json(NodeId id, size_t& hash);

  void show(NodeState& state);
  // Ends the node's own stream with `reason`; its relay key `relay_key` (the node key it was
  // shown with) leaves the relay feeds with `relay_reason`.
  void hide(NodeState& state, const PublicKey& relay_key, const std::string& reason,
            const char* relay_reason);
  void change_subject(NodeState& state, const PolicySubject& next);
  void acquire_relay_key(const PublicKey& key);
  void release_relay_key(const PublicKey& key, const char* reason);
  std::vector<NodeId> peers_of(const PolicyIndex& index, NodeId id) const;
  std::vector<NodeId> filter_dependents(const PolicySubject& subject) const;
  std::vector<NodeId> sorted_visible_ids() const;

  // Each appends one message to `out` (empty: nothing to send).
  void build_full_map(MapSession& session, std::string& out);
  void build_delta(MapSession& session, std::string& out);
  void build_relay_full(RelaySession& relay, std::string& out);
  void build_relay_delta(RelaySession& relay, std::string& out);
  // Builds with `build` into the reusable buffer and hands the result to the output.
  template <typename Build>
  void send_built(MapSessionId id, Build build);

  MapOutput& output_;
  Duration batch_window_;
  RelayMap relay_map_;
  std::string relay_map_json_;
  std::unique_ptr<PolicyIndex> index_;
  std::unordered_map<NodeId, NodeState> nodes_;
  std::unordered_map<MapSessionId, std::unique_ptr<MapSession>> map_sessions_;
  std::map<MapSessionId, RelaySession> relay_sessions_;
  std::map<PublicKey, uint32_t> relay_keys_;  // node key -> visible nodes holding it
  std::vector<MapSession*> dirty_;            // in the order they first changed
  std::vector<std::unique_ptr<MapSession>> closed_while_dirty_;
  std::vector<MapSessionId> dirty_relays_;
  std::map<std::pair<NodeId, uint8_t>, std::string> patch_cache_;  // one flush; (node, fields)
  std::string scratch_;  // message buffer reused across sends
  Timer flush_timer_;
  Timer relay_flush_timer_;  // relay key changes: next clock turn
  MapEngineStats stats_;
};

}  // namespace warren::control
