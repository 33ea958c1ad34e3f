#include "nodes/control/auth_key_text.h"

#include <array>

namespace warren::control {
namespace {

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr size_t kSecretBase64Chars = (kAuthKeySecretBytes * 8 + 5) / 6;  // 43
constexpr size_t kSecretHexChars = kAuthKeySecretBytes * 2;
constexpr std::string_view kHashDomain = "warren pre-auth key v1";

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool decode_base64url(std::string_view text, Key32& out) {
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : text) {
    int v = base64url_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n >= out.size()) return false;
      out[n++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  // The leftover bits must be zero: one text per secret.
  return n == out.size() && (acc & ((1u << bits) - 1)) == 0;
}

bool decode_hex(std::string_view text, Key32& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(text[2 * i]);
    int lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

AuthKeySecret generate_auth_key(Rng& rng) {
  std::array<uint8_t, kAuthKeyPrefixHexChars / 2> id{};
  rng.fill(id.data(), id.size());
  AuthKeySecret key;
  key.prefix = std::string(kAuthKeyTag) + to_hex(ByteView(id.data(), id.size()));
  rng.fill(key.secret.data(), key.secret.size());
  return key;
}

std::string format_auth_key(const AuthKeySecret& key) {
  std::string out = key.prefix + "-";
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : key.secret) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64Url[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kBase64Url[(acc << (6 - bits)) & 0x3f];
  secure_wipe(&acc, sizeof(acc));
  return out;
}

bool is_auth_key_prefix(std::string_view text) {
  if (text.size() != kAuthKeyTag.size() + kAuthKeyPrefixHexChars) return false;
  if (text.substr(0, kAuthKeyTag.size()) != kAuthKeyTag) return false;
  for (char c : text.substr(kAuthKeyTag.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<AuthKeySecret> parse_auth_key(std::string_view text) {
  const std::string expected =
      "expected wk-<12 hex digits>-<secret>, as printed by `warren control keys create`";
  size_t prefix_len = kAuthKeyTag.size() + kAuthKeyPrefixHexChars;
  if (text.size() <= prefix_len || !is_auth_key_prefix(text.substr(0, prefix_len)) ||
      text[prefix_len] != '-') {
    return make_error("malformed auth key: " + expected);
  }
  std::string_view secret = text.substr(prefix_len + 1);
  AuthKeySecret key;
  key.prefix = std::string(text.substr(0, prefix_len));
  bool ok = secret.size() == kSecretBase64Chars ? decode_base64url(secret, key.secret)
            : secret.size() == kSecretHexChars  ? decode_hex(secret, key.secret)
                                                : false;
  if (!ok) {
    return make_error("malformed auth key " + key.prefix + "-...: the secret must be " +
                      std::to_string(kSecretBase64Chars) + " base64url characters or " +
                      std::to_string(kSecretHexChars) + " hex digits");
  }
  return key;
}

Hash32 hash_auth_key_secret(std::string_view prefix, const Key32& secret) {
  Blake2s h;
  h.update(ByteView(kHashDomain));
  uint8_t sep = 0;
  h.update(ByteView(&sep, 1));
  h.update(ByteView(prefix));
  h.update(ByteView(&sep, 1));
  h.update(ByteView(secret.data(), secret.size()));
  return h.finish32();
}

}  // namespace warren::control
