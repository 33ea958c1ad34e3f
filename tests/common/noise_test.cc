#include "nodes/common/noise.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace warren::noise {
namespace {

using ::testing::HasSubstr;

Bytes from_hex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

Key32 key32(const std::string& hex) {
  Bytes b = from_hex(hex);
  Key32 k{};
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

std::string hex(ByteView b) {
  return to_hex(b);
}

// Published test vectors: haskell-cryptography/cacophony, vectors/cacophony.txt (the same
// file noise-c and snow test against). Messages alternate initiator -> responder,
// responder -> initiator; the first two are the handshake, the rest transport messages.
struct VectorMessage {
  const char* payload;
  const char* ciphertext;
};

const char* const kPrologue = "4a6f686e2047616c74";  // "John Galt"
const char* const kInitStatic = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
const char* const kInitEphemeral =
    "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
const char* const kInitRemoteStatic =
    "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62";
const char* const kRespStatic = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
const char* const kRespEphemeral =
    "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
const char* const kPsk = "54686973206973206d7920417573747269616e20706572737065637469766521";

// "name": "Noise_IK_25519_ChaChaPoly_BLAKE2s"
const std::vector<VectorMessage> kIkMessages = {
    {"4c756477696720766f6e204d69736573",
     "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79440b03ddc7aac5123d06a1b23b7167"
     "0e32e76c28239a7ca4ac8f784de7e44c1adbfc6e83fef7352a58d9d56157400c0a737b1d171ce368229c7b752ac2"
     "5b8faf4eca690f6d896f543be02c996ab2b86b76"},
    {"4d757272617920526f746862617264",
     "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843d9b5a8927f0ac9655ef76833bc7e"
     "5561f42e691ac8404efd6fbd6308b6a27c"},
    {"462e20412e20486179656b", "2c256ed08fcd08c2980f954ee4beaccb61c9581340f5dd2fd1cf3b"},
    {"4361726c204d656e676572", "d6033f70eee20945c7c9dba304e397ee3b284ff5e00fd9efb095d3"},
    {"4a65616e2d426170746973746520536179",
     "a9c068ca5d8babf72560652d8e851adbfac35c8a66e810d560863173e96adf4cfe"},
    {"457567656e2042f6686d20766f6e2042617765726b",
     "2a09d8f459e5927e40fdd2eddc99bdafb04e13a26f145cb5cfe9e6ba34c94331ebc17d5156"},
};

// "name": "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
const std::vector<VectorMessage> kIkPsk2Messages = {
    {"4c756477696720766f6e204d69736573",
     "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944001e21de9f98ddd8e2ad57527207"
     "feb56253c9c94a9e496782ecfcb2a75fbcaf1b52948cc48daefe660c62119ab5000980c84831215f2441eba61654"
     "8e832985464cf17e51ee93109008399a21f7e13f"},
    {"4d757272617920526f746862617264",
     "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843cb765f2caef0751b8f007572dab0"
     "322217755c0632f365717edbf34d33e87a"},
    {"462e20412e20486179656b", "8153ca9833bc3c1b91a7e66e5f4d4f5b59bf9e64c2f20d15f0bba7"},
    {"4361726c204d656e676572", "07af0c9c86e1b4e80f36b04ff7688d51141af3debd0332f0a705ef"},
    {"4a65616e2d426170746973746520536179",
     "6ab1467c0448cc78394494abaaf23afce0e234315d6e2624dcbfa8a21c1c4d073d"},
    {"457567656e2042f6686d20766f6e2042617765726b",
     "dfc346c0d2296ae6cf1acf6f12b8456a1dba228cf8d8b774aacf1c47fc53aa80ebc7a4c292"},
};

class NoRng final : public Rng {
 public:
  void fill(uint8_t*, size_t) override { ADD_FAILURE() << "the vectors fix every key"; }
};

HandshakeConfig initiator_config(Pattern pattern) {
  HandshakeConfig c;
  c.pattern = pattern;
  c.role = Role::initiator;
  c.prologue = from_hex(kPrologue);
  c.local_static = PrivateKey(key32(kInitStatic));
  c.remote_static = PublicKey{key32(kInitRemoteStatic)};
  c.local_ephemeral = PrivateKey(key32(kInitEphemeral));
  if (pattern == Pattern::ikpsk2) c.psk = Psk(key32(kPsk));
  return c;
}

HandshakeConfig responder_config(Pattern pattern) {
  HandshakeConfig c;
  c.pattern = pattern;
  c.role = Role::responder;
  c.prologue = from_hex(kPrologue);
  c.local_static = PrivateKey(key32(kRespStatic));
  c.local_ephemeral = PrivateKey(key32(kRespEphemeral));
  if (pattern == Pattern::ikpsk2) c.psk = Psk(key32(kPsk));
  return c;
}

void run_vector(Pattern pattern, const std::vector<VectorMessage>& messages) {
  NoRng rng;
  auto init = HandshakeState::create(initiator_config(pattern), rng);
  auto resp = HandshakeState::create(responder_config(pattern), rng);
  ASSERT_TRUE(init.ok()) << init.error().message;
  ASSERT_TRUE(resp.ok()) << resp.error().message;

  // Handshake message 1: initiator -> responder.
  auto m0 = init->write_message(from_hex(messages[0].payload));
  ASSERT_TRUE(m0.ok()) << m0.error().message;
  EXPECT_EQ(hex(*m0), messages[0].ciphertext);
  auto p0 = resp->read_message(from_hex(messages[0].ciphertext));
  ASSERT_TRUE(p0.ok()) << p0.error().message;
  EXPECT_EQ(hex(*p0), messages[0].payload);
  EXPECT_EQ(resp->remote_static(), public_key(PrivateKey(key32(kInitStatic))));

  // Handshake message 2: responder -> initiator.
  auto m1 = resp->write_message(from_hex(messages[1].payload));
  ASSERT_TRUE(m1.ok()) << m1.error().message;
  EXPECT_EQ(hex(*m1), messages[1].ciphertext);
  auto p1 = init->read_message(from_hex(messages[1].ciphertext));
  ASSERT_TRUE(p1.ok()) << p1.error().message;
  EXPECT_EQ(hex(*p1), messages[1].payload);

  ASSERT_TRUE(init->is_complete());
  ASSERT_TRUE(resp->is_complete());
  EXPECT_EQ(init->handshake_hash(), resp->handshake_hash());

  auto init_t = init->split();
  auto resp_t = resp->split();
  ASSERT_TRUE(init_t.ok() && resp_t.ok());
  for (size_t i = 2; i < messages.size(); ++i) {
    const bool from_initiator = i % 2 == 0;
    CipherState& sender = from_initiator ? init_t->send : resp_t->send;
    CipherState& receiver = from_initiator ? resp_t->receive : init_t->receive;
    auto ct = sender.encrypt_with_ad(ByteView(), from_hex(messages[i].payload));
    ASSERT_TRUE(ct.ok());
    EXPECT_EQ(hex(*ct), messages[i].ciphertext) << "transport message " << i;
    auto pt = receiver.decrypt_with_ad(ByteView(), from_hex(messages[i].ciphertext));
    ASSERT_TRUE(pt.ok()) << pt.error().message;
    EXPECT_EQ(hex(*pt), messages[i].payload) << "transport message " << i;
  }
}

TEST(NoiseVectorTest, VectorKeysAreConsistent) {
  // The vector's init_remote_static is the responder's public key: checks X25519 itself.
  EXPECT_EQ(hex(public_key(PrivateKey(key32(kRespStatic))).view()), kInitRemoteStatic);
}

TEST(NoiseVectorTest, IkMatchesCacophonyByteForByte) {
  run_vector(Pattern::ik, kIkMessages);
}

TEST(NoiseVectorTest, IkPsk2MatchesCacophonyByteForByte) {
  run_vector(Pattern::ikpsk2, kIkPsk2Messages);
}

TEST(NoiseSymmetricStateTest, WireGuardInitialChainingKeyAndHash) {
  // WireGuard's published constants: Ci = HASH(Construction), Hi = HASH(Ci || Identifier).
  SymmetricState state(protocol_name(Pattern::ikpsk2));
  EXPECT_EQ(hex(ByteView(state.handshake_hash().data(), 32)),
            "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
  state.mix_hash(ByteView(std::string_view("WireGuard v1 zx2c4 Jason@zx2c4.com")));
  EXPECT_EQ(hex(ByteView(state.handshake_hash().data(), 32)),
            "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
}

TEST(NoiseSymmetricStateTest, ShortNamesArePaddedNotHashed) {
  SymmetricState state("Noise_NN_25519_AESGCM_SHA256");
  std::string expected = to_hex(ByteView(std::string_view("Noise_NN_25519_AESGCM_SHA256")));
  expected.resize(64, '0');
  EXPECT_EQ(hex(ByteView(state.handshake_hash().data(), 32)), expected);
}

TEST(NoiseSymmetricStateTest, EncryptAndHashIsIdentityBeforeAnyKey) {
  SymmetricState a("x");
  auto out = a.encrypt_and_hash(ByteView(std::string_view("plain")));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(ByteView(*out).as_string(), "plain");
  SymmetricState b("x");
  EXPECT_NE(a.handshake_hash(), b.handshake_hash());  // but it is hashed
}

TEST(NoiseCipherStateTest, ReservedNonceIsAnError) {
  CipherState c(AeadKey{});
  c.set_nonce(std::numeric_limits<uint64_t>::max());
  auto out = c.encrypt_with_ad(ByteView(), ByteView());
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().message, HasSubstr("nonce exhausted"));
}

TEST(NoiseCipherStateTest, FailedDecryptionDoesNotAdvanceTheNonce) {
  CipherState sender(AeadKey{1});
  CipherState receiver(AeadKey{1});
  auto ct = sender.encrypt_with_ad(ByteView(), ByteView(std::string_view("hello")));
  ASSERT_TRUE(ct.ok());
  Bytes bad = *ct;
  bad[0] ^= 1;
  EXPECT_FALSE(receiver.decrypt_with_ad(ByteView(), bad).ok());
  EXPECT_EQ(receiver.nonce(), 0u);
  EXPECT_TRUE(receiver.decrypt_with_ad(ByteView(), *ct).ok());
  EXPECT_EQ(receiver.nonce(), 1u);
}

TEST(NoiseCipherStateTest, RekeyChangesTheKeyTheSameWayOnBothSides) {
  CipherState a(AeadKey{7});
  CipherState b(AeadKey{7});
  a.rekey();
  b.rekey();
  EXPECT_EQ(a.key(), b.key());
  EXPECT_NE(a.key(), AeadKey{7});
}

class NoiseHandshakeTest : public ::testing::Test {
 protected:
  SeededRng rng_{1, "noise-test"};
};

TEST_F(NoiseHandshakeTest, CreateRejectsMissingOrExtraInputs) {
  HandshakeConfig no_remote = initiator_config(Pattern::ik);
  no_remote.remote_static.reset();
  auto a = HandshakeState::create(no_remote, rng_);
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.error().message, HasSubstr("responder's static public key"));

  HandshakeConfig no_psk = initiator_config(Pattern::ikpsk2);
  no_psk.psk.reset();
  auto b = HandshakeState::create(no_psk, rng_);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.error().message, HasSubstr("pre-shared key is required"));

  HandshakeConfig extra_psk = initiator_config(Pattern::ik);
  extra_psk.psk = Psk(key32(kPsk));
  EXPECT_FALSE(HandshakeState::create(extra_psk, rng_).ok());
}

TEST_F(NoiseHandshakeTest, WrongResponderKeyFailsAtTheResponderWithAClearError) {
  HandshakeConfig ic = initiator_config(Pattern::ik);
  ic.remote_static = public_key(PrivateKey(Key32{9}));  // not the responder's key
  auto init = HandshakeState::create(ic, rng_);
  auto resp = HandshakeState::create(responder_config(Pattern::ik), rng_);
  ASSERT_TRUE(init.ok() && resp.ok());
  auto m0 = init->write_message(ByteView());
  ASSERT_TRUE(m0.ok());
  auto p0 = resp->read_message(*m0);
  ASSERT_FALSE(p0.ok());
  EXPECT_THAT(p0.error().message, HasSubstr("different responder key than ours"));
  EXPECT_TRUE(resp->failed());
  auto again = resp->write_message(ByteView());
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message, HasSubstr("already failed"));
}

