// X25519 keys (RFC 7748) and WireGuard's base64 key text form.
//
// - PublicKey is plain data. PrivateKey and SharedSecret wipe their bytes on destruction and
//   compare in constant time.
// - generate_private_key draws 32 bytes from the Rng (so simulations reproduce) and clamps them:
//   k[0] &= 248; k[31] &= 127; k[31] |= 64.
// - x25519 returns an error when the result is all zeros (a low-order peer public key); the
//   handshake must then fail rather than use the value.
// - Text form: standard base64 with '=' padding, always 44 characters for 32 bytes (as `wg
//   genkey` / `wg pubkey` print). Decoding rejects any other length, characters outside the
//   alphabet, and non-canonical padding bits, with a message that says which.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nodes/net/bytes.h"
#include "nodes/net/result.h"
#include "nodes/net/rng.h"

namespace warren {

constexpr size_t kX25519KeyBytes = 32;
constexpr size_t kKeyBase64Chars = 44;

using Key32 = std::array<uint8_t, kX25519KeyBytes>;

// Overwrites `size` bytes with zeros in a way the compiler does not elide.
void secure_wipe(void* data, size_t size);
// Constant-time equality of two 32-byte values.
bool constant_time_equal(const Key32& a, const Key32& b);

struct PublicKey {
  Key32 bytes{};
  ByteView view() const { return ByteView(bytes.data(), bytes.size()); }
  bool is_zero() const;
  friend bool operator==(const PublicKey& a, const PublicKey& b) { return a.bytes == b.bytes; }
  friend bool operator!=(const PublicKey& a, const PublicKey& b) { return !(a == b); }
  friend bool operator<(const PublicKey& a, const PublicKey& b) { return a.bytes < b.bytes; }
};

// 32 secret bytes, wiped when destroyed. Tag keeps private keys and shared secrets apart.
template <typename Tag>
class Secret32 {
 public:
  Secret32() = default;
  explicit Secret32(const Key32& bytes) : bytes_(bytes) {}
  Secret32(const Secret32& other) = default;
  Secret32& operator=(const Secret32& other) = default;
  ~Secret32() { secure_wipe(bytes_.data(), bytes_.size()); }

  const Key32& bytes() const { return bytes_; }
  ByteView view() const { return ByteView(bytes_.data(), bytes_.size()); }
  friend bool operator==(const Secret32& a, const Secret32& b) {
    return constant_time_equal(a.bytes_, b.bytes_);
  }
  friend bool operator!=(const Secret32& a, const Secret32& b) { return !(a == b); }

 private:
  Key32 bytes_{};
};

struct PrivateKeyTag {};
struct SharedSecretTag {};
using PrivateKey = Secret32<PrivateKeyTag>;
using SharedSecret = Secret32<SharedSecretTag>;

// Clamps per RFC 7748 section 5 (what `wg genkey` stores).
PrivateKey clamp_private_key(const Key32& bytes);
PrivateKey generate_private_key(Rng& rng);
PublicKey public_key(const PrivateKey& private_key);
Result<SharedSecret> x25519(const PrivateKey& private_key, const PublicKey& peer_public);

std::string key_to_base64(const Key32& bytes);
std::string to_base64(const PublicKey& key);
std::string to_base64(const PrivateKey& key);
Result<Key32> key_from_base64(std::string_view text);
Result<PublicKey> public_key_from_base64(std::string_view text);
// The decoded bytes are used as given (not re-clamped), like WireGuard.
Result<PrivateKey> private_key_from_base64(std::string_view text);

}  // namespace warren
