// Hashing node keys for the relay's lookup tables. All 32 bytes are mixed, so a key ground to
// share a prefix with others does not share their bucket (the tables only hold keys the
// control server admitted, which bounds what an attacker can place in them anyway).
#pragma once

#include <cstdint>
#include <cstring>

#include "nodes/common/x25519.h"

namespace warren::relay {

struct PublicKeyHash {
  size_t operator()(const PublicKey& key) const {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < key.bytes.size(); i += 8) {
      uint64_t word = 0;
      std::memcpy(&word, key.bytes.data() + i, 8);
      h ^= word;
      h *= 0xff51afd7ed558ccdull;
      h ^= h >> 33;
    }
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
