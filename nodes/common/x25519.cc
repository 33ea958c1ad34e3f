#include "nodes/common/x25519.h"

#include <sodium.h>

#include "nodes/net/sodium_once.h"

#include <string>

namespace warren {

static_assert(crypto_scalarmult_curve25519_BYTES == kX25519KeyBytes, "X25519 key size");
static_assert(crypto_scalarmult_curve25519_SCALARBYTES == kX25519KeyBytes, "X25519 key size");

void secure_wipe(void* data, size_t size) {
  ensure_sodium();
  sodium_memzero(data, size);
}

bool constant_time_equal(const Key32& a, const Key32& b) {
  ensure_sodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool PublicKey::is_zero() const {
  return sodium_is_zero(bytes.data(), bytes.size()) == 1;
}

PrivateKey clamp_private_key(const Key32& bytes) {
  Key32 k = bytes;
  k[0] &= 248;
  k[31] = static_cast<uint8_t>((k[31] & 127) | 64);
  PrivateKey out(k);
  secure_wipe(k.data(), k.size());
  return out;
}

PrivateKey generate_private_key(Rng& rng) {
  Key32 k{};
  rng.fill(k.data(), k.size());
  PrivateKey out = clamp_private_key(k);
  secure_wipe(k.data(), k.size());
  return out;
}

PublicKey public_key(const PrivateKey& private_key) {
  ensure_sodium();
  PublicKey out;
  // Only fails for a scalar that clamps to zero, which clamping makes impossible; a zero
  // public key (is_zero()) would then make every x25519 with it fail.
  if (crypto_scalarmult_curve25519_base(out.bytes.data(), private_key.bytes().data()) != 0) {
    out.bytes.fill(0);
  }
  return out;
}

Result<SharedSecret> x25519(const PrivateKey& private_key, const PublicKey& peer_public) {
  ensure_sodium();
  Key32 shared{};
  if (crypto_scalarmult_curve25519(shared.data(), private_key.bytes().data(),
                                   peer_public.bytes.data()) != 0 ||
      sodium_is_zero(shared.data(), shared.size()) == 1) {
    secure_wipe(shared.data(), shared.size());
    return make_error(
        "X25519 gave an all-zero shared secret: the peer's public key is a low-order point; "
        "reject the peer's message");
  }
  SharedSecret out(shared);
  secure_wipe(shared.data(), shared.size());
  return out;
}

std::string key_to_base64(const Key32& bytes) {
  ensure_sodium();
  char buf[sodium_base64_ENCODED_LEN(kX25519KeyBytes, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(buf, sizeof(buf), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(buf);
  secure_wipe(buf, sizeof(buf));
  return out;
}

std::string to_base64(const PublicKey& key) {
  return key_to_base64(key.bytes);
}
std::string to_base64(const PrivateKey& key) {
  return key_to_base64(key.bytes());
}

Result<Key32> key_from_base64(std::string_view text) {
  ensure_sodium();
  if (text.size() != kKeyBase64Chars) {
    return make_error(
        "a key must be 44 base64 characters (32 bytes, as printed by `wg genkey`), "
        "got " +
        std::to_string(text.size()) + " characters");
  }
  if (text[43] != '=' || text[42] == '=') {
    return make_error("a key must end in exactly one '=' (44 base64 characters for 32 bytes)");
  }
  for (size_t i = 0; i < 43; ++i) {
    char c = text[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) {
      return make_error("a key contains a character that is not standard base64 at position " +
                        std::to_string(i) + " (allowed: A-Z a-z 0-9 + /, then one '=')");
    }
  }
  Key32 out{};
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != kX25519KeyBytes || end != text.data() + text.size()) {
    secure_wipe(out.data(), out.size());
    return make_error(
        "a key's base64 is not canonical (the last character before '=' carries stray bits); "
        "copy the key again");
  }
  return out;
}

Result<PublicKey> public_key_from_base64(std::string_view text) {
  auto bytes = key_from_base64(text);
  if (!bytes.ok()) return bytes.error();
  return PublicKey{*bytes};
}

Result<PrivateKey> private_key_from_base64(std::string_view text) {
  auto bytes = key_from_base64(text);
  if (!bytes.ok()) return bytes.error();
  PrivateKey out(*bytes);
  secure_wipe(bytes->data(), bytes->size());
  return out;
}

}  // namespace warren
