#include "nodes/net/backoff.h"

#include <algorithm>

namespace warren {

Duration Backoff::next(Rng& rng) {
  const int doublings = std::min(failures_, kMaxDoublings);
  ++failures_;
  Duration base = initial_ * (int64_t{1} << doublings);
  if (base > max_ || base <= Duration::zero()) base = max_;
  return jittered(base, rng);
}

Duration Backoff::next_at_max(Rng& rng) {
  ++failures_;
  return jittered(max_, rng);
}

Duration Backoff::jittered(Duration base, Rng& rng) {
  const int64_t half = base.ns() / 2;
  const int64_t jitter =
      half > 0 ? static_cast<int64_t>(rng.uniform(static_cast<uint64_t>(half) + 1)) : 0;
  return Duration::nanoseconds(base.ns() - half + jitter);
}

}  // namespace warren
