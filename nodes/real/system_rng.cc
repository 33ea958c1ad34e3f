#include "nodes/real/system_rng.h"

#include <sodium.h>

#include "nodes/net/sodium_once.h"

namespace warren {

SystemRng::SystemRng() { ensure_sodium(); }

void SystemRng::fill(uint8_t* out, size_t size) {
  randombytes_buf(out, size);
}

}  // namespace warren
