#include "nodes/common/token_bucket.h"

namespace warren::relay {
namespace {
constexpr uint64_t kNsPerSecond = 1000000000ull;
}  // namespace

TokenBucket::TokenBucket(uint32_t rate_per_s, uint32_t burst, Timestamp now)
    : last_(now), rate_(rate_per_s), burst_(burst == 0 ? 1 : burst) {
  tokens_ = uint64_t{burst_} * kNsPerSecond;  // <= 2^32 * 1e9 < 2^62
}

void TokenBucket::refill(Timestamp now) {
  if (now <= last_) return;  // the clock is monotonic; equal times add nothing
  const uint64_t capacity = uint64_t{burst_} * kNsPerSecond;
  const uint64_t missing = capacity - tokens_;
  const uint64_t elapsed = static_cast<uint64_t>((now - last_).ns());
  last_ = now;
  // elapsed * rate overflows only for elapsed far beyond what fills the bucket, so compare
  // by division first.
  if (elapsed >= missing / rate_ + 1) {
    tokens_ = capacity;
  } else {
    tokens_ += elapsed * rate_;  // < missing + rate: no overflow
    if (tokens_ > capacity) tokens_ = capacity;
  }
}

bool TokenBucket::take(uint64_t units, Timestamp now) {
  if (rate_ == 0) return true;
  refill(now);
  if (units > burst_) return false;
  const uint64_t cost = units * kNsPerSecond;
  if (cost > tokens_) return false;
  tokens_ -= cost;
  return true;
}

uint64_t TokenBucket::available(Timestamp now) {
  if (rate_ == 0) return burst_;
  refill(now);
  return tokens_ / kNsPerSecond;
}

}  // namespace warren::relay
