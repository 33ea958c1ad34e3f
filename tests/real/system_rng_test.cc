#include "nodes/real/system_rng.h"

#include <gtest/gtest.h>

#include <array>
#include <set>

namespace warren {
namespace {

TEST(SystemRng, FillsEveryByteAndDiffersBetweenCalls) {
  SystemRng rng;
  std::array<uint8_t, 64> a{}, b{};
  rng.fill(a.data(), a.size());
  rng.fill(b.data(), b.size());
  EXPECT_NE(a, b);  // equal with probability 2^-512
  std::set<uint64_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(rng.next_u64());
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace warren
