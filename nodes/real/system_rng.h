// The OS CSPRNG for real mode (libsodium's randombytes_buf: getrandom(2) on Linux).
// Thread-safe. Simulations and tests use SeededRng instead, so their bytes reproduce.
#pragma once

#include "nodes/net/rng.h"

namespace warren {

class SystemRng final : public Rng {
 public:
  // Initialises libsodium once per process; aborts if it cannot (no usable entropy source),
  // since nothing secure can be done without one.
  SystemRng();
  void fill(uint8_t* out, size_t size) override;
};

}  // namespace warren
