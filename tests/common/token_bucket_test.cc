#include "nodes/common/token_bucket.h"

#include <gtest/gtest.h>

namespace warren::relay {
namespace {

Timestamp at(int64_t ms) {
  return Timestamp() + Duration::milliseconds(ms);
}

TEST(TokenBucketTest, DefaultIsUnlimited) {
  TokenBucket b;
  EXPECT_TRUE(b.unlimited());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(b.take(1u << 20, at(0)));
}

TEST(TokenBucketTest, StartsFullAndRefusesBeyondTheBurst) {
  TokenBucket b(1000, 3000, at(0));
  EXPECT_TRUE(b.take(2000, at(0)));
  EXPECT_TRUE(b.take(1000, at(0)));
  EXPECT_FALSE(b.take(1, at(0)));
  EXPECT_EQ(b.available(at(0)), 0u);
}

TEST(TokenBucketTest, RefillsAtTheRateUpToTheBurst) {
  TokenBucket b(1000, 3000, at(0));
  ASSERT_TRUE(b.take(3000, at(0)));
  EXPECT_FALSE(b.take(600, at(500)));  // 500 available
  EXPECT_TRUE(b.take(500, at(500)));
  EXPECT_EQ(b.available(at(1500)), 1000u);
  EXPECT_EQ(b.available(at(100000)), 3000u);  // capped
}

TEST(TokenBucketTest, KeepsFractionsOfAUnit) {
  TokenBucket b(1, 3, at(0));  // one unit per second, as peer_gone not_here
  ASSERT_TRUE(b.take(3, at(0)));
  int taken = 0;
  for (int ms = 0; ms <= 10000; ms += 100) taken += b.take(1, at(ms)) ? 1 : 0;
  EXPECT_EQ(taken, 10);
}

TEST(TokenBucketTest, ARequestLargerThanTheBurstNeverPasses) {
  TokenBucket b(1000, 100, at(0));
  EXPECT_FALSE(b.take(101, at(1000000)));
  EXPECT_TRUE(b.take(100, at(1000000)));
}

TEST(TokenBucketTest, HugeRatesAndLongGapsDoNotOverflow) {
  TokenBucket b(UINT32_MAX, UINT32_MAX, at(0));
  ASSERT_TRUE(b.take(UINT32_MAX, at(0)));
  EXPECT_EQ(b.available(Timestamp() + Duration::seconds(1000000000)), uint64_t{UINT32_MAX});
  TokenBucket slow(1, UINT32_MAX, at(0));
  ASSERT_TRUE(slow.take(UINT32_MAX, at(0)));
  EXPECT_EQ(slow.available(Timestamp() + Duration::seconds(10)), 10u);
}

}  // namespace
}  // namespace warren::relay
