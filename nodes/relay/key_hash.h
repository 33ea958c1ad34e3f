// Hashing node keys for the relay's lookup tables. A Curve25519 public key is uniformly
// distributed and a relay only holds keys the control server admitted, so its first 8 bytes
// are as good a hash as any and cost one load.
#pragma once

#include <cstdint>
#include <cstring>

#include "nodes/common/x25519.h"

namespace warren::relay {

struct PublicKeyHash {
  size_t operator()(const PublicKey& key) const {
    uint64_t h;
    std::memcpy(&h, key.bytes.data(), sizeof(h));
    return static_cast<size_t>(h);
  }
};

// Equality on the first 8 bytes first: a cheap reject for linear scans.
inline bool same_key(const PublicKey& a, const PublicKey& b) {
  uint64_t x, y;
  std::memcpy(&x, a.bytes.data(), sizeof(x));
  std::memcpy(&y, b.bytes.data(), sizeof(y));
  return x == y && a == b;
}

}  // namespace warren::relay
