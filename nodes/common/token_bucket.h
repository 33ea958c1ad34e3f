// A token bucket: `rate` units per second, holding at most `burst` units, starting full. Used
// for the per-client receive rate limit (units = packet bytes) and for peer_gone not_here
// (units = frames). Time comes from the caller (the environment's clock), never read here.
// Integer arithmetic in unit-nanoseconds, so results do not depend on floating point.
#pragma once

#include <cstdint>

#include "nodes/net/time.h"

namespace warren::relay {

class TokenBucket {
 public:
  TokenBucket() = default;  // unlimited
  // rate 0 = unlimited. `burst` below 1 is raised to 1.
  TokenBucket(uint32_t rate_per_s, uint32_t burst, Timestamp now);

  // Takes `units` if the bucket holds them; false (and nothing taken) otherwise. A request
  // larger than the burst never succeeds.
  bool take(uint64_t units, Timestamp now);
  // Whole units available now (the burst when unlimited).
  uint64_t available(Timestamp now);

  bool unlimited() const { return rate_ == 0; }
  uint32_t rate() const { return rate_; }
  uint32_t burst() const { return burst_; }

 private:
  void refill(Timestamp now);

  uint64_t tokens_ = 0;  // unit-nanoseconds: units * 1e9, at most burst * 1e9 (< 2^63)
  Timestamp last_;
  uint32_t rate_ = 0;
  uint32_t burst_ = 0;
};

}  // namespace warren::relay
