#include "nodes/relay/admission.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace warren::relay {
namespace {

using control::RelayKeysMessage;
using control::RemovedRelayKey;

PublicKey key(uint8_t a, uint8_t b = 0) {
  PublicKey k;
  k.bytes.fill(a);
  k.bytes[31] = b;
  return k;
}

RelayKeysMessage full_set(uint64_t seq, std::vector<PublicKey> keys) {
  RelayKeysMessage m;
  m.seq = seq;
  m.full = true;
  m.keys = std::move(keys);
  return m;
}

RelayKeysMessage delta(uint64_t seq, std::vector<PublicKey> added,
                       std::vector<RemovedRelayKey> removed = {}) {
  RelayKeysMessage m;
  m.seq = seq;
  m.added = std::move(added);
  m.removed = std::move(removed);
  return m;
}

struct Removed {
  PublicKey key;
  std::string reason;
  bool operator==(const Removed& o) const { return key == o.key && reason == o.reason; }
};

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest() : admission_(Admission::Mode::waiting) {
    admission_.set_removed_listener([this](const PublicKey& k, const std::string& reason) {
      // The set has already changed when the listener runs.
      EXPECT_FALSE(admission_.check(k).admitted);
      removed_.push_back({k, reason});
    });
  }
  void apply_ok(const RelayKeysMessage& m) {
    Status s = admission_.apply(m);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  Admission admission_;
  std::vector<Removed> removed_;
};

TEST(Admission, WithoutAControlServerNoNodeIsAdmitted) {
  Admission admission;
  EXPECT_EQ(admission.mode(), Admission::Mode::no_control);
  AdmissionVerdict v = admission.check(key(1));
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.reason, RefusalReason::unknown_key);
  EXPECT_NE(v.text.find("no control server"), std::string::npos);
  // A stray message cannot make it admit anything.
  EXPECT_FALSE(admission.apply(full_set(1, {key(1)})).ok());
  EXPECT_FALSE(admission.check(key(1)).admitted);
}

TEST_F(AdmissionTest, BeforeTheFirstFullSetNodesAreToldToRetry) {
  AdmissionVerdict v = admission_.check(key(1));
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.reason, RefusalReason::not_ready);
  EXPECT_NE(v.text.find("retry"), std::string::npos);
}

TEST_F(AdmissionTest, FullSetAdmitsExactlyItsKeys) {
  apply_ok(full_set(1, {key(1), key(2)}));
  EXPECT_EQ(admission_.mode(), Admission::Mode::live);
  EXPECT_EQ(admission_.size(), 2u);
  EXPECT_EQ(admission_.last_seq(), 1u);
  EXPECT_TRUE(admission_.check(key(1)).admitted);
  EXPECT_TRUE(admission_.check(key(2)).admitted);
  AdmissionVerdict v = admission_.check(key(3));
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.reason, RefusalReason::unknown_key);
  EXPECT_NE(v.text.find("not known to the control server"), std::string::npos);
  EXPECT_TRUE(removed_.empty());
}

TEST_F(AdmissionTest, DeltasAddAndRemoveWithTheControlServersReason) {
  apply_ok(full_set(1, {key(1), key(2)}));
  apply_ok(delta(2, {key(3)}, {{key(1), "node key expired"}}));
  EXPECT_TRUE(admission_.check(key(3)).admitted);
  AdmissionVerdict v = admission_.check(key(1));
  EXPECT_FALSE(v.admitted);
  EXPECT_EQ(v.reason, RefusalReason::removed_key);
  EXPECT_EQ(v.text, "node key expired");
  EXPECT_EQ(removed_, (std::vector<Removed>{{key(1), "node key expired"}}));

  apply_ok(delta(3, {}, {{key(2), "node deleted"}}));
  EXPECT_EQ(admission_.check(key(2)).text, "node deleted");
  EXPECT_EQ(removed_.size(), 2u);
  EXPECT_EQ(admission_.size(), 1u);
}

TEST_F(AdmissionTest, ReaddedKeyIsAdmittedAndItsRemovalForgotten) {
  apply_ok(full_set(1, {key(1)}));
  apply_ok(delta(2, {}, {{key(1), "node key expired"}}));
  apply_ok(delta(3, {key(1)}));
  EXPECT_TRUE(admission_.check(key(1)).admitted);
  // Removed again for another reason: the new one is reported.
  apply_ok(delta(4, {}, {{key(1), "node deleted"}}));
  EXPECT_EQ(admission_.check(key(1)).text, "node deleted");
}

TEST_F(AdmissionTest, RemovalOfAKeyNeverAdmittedIsRememberedButNotReported) {
  apply_ok(full_set(1, {key(1)}));
  apply_ok(delta(2, {}, {{key(9), "node deleted"}}));
  EXPECT_TRUE(removed_.empty());
  EXPECT_EQ(admission_.check(key(9)).reason, RefusalReason::removed_key);
}

TEST_F(AdmissionTest, KeyBothRemovedAndAddedInOneDeltaStaysAdmitted) {
  apply_ok(full_set(1, {key(1)}));
  apply_ok(delta(2, {key(1)}, {{key(1), "node deleted"}}));
  EXPECT_TRUE(admission_.check(key(1)).admitted);
  EXPECT_TRUE(removed_.empty());
}

