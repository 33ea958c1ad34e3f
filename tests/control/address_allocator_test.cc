#include "nodes/control/address_allocator.h"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warren::control {
namespace {

using ::testing::HasSubstr;

Prefix P(const char* text) {
  return *Prefix::parse(text);
}
IpAddress A(const char* text) {
  return *IpAddress::parse(text);
}

TEST(AddressPool, StartsAfterTheNetworkAddress) {
  AddressPool v4(P("100.64.0.0/10"));
  AddressPool v6(P("fd7a:115c:a1e0::/48"));
  EXPECT_EQ(v4.allocate()->to_string(), "100.64.0.1");
  EXPECT_EQ(v4.allocate()->to_string(), "100.64.0.2");
  EXPECT_EQ(v6.allocate()->to_string(), "fd7a:115c:a1e0::1");
  EXPECT_EQ(v6.allocate()->to_string(), "fd7a:115c:a1e0::2");
}

TEST(AddressPool, SkipsTheNetworkAndLastAddresses) {
  AddressPool pool(P("100.64.0.0/30"));  // .0 network, .3 broadcast
  EXPECT_EQ(pool.allocate()->to_string(), "100.64.0.1");
  EXPECT_EQ(pool.allocate()->to_string(), "100.64.0.2");
  auto full = pool.allocate();
  ASSERT_FALSE(full.ok());
  EXPECT_THAT(full.error().message, HasSubstr("no free ipv4 address left in 100.64.0.0/30"));
  EXPECT_THAT(full.error().message, HasSubstr("larger prefix"));
}

TEST(AddressPool, SkipsTailscaleServiceAddress) {
  AddressPool pool(P("100.100.100.96/28"));
  std::set<std::string> got;
  for (int i = 0; i < 13; ++i) got.insert(pool.allocate()->to_string());
  EXPECT_EQ(got.size(), 13u);
  EXPECT_EQ(got.count("100.100.100.100"), 0u);
  EXPECT_EQ(got.count("100.100.100.96"), 0u);
  EXPECT_EQ(got.count("100.100.100.111"), 0u);
  EXPECT_FALSE(pool.allocate().ok());
  EXPECT_TRUE(pool.is_reserved(A("100.100.100.100")));
}

TEST(AddressPool, SkipsTheChromeOsRangeInOneStep) {
  AddressPool pool(P("100.64.0.0/10"));
  ASSERT_TRUE(pool.set_cursor(A("100.115.91.254")));
  EXPECT_EQ(pool.allocate()->to_string(), "100.115.91.255");
  EXPECT_EQ(pool.allocate()->to_string(), "100.115.94.0");  // 100.115.92.0/23 skipped
  EXPECT_TRUE(pool.is_reserved(A("100.115.93.17")));
}

TEST(AddressPool, SkipsTailscaleDnsAddress) {
  AddressPool pool(P("fd7a:115c:a1e0::/48"));
  ASSERT_TRUE(pool.set_cursor(A("fd7a:115c:a1e0::52")));
  EXPECT_EQ(pool.allocate()->to_string(), "fd7a:115c:a1e0::54");
}

TEST(AddressPool, SkipsUsedRangesAndReservedTogether) {
  AddressPool pool(P("100.100.100.0/24"));
  for (int i = 1; i < 100; ++i) {
    ASSERT_TRUE(pool.mark_used(*P("100.100.100.0/24").host(i)));
  }
  ASSERT_TRUE(pool.mark_used(A("100.100.100.101")));
  ASSERT_TRUE(pool.set_cursor(A("100.100.100.0")));
  // .1-.99 used, .100 reserved, .101 used: the next free one is .102.
  EXPECT_EQ(pool.allocate()->to_string(), "100.100.100.102");
  EXPECT_EQ(pool.used_count(), 101u);
}

TEST(AddressPool, MarkUsedRejectsDuplicatesAndMovesTheCursorUp) {
  AddressPool pool(P("100.64.0.0/10"));
  ASSERT_TRUE(pool.mark_used(A("100.64.0.7")));
  auto dup = pool.mark_used(A("100.64.0.7"));
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(dup.error().message, HasSubstr("100.64.0.7 is used twice"));
  ASSERT_TRUE(pool.mark_used(A("100.64.0.3")));
  EXPECT_EQ(pool.cursor().to_string(), "100.64.0.7");
  EXPECT_EQ(pool.allocate()->to_string(), "100.64.0.8");
}

TEST(AddressPool, AddressesOutsideThePrefixAreNotTracked) {
  AddressPool pool(P("100.64.0.0/10"));
  EXPECT_TRUE(pool.mark_used(A("10.0.0.1")));
  EXPECT_TRUE(pool.mark_used(A("10.0.0.1")));
  EXPECT_EQ(pool.used_count(), 0u);
  EXPECT_FALSE(pool.set_cursor(A("10.0.0.1")));
}

// A deleted node's address is not handed out again until the cursor wraps round.
TEST(AddressPool, ReleasedAddressesComeBackOnlyAfterWrapping) {
  AddressPool pool(P("100.64.0.0/29"));  // usable .1 - .6
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.allocate().ok());
  pool.release(A("100.64.0.2"));
  EXPECT_EQ(pool.allocate()->to_string(), "100.64.0.4");
  EXPECT_EQ(pool.allocate()->to_string(), "100.64.0.5");
  EXPECT_EQ(pool.allocate()->to_string(), "100.64.0.6");
  EXPECT_EQ(pool.allocate()->to_string(), "100.64.0.2");  // wrapped
  EXPECT_FALSE(pool.allocate().ok());
}