TEST_F(NoiseHandshakeTest, PrologueMismatchFails) {
  HandshakeConfig rc = responder_config(Pattern::ik);
  rc.prologue = Bytes{'o', 't', 'h', 'e', 'r'};
  auto init = HandshakeState::create(initiator_config(Pattern::ik), rng_);
  auto resp = HandshakeState::create(rc, rng_);
  auto m0 = init->write_message(ByteView());
  ASSERT_TRUE(m0.ok());
  EXPECT_FALSE(resp->read_message(*m0).ok());
}

TEST_F(NoiseHandshakeTest, PskMismatchIsCaughtByTheInitiatorOnTheReply) {
  HandshakeConfig rc = responder_config(Pattern::ikpsk2);
  rc.psk = Psk(Key32{1});
  auto init = HandshakeState::create(initiator_config(Pattern::ikpsk2), rng_);
  auto resp = HandshakeState::create(rc, rng_);
  auto m0 = init->write_message(ByteView());
  ASSERT_TRUE(m0.ok());
  ASSERT_TRUE(resp->read_message(*m0).ok());  // psk2 is only mixed into the reply
  auto m1 = resp->write_message(ByteView());
  ASSERT_TRUE(m1.ok());
  auto p1 = init->read_message(*m1);
  ASSERT_FALSE(p1.ok());
  EXPECT_THAT(p1.error().message, HasSubstr("pre-shared key differs"));
}

