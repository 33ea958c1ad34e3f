#include "nodes/common/blake2s.h"

#include <sodium.h>

#include <algorithm>
#include <string>

namespace warren {

Blake2s::Blake2s() {
  blake2s_init(&state_, kBlake2sMaxOutBytes);
}

Result<Blake2s> Blake2s::create(size_t out_len, ByteView key) {
  if (out_len < 1 || out_len > kBlake2sMaxOutBytes) {
    return make_error("BLAKE2s output length must be 1..32 bytes, got " + std::to_string(out_len));
  }
  if (key.size() > kBlake2sMaxKeyBytes) {
    return make_error("BLAKE2s key must be at most 32 bytes, got " + std::to_string(key.size()) +
                      "; hash longer keys first");
  }
  Blake2s h;
  h.out_len_ = out_len;
  int rc = key.empty() ? blake2s_init(&h.state_, out_len)
                       : blake2s_init_key(&h.state_, out_len, key.data(), key.size());
  if (rc != 0) return make_error("BLAKE2s initialisation failed (libb2 rejected the parameters)");
  return h;
}

Blake2s::~Blake2s() {
  sodium_memzero(&state_, sizeof(state_));
}

Blake2s& Blake2s::update(ByteView data) {
  if (!finished_ && !data.empty()) blake2s_update(&state_, data.data(), data.size());
  return *this;
}

Bytes Blake2s::finish() {
  if (finished_) return {};
  finished_ = true;
  Bytes out(out_len_);
  blake2s_final(&state_, out.data(), out_len_);
  return out;
}

Hash32 Blake2s::finish32() {
  Hash32 out{};
  Bytes digest = finish();
  std::copy(digest.begin(), digest.begin() + std::min(digest.size(), out.size()), out.begin());
  return out;
}

Result<Bytes> blake2s(ByteView data, size_t out_len, ByteView key) {
  auto h = Blake2s::create(out_len, key);
  if (!h.ok()) return h.error();
  return h->update(data).finish();
}

Hash32 blake2s_256(ByteView data) {
  return Blake2s().update(data).finish32();
}

Hash32 hmac_blake2s(ByteView key, ByteView data) {
  std::array<uint8_t, kBlake2sBlockBytes> block{};
  if (key.size() > kBlake2sBlockBytes) {
    Hash32 hashed = blake2s_256(key);
    std::copy(hashed.begin(), hashed.end(), block.begin());
    sodium_memzero(hashed.data(), hashed.size());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<uint8_t, kBlake2sBlockBytes> pad{};
  for (size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x36;
  Hash32 inner = Blake2s().update(ByteView(pad.data(), pad.size())).update(data).finish32();
  for (size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x5c;
  Hash32 out = Blake2s()
                   .update(ByteView(pad.data(), pad.size()))
                   .update(ByteView(inner.data(), inner.size()))
                   .finish32();
  sodium_memzero(block.data(), block.size());
  sodium_memzero(pad.data(), pad.size());
  sodium_memzero(inner.data(), inner.size());
  return out;
}

Result<std::vector<Hash32>> hkdf(ByteView chaining_key, ByteView input, size_t n) {
  if (n < 1 || n > kHkdfMaxOutputs) {
    return make_error("HKDF output count must be 1..3, got " + std::to_string(n));
  }
  Hash32 prk = hmac_blake2s(chaining_key, input);
  ByteView prk_view(prk.data(), prk.size());
  std::vector<Hash32> out;
  out.reserve(n);
  std::array<uint8_t, 33> msg{};  // T(i-1) || i
  size_t msg_len = 0;
  for (size_t i = 1; i <= n; ++i) {
    msg[msg_len++] = static_cast<uint8_t>(i);
    out.push_back(hmac_blake2s(prk_view, ByteView(msg.data(), msg_len)));
    std::copy(out.back().begin(), out.back().end(), msg.begin());
    msg_len = out.back().size();
  }
  sodium_memzero(prk.data(), prk.size());
  sodium_memzero(msg.data(), msg.size());
  return out;
}

}  // namespace warren
