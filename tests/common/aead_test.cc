#include "nodes/common/aead.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace warren {
namespace {

using ::testing::HasSubstr;

Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

template <size_t N>
std::array<uint8_t, N> array_from_hex(std::string_view hex) {
  Bytes b = from_hex(hex);
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N && i < b.size(); ++i) out[i] = b[i];
  return out;
}

AeadKey test_key() {
  AeadKey k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<uint8_t>(0x80 + i);
  return k;
}

// RFC 8439 section 2.8.2. Key 80..9f, nonce = constant 07000000 || IV 4041424344454647.
// Independently reproduced with python3 cryptography's ChaCha20Poly1305.
constexpr std::string_view kRfcPlaintext =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
    "future, sunscreen would be it.";
constexpr std::string_view kRfcAad = "50515253c0c1c2c3c4c5c6c7";
constexpr std::string_view kRfcNonce = "070000004041424344454647";
constexpr std::string_view kRfcCiphertext =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116";
constexpr std::string_view kRfcTag = "1ae10b594f09e26a7e902ecbd0600691";

TEST(ChaCha20Poly1305Test, Rfc8439Section282Seal) {
  Bytes sealed = chacha20poly1305_seal(test_key(), array_from_hex<12>(kRfcNonce),
                                       ByteView(kRfcPlaintext), from_hex(kRfcAad));
  EXPECT_EQ(to_hex(sealed), std::string(kRfcCiphertext) + std::string(kRfcTag));
}

TEST(ChaCha20Poly1305Test, Rfc8439Section282Open) {
  Bytes sealed = from_hex(std::string(kRfcCiphertext) + std::string(kRfcTag));
  auto opened =
      chacha20poly1305_open(test_key(), array_from_hex<12>(kRfcNonce), sealed, from_hex(kRfcAad));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(ByteView(*opened).as_string(), kRfcPlaintext);
}

TEST(ChaCha20Poly1305Test, WireguardNonceIsZeroPrefixedLittleEndianCounter) {
  EXPECT_EQ(to_hex(ByteView(wireguard_nonce(0x0102030405060708).data(), 12)),
            "000000000807060504030201");
  EXPECT_EQ(to_hex(ByteView(wireguard_nonce(0).data(), 12)), "000000000000000000000000");
}

TEST(ChaCha20Poly1305Test, CounterFormUsesWireguardNonce) {
  AeadKey key = test_key();
  Bytes pt = from_hex("00112233");
  Bytes by_counter = chacha20poly1305_seal(key, uint64_t{42}, pt, ByteView());
  EXPECT_EQ(by_counter, chacha20poly1305_seal(key, wireguard_nonce(42), pt, ByteView()));
  EXPECT_NE(by_counter, chacha20poly1305_seal(key, uint64_t{43}, pt, ByteView()));
  auto opened = chacha20poly1305_open(key, uint64_t{42}, by_counter, ByteView());
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, pt);
  EXPECT_FALSE(chacha20poly1305_open(key, uint64_t{43}, by_counter, ByteView()).ok());
}

TEST(ChaCha20Poly1305Test, EmptyPlaintextIsJustTheTag) {
  // WireGuard's keepalive and the handshake's encrypted-nothing.
  Bytes sealed = chacha20poly1305_seal(test_key(), uint64_t{0}, ByteView(), ByteView());
  EXPECT_EQ(sealed.size(), kAeadTagBytes);
  auto opened = chacha20poly1305_open(test_key(), uint64_t{0}, sealed, ByteView());
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->empty());
}

TEST(ChaCha20Poly1305Test, TamperingFailsToOpen) {
  AeadKey key = test_key();
  Bytes ad = from_hex(kRfcAad);
  Bytes sealed = chacha20poly1305_seal(key, uint64_t{7}, ByteView(kRfcPlaintext), ad);
  for (size_t i : {size_t{0}, sealed.size() / 2, sealed.size() - 1}) {
    Bytes bad = sealed;
    bad[i] ^= 0x01;
    auto opened = chacha20poly1305_open(key, uint64_t{7}, bad, ad);
    ASSERT_FALSE(opened.ok()) << "flipped byte " << i;
    EXPECT_THAT(opened.error().message, HasSubstr("authentication failed"));
  }
  Bytes bad_ad = ad;
  bad_ad[0] ^= 0x80;
  EXPECT_FALSE(chacha20poly1305_open(key, uint64_t{7}, sealed, bad_ad).ok());
  AeadKey other = key;
  other[31] ^= 1;
  EXPECT_FALSE(chacha20poly1305_open(other, uint64_t{7}, sealed, ad).ok());
}

TEST(ChaCha20Poly1305Test, ShortInputFailsToOpen) {
  auto opened = chacha20poly1305_open(test_key(), uint64_t{0}, Bytes(15), ByteView());
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message, HasSubstr("shorter than the 16-byte tag"));
  EXPECT_FALSE(chacha20poly1305_open(test_key(), uint64_t{0}, ByteView(), ByteView()).ok());
}

TEST(XChaCha20Poly1305Test, RoundTripAndTamper) {
  AeadKey key = test_key();
  XChaChaNonce nonce{};
  for (size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<uint8_t>(i * 7);
  Bytes ad = from_hex("0102030405060708090a0b0c0d0e0f10");  // a mac1, as in the cookie reply
  Bytes cookie = from_hex("00112233445566778899aabbccddeeff");
  Bytes sealed = xchacha20poly1305_seal(key, nonce, cookie, ad);
  ASSERT_EQ(sealed.size(), cookie.size() + kAeadTagBytes);  // 32-byte enc_cookie on the wire
  auto opened = xchacha20poly1305_open(key, nonce, sealed, ad);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, cookie);

  Bytes bad = sealed;
  bad[3] ^= 0x10;
  EXPECT_FALSE(xchacha20poly1305_open(key, nonce, bad, ad).ok());
  XChaChaNonce other_nonce = nonce;
  other_nonce[23] ^= 1;  // a byte only the extended nonce has
  EXPECT_FALSE(xchacha20poly1305_open(key, other_nonce, sealed, ad).ok());
  EXPECT_FALSE(xchacha20poly1305_open(key, nonce, sealed, ByteView()).ok());
  EXPECT_FALSE(xchacha20poly1305_open(key, nonce, Bytes(3), ad).ok());
}

}  // namespace
}  // namespace warren