TEST_F(AdmissionTest, DeltaBeforeAnyFullSetIsAnError) {
  Status s = admission_.apply(delta(1, {key(1)}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("before any full key set"), std::string::npos);
  EXPECT_EQ(admission_.mode(), Admission::Mode::waiting);
  EXPECT_FALSE(admission_.check(key(1)).admitted);
}

TEST_F(AdmissionTest, SequenceGapIsAnErrorAndLeavesTheSetUnchanged) {
  apply_ok(full_set(1, {key(1)}));
  Status s = admission_.apply(delta(3, {key(2)}, {{key(1), "node deleted"}}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "relay_keys seq 3 does not follow 1 (a message was lost); reconnect for a fresh "
            "full set");
  EXPECT_TRUE(admission_.check(key(1)).admitted);
  EXPECT_FALSE(admission_.check(key(2)).admitted);
  EXPECT_EQ(admission_.last_seq(), 1u);
  EXPECT_TRUE(removed_.empty());
  // A repeated seq is a gap too.
  EXPECT_FALSE(admission_.apply(delta(1, {key(2)})).ok());
}

TEST_F(AdmissionTest, NewFullSetReportsWhatItDropsInKeyOrder) {
  apply_ok(full_set(1, {key(1), key(2), key(3), key(4)}));
  apply_ok(delta(2, {}, {{key(4), "node deleted"}}));
  removed_.clear();
  // A reconnect: a fresh channel starts at seq 1 again.
  apply_ok(full_set(1, {key(2), key(5)}));
  EXPECT_EQ(admission_.last_seq(), 1u);
  EXPECT_EQ(removed_, (std::vector<Removed>{{key(1), "no longer listed by the control server"},
                                            {key(3), "no longer listed by the control server"}}));
  EXPECT_TRUE(admission_.check(key(2)).admitted);
  EXPECT_TRUE(admission_.check(key(5)).admitted);
  EXPECT_EQ(admission_.check(key(3)).reason, RefusalReason::removed_key);
  // The earlier, more precise reason is not overwritten by the full set.
  EXPECT_EQ(admission_.check(key(4)).text, "node deleted");
  apply_ok(delta(2, {key(6)}));
  EXPECT_TRUE(admission_.check(key(6)).admitted);
}

TEST_F(AdmissionTest, LeavingLiveDropsEveryKey) {
  apply_ok(full_set(1, {key(2), key(1)}));
  admission_.set_mode(Admission::Mode::waiting);
  EXPECT_EQ(admission_.size(), 0u);
  EXPECT_EQ(removed_.size(), 2u);
  EXPECT_EQ(removed_.at(0).key, key(1));
  EXPECT_EQ(admission_.check(key(1)).reason, RefusalReason::not_ready);
  admission_.set_mode(Admission::Mode::live);  // ignored: live needs a full set
  EXPECT_EQ(admission_.mode(), Admission::Mode::waiting);
}

TEST_F(AdmissionTest, RemovalMemoryIsBounded) {
  apply_ok(full_set(1, {}));
  // Removing the same key over and over must not grow the memory past the bound either.
  uint64_t seq = 1;
  const size_t n = Admission::kMaxRememberedRemovals + 10;
  std::vector<RemovedRelayKey> batch;
  for (size_t i = 0; i < n; ++i) {
    PublicKey k;
    k.bytes[0] = static_cast<uint8_t>(i);
    k.bytes[1] = static_cast<uint8_t>(i >> 8);
    k.bytes[2] = static_cast<uint8_t>(i >> 16);
    batch.push_back({k, "node deleted"});
    if (batch.size() == 1000 || i + 1 == n) {
      apply_ok(delta(++seq, {}, batch));
      batch.clear();
    }
  }
  PublicKey first;  // i = 0: the oldest removal, forgotten
  EXPECT_EQ(admission_.check(first).reason, RefusalReason::unknown_key);
  PublicKey last;
  last.bytes[0] = static_cast<uint8_t>(n - 1);
  last.bytes[1] = static_cast<uint8_t>((n - 1) >> 8);
  last.bytes[2] = static_cast<uint8_t>((n - 1) >> 16);
  EXPECT_EQ(admission_.check(last).reason, RefusalReason::removed_key);
}

TEST_F(AdmissionTest, RememberingAKeyAgainKeepsItsLatestReason) {
  apply_ok(full_set(1, {}));
  uint64_t seq = 1;
  apply_ok(delta(++seq, {}, {{key(7), "node key expired"}}));
  // Push the first entry of key(7) to the front of the queue, then past the bound.
  for (size_t i = 0; i + 1 < Admission::kMaxRememberedRemovals; ++i) {
    if (i == 100) apply_ok(delta(++seq, {}, {{key(7), "node deleted"}}));
    PublicKey k;
    k.bytes[0] = 0xee;
    k.bytes[1] = static_cast<uint8_t>(i);
    k.bytes[2] = static_cast<uint8_t>(i >> 8);
    apply_ok(delta(++seq, {}, {{k, "x"}}));
  }
  // key(7)'s first entry has expired; its later one is still in force.
  EXPECT_EQ(admission_.check(key(7)).text, "node deleted");
}

}  // namespace
}  // namespace warren::relay
