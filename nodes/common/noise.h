// The Noise Protocol Framework (revision 34, noiseprotocol.org/noise.html) for the two
// patterns warren uses, over 25519 / ChaChaPoly / BLAKE2s:
//
//   Noise_IK_25519_ChaChaPoly_BLAKE2s       the control channel (nodes/common/secure_channel.h)
//     <- s
//     ...
//     -> e, es, s, ss
//     <- e, ee, se
//   Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s   WireGuard's handshake (the data plane)
//     <- s
//     ...
//     -> e, es, s, ss
//     <- e, ee, se, psk
//
// CipherState, SymmetricState and HandshakeState follow the spec's objects one to one
// (sections 5.1-5.3), so the code can be checked against the text:
//   - HASH = BLAKE2s-256, HKDF = HMAC-BLAKE2s (nodes/common/blake2s.h), DH = X25519.
//   - ENCRYPT(k, n, ad, p) = ChaCha20-Poly1305 with nonce 4 zero bytes || n as u64 LE
//     (aead.h wireguard_nonce). n = 2^64-1 is reserved: reaching it is an error.
//   - With a psk modifier, every "e" token also does MixKey(e.pub) (section 9.2).
//
// Errors are values. A failed write_message/read_message (bad length, failed authentication,
// a low-order public key, wrong turn) leaves the HandshakeState failed: every later call
// returns an error, as the spec requires a handshake to be abandoned after an error.
// Secrets (keys, chaining key) are wiped when their holders are destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nodes/common/aead.h"
#include "nodes/common/blake2s.h"
#include "nodes/common/x25519.h"
#include "nodes/net/bytes.h"
#include "nodes/net/result.h"
#include "nodes/net/rng.h"

namespace warren::noise {

// The spec's limit on any Noise message (handshake or transport), in bytes.
constexpr size_t kMaxMessageBytes = 65535;
constexpr size_t kDhBytes = 32;    // DHLEN for 25519
constexpr size_t kHashBytes = 32;  // HASHLEN for BLAKE2s
constexpr size_t kPskBytes = 32;

struct PskTag {};
using Psk = Secret32<PskTag>;  // a pre-shared symmetric key, wiped when destroyed

// A key k (possibly empty) and a counter n.
class CipherState {
 public:
  CipherState() = default;
  explicit CipherState(const AeadKey& key) { initialize_key(key); }
  CipherState(const CipherState& other) = default;
  CipherState& operator=(const CipherState& other) = default;
  ~CipherState();

  void initialize_key(const AeadKey& key);
  bool has_key() const { return has_key_; }
  // For the WireGuard data plane, which keeps its own counters and replay window.
  const AeadKey& key() const { return key_; }
  uint64_t nonce() const { return n_; }
  void set_nonce(uint64_t n) { n_ = n; }

  // Without a key the plaintext passes through unchanged (spec 5.1). Error when the nonce is
  // exhausted (n = 2^64-1); the caller must then rekey or abandon the session.
  Result<Bytes> encrypt_with_ad(ByteView ad, ByteView plaintext);
  // The same, appending the ciphertext to `out` (nothing appended on error).
  Status encrypt_append(ByteView ad, ByteView plaintext, Bytes& out);
  // Error on a failed authentication; n only advances on success.
  Result<Bytes> decrypt_with_ad(ByteView ad, ByteView ciphertext);
  // k = the first 32 bytes of ENCRYPT(k, 2^64-1, "", 32 zero bytes) (spec 4.2).
  void rekey();

 private:
  AeadKey key_{};
  uint64_t n_ = 0;
  bool has_key_ = false;
};

class SymmetricState {
 public:
  // h = the name padded with zeros if it fits in 32 bytes, else HASH(name); ck = h.
  explicit SymmetricState(const std::string& protocol_name);
  SymmetricState(const SymmetricState& other) = default;
  SymmetricState& operator=(const SymmetricState& other) = default;
  ~SymmetricState();

