#include "nodes/common/x25519.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace warren {
namespace {

using ::testing::HasSubstr;

Key32 key_from_hex(std::string_view hex) {
  Key32 out{};
  for (size_t i = 0; i < out.size() && 2 * i + 1 < hex.size(); ++i) {
    out[i] = static_cast<uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  }
  return out;
}
std::string hex(const Key32& k) {
  return to_hex(ByteView(k.data(), k.size()));
}

// RFC 7748 section 6.1; also reproduced with python3 cryptography's X25519PrivateKey.
constexpr std::string_view kAlicePrivate =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr std::string_view kAlicePublic =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr std::string_view kBobPrivate =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
constexpr std::string_view kBobPublic =
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr std::string_view kShared =
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

TEST(X25519Test, Rfc7748Section61) {
  PrivateKey alice(key_from_hex(kAlicePrivate));
  PrivateKey bob(key_from_hex(kBobPrivate));
  PublicKey alice_pub = public_key(alice);
  PublicKey bob_pub = public_key(bob);
  EXPECT_EQ(hex(alice_pub.bytes), kAlicePublic);
  EXPECT_EQ(hex(bob_pub.bytes), kBobPublic);

  auto ab = x25519(alice, bob_pub);
  auto ba = x25519(bob, alice_pub);
  ASSERT_TRUE(ab.ok()) << ab.error().message;
  ASSERT_TRUE(ba.ok()) << ba.error().message;
  EXPECT_EQ(hex(ab->bytes()), kShared);
  EXPECT_TRUE(*ab == *ba);
}

TEST(X25519Test, RejectsAllZeroSharedSecret) {
  PrivateKey alice(key_from_hex(kAlicePrivate));
  auto zero = x25519(alice, PublicKey{});  // the identity point: low order
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.error().message, HasSubstr("all-zero"));
  PublicKey one;
  one.bytes[0] = 1;  // u = 1 has order 4 (RFC 7748 small-order list)
  EXPECT_FALSE(x25519(alice, one).ok());
}

TEST(X25519Test, GeneratedKeysAreClampedAndReproducible) {
  SeededRng rng_a(7, "keys");
  SeededRng rng_b(7, "keys");
  PrivateKey a = generate_private_key(rng_a);
  PrivateKey b = generate_private_key(rng_b);
  EXPECT_TRUE(a == b);
  EXPECT_EQ(a.bytes()[0] & 7, 0);
  EXPECT_EQ(a.bytes()[31] & 0x80, 0);
  EXPECT_EQ(a.bytes()[31] & 0x40, 0x40);
  PrivateKey c = generate_private_key(rng_a);
  EXPECT_TRUE(a != c);

  auto ac = x25519(a, public_key(c));
  auto ca = x25519(c, public_key(a));
  ASSERT_TRUE(ac.ok());
  ASSERT_TRUE(ca.ok());
  EXPECT_TRUE(*ac == *ca);
}

TEST(X25519Test, ClampSetsAndClearsTheRfcBits) {
  Key32 all_ones;
  all_ones.fill(0xff);
  PrivateKey k = clamp_private_key(all_ones);
  EXPECT_EQ(k.bytes()[0], 0xf8);
  EXPECT_EQ(k.bytes()[31], 0x7f);
  Key32 zeros{};
  EXPECT_EQ(clamp_private_key(zeros).bytes()[31], 0x40);
}

TEST(KeyBase64Test, RoundTripsWireguardForm) {
  PrivateKey alice(key_from_hex(kAlicePrivate));
  // python3 -c "import base64; print(base64.b64encode(bytes.fromhex('77076d...2c2a')).decode())"
  EXPECT_EQ(to_base64(alice), "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=");
  auto back = private_key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == alice);

  PublicKey pub = public_key(alice);
  std::string text = to_base64(pub);
  EXPECT_EQ(text.size(), kKeyBase64Chars);
  auto pub_back = public_key_from_base64(text);
  ASSERT_TRUE(pub_back.ok());
  EXPECT_EQ(*pub_back, pub);
}

TEST(KeyBase64Test, RejectsWrongLength) {
  auto short_key = public_key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC=");
  ASSERT_FALSE(short_key.ok());
  EXPECT_THAT(short_key.error().message, HasSubstr("44 base64 characters"));
  EXPECT_THAT(short_key.error().message, HasSubstr("got 43"));
  EXPECT_FALSE(public_key_from_base64("").ok());
  EXPECT_FALSE(public_key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo==").ok());
  // 33 bytes encode to 44 characters with no padding: still not a key.
  auto no_pad = public_key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCoA");
  ASSERT_FALSE(no_pad.ok());
  EXPECT_THAT(no_pad.error().message, HasSubstr("'='"));
}

TEST(KeyBase64Test, RejectsBadCharacters) {
  auto url_safe = public_key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L-o=");
  ASSERT_FALSE(url_safe.ok());
  EXPECT_THAT(url_safe.error().message, HasSubstr("position 41"));
  EXPECT_FALSE(public_key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25 Co=").ok());
  std::string with_nul("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=");
  with_nul[5] = '\0';
  EXPECT_FALSE(public_key_from_base64(with_nul).ok());
}

TEST(KeyBase64Test, RejectsNonCanonicalTrailingBits) {
  // 'o' = 40 = 0b101000 ends in 00 as required; 'p' = 41 sets a bit beyond the 32 bytes.
  auto stray = public_key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=");
  ASSERT_FALSE(stray.ok());
  EXPECT_THAT(stray.error().message, HasSubstr("canonical"));
}

}  // namespace
}  // namespace warren
