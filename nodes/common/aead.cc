#include "nodes/common/aead.h"

#include <sodium.h>

#include "nodes/net/sodium_once.h"

#include <string>

namespace warren {

static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == kChaChaNonceBytes, "nonce size");
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kAeadTagBytes, "tag size");
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kAeadKeyBytes, "key size");
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kXChaChaNonceBytes, "nonce size");
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kAeadTagBytes, "tag size");

namespace {

Error too_short(size_t size) {
  return make_error("AEAD ciphertext is " + std::to_string(size) +
                    " bytes, shorter than the 16-byte tag; the message is truncated");
}

Error auth_failed() {
  return make_error(
      "AEAD authentication failed: wrong key, nonce or associated data, or the message was "
      "modified");
}

}  // namespace

ChaChaNonce wireguard_nonce(uint64_t counter) {
  ChaChaNonce nonce{};
  for (size_t i = 0; i < 8; ++i) nonce[4 + i] = static_cast<uint8_t>(counter >> (8 * i));
  return nonce;
}

void chacha20poly1305_seal_append(const AeadKey& key, const ChaChaNonce& nonce, ByteView plaintext,
                                  ByteView ad, Bytes& out) {
  ensure_sodium();
  const size_t start = out.size();
  out.resize(start + plaintext.size() + kAeadTagBytes);
  unsigned long long out_len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + start, &out_len, plaintext.data(),
                                            plaintext.size(), ad.data(), ad.size(), nullptr,
                                            nonce.data(), key.data());
  out.resize(start + static_cast<size_t>(out_len));
}

Bytes chacha20poly1305_seal(const AeadKey& key, const ChaChaNonce& nonce, ByteView plaintext,
                            ByteView ad) {
  Bytes out;
  chacha20poly1305_seal_append(key, nonce, plaintext, ad, out);
  return out;
}

Result<Bytes> chacha20poly1305_open(const AeadKey& key, const ChaChaNonce& nonce,
                                    ByteView ciphertext, ByteView ad) {
  ensure_sodium();
  if (ciphertext.size() < kAeadTagBytes) return too_short(ciphertext.size());
  Bytes out(ciphertext.size() - kAeadTagBytes);
  unsigned long long out_len = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &out_len, nullptr, ciphertext.data(),
                                                ciphertext.size(), ad.data(), ad.size(),
                                                nonce.data(), key.data()) != 0) {
    return auth_failed();
  }
  out.resize(static_cast<size_t>(out_len));
  return out;
}

Bytes chacha20poly1305_seal(const AeadKey& key, uint64_t counter, ByteView plaintext, ByteView ad) {
  return chacha20poly1305_seal(key, wireguard_nonce(counter), plaintext, ad);
}

Result<Bytes> chacha20poly1305_open(const AeadKey& key, uint64_t counter, ByteView ciphertext,
                                    ByteView ad) {
  return chacha20poly1305_open(key, wireguard_nonce(counter), ciphertext, ad);
}

Bytes xchacha20poly1305_seal(const AeadKey& key, const XChaChaNonce& nonce, ByteView plaintext,
                             ByteView ad) {
  ensure_sodium();
  Bytes out(plaintext.size() + kAeadTagBytes);
  unsigned long long out_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &out_len, plaintext.data(),
                                             plaintext.size(), ad.data(), ad.size(), nullptr,
                                             nonce.data(), key.data());
  out.resize(static_cast<size_t>(out_len));
  return out;
}

Result<Bytes> xchacha20poly1305_open(const AeadKey& key, const XChaChaNonce& nonce,
                                     ByteView ciphertext, ByteView ad) {
  ensure_sodium();
  if (ciphertext.size() < kAeadTagBytes) return too_short(ciphertext.size());
  Bytes out(ciphertext.size() - kAeadTagBytes);
  unsigned long long out_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &out_len, nullptr, ciphertext.data(),
                                                 ciphertext.size(), ad.data(), ad.size(),
                                                 nonce.data(), key.data()) != 0) {
    return auth_failed();
  }
  out.resize(static_cast<size_t>(out_len));
  return out;
}

}  // namespace warren
