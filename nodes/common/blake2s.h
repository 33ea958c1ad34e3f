// BLAKE2s (RFC 7693) and the HMAC/HKDF that WireGuard and our Noise IK control channel build on
// it. libsodium has no BLAKE2s, so the compression function comes from libb2.
//
// - Blake2s: incremental hasher, output 1..32 bytes, optional key of 1..32 bytes (the keyed
//   mode is WireGuard's MAC, e.g. mac1/mac2/cookie with a 16-byte output).
// - hmac_blake2s: RFC 2104 HMAC over BLAKE2s-256 with its 64-byte block (what WireGuard calls
//   HMAC; NOT BLAKE2s's own keyed mode). Keys longer than 64 bytes are hashed first.
// - hkdf: WireGuard's KDF_n: T0 = HMAC(ck, input); T1 = HMAC(T0, 0x01);
//   Ti = HMAC(T0, T(i-1) || i), returning T1..Tn.
// Intermediate state is wiped on destruction because it is derived from secrets.
#pragma once

#include <blake2.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nodes/net/bytes.h"
#include "nodes/net/result.h"

namespace warren {

constexpr size_t kBlake2sMaxOutBytes = 32;
constexpr size_t kBlake2sMaxKeyBytes = 32;
constexpr size_t kBlake2sBlockBytes = 64;
// WireGuard's handshake never needs more than three KDF outputs (KDF3 in the responder).
constexpr size_t kHkdfMaxOutputs = 3;

using Hash32 = std::array<uint8_t, 32>;

class Blake2s {
 public:
  // Unkeyed BLAKE2s-256; cannot fail.
  Blake2s();
  // out_len must be 1..32 and key at most 32 bytes (empty = unkeyed); otherwise an error.
  static Result<Blake2s> create(size_t out_len, ByteView key = {});
  ~Blake2s();
  Blake2s(const Blake2s& other) = default;
  Blake2s& operator=(const Blake2s& other) = default;

  Blake2s& update(ByteView data);
  // Returns the out_len()-byte digest. The hasher is spent afterwards: further update() calls
  // are ignored and a second finish() returns an empty vector.
  Bytes finish();
  // For the common 32-byte case; only meaningful when out_len() == 32 (else zero-padded).
  Hash32 finish32();
  size_t out_len() const { return out_len_; }

 private:
  blake2s_state state_{};
  size_t out_len_ = kBlake2sMaxOutBytes;
  bool finished_ = false;
};

// One-shot BLAKE2s; same parameter rules and errors as Blake2s::create.
Result<Bytes> blake2s(ByteView data, size_t out_len = kBlake2sMaxOutBytes, ByteView key = {});
// One-shot unkeyed BLAKE2s-256 (WireGuard's HASH); cannot fail.
Hash32 blake2s_256(ByteView data);

Hash32 hmac_blake2s(ByteView key, ByteView data);

// n must be 1..kHkdfMaxOutputs; otherwise an error.
Result<std::vector<Hash32>> hkdf(ByteView chaining_key, ByteView input, size_t n);

// Compile-time-checked form for protocol code: hkdf_n<2>(ck, input) gives {T1, T2}.
template <size_t N>
std::array<Hash32, N> hkdf_n(ByteView chaining_key, ByteView input) {
  static_assert(N >= 1 && N <= kHkdfMaxOutputs, "WireGuard's KDF yields 1..3 outputs");
  auto all = hkdf(chaining_key, input, N);
  std::array<Hash32, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = all.value()[i];
  return out;
}

}  // namespace warren
