#include "nodes/relay/presence_backlog.h"

namespace warren::relay {

size_t PresenceBacklog::add(const PublicKey& key) {
  if (waiting_.insert(key).second) order_.push_back(key);
  return size();
}

bool PresenceBacklog::next(PublicKey& key) {
  if (empty()) return false;
  key = order_[head_++];
  waiting_.erase(key);
  if (empty()) {
    std::vector<PublicKey>().swap(order_);
    std::unordered_set<PublicKey, PublicKeyHash>().swap(waiting_);
    head_ = 0;
  } else if (head_ >= kCompactAfter && 2 * head_ >= order_.size()) {
    // A watcher that keeps up only just never empties the backlog: drop the sent prefix so
    // the vector stays within twice the keys actually waiting.
    order_.erase(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  return true;
}

}  // namespace warren::relay
