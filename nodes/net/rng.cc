#include "nodes/net/rng.h"

#include "nodes/net/sodium_once.h"

#include <sodium.h>

#include <cstring>

namespace warren {
namespace {

std::array<uint8_t, 32> derive_key(const uint8_t* parent, size_t parent_size,
                                   std::string_view label) {
  std::array<uint8_t, 32> key;
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, key.size());
  crypto_generichash_update(&st, parent, parent_size);
  const uint8_t sep = 0;
  crypto_generichash_update(&st, &sep, 1);
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(label.data()), label.size());
  crypto_generichash_final(&st, key.data(), key.size());
  return key;
}

}  // namespace

uint64_t Rng::next_u64() {
  uint8_t b[8];
  fill(b, sizeof b);
  uint64_t v = 0;
  for (uint8_t x : b) v = v << 8 | x;
  return v;
}

uint64_t Rng::uniform(uint64_t bound) {
  if (bound <= 1) return 0;
  // Reject the top partial range so every residue is equally likely.
  uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    uint64_t v = next_u64();
    if (v < limit) return v % bound;
  }
}

double Rng::unit() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

SeededRng::SeededRng(uint64_t seed, std::string_view label) {
  ensure_sodium();
  uint8_t seed_bytes[8];
  for (int i = 0; i < 8; ++i) seed_bytes[i] = static_cast<uint8_t>(seed >> (56 - 8 * i));
  key_ = derive_key(seed_bytes, sizeof seed_bytes, label);
}

SeededRng::SeededRng(const std::array<uint8_t, 32>& key) : key_(key) {}

SeededRng SeededRng::derive(std::string_view label) const {
  return SeededRng(derive_key(key_.data(), key_.size(), label));
}

void SeededRng::refill() {
  static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
  // The IETF counter is 32 bits; before it wraps (after 256 GiB), move to a fresh key.
  if (block_counter_ + buffer_.size() / 64 > UINT32_MAX) {
    key_ = derive_key(key_.data(), key_.size(), "rekey");
    block_counter_ = 0;
  }
  std::memset(buffer_.data(), 0, buffer_.size());
  crypto_stream_chacha20_ietf_xor_ic(buffer_.data(), buffer_.data(), buffer_.size(), nonce,
                                     static_cast<uint32_t>(block_counter_), key_.data());
  block_counter_ += buffer_.size() / 64;
  used_ = 0;
}

void SeededRng::fill(uint8_t* out, size_t size) {
  while (size > 0) {
    if (used_ == buffer_.size()) refill();
    size_t n = std::min(size, buffer_.size() - used_);
    std::memcpy(out, buffer_.data() + used_, n);
    used_ += n;
    out += n;
    size -= n;
  }
}

}  // namespace warren
