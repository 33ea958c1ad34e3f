#include "nodes/common/tai64n.h"

#include <cstring>

namespace warren {

namespace {
constexpr uint64_t kTai64Base = (uint64_t{1} << 62) + 10;  // TAI64 label of 1970 + leap offset
constexpr uint32_t kNanosPerSecond = 1000000000;
}  // namespace

Tai64n tai64n_encode(int64_t unix_seconds, uint32_t nanoseconds) {
  // Unsigned arithmetic: wraps instead of overflowing for absurd inputs, never UB.
  uint64_t seconds =
      kTai64Base + static_cast<uint64_t>(unix_seconds) + uint64_t{nanoseconds / kNanosPerSecond};
  uint32_t nanos = nanoseconds % kNanosPerSecond;
  Tai64n out{};
  for (size_t i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(seconds >> (56 - 8 * i));
  for (size_t i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(nanos >> (24 - 8 * i));
  return out;
}

bool tai64n_newer(const Tai64n& candidate, const Tai64n& previous) {
  return std::memcmp(candidate.data(), previous.data(), kTai64nBytes) > 0;
}

}  // namespace warren
