#include "nodes/relay/destination_set.h"

#include "nodes/relay/key_hash.h"

namespace warren::relay {

bool DestinationSet::contains(const PublicKey& key) const {
  if (last_hit_ < keys_.size() && keys_[last_hit_] == key) return true;
  for (const PublicKey& k : keys_) {
    if (same_key(k, key)) return true;
  }
  return false;
}

bool DestinationSet::insert(const PublicKey& key) {
  if (last_hit_ < keys_.size() && keys_[last_hit_] == key) return false;
  for (uint32_t i = 0; i < keys_.size(); ++i) {
    if (same_key(keys_[i], key)) {
      last_hit_ = i;
      return false;
    }
  }
  if (keys_.size() >= max_keys_) return false;
  last_hit_ = static_cast<uint32_t>(keys_.size());
  keys_.push_back(key);
  return true;
}

void DestinationSet::clear() {
  std::vector<PublicKey>().swap(keys_);
  last_hit_ = 0;
}

}  // namespace warren::relay
