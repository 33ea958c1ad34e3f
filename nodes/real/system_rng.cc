#include "nodes/real/system_rng.h"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace warren {

SystemRng::SystemRng() {
  // sodium_init is idempotent and thread-safe: 0 first time, 1 afterwards, -1 on failure.
  static const int init = sodium_init();
  if (init < 0) {
    std::fprintf(stderr, "warren: libsodium failed to initialise; no secure random source\n");
    std::abort();
  }
}

void SystemRng::fill(uint8_t* out, size_t size) {
  randombytes_buf(out, size);
}

}  // namespace warren