TEST_F(NoiseHandshakeTest, TamperedOrTruncatedMessagesFail) {
  for (size_t cut : {0, 31, 32, 79, 95}) {
    auto init = HandshakeState::create(initiator_config(Pattern::ik), rng_);
    auto resp = HandshakeState::create(responder_config(Pattern::ik), rng_);
    auto m0 = init->write_message(ByteView());
    ASSERT_TRUE(m0.ok());
    ASSERT_EQ(m0->size(), 96u);
    EXPECT_FALSE(resp->read_message(ByteView(*m0).sub(0, cut)).ok()) << cut;
  }
  auto init = HandshakeState::create(initiator_config(Pattern::ik), rng_);
  auto resp = HandshakeState::create(responder_config(Pattern::ik), rng_);
  auto m0 = init->write_message(ByteView());
  ASSERT_TRUE(resp->read_message(*m0).ok());
  auto m1 = resp->write_message(ByteView());
  ASSERT_TRUE(m1.ok());
  ASSERT_EQ(m1->size(), 48u);
  Bytes bad = *m1;
  bad.back() ^= 0x80;
  EXPECT_FALSE(init->read_message(bad).ok());
  EXPECT_FALSE(init->split().ok());
}

TEST_F(NoiseHandshakeTest, LowOrderEphemeralIsRejected) {
  auto init = HandshakeState::create(initiator_config(Pattern::ik), rng_);
  auto resp = HandshakeState::create(responder_config(Pattern::ik), rng_);
  auto m0 = init->write_message(ByteView());
  ASSERT_TRUE(m0.ok());
  Bytes bad = *m0;
  std::fill(bad.begin(), bad.begin() + 32, 0);  // the all-zero point
  auto p0 = resp->read_message(bad);
  ASSERT_FALSE(p0.ok());
  EXPECT_THAT(p0.error().message, HasSubstr("low-order"));
}

