#include "nodes/control/auth_key_text.h"

#include <regex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warren::control {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(AuthKeyText, GeneratedKeysHaveTheDocumentedShape) {
  SeededRng rng(7, "keys");
  AuthKeySecret key = generate_auth_key(rng);
  std::string text = format_auth_key(key);
  EXPECT_TRUE(std::regex_match(text, std::regex("wk-[0-9a-f]{12}-[A-Za-z0-9_-]{43}"))) << text;
  EXPECT_TRUE(is_auth_key_prefix(key.prefix));
  EXPECT_EQ(text.substr(0, 15), key.prefix);
}

TEST(AuthKeyText, ParseRoundTrips) {
  SeededRng rng(7, "keys");
  for (int i = 0; i < 50; ++i) {
    AuthKeySecret key = generate_auth_key(rng);
    auto parsed = parse_auth_key(format_auth_key(key));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->prefix, key.prefix);
    EXPECT_EQ(parsed->secret, key.secret);
  }
}

TEST(AuthKeyText, HexSecretsAreAccepted) {
  std::string text = "wk-0123456789ab-" + std::string(64, 'a');
  auto parsed = parse_auth_key(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->secret[0], 0xaa);
}

TEST(AuthKeyText, MalformedKeysAreRefusedWithoutEchoingTheSecret) {
  const std::string secret = "SECRETSECRETSECRETSECRETSECRETSECRETSECRE!";
  for (const std::string& text :
       {std::string(""), std::string("wk-"), std::string("tskey-0123456789ab-abc"),
        std::string("wk-0123456789AB-") + std::string(43, 'a'),  // upper-case prefix
        std::string("wk-0123456789ab_") + std::string(43, 'a'),
        std::string("wk-0123456789ab-") + std::string(42, 'a'),
        std::string("wk-0123456789ab-") + secret}) {
    auto parsed = parse_auth_key(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_THAT(parsed.error().message, HasSubstr("malformed auth key"));
    EXPECT_THAT(parsed.error().message, Not(HasSubstr("SECRET")));
  }
}

TEST(AuthKeyText, NonCanonicalBase64IsRefused) {
  // 43 characters carry 258 bits; the last character's low 2 bits must be zero.
  std::string text = "wk-0123456789ab-" + std::string(42, 'A') + "B";
  EXPECT_FALSE(parse_auth_key(text).ok());
  EXPECT_TRUE(parse_auth_key("wk-0123456789ab-" + std::string(42, 'A') + "E").ok());
}

TEST(AuthKeyText, HashBindsThePrefix) {
  Key32 secret{};
  secret[0] = 1;
  EXPECT_NE(hash_auth_key_secret("wk-000000000001", secret),
            hash_auth_key_secret("wk-000000000002", secret));
  EXPECT_EQ(hash_auth_key_secret("wk-000000000001", secret),
            hash_auth_key_secret("wk-000000000001", secret));
}

}  // namespace
}  // namespace warren::control
