// Randomness for protocol code. In simulation every byte comes from a SeededRng derived from
// the scenario seed and the node's name, so keys, nonces, transaction IDs and jitter reproduce
// exactly; in real mode the backend supplies the OS CSPRNG (nodes/real/system_rng.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace warren {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual void fill(uint8_t* out, size_t size) = 0;

  uint64_t next_u64();
  // Uniform in [0, bound), without modulo bias; bound must be > 0.
  uint64_t uniform(uint64_t bound);
  // Uniform in [0, 1).
  double unit();
};

// A deterministic CSPRNG: the ChaCha20 keystream under a key of BLAKE2b(seed, label).
// `derive` gives an independent generator per label, so adding a node or a consumer does not
// shift the random streams of the others.
class SeededRng final : public Rng {
 public:
  SeededRng(uint64_t seed, std::string_view label);
  SeededRng derive(std::string_view label) const;
  void fill(uint8_t* out, size_t size) override;

 private:
  explicit SeededRng(const std::array<uint8_t, 32>& key);
  void refill();

  std::array<uint8_t, 32> key_{};
  uint64_t block_counter_ = 0;
  std::array<uint8_t, 256> buffer_{};
  size_t used_ = sizeof(buffer_);
};

}  // namespace warren
