// libsodium must be initialised before use (sodium_init picks the best implementation of each
// primitive for this CPU). Every file that calls libsodium calls ensure_sodium() first; after
// the first call it costs one check of a static.
#pragma once

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace warren {

inline void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) {
    // Without it there are no keys and no secure randomness: nothing sane remains to do.
    std::fputs("warren: libsodium failed to initialise\n", stderr);
    std::abort();
  }
}

}  // namespace warren
