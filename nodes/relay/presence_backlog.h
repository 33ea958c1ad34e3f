// Who-is-here changes waiting to go to one mesh watcher (a peer relay that sent watch_conns).
// Only the KEY is queued; its state (present with an endpoint, or gone) is read when the update
// is finally sent, so a key that flaps while the watcher's channel is full costs one entry and
// the watcher always ends up with the current truth. That is why presence does not share the
// client's drop-oldest frame queue: dropping a presence update would leave a peer relay with a
// wrong forwarding table. Keys leave in the order they first changed (deterministic).
#pragma once

#include <cstddef>
#include <unordered_set>
#include <vector>

#include "nodes/common/x25519.h"
#include "nodes/relay/key_hash.h"

namespace warren::relay {

class PresenceBacklog {
 public:
  // Adds `key` unless already waiting. Returns the number of keys waiting.
  size_t add(const PublicKey& key);
  // The oldest waiting key; false when none. Memory is released when the backlog empties and
  // bounded by twice the waiting keys meanwhile.
  bool next(PublicKey& key);
  bool empty() const { return head_ == order_.size(); }
  size_t size() const { return order_.size() - head_; }

 private:
  // Sent keys at the front of order_ are erased once there are this many and they are at
  // least half of it (amortised O(1) per key).
  static constexpr size_t kCompactAfter = 1024;
  std::vector<PublicKey> order_;
  size_t head_ = 0;
  std::unordered_set<PublicKey, PublicKeyHash> waiting_;
};

}  // namespace warren::relay
