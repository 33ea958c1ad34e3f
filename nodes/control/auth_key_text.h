// The text form of a pre-auth key: "wk-<prefix>-<secret>", e.g.
//   wk-3f9a0c1d2e4b-q1Zy...  (62 characters)
// - prefix: 12 lower-case hex digits from 6 random bytes; public, it names the key in lists and
//   in `keys expire`. Written with its "wk-" as AuthKey::prefix ("wk-3f9a0c1d2e4b").
// - secret: 32 random bytes as unpadded base64url (43 characters); 64 hex digits are accepted
//   too. Only hash_auth_key_secret() of it is stored, so a copy of the database registers
//   nothing.
// Parsing takes untrusted text (from a registering client or an admin) and never echoes the
// secret in its errors.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "nodes/common/blake2s.h"
#include "nodes/common/x25519.h"
#include "nodes/net/result.h"
#include "nodes/net/rng.h"

namespace warren::control {

constexpr size_t kAuthKeyPrefixHexChars = 12;
constexpr size_t kAuthKeySecretBytes = 32;
constexpr std::string_view kAuthKeyTag = "wk-";

// A key in hand (at creation or while being checked). The secret is wiped on destruction.
struct AuthKeySecret {
  std::string prefix;  // "wk-" + 12 hex digits
  Key32 secret{};
  AuthKeySecret() = default;
  AuthKeySecret(const AuthKeySecret&) = default;
  AuthKeySecret& operator=(const AuthKeySecret&) = default;
  ~AuthKeySecret() { secure_wipe(secret.data(), secret.size()); }
};

AuthKeySecret generate_auth_key(Rng& rng);
std::string format_auth_key(const AuthKeySecret& key);  // full text with base64url secret
// A full key. Errors say what is malformed (never the secret).
Result<AuthKeySecret> parse_auth_key(std::string_view text);
// "wk-" followed by exactly 12 lower-case hex digits.
bool is_auth_key_prefix(std::string_view text);
// Domain-separated BLAKE2s-256 over the prefix and the secret: binding the prefix means a
// hash cannot be moved to another key's record.
Hash32 hash_auth_key_secret(std::string_view prefix, const Key32& secret);

}  // namespace warren::control
