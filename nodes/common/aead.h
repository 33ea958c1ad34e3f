// ChaCha20-Poly1305 (IETF, RFC 8439) and XChaCha20-Poly1305 via libsodium, with WireGuard's
// nonce rules. Ciphertext layout is `encrypted plaintext || 16-byte tag` in both.
//
// - Handshake and transport messages use a 96-bit nonce of 4 zero bytes followed by a 64-bit
//   little-endian counter (wireguard_nonce); the raw-nonce overloads exist for test vectors and
//   any protocol that builds its own nonce.
// - XChaCha20-Poly1305 (24-byte nonce) is only used for WireGuard's cookie reply.
// - open never throws: a short input or a failed authentication returns an Error and no
//   plaintext. Nonce uniqueness per key is the caller's job.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "nodes/net/bytes.h"
#include "nodes/net/result.h"

namespace warren {

constexpr size_t kAeadKeyBytes = 32;
constexpr size_t kAeadTagBytes = 16;
constexpr size_t kChaChaNonceBytes = 12;
constexpr size_t kXChaChaNonceBytes = 24;

using AeadKey = std::array<uint8_t, kAeadKeyBytes>;
using ChaChaNonce = std::array<uint8_t, kChaChaNonceBytes>;
using XChaChaNonce = std::array<uint8_t, kXChaChaNonceBytes>;

// 00 00 00 00 || counter as u64 little-endian.
ChaChaNonce wireguard_nonce(uint64_t counter);

Bytes chacha20poly1305_seal(const AeadKey& key, const ChaChaNonce& nonce, ByteView plaintext,
                            ByteView ad);
Result<Bytes> chacha20poly1305_open(const AeadKey& key, const ChaChaNonce& nonce,
                                    ByteView ciphertext, ByteView ad);
// Appends ciphertext || tag to `out` (hot paths reuse one buffer instead of allocating).
void chacha20poly1305_seal_append(const AeadKey& key, const ChaChaNonce& nonce, ByteView plaintext,
                                  ByteView ad, Bytes& out);
// The same with nonce = wireguard_nonce(counter).
Bytes chacha20poly1305_seal(const AeadKey& key, uint64_t counter, ByteView plaintext, ByteView ad);
Result<Bytes> chacha20poly1305_open(const AeadKey& key, uint64_t counter, ByteView ciphertext,
                                    ByteView ad);

Bytes xchacha20poly1305_seal(const AeadKey& key, const XChaChaNonce& nonce, ByteView plaintext,
                             ByteView ad);
Result<Bytes> xchacha20poly1305_open(const AeadKey& key, const XChaChaNonce& nonce,
                                     ByteView ciphertext, ByteView ad);

}  // namespace warren
