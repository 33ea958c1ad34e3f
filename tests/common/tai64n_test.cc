#include "nodes/common/tai64n.h"

#include <gtest/gtest.h>

#include "nodes/net/bytes.h"

namespace warren {
namespace {

std::string hex(const Tai64n& t) {
  return to_hex(ByteView(t.data(), t.size()));
}

TEST(Tai64nTest, EncodesUnixEpoch) {
  // 2^62 + 10 = 0x400000000000000a (TAI64 label of 1970-01-01 with the 10 s TAI offset).
  EXPECT_EQ(hex(tai64n_encode(0, 0)), "400000000000000a00000000");
}

TEST(Tai64nTest, EncodesSecondsAndNanosecondsBigEndian) {
  // 1700000000 = 0x6553f100; 123456789 = 0x075bcd15.
  EXPECT_EQ(hex(tai64n_encode(1700000000, 123456789)), "400000006553f10a075bcd15");
  EXPECT_EQ(hex(tai64n_encode(1, 999999999)), "400000000000000b3b9ac9ff");
}

TEST(Tai64nTest, NanosecondOverflowCarriesIntoSeconds) {
  EXPECT_EQ(tai64n_encode(10, 1500000000), tai64n_encode(11, 500000000));
}

TEST(Tai64nTest, NewerIsStrictlyLater) {
  Tai64n base = tai64n_encode(1700000000, 5);
  EXPECT_TRUE(tai64n_newer(tai64n_encode(1700000000, 6), base));
  EXPECT_TRUE(tai64n_newer(tai64n_encode(1700000001, 0), base));
  EXPECT_FALSE(tai64n_newer(base, base));  // a replayed initiation is not newer
  EXPECT_FALSE(tai64n_newer(tai64n_encode(1699999999, 999999999), base));
  // A later second wins even with smaller nanoseconds (seconds are the high bytes).
  EXPECT_TRUE(tai64n_newer(tai64n_encode(256, 0), tai64n_encode(255, 999999999)));
}

}  // namespace
}  // namespace warren
