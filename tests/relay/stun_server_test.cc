#include "nodes/relay/stun_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nodes/common/stun_message.h"
#include "nodes/net/rng.h"
#include "tests/support/memory_network.h"

namespace warren {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const StunTransactionId kId = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

class StunServerTest : public ::testing::Test {
 protected:
  MemoryWorld world_;
  MemoryHost& relay_host_ =
      world_.add_host("relay", {*IpAddress::parse("192.0.2.1"), *IpAddress::parse("2001:db8::1")});
  MemoryHost& client_host_ = world_.add_host(
      "client", {*IpAddress::parse("203.0.113.7"), *IpAddress::parse("2001:db8::7")});
  SeededRng rng_{1, "stun-server-test"};
  Env env_{world_.clock(), relay_host_, rng_, Logger()};
  StunServer server_{env_};
  const Endpoint client_v4_ = *Endpoint::parse("203.0.113.7:40000");
};

TEST_F(StunServerTest, AnswersABareRequestLikeCoturnsClientSends) {
  // turnutils_stunclient sends exactly this: a 20-byte binding request, no attributes.
  const Bytes bare = build_binding_request(kId, /*fingerprint=*/false, /*software=*/"");
  ASSERT_EQ(bare.size(), 20u);
  auto reply = server_.respond(client_v4_, bare);
  ASSERT_TRUE(reply.has_value());
  auto m = parse_stun(*reply);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->message_class, StunClass::success);
  EXPECT_EQ(m->transaction_id, kId);
  EXPECT_EQ(m->xor_mapped_address, client_v4_);
  EXPECT_TRUE(m->fingerprint);
  EXPECT_EQ(server_.stats().binding_requests, 1u);
}

TEST_F(StunServerTest, AnswersIpv6SourcesWithIpv6Mapping) {
  const Endpoint from = *Endpoint::parse("[2001:db8::7]:5555");
  auto reply = server_.respond(from, build_binding_request(kId));
  ASSERT_TRUE(reply.has_value());
  auto m = parse_stun(*reply);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->xor_mapped_address, from);
}

TEST_F(StunServerTest, DropsAWrongFingerprintAndGarbageWithoutReplying) {
  Bytes bad = build_binding_request(kId);
  bad.back() ^= 1;
  EXPECT_FALSE(server_.respond(client_v4_, bad).has_value());
  EXPECT_FALSE(server_.respond(client_v4_, ByteView(std::string_view("hello"))).has_value());
  EXPECT_FALSE(server_.respond(client_v4_, ByteView()).has_value());
  EXPECT_EQ(server_.stats().malformed, 3u);
  EXPECT_EQ(server_.stats().binding_requests, 0u);
}

TEST_F(StunServerTest, UnknownRequiredAttributesGet420ListingThem) {
  StunMessage m;
  m.transaction_id = kId;
  Bytes wire = serialize_stun(m);
  // PRIORITY (0x0024, an ICE attribute) and CHANGE-REQUEST (0x0003, RFC 5780).
  for (uint8_t b : Bytes{0x00, 0x24, 0x00, 0x04, 1, 2, 3, 4, 0x00, 0x03, 0x00, 0x04, 0, 0, 0, 6}) {
    wire.push_back(b);
  }
  store_be16(wire.data() + 2, static_cast<uint16_t>(wire.size() - kStunHeaderSize));
  auto reply = server_.respond(client_v4_, wire);
  ASSERT_TRUE(reply.has_value());
  auto r = parse_stun(*reply);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->message_class, StunClass::error);
  ASSERT_TRUE(r->error_code.has_value());
  EXPECT_EQ(r->error_code->code, 420);
  EXPECT_THAT(r->unknown_attributes, ElementsAre(0x0024, 0x0003));
  EXPECT_EQ(server_.stats().error_responses, 1u);
}

TEST_F(StunServerTest, OtherMethodsGet400AndNonRequestsAreIgnored) {
  StunMessage allocate;  // TURN Allocate, method 0x003
  allocate.method = 0x003;
  allocate.transaction_id = kId;
  auto reply = server_.respond(client_v4_, serialize_stun(allocate));
  ASSERT_TRUE(reply.has_value());
  auto r = parse_stun(*reply);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, 0x003);
  EXPECT_EQ(r->error_code->code, 400);

  StunMessage indication;
  indication.message_class = StunClass::indication;
  EXPECT_FALSE(server_.respond(client_v4_, serialize_stun(indication)).has_value());
  // A response aimed at us (for example reflected back) must not be answered: two servers
  // would otherwise ping-pong forever.
  EXPECT_FALSE(server_.respond(client_v4_, build_binding_success(kId, client_v4_)).has_value());
  EXPECT_EQ(server_.stats().ignored, 2u);
}

TEST_F(StunServerTest, ServesBothFamiliesOnSockets) {
  ASSERT_TRUE(server_.start({*Endpoint::parse("0.0.0.0:3478"), *Endpoint::parse("[::]:0")}).ok());
  const auto bound = server_.local_endpoints();
  ASSERT_EQ(bound.size(), 2u);
  EXPECT_EQ(bound[0].to_string(), "0.0.0.0:3478");
  EXPECT_NE(bound[1].port, 0);

  std::vector<std::pair<Endpoint, Bytes>> received;
  auto v4 = client_host_.open_udp(*Endpoint::parse("0.0.0.0:40000"));
  auto v6 = client_host_.open_udp(*Endpoint::parse("[::]:40001"));
  ASSERT_TRUE(v4.ok() && v6.ok());
  for (auto* s : {v4->get(), v6->get()}) {
    s->set_receive_handler([&](const Endpoint& from, const Endpoint&, ByteView p) {
      received.emplace_back(from, p.to_bytes());
    });
  }
  ASSERT_TRUE((*v4)->send_to(*Endpoint::parse("192.0.2.1:3478"), build_binding_request(kId)).ok());
  ASSERT_TRUE((*v6)
                  ->send_to(Endpoint(*IpAddress::parse("2001:db8::1"), bound[1].port),
                            build_binding_request(kId))
                  .ok());
  ASSERT_TRUE(world_.run_until([&] { return received.size() == 2; }, Duration::seconds(1)));

  auto a = parse_stun(received[0].second);
  auto b = parse_stun(received[1].second);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->xor_mapped_address->to_string(), "203.0.113.7:40000");
  EXPECT_EQ(b->xor_mapped_address->to_string(), "[2001:db8::7]:40001");
  EXPECT_EQ(server_.stats().binding_requests, 2u);
}

TEST_F(StunServerTest, StartFailsCleanlyNamingTheEndpoint) {
  Status s =
      server_.start({*Endpoint::parse("0.0.0.0:3478"), *Endpoint::parse("198.51.100.1:3478")});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("198.51.100.1:3478"));
  EXPECT_TRUE(server_.local_endpoints().empty());
  // The first socket was closed again: the port is free.
  EXPECT_TRUE(relay_host_.open_udp(*Endpoint::parse("0.0.0.0:3478")).ok());
  EXPECT_FALSE(server_.start({}).ok());
}

}  // namespace
}  // namespace warren
