// What one stream still owes its client since the last message it was sent: the merge rules of
// the batcher. Entries hold no node data, only what kind of change happened; the flush reads the
// current node state, so ten changes to one peer in a window cost one entry and one encoding.
//
// Per peer, the client's state after the next message must equal the server's, whatever
// happened in between:
//   nothing  + added   -> added        added   + removed -> nothing (the client never had it)
//   removed  + added   -> changed      changed + removed -> removed
//   patched  + changed -> changed      patched + removed -> removed
//   added/changed + patched -> unchanged (the whole node goes out anyway)
//   patched  + patched -> patched with both field sets
// A delta that grows past kMaxPendingPeers collapses into "send a full map": beyond that a
// delta costs about what a full map does to build and apply, and the pending state of every
// stream stays bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nodes/common/control_messages.h"

namespace warren::control {

constexpr size_t kMaxPendingPeers = 1024;

// PeerPatch fields, as bits.
enum PatchField : uint8_t {
  kPatchEndpoints = 1,
  kPatchHomeRelay = 2,
  kPatchOnline = 4,
  kPatchLastSeen = 8,
  kPatchDiscoKey = 16,
};

class PendingMapDelta {
 public:
  enum class Kind : uint8_t { added, changed, removed, patched };
  struct Entry {
    NodeId id = 0;
    Kind kind = Kind::changed;
    uint8_t fields = 0;  // PatchField bits, for patched
  };

  void peer_added(NodeId id);
  void peer_changed(NodeId id);  // whole node to be resent
  void peer_removed(NodeId id);
  void peer_patched(NodeId id, uint8_t fields);
  void self_changed() { self_ = true; }
  void filter_changed() { filter_ = true; }
  void relay_map_changed() { relay_map_ = true; }
  void need_full_map();

  bool full() const { return full_; }
  bool self() const { return self_; }
  bool filter() const { return filter_; }
  bool relay_map() const { return relay_map_; }
  const std::vector<Entry>& peers() const { return peers_; }  // ascending id
  const Entry* find(NodeId id) const;
  bool empty() const { return !full_ && !self_ && !filter_ && !relay_map_ && peers_.empty(); }
  void clear();

 private:
  // A sorted vector, not a map: most deltas hold one or two peers, and a stream that keeps its
  // small buffer across flushes allocates nothing per change.
  Entry* find_or_insert(NodeId id, Kind kind, uint8_t fields, bool& inserted);
  void erase(NodeId id);
  void collapse_if_large();

  std::vector<Entry> peers_;
  bool full_ = false;
  bool self_ = false;
  bool filter_ = false;
  bool relay_map_ = false;
};

// The same for a relay's key feed: keys added or removed since the last message, each removal
// with its reason. Added then removed = never mentioned; removed then added = unchanged (the
// relay still has the key).
class PendingKeyDelta {
 public:
  struct Change {
    bool added = false;
    std::string reason;  // removals only
  };
  void key_added(const PublicKey& key);
  void key_removed(const PublicKey& key, const std::string& reason);
  void need_full_set();
  bool full() const { return full_; }
  const std::map<PublicKey, Change>& keys() const { return keys_; }  // ascending key
  bool empty() const { return !full_ && keys_.empty(); }
  void clear();

 private:
  std::map<PublicKey, Change> keys_;
  bool full_ = false;
};

}  // namespace warren::control
