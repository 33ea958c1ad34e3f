#include "nodes/common/noise.h"

#include <cstring>
#include <limits>
#include <utility>

namespace warren::noise {
namespace {

constexpr uint64_t kReservedNonce = std::numeric_limits<uint64_t>::max();
// The largest overhead an IK/IKpsk2 message adds to its payload: e (32) + encrypted s (48)
// + the payload's tag (16). Checked before any state changes, so an oversized payload is a
// caller error that leaves the handshake usable.
constexpr size_t kMaxHandshakeOverhead = kDhBytes + kDhBytes + 2 * kAeadTagBytes;

ByteView view(const Hash32& h) {
  return ByteView(h.data(), h.size());
}

void wipe(std::array<Hash32, 2>& a) {
  secure_wipe(a.data(), sizeof(a));
}
void wipe(std::array<Hash32, 3>& a) {
  secure_wipe(a.data(), sizeof(a));
}

}  // namespace

// --- CipherState ---------------------------------------------------------------------------

CipherState::~CipherState() {
  secure_wipe(key_.data(), key_.size());
}

void CipherState::initialize_key(const AeadKey& key) {
  key_ = key;
  n_ = 0;
  has_key_ = true;
}

Result<Bytes> CipherState::encrypt_with_ad(ByteView ad, ByteView plaintext) {
  Bytes out;
  Status s = encrypt_append(ad, plaintext, out);
  if (!s) return s.error();
  return out;
}

Status CipherState::encrypt_append(ByteView ad, ByteView plaintext, Bytes& out) {
  if (!has_key_) {
    out.insert(out.end(), plaintext.begin(), plaintext.end());
    return Status::success();
  }
  if (n_ == kReservedNonce) {
    return make_error("Noise cipher: nonce exhausted after 2^64-1 messages; rekey or reconnect");
  }
  chacha20poly1305_seal_append(key_, wireguard_nonce(n_), plaintext, ad, out);
  ++n_;
  return Status::success();
}

Result<Bytes> CipherState::decrypt_with_ad(ByteView ad, ByteView ciphertext) {
  if (!has_key_) return ciphertext.to_bytes();
  if (n_ == kReservedNonce) {
    return make_error("Noise cipher: nonce exhausted after 2^64-1 messages; rekey or reconnect");
  }
  auto plain = chacha20poly1305_open(key_, n_, ciphertext, ad);
  if (!plain.ok()) return plain.error();
  ++n_;
  return plain;
}

void CipherState::rekey() {
  const Bytes zeros(kAeadKeyBytes, 0);
  Bytes out = chacha20poly1305_seal(key_, kReservedNonce, ByteView(zeros), ByteView());
  std::memcpy(key_.data(), out.data(), kAeadKeyBytes);
  secure_wipe(out.data(), out.size());
}

// --- SymmetricState ------------------------------------------------------------------------

SymmetricState::SymmetricState(const std::string& protocol_name) {
  if (protocol_name.size() <= kHashBytes) {
    std::memcpy(h_.data(), protocol_name.data(), protocol_name.size());
  } else {
    h_ = blake2s_256(ByteView(protocol_name));
  }
  ck_ = h_;
}

SymmetricState::~SymmetricState() {
  secure_wipe(ck_.data(), ck_.size());
}

void SymmetricState::mix_key(ByteView input_key_material) {
  auto out = hkdf_n<2>(view(ck_), input_key_material);
  ck_ = out[0];
  cipher_.initialize_key(out[1]);  // HASHLEN is 32: no truncation
  wipe(out);
}

void SymmetricState::mix_hash(ByteView data) {
  Blake2s hasher;
  hasher.update(view(h_)).update(data);
  h_ = hasher.finish32();
}

void SymmetricState::mix_key_and_hash(ByteView input_key_material) {
  auto out = hkdf_n<3>(view(ck_), input_key_material);
  ck_ = out[0];
  mix_hash(view(out[1]));
  cipher_.initialize_key(out[2]);
  wipe(out);
}

Result<Bytes> SymmetricState::encrypt_and_hash(ByteView plaintext) {
  auto ciphertext = cipher_.encrypt_with_ad(view(h_), plaintext);
  if (ciphertext.ok()) mix_hash(*ciphertext);
  return ciphertext;
}

Result<Bytes> SymmetricState::decrypt_and_hash(ByteView ciphertext) {
  auto plaintext = cipher_.decrypt_with_ad(view(h_), ciphertext);
  if (plaintext.ok()) mix_hash(ciphertext);
  return plaintext;
}

std::pair<CipherState, CipherState> SymmetricState::split() const {
  auto out = hkdf_n<2>(view(ck_), ByteView());
  std::pair<CipherState, CipherState> ciphers{CipherState(out[0]), CipherState(out[1])};
  wipe(out);
  return ciphers;
}

// --- HandshakeState ------------------------------------------------------------------------

std::string protocol_name(Pattern pattern) {
  switch (pattern) {
    case Pattern::ik:
      return "Noise_IK_25519_ChaChaPoly_BLAKE2s";
    case Pattern::ikpsk2:
      return "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
  }
  return "";
}

Result<HandshakeState> HandshakeState::create(const HandshakeConfig& config, Rng& rng) {
  if (config.role == Role::initiator && !config.remote_static) {
    return make_error("Noise " + protocol_name(config.pattern) +
                      ": the initiator must know the responder's static public key");
  }
  if (config.pattern == Pattern::ikpsk2 && !config.psk) {
    return make_error("Noise " + protocol_name(config.pattern) + ": a pre-shared key is required");
  }
  if (config.pattern != Pattern::ikpsk2 && config.psk) {
    return make_error("Noise " + protocol_name(config.pattern) +
                      ": this pattern takes no pre-shared key");
  }
  PrivateKey ephemeral =
      config.local_ephemeral ? *config.local_ephemeral : generate_private_key(rng);
  return HandshakeState(config, std::move(ephemeral));
}

HandshakeState::HandshakeState(const HandshakeConfig& config, PrivateKey ephemeral)
    : role_(config.role),
      psk_mode_(config.pattern == Pattern::ikpsk2),
      symmetric_(protocol_name(config.pattern)),
      s_(config.local_static),
      s_public_(public_key(config.local_static)),
      e_(std::move(ephemeral)),
      e_public_(public_key(e_)) {
  if (config.remote_static) remote_static_ = *config.remote_static;
  if (config.psk) psk_ = *config.psk;
  symmetric_.mix_hash(config.prologue);
  // Pre-message "<- s": both sides hash the responder's static key.
  symmetric_.mix_hash(role_ == Role::initiator ? remote_static_.view() : s_public_.view());
  messages_.push_back({Token::e, Token::es, Token::s, Token::ss});
  messages_.push_back({Token::e, Token::ee, Token::se});
  if (psk_mode_) messages_.back().push_back(Token::psk);
}

bool HandshakeState::my_turn() const {
  const bool initiator_turn = next_message_ % 2 == 0;
  return initiator_turn == (role_ == Role::initiator);
}

Error HandshakeState::fail(const std::string& message) {
  failed_ = true;
  return make_error("Noise handshake: " + message);
}

Status HandshakeState::mix_dh(const PrivateKey& local, const PublicKey& remote, const char* what) {
  auto shared = x25519(local, remote);
  if (!shared.ok()) {
    return fail(std::string("the ") + what +
                " public key is a low-order point (no shared secret); the peer is broken or "
                "hostile");
  }
  symmetric_.mix_key(shared->view());
  return Status::success();
}

Status HandshakeState::mix_token(Token token) {
  const bool initiator = role_ == Role::initiator;
  switch (token) {
    case Token::ee:
      return mix_dh(e_, remote_ephemeral_, "peer's ephemeral");
    case Token::es:
      return initiator ? mix_dh(e_, remote_static_, "responder's static")
                       : mix_dh(s_, remote_ephemeral_, "initiator's ephemeral");
    case Token::se:
      return initiator ? mix_dh(s_, remote_ephemeral_, "responder's ephemeral")
                       : mix_dh(e_, remote_static_, "initiator's static");
    case Token::ss:
      return mix_dh(s_, remote_static_, "peer's static");
    case Token::psk:
      symmetric_.mix_key_and_hash(psk_.view());
      return Status::success();
    case Token::e:
    case Token::s:
      break;
  }
  return fail("internal error: token carries bytes");
}

Status HandshakeState::write_token(Token token, Bytes& out) {
  switch (token) {
    case Token::e:
      out.insert(out.end(), e_public_.bytes.begin(), e_public_.bytes.end());
      symmetric_.mix_hash(e_public_.view());
      if (psk_mode_) symmetric_.mix_key(e_public_.view());
      return Status::success();
    case Token::s: {
      auto sealed = symmetric_.encrypt_and_hash(s_public_.view());
      if (!sealed.ok()) return fail(sealed.error().message);
      out.insert(out.end(), sealed->begin(), sealed->end());
      return Status::success();
    }
    default:
      return mix_token(token);
  }
}

Status HandshakeState::read_token(Token token, ByteView message, size_t& pos) {
  const size_t left = message.size() - pos;
  switch (token) {
    case Token::e: {
      if (left < kDhBytes) {
        return fail("message " + std::to_string(next_message_ + 1) + " is " +
                    std::to_string(message.size()) +
                    " bytes, too short for the ephemeral public key");
      }
      std::memcpy(remote_ephemeral_.bytes.data(), message.data() + pos, kDhBytes);
      pos += kDhBytes;
      symmetric_.mix_hash(remote_ephemeral_.view());
      if (psk_mode_) symmetric_.mix_key(remote_ephemeral_.view());
      return Status::success();
    }
    case Token::s: {
      const size_t len = kDhBytes + (symmetric_.has_key() ? kAeadTagBytes : 0);
      if (left < len) {
        return fail("message " + std::to_string(next_message_ + 1) + " is " +
                    std::to_string(message.size()) +
                    " bytes, too short for the encrypted static public key");
      }
      auto opened = symmetric_.decrypt_and_hash(message.sub(pos, len));
      if (!opened.ok()) {
        return fail(
            "cannot decrypt the initiator's static key: it was encrypted to a different "
            "responder key than ours, or under a different prologue");
      }
      std::memcpy(remote_static_.bytes.data(), opened->data(), kDhBytes);
      pos += len;
      return Status::success();
    }
    default:
      return mix_token(token);
  }
}

Result<Bytes> HandshakeState::write_message(ByteView payload) {
  if (failed_) return make_error("Noise handshake: already failed; start a new one");
  if (next_message_ >= message_count()) {
    return make_error("Noise handshake: already complete; use the transport ciphers");
  }
  if (!my_turn()) return make_error("Noise handshake: it is the peer's turn to send");
  if (payload.size() > kMaxMessageBytes - kMaxHandshakeOverhead) {
    return make_error("Noise handshake: a payload of " + std::to_string(payload.size()) +
                      " bytes would exceed the 65535-byte message limit");
  }
  Bytes out;
  for (Token token : messages_[next_message_]) {
    Status s = write_token(token, out);
    if (!s.ok()) return s.error();
  }
  auto sealed = symmetric_.encrypt_and_hash(payload);
  if (!sealed.ok()) return fail(sealed.error().message);
  out.insert(out.end(), sealed->begin(), sealed->end());
  ++next_message_;
  return out;
}

Result<Bytes> HandshakeState::read_message(ByteView message) {
  if (failed_) return make_error("Noise handshake: already failed; start a new one");
  if (next_message_ >= message_count()) {
    return make_error("Noise handshake: already complete; use the transport ciphers");
  }
  if (my_turn()) return make_error("Noise handshake: it is our turn to send, not to read");
  if (message.size() > kMaxMessageBytes) {
    return fail("message of " + std::to_string(message.size()) +
                " bytes exceeds the 65535-byte limit");
  }
  size_t pos = 0;
  for (Token token : messages_[next_message_]) {
    Status s = read_token(token, message, pos);
    if (!s.ok()) return s.error();
  }
  auto payload = symmetric_.decrypt_and_hash(message.sub(pos));
  if (!payload.ok()) {
    if (role_ == Role::initiator) {
      return fail(
          "cannot authenticate the responder's reply: it does not hold the private key of the "
          "static key we expected, or the pre-shared key differs");
    }
    return fail("message " + std::to_string(next_message_ + 1) +
                " failed authentication (modified in transit, or a different pre-shared key)");
  }
  ++next_message_;
  return payload;
}

Result<TransportCiphers> HandshakeState::split() const {
  if (!is_complete()) return make_error("Noise handshake: not complete, nothing to split");
  auto [c1, c2] = symmetric_.split();
  if (role_ == Role::initiator) return TransportCiphers{c1, c2};
  return TransportCiphers{c2, c1};
}

}  // namespace warren::noise
