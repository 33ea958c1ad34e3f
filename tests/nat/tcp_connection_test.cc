#include "nat-models/tcp_connection.h"

#include <gtest/gtest.h>

#include "nat_test_util.h"

namespace warren::nat {
namespace {

using testing::kAck;
using testing::kFinAck;
using testing::kRst;
using testing::kSyn;
using testing::kSynAck;

constexpr bool kOut = true;
constexpr bool kIn = false;

TEST(TcpConnection, ActiveOpenEstablishesOnTheFinalAck) {
  TcpConnection c;
  c.observe(kOut, kSyn);
  EXPECT_FALSE(c.established());
  c.observe(kIn, kSynAck);
  EXPECT_FALSE(c.established());  // the SYN-ACK alone does not complete the handshake
  c.observe(kOut, kAck);
  EXPECT_TRUE(c.established());
}

TEST(TcpConnection, PassiveOpenEstablishesToo) {
  TcpConnection c;
  c.observe(kIn, kSyn);
  c.observe(kOut, kSynAck);
  c.observe(kIn, kAck);
  EXPECT_TRUE(c.established());
}

TEST(TcpConnection, AckWithoutBothSynsIsNotAHandshake) {
  TcpConnection c;
  c.observe(kOut, kSyn);
  c.observe(kOut, kAck);
  EXPECT_FALSE(c.established());
  TcpConnection mid_stream;  // picked up mid-connection: no SYNs seen
  mid_stream.observe(kOut, kAck);
  mid_stream.observe(kIn, kAck);
  EXPECT_FALSE(mid_stream.established());
}

TEST(TcpConnection, ClosingNeedsFinBothWays) {
  TcpConnection c;
  c.observe(kOut, kSyn);
  c.observe(kIn, kSynAck);
  c.observe(kOut, kAck);
  c.observe(kIn, kFinAck);
  EXPECT_TRUE(c.established());
  c.observe(kOut, kFinAck);
  EXPECT_FALSE(c.established());
}

TEST(TcpConnection, RstEndsItAndANewSynStartsOver) {
  TcpConnection c;
  c.observe(kOut, kSyn);
  c.observe(kIn, kSynAck);
  c.observe(kOut, kAck);
  c.observe(kIn, kRst);
  EXPECT_FALSE(c.established());
  c.observe(kOut, kSyn);
  c.observe(kOut, kAck);  // only our SYN so far
  EXPECT_FALSE(c.established());
  c.observe(kIn, kSynAck);
  c.observe(kOut, kAck);
  EXPECT_TRUE(c.established());
}

TEST(TcpConnection, IdleTimeoutFollowsTheState) {
  const Duration est = Duration::seconds(7440), trans = Duration::seconds(240);
  TcpConnection c;
  EXPECT_EQ(c.idle_timeout(est, trans), trans);
  c.observe(kOut, kSyn);
  c.observe(kIn, kSynAck);
  c.observe(kOut, kAck);
  EXPECT_EQ(c.idle_timeout(est, trans), est);
}

}  // namespace
}  // namespace warren::nat