TEST_F(NoiseHandshakeTest, TurnsAreEnforced) {
  auto init = HandshakeState::create(initiator_config(Pattern::ik), rng_);
  auto resp = HandshakeState::create(responder_config(Pattern::ik), rng_);
  EXPECT_THAT(resp->write_message(ByteView()).error().message, HasSubstr("peer's turn"));
  EXPECT_THAT(init->read_message(Bytes(96)).error().message, HasSubstr("our turn"));
  EXPECT_FALSE(init->failed());
  EXPECT_FALSE(resp->failed());
  auto m0 = init->write_message(ByteView());
  ASSERT_TRUE(m0.ok());
  EXPECT_FALSE(init->write_message(ByteView()).ok());
}

TEST_F(NoiseHandshakeTest, OversizedPayloadIsRefusedWithoutBreakingTheHandshake) {
  auto init = HandshakeState::create(initiator_config(Pattern::ik), rng_);
  auto big = init->write_message(Bytes(kMaxMessageBytes));
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(big.error().message, HasSubstr("65535"));
  EXPECT_FALSE(init->failed());
  EXPECT_TRUE(init->write_message(ByteView()).ok());
}

TEST_F(NoiseHandshakeTest, EphemeralKeysComeFromTheRng) {
  auto config = [] {
    HandshakeConfig c = initiator_config(Pattern::ik);
    c.local_ephemeral.reset();
    return c;
  };
  SeededRng a1(5, "x"), a2(5, "x"), b(6, "x");
  auto h1 = HandshakeState::create(config(), a1);
  auto h2 = HandshakeState::create(config(), a2);
  auto h3 = HandshakeState::create(config(), b);
  auto m1 = h1->write_message(ByteView());
  auto m2 = h2->write_message(ByteView());
  auto m3 = h3->write_message(ByteView());
  EXPECT_EQ(*m1, *m2);  // same seed, same handshake: simulations reproduce
  EXPECT_NE(*m1, *m3);
}

TEST_F(NoiseHandshakeTest, RandomKeysCompleteAndAgree) {
  const PrivateKey server = generate_private_key(rng_);
  HandshakeConfig ic;
  ic.role = Role::initiator;
  ic.prologue = Bytes{'p'};
  ic.local_static = generate_private_key(rng_);
  ic.remote_static = public_key(server);
  HandshakeConfig rc;
  rc.role = Role::responder;
  rc.prologue = Bytes{'p'};
  rc.local_static = server;
  auto init = HandshakeState::create(ic, rng_);
  auto resp = HandshakeState::create(rc, rng_);
  auto m0 = init->write_message(ByteView(std::string_view("hi")));
  auto p0 = resp->read_message(*m0);
  ASSERT_TRUE(p0.ok());
  EXPECT_EQ(resp->remote_static(), public_key(ic.local_static));
  auto m1 = resp->write_message(ByteView());
  ASSERT_TRUE(init->read_message(*m1).ok());
  auto a = init->split();
  auto b = resp->split();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->send.key(), b->receive.key());
  EXPECT_EQ(a->receive.key(), b->send.key());
  EXPECT_NE(a->send.key(), a->receive.key());
}

}  // namespace
}  // namespace warren::noise
