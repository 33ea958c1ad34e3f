#include "nodes/common/blake2s.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace warren {
namespace {

using ::testing::HasSubstr;

ByteView text(std::string_view s) {
  return ByteView(s);
}
std::string hex(const Hash32& h) {
  return to_hex(ByteView(h.data(), h.size()));
}

Bytes range_bytes(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i);
  return b;
}

// RFC 7693 Appendix B: BLAKE2s-256("abc").
TEST(Blake2sTest, Rfc7693AppendixB) {
  EXPECT_EQ(hex(blake2s_256(text("abc"))),
            "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

// Unkeyed BLAKE2s-256 of the empty string; python3: hashlib.blake2s(b"").hexdigest().
TEST(Blake2sTest, EmptyInputUnkeyed) {
  EXPECT_EQ(hex(blake2s_256(ByteView())),
            "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
}

// BLAKE2 reference blake2s-kat.txt, first keyed entry (key 00..1f, empty input); the same
// value from python3: hashlib.blake2s(b"", key=bytes(range(32))).hexdigest().
TEST(Blake2sTest, KeyedReferenceKat) {
  Bytes key = range_bytes(32);
  auto d = blake2s(ByteView(), 32, key);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(to_hex(*d), "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49");
}

// A full 64-byte block of input under the KAT key (exercises the last-block handling);
// python3: hashlib.blake2s(bytes(range(64)), key=bytes(range(32))).hexdigest().
TEST(Blake2sTest, KeyedFullBlock) {
  auto d = blake2s(range_bytes(64), 32, range_bytes(32));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(to_hex(*d), "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4");
}

// WireGuard's MAC shape: 16-byte output, keyed; python3:
// hashlib.blake2s(b"abc", key=bytes(range(16)), digest_size=16).hexdigest().
TEST(Blake2sTest, KeyedSixteenByteOutput) {
  auto d = blake2s(text("abc"), 16, range_bytes(16));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(to_hex(*d), "75296c2d2c0f51210b383f386bc8b1ff");
}

TEST(Blake2sTest, IncrementalEqualsOneShot) {
  Bytes data = range_bytes(200);
  Blake2s h;
  h.update(ByteView(data.data(), 1)).update(ByteView(data.data() + 1, 63));
  h.update(ByteView(data.data() + 64, 100)).update(ByteView(data.data() + 164, 36));
  EXPECT_EQ(h.finish32(), blake2s_256(data));
}

TEST(Blake2sTest, FinishTwiceGivesEmpty) {
  Blake2s h;
  EXPECT_EQ(h.update(text("x")).finish().size(), 32u);
  EXPECT_TRUE(h.finish().empty());
}

TEST(Blake2sTest, RejectsBadParameters) {
  auto zero = Blake2s::create(0);
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.error().message, HasSubstr("1..32"));
  EXPECT_FALSE(Blake2s::create(33).ok());
  auto long_key = Blake2s::create(32, range_bytes(33));
  ASSERT_FALSE(long_key.ok());
  EXPECT_THAT(long_key.error().message, HasSubstr("at most 32"));
  EXPECT_TRUE(Blake2s::create(32, range_bytes(32)).ok());
}

// python3 -c "import hmac,hashlib; print(hmac.new(b'key', b'The quick brown fox jumps over
//   the lazy dog', hashlib.blake2s).hexdigest())"
TEST(HmacBlake2sTest, MatchesPythonHmac) {
  EXPECT_EQ(hex(hmac_blake2s(text("key"), text("The quick brown fox jumps over the lazy dog"))),
            "f93215bb90d4af4c3061cd932fb169fb8bb8a91d0b4022baea1271e1323cd9a0");
}

// A key longer than the 64-byte block is hashed first (RFC 2104); python3 -c "import hmac,
//   hashlib; print(hmac.new(bytes(range(100)), b'data', hashlib.blake2s).hexdigest())"
TEST(HmacBlake2sTest, LongKeyIsHashedFirst) {
  EXPECT_EQ(hex(hmac_blake2s(range_bytes(100), text("data"))),
            "2624e61dfe9fcc84d3137a317c171ced634ef3fcd2fa3f5515940906f4e38c48");
}

// python3 -c "import hmac,hashlib; H=lambda k,m: hmac.new(k,m,hashlib.blake2s).digest();
//   t0=H(bytes(range(32)),b'input'); t1=H(t0,b'\x01'); t2=H(t0,t1+b'\x02');
//   t3=H(t0,t2+b'\x03'); print(t1.hex(), t2.hex(), t3.hex())"
constexpr const char* kT1 = "87b7f70b24183c6db5dc4f6d9f4c47cdb203321aa2a0bef714896adb3107a040";
constexpr const char* kT2 = "538a02e1eb2e31b7e4d4b82476d1fe2acf50085d3fb584537279195f5d1f5824";
constexpr const char* kT3 = "9ad858025593be88de0f9442a589cfe84a88dc19e4753d93684d1c5efc4837f9";

TEST(HkdfTest, MatchesPythonForOneTwoThreeOutputs) {
  Bytes ck = range_bytes(32);
  auto one = hkdf(ck, text("input"), 1);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(hex((*one)[0]), kT1);

  auto three = hkdf(ck, text("input"), 3);
  ASSERT_TRUE(three.ok());
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ(hex((*three)[0]), kT1);
  EXPECT_EQ(hex((*three)[1]), kT2);
  EXPECT_EQ(hex((*three)[2]), kT3);

  auto two = hkdf_n<2>(ck, text("input"));
  EXPECT_EQ(hex(two[0]), kT1);
  EXPECT_EQ(hex(two[1]), kT2);
}

TEST(HkdfTest, RejectsOutputCountOutsideOneToThree) {
  Bytes ck = range_bytes(32);
  auto none = hkdf(ck, text("input"), 0);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error().message, HasSubstr("1..3"));
  EXPECT_FALSE(hkdf(ck, text("input"), 4).ok());
}

}  // namespace
}  // namespace warren
