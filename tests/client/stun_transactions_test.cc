#include "nodes/client/stun_transactions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nodes/net/rng.h"
#include "tests/support/memory_network.h"

namespace warren {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Drives StunTransactions with a recording send function and the manual clock; the network
// in the Env is never used.
class StunTransactionsTest : public ::testing::Test {
 protected:
  struct Sent {
    Timestamp at;
    Endpoint to;
    Bytes payload;
  };

  StunTransactions& make(StunRetransmitOptions options = {}) {
    tx_ = std::make_unique<StunTransactions>(
        env_,
        [this](const Endpoint& to, ByteView p) -> Status {
          sent_.push_back({world_.clock().now(), to, p.to_bytes()});
          if (fail_sends_) return make_error("network unreachable");
          return Status::success();
        },
        options);
    return *tx_;
  }
  StunTransactionId last_id() const {
    auto m = parse_stun(sent_.back().payload);
    EXPECT_TRUE(m.ok());
    return m->transaction_id;
  }

  MemoryWorld world_;
  MemoryHost& host_ = world_.add_host("client", {*IpAddress::parse("203.0.113.7")});
  SeededRng rng_{7, "stun-transactions-test"};
  Env env_{world_.clock(), host_, rng_, Logger()};
  std::unique_ptr<StunTransactions> tx_;
  std::vector<Sent> sent_;
  bool fail_sends_ = false;
  std::vector<StunProbeResult> done_;
  const Endpoint server_ = *Endpoint::parse("192.0.2.1:3478");
  StunTransactions::DoneFn record_ = [this](const StunProbeResult& r) { done_.push_back(r); };
};

TEST_F(StunTransactionsTest, DefaultScheduleIsRfc8489s) {
  StunRetransmitOptions defaults;
  EXPECT_EQ(defaults.transaction_timeout(), Duration::milliseconds(39500));

  auto& tx = make();
  ASSERT_TRUE(tx.start("relay", server_, record_).ok());
  world_.run_for(Duration::seconds(60));
  std::vector<int64_t> at_ms;
  for (const auto& s : sent_) at_ms.push_back(s.at.ns() / 1000000);
  EXPECT_THAT(at_ms, ElementsAre(0, 500, 1500, 3500, 7500, 15500, 31500));
  // Every retransmission is the same request.
  for (const auto& s : sent_) EXPECT_EQ(s.payload, sent_[0].payload);
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_FALSE(done_[0].ok());
  EXPECT_EQ(done_[0].transmissions, 7);
  EXPECT_THAT(done_[0].error, HasSubstr("after 7 attempts over 39.5 s"));
  EXPECT_EQ(tx.stats().timeouts, 1u);
  EXPECT_EQ(tx.active(), 0u);
}

TEST_F(StunTransactionsTest, TimesOutExactlyAtTheEndOfTheSchedule) {
  StunRetransmitOptions o;
  o.initial_rto = Duration::milliseconds(100);
  o.max_transmissions = 3;
  o.last_wait_multiplier = 4;
  EXPECT_EQ(o.transaction_timeout(), Duration::milliseconds(100 + 200 + 400));
  auto& tx = make(o);
  ASSERT_TRUE(tx.start("relay", server_, record_).ok());
  world_.run_for(Duration::milliseconds(699));
  EXPECT_TRUE(done_.empty());
  world_.run_for(Duration::milliseconds(1));
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_EQ(sent_.size(), 3u);
}

TEST_F(StunTransactionsTest, RequestCarriesFingerprintAndSoftware) {
  auto& tx = make();
  ASSERT_TRUE(tx.start("relay", server_, record_).ok());
  ASSERT_EQ(sent_.size(), 1u);  // the first request goes out at once
  EXPECT_EQ(sent_[0].to, server_);
  auto m = parse_stun(sent_[0].payload);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->is_binding_request());
  EXPECT_TRUE(m->fingerprint);
  EXPECT_EQ(m->software, "warren");
  EXPECT_TRUE(done_.empty());  // never completes inside start()
}

TEST_F(StunTransactionsTest, AnswerEndsTheTransactionWithMappingAndRtt) {
  auto& tx = make();
  ASSERT_TRUE(tx.start("relay", server_, record_).ok());
  world_.run_for(Duration::milliseconds(600));  // one retransmission at 500 ms
  const Endpoint mapped = *Endpoint::parse("198.51.100.9:61000");
  EXPECT_TRUE(tx.on_datagram(server_, build_binding_success(last_id(), mapped)));
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_TRUE(done_[0].ok());
  EXPECT_EQ(done_[0].name, "relay");
  EXPECT_EQ(done_[0].mapped, mapped);
  EXPECT_EQ(done_[0].transmissions, 2);
  EXPECT_EQ(done_[0].rtt, Duration::milliseconds(100));  // since the latest transmission
  EXPECT_TRUE(done_[0].error.empty());
  // No more sends after the answer.
  world_.run_for(Duration::seconds(60));
  EXPECT_EQ(sent_.size(), 2u);
  EXPECT_EQ(tx.stats().answers, 1u);
}