  void mix_key(ByteView input_key_material);
  void mix_hash(ByteView data);
  void mix_key_and_hash(ByteView input_key_material);
  const Hash32& handshake_hash() const { return h_; }
  bool has_key() const { return cipher_.has_key(); }
  Result<Bytes> encrypt_and_hash(ByteView plaintext);
  Result<Bytes> decrypt_and_hash(ByteView ciphertext);
  // (c1, c2): c1 encrypts initiator -> responder, c2 responder -> initiator.
  std::pair<CipherState, CipherState> split() const;

 private:
  CipherState cipher_;
  Hash32 ck_{};
  Hash32 h_{};
};

enum class Pattern { ik, ikpsk2 };
enum class Role { initiator, responder };

// "Noise_IK_25519_ChaChaPoly_BLAKE2s" or "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s".
std::string protocol_name(Pattern pattern);

struct HandshakeConfig {
  Pattern pattern = Pattern::ik;
  Role role = Role::initiator;
  Bytes prologue;
  PrivateKey local_static;
  // The responder's static key: required for the initiator (IK pre-message), unused by the
  // responder, which learns the initiator's from the first message.
  std::optional<PublicKey> remote_static;
  // Required for ikpsk2, rejected for ik.
  std::optional<Psk> psk;
  // Tests and vectors fix the ephemeral key; otherwise it is drawn from the Rng at create().
  std::optional<PrivateKey> local_ephemeral;
};

// The two transport CipherStates oriented for one side.
struct TransportCiphers {
  CipherState send;
  CipherState receive;
};

class HandshakeState {
 public:
  // Errors: initiator without remote_static, psk missing for ikpsk2 or given for ik.
  static Result<HandshakeState> create(const HandshakeConfig& config, Rng& rng);

  // Writes the next message of this side (initiator: message 1, responder: message 2) with
  // `payload` encrypted. Errors: not this side's turn, handshake complete or failed, the
  // message would exceed kMaxMessageBytes.
  Result<Bytes> write_message(ByteView payload);
  // Reads the peer's next message and returns its payload. Errors: not the peer's turn,
  // message too short or too long, failed authentication, low-order public key.
  Result<Bytes> read_message(ByteView message);

  bool is_complete() const { return next_message_ == message_count() && !failed_; }
  bool failed() const { return failed_; }
  Role role() const { return role_; }
  // The peer's static key: known from the start for the initiator, after message 1 for the
  // responder (all zero before).
  const PublicKey& remote_static() const { return remote_static_; }
  const PublicKey& local_ephemeral_public() const { return e_public_; }
  // h: after the handshake, a unique identifier of the session (channel binding).
  const Hash32& handshake_hash() const { return symmetric_.handshake_hash(); }
  // Only once complete; otherwise an error.
  Result<TransportCiphers> split() const;

 private:
  enum class Token { e, s, ee, es, se, ss, psk };
  using MessagePattern = std::vector<Token>;

  HandshakeState(const HandshakeConfig& config, PrivateKey ephemeral);
  size_t message_count() const { return messages_.size(); }
  bool my_turn() const;
  Status write_token(Token token, Bytes& out);
  Status mix_token(Token token);  // the DH and psk tokens, identical on both sides
  Status read_token(Token token, ByteView message, size_t& pos);
  Status mix_dh(const PrivateKey& local, const PublicKey& remote, const char* what);
  Error fail(const std::string& message);

  Role role_;
  bool psk_mode_;
  SymmetricState symmetric_;
  std::vector<MessagePattern> messages_;
  size_t next_message_ = 0;
  bool failed_ = false;
  PrivateKey s_;
  PublicKey s_public_;
  PrivateKey e_;
  PublicKey e_public_;
  PublicKey remote_static_;
  PublicKey remote_ephemeral_;
  Psk psk_;
};

}  // namespace warren::noise
