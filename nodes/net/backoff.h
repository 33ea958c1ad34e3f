// Bounded exponential backoff with jitter, for clients that reconnect (control client, relay
// client, the relay's admission feed). The n-th consecutive failure waits base = initial * 2^n,
// capped at max; the delay is half fixed, half random (base/2 + uniform[0, base/2] from the
// Rng), so clients that lost the same server do not come back in lockstep and simulations
// still reproduce.
#pragma once

#include <cstdint>

#include "nodes/net/rng.h"
#include "nodes/net/time.h"

namespace warren {

class Backoff {
 public:
  Backoff(Duration initial, Duration max) : initial_(initial), max_(max) {}

  // Counts a failure and returns the delay before the next attempt.
  Duration next(Rng& rng);
  // Counts a failure and returns a delay at the cap: for failures an operator must fix, which
  // fast retries would only hammer.
  Duration next_at_max(Rng& rng);
  // A success: the next outage starts over from `initial`.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  // Doubling stops mattering long before the shift could overflow.
  static constexpr int kMaxDoublings = 20;
  Duration jittered(Duration base, Rng& rng);

  Duration initial_;
  Duration max_;
  int failures_ = 0;
};

}  // namespace warren
