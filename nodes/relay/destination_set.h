// The node keys a client has sent packets to, remembered so that they can be told (peer_gone
// disconnected) when the client leaves the region. At most `RelayServer::kMaxTrackedDestinations`
// keys: past that, new destinations are not remembered (they learn of the departure from their
// own timeouts instead). Empty costs a vector header; it grows one key at a time. A client
// usually talks to a few peers and sends runs of packets to one of them, so the lookup checks
// the last hit first and otherwise scans 8-byte prefixes.
#pragma once

#include <cstdint>
#include <vector>

#include "nodes/common/x25519.h"

namespace warren::relay {

class DestinationSet {
 public:
  explicit DestinationSet(uint32_t max_keys) : max_keys_(max_keys) {}
  // Remembers `key`; false when already known or the set is full.
  bool insert(const PublicKey& key);
  bool contains(const PublicKey& key) const;
  const std::vector<PublicKey>& keys() const { return keys_; }
  void clear();

 private:
  std::vector<PublicKey> keys_;
  uint32_t max_keys_;
  uint32_t last_hit_ = 0;
};

}  // namespace warren::relay
