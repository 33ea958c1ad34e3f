#include "nodes/control/pending_delta.h"

#include <algorithm>

namespace warren::control {

namespace {

// A buffer that grew past this is given back after the flush instead of kept for the next.
constexpr size_t kKeptCapacity = 16;

}  // namespace

const PendingMapDelta::Entry* PendingMapDelta::find(NodeId id) const {
  auto it = std::lower_bound(peers_.begin(), peers_.end(), id,
                             [](const Entry& e, NodeId v) { return e.id < v; });
  return it != peers_.end() && it->id == id ? &*it : nullptr;
}

PendingMapDelta::Entry* PendingMapDelta::find_or_insert(NodeId id, Kind kind, uint8_t fields,
                                                        bool& inserted) {
  // Changes mostly arrive in ascending id order (enumerations are ascending): try the end first.
  auto it = !peers_.empty() && peers_.back().id < id
                ? peers_.end()
                : std::lower_bound(peers_.begin(), peers_.end(), id,
                                   [](const Entry& e, NodeId v) { return e.id < v; });
  inserted = it == peers_.end() || it->id != id;
  if (inserted) it = peers_.insert(it, Entry{id, kind, fields});
  return &*it;
}

void PendingMapDelta::erase(NodeId id) {
  auto it = std::lower_bound(peers_.begin(), peers_.end(), id,
                             [](const Entry& e, NodeId v) { return e.id < v; });
  if (it != peers_.end() && it->id == id) peers_.erase(it);
}

void PendingMapDelta::peer_added(NodeId id) {
  if (full_) return;
  bool inserted = false;
  Entry* e = find_or_insert(id, Kind::added, 0, inserted);
  if (!inserted) {
    // Re-added after a removal in the same window: the client still has the old version.
    // (added/changed/patched + added cannot happen: the peer was visible; keep a whole node.)
    if (e->kind == Kind::removed || e->kind == Kind::patched) *e = Entry{id, Kind::changed, 0};
  }
  collapse_if_large();
}

void PendingMapDelta::peer_changed(NodeId id) {
  if (full_) return;
  bool inserted = false;
  Entry* e = find_or_insert(id, Kind::changed, 0, inserted);
  if (!inserted && e->kind == Kind::patched) *e = Entry{id, Kind::changed, 0};
  // added stays added; removed stays removed (the peer is not visible to this client).
  collapse_if_large();
}

void PendingMapDelta::peer_removed(NodeId id) {
  if (full_) return;
  bool inserted = false;
  Entry* e = find_or_insert(id, Kind::removed, 0, inserted);
  if (!inserted) {
    if (e->kind == Kind::added) {
      erase(id);  // the client never saw it
    } else {
      *e = Entry{id, Kind::removed, 0};
    }
  }
  collapse_if_large();
}

void PendingMapDelta::peer_patched(NodeId id, uint8_t fields) {
  if (full_ || fields == 0) return;
  bool inserted = false;
  Entry* e = find_or_insert(id, Kind::patched, fields, inserted);
  if (!inserted && e->kind == Kind::patched) e->fields |= fields;
  collapse_if_large();
}

void PendingMapDelta::need_full_map() {
  clear();
  full_ = true;
}

void PendingMapDelta::clear() {
  if (peers_.capacity() > kKeptCapacity) {
    std::vector<Entry>().swap(peers_);
  } else {
    peers_.clear();
  }
  full_ = self_ = filter_ = relay_map_ = false;
}

void PendingMapDelta::collapse_if_large() {
  if (peers_.size() > kMaxPendingPeers) need_full_map();
}

void PendingKeyDelta::key_added(const PublicKey& key) {
  if (full_) return;
  auto [it, inserted] = keys_.try_emplace(key, Change{true, {}});
  if (!inserted && !it->second.added) keys_.erase(it);  // removed then back: the relay has it
  if (keys_.size() > kMaxPendingPeers) need_full_set();
}

void PendingKeyDelta::key_removed(const PublicKey& key, const std::string& reason) {
  if (full_) return;
  auto [it, inserted] = keys_.try_emplace(key, Change{false, reason});
  if (!inserted && it->second.added) keys_.erase(it);  // added then gone: the relay never had it
  if (keys_.size() > kMaxPendingPeers) need_full_set();
}

void PendingKeyDelta::need_full_set() {
  keys_.clear();
  full_ = true;
}

void PendingKeyDelta::clear() {
  keys_.clear();
  full_ = false;
}

}  // namespace warren::control
