// A client's current view of its tailnet, kept up to date from the control server's map
// stream: self, peers by id, the relay map and the packet filter.
//
// apply() takes the stream's messages in order. A full map replaces everything; a delta
// changes only what it carries (see nodes/common/control_messages.h). Ordering: the first
// message must be a full map, and every later message must carry a larger seq than the one
// before; anything else is an error and leaves the map unchanged (the client reconnects for a
// fresh full map). Within a delta, removals apply first, then whole changed peers, then
// patches. A patch or removal for a peer the map does not hold is counted and ignored: the
// server may have sent it while that peer was still being added.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "nodes/common/control_messages.h"

namespace warren {

struct NetMapCounters {
  uint64_t full_maps = 0;
  uint64_t deltas = 0;
  uint64_t unknown_peer_patches = 0;
  uint64_t unknown_peer_removals = 0;
  uint64_t rejected = 0;  // out-of-order or delta-before-full messages
};

class NetMap {
 public:
  Status apply(const control::MapMessage& message);
  // Forgets the map (a new stream starts with a full map); counters are kept.
  void reset();

  bool has_full_map() const { return has_full_; }
  uint64_t seq() const { return seq_; }
  const std::optional<control::PeerNode>& self() const { return self_; }
  const std::map<control::NodeId, control::PeerNode>& peers() const { return peers_; }
  const control::PeerNode* find_peer(control::NodeId id) const;
  const control::RelayMap& relay_map() const { return relay_map_; }
  const control::PacketFilter& packet_filter() const { return packet_filter_; }
  const NetMapCounters& counters() const { return counters_; }

  // What `warren debug netmap` prints per message (and `warren status` will):
  // {"seq", "self": {"id","name","user","addresses","routes"}, "peers": [{"id","name","user",
  //  "tags","addresses","routes","endpoints","home_relay","online","last_seen"}],
  //  "packet_filter": [...], "relay_regions": [ids]}
  nlohmann::json summary() const;

 private:
  bool has_full_ = false;
  uint64_t seq_ = 0;
  std::optional<control::PeerNode> self_;
  std::map<control::NodeId, control::PeerNode> peers_;  // ordered: summaries list ascending ids
  control::RelayMap relay_map_;
  control::PacketFilter packet_filter_;
  NetMapCounters counters_;
};

}  // namespace warren