TEST_F(StunTransactionsTest, StraysAreCountedAndDoNotEndTheTransaction) {
  auto& tx = make();
  ASSERT_TRUE(tx.start("relay", server_, record_).ok());
  const StunTransactionId id = last_id();
  const Endpoint mapped = *Endpoint::parse("198.51.100.9:61000");
  StunTransactionId other = id;
  other[0] ^= 1;
  // Unknown transaction; right ID from the wrong source; a request with our ID.
  EXPECT_TRUE(tx.on_datagram(server_, build_binding_success(other, mapped)));
  EXPECT_TRUE(
      tx.on_datagram(*Endpoint::parse("192.0.2.1:3479"), build_binding_success(id, mapped)));
  EXPECT_TRUE(tx.on_datagram(server_, build_binding_request(id)));
  EXPECT_EQ(tx.stats().strays, 3u);
  // Right ID, right source, but corrupted: malformed.
  Bytes corrupt = build_binding_success(id, mapped);
  corrupt.back() ^= 1;
  EXPECT_TRUE(tx.on_datagram(server_, corrupt));
  EXPECT_EQ(tx.stats().malformed, 1u);
  // Not STUN at all: left for another protocol.
  EXPECT_FALSE(tx.on_datagram(server_, ByteView(std::string_view("\x04\0\0\0 wireguard data"))));
  EXPECT_TRUE(done_.empty());
  EXPECT_EQ(tx.active(), 1u);
  EXPECT_TRUE(tx.on_datagram(server_, build_binding_success(id, mapped)));
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_TRUE(done_[0].ok());
}

TEST_F(StunTransactionsTest, ErrorResponseEndsTheTransactionWithItsCode) {
  auto& tx = make();
  ASSERT_TRUE(tx.start("relay", server_, record_).ok());
  EXPECT_TRUE(
      tx.on_datagram(server_, build_binding_error(last_id(), 420, "Unknown Attribute", {0x0024})));
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_FALSE(done_[0].ok());
  EXPECT_THAT(done_[0].error, HasSubstr("420 Unknown Attribute"));
  EXPECT_EQ(tx.stats().error_responses, 1u);
}

TEST_F(StunTransactionsTest, SendFailuresCountAsLossAndStillEndBounded) {
  fail_sends_ = true;
  auto& tx = make();
  ASSERT_TRUE(tx.start("relay", server_, record_).ok());
  world_.run_for(Duration::seconds(40));
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_THAT(done_[0].error, HasSubstr("network unreachable"));
  EXPECT_EQ(tx.stats().send_failures, 7u);
}

TEST_F(StunTransactionsTest, CallbackMayDestroyTheTransactions) {
  auto& tx = make();
  ASSERT_TRUE(tx.start("a", server_, [this](const StunProbeResult&) { tx_.reset(); }).ok());
  ASSERT_TRUE(tx.start("b", server_, record_).ok());
  world_.run_for(Duration::seconds(60));  // "a" times out first and destroys everything
  EXPECT_EQ(tx_, nullptr);
  EXPECT_TRUE(done_.empty());  // "b" was cancelled silently
}

TEST_F(StunTransactionsTest, BoundsConcurrentTransactionsAndOptions) {
  auto& tx = make();
  for (size_t i = 0; i < StunTransactions::kMaxActive; ++i) {
    ASSERT_TRUE(tx.start("s", server_, record_).ok());
  }
  EXPECT_FALSE(tx.start("one too many", server_, record_).ok());

  StunRetransmitOptions silly;
  silly.max_transmissions = 1000;
  silly.initial_rto = Duration::zero();
  silly.last_wait_multiplier = -3;
  const auto c = silly.clamped();
  EXPECT_EQ(c.max_transmissions, StunRetransmitOptions::kMaxTransmissionsLimit);
  EXPECT_EQ(c.initial_rto, Duration::milliseconds(1));
  EXPECT_EQ(c.last_wait_multiplier, 1);
}

TEST(MappingVariesByDestination, NeedsTwoAnswersPerFamily) {
  auto result = [](const char* server, const char* mapped) {
    StunProbeResult r;
    r.server = *Endpoint::parse(server);
    if (mapped) r.mapped = *Endpoint::parse(mapped);
    return r;
  };
  const std::vector<StunProbeResult> agree = {result("192.0.2.1:3478", "203.0.113.7:1000"),
                                              result("192.0.2.2:3478", "203.0.113.7:1000"),
                                              result("192.0.2.3:3478", nullptr)};
  EXPECT_EQ(mapping_varies_by_destination(agree, Family::ipv4), false);
  EXPECT_EQ(mapping_varies_by_destination(agree, Family::ipv6), std::nullopt);

  const std::vector<StunProbeResult> differ = {result("192.0.2.1:3478", "203.0.113.7:1000"),
                                               result("192.0.2.2:3478", "203.0.113.7:1001"),
                                               result("[2001:db8::1]:3478", "[2001:db8::7]:5")};
  EXPECT_EQ(mapping_varies_by_destination(differ, Family::ipv4), true);
  EXPECT_EQ(mapping_varies_by_destination(differ, Family::ipv6), std::nullopt);

  const std::vector<StunProbeResult> one = {result("192.0.2.1:3478", "203.0.113.7:1000"),
                                            result("192.0.2.2:3478", nullptr)};
  EXPECT_EQ(mapping_varies_by_destination(one, Family::ipv4), std::nullopt);
}

}  // namespace
}  // namespace warren