TEST(AddressPool, ReleaseSplitsARangeAndMarkMergesIt) {
  AddressPool pool(P("100.64.0.0/24"));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(pool.allocate().ok());
  pool.release(A("100.64.0.5"));
  EXPECT_FALSE(pool.is_used(A("100.64.0.5")));
  EXPECT_TRUE(pool.is_used(A("100.64.0.4")));
  EXPECT_TRUE(pool.is_used(A("100.64.0.6")));
  ASSERT_TRUE(pool.mark_used(A("100.64.0.5")));
  EXPECT_TRUE(pool.is_used(A("100.64.0.5")));
  EXPECT_EQ(pool.used_count(), 10u);
}

TEST(AddressPool, WideIpv6PrefixesWork) {
  AddressPool pool(P("fd00::/8"));
  EXPECT_EQ(pool.allocate()->to_string(), "fd00::1");
  ASSERT_TRUE(pool.mark_used(A("fd00::ffff:ffff:ffff:fffe")));
  // The cursor moved to the highest used address; the last one of the range is reserved, so
  // the next allocation wraps to the start.
  EXPECT_EQ(pool.allocate()->to_string(), "fd00::2");
  EXPECT_FALSE(pool.in_range(A("fd00:1::1")));  // beyond the first 2^64
}

TEST(AddressAllocator, AllocatesPairsOrNothing) {
  AddressAllocator alloc(P("100.64.0.0/24"), P("fd7a:115c:a1e0::/126"));  // v6: ::1, ::2
  auto a = alloc.allocate();
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->ipv4.to_string(), "100.64.0.1");
  EXPECT_EQ(a->ipv6.to_string(), "fd7a:115c:a1e0::1");
  ASSERT_TRUE(alloc.allocate().ok());
  auto full = alloc.allocate();
  ASSERT_FALSE(full.ok());
  EXPECT_THAT(full.error().message, HasSubstr("no free ipv6 address"));
  EXPECT_EQ(alloc.ipv4().used_count(), 2u);  // the IPv4 address was not taken
}

TEST(AddressAllocator, ManyAllocationsAreUnique) {
  AddressAllocator alloc(P("100.64.0.0/10"), P("fd7a:115c:a1e0::/48"));
  std::set<IpAddress> seen;
  for (int i = 0; i < 20000; ++i) {
    auto a = alloc.allocate();
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(seen.insert(a->ipv4).second);
    ASSERT_TRUE(seen.insert(a->ipv6).second);
    ASSERT_FALSE(alloc.ipv4().is_reserved(a->ipv4));
  }
}

}  // namespace
}  // namespace warren::control
