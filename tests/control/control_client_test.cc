// ControlClient against a real ControlServer on the in-memory network (the client lives in
// nodes/client; its tests are here because they need the server).
#include "nodes/client/control_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nodes/common/secure_channel.h"
#include "tests/control/control_world.h"

namespace warren::control {
namespace {

using ::testing::HasSubstr;

class ControlClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cw.start_server().ok()); }
  ControlWorld cw;
};

TEST_F(ControlClientTest, FetchesAndReportsTheServerKeyWhenNoneIsPinned) {
  TestClient& a = cw.add_client("a", cw.create_key());
  ASSERT_TRUE(cw.connect(a)) << cw.log().text();
  ASSERT_EQ(a.record.fetched_keys.size(), 1u);
  EXPECT_EQ(a.record.fetched_keys.front(), cw.server().public_key());
  ASSERT_TRUE(a.client->server_key().has_value());
  EXPECT_EQ(*a.client->server_key(), cw.server().public_key());
}

TEST_F(ControlClientTest, PinnedKeySkipsTheFetch) {
  const PublicKey server_key = cw.server().public_key();
  TestClient& a = cw.add_client("a", cw.create_key(),
                                [&](ControlClientOptions& o) { o.server_key = server_key; });
  ASSERT_TRUE(cw.connect(a)) << cw.log().text();
  EXPECT_TRUE(a.record.fetched_keys.empty());
}

TEST_F(ControlClientTest, RegistersAndReceivesAFullMapWithItself) {
  TestClient& a = cw.add_client("laptop", cw.create_key());
  ASSERT_TRUE(cw.connect(a)) << cw.log().text();
  ASSERT_EQ(a.record.registrations.size(), 1u);
  const PeerNode& self = a.record.registrations.front();
  EXPECT_EQ(self.name, "laptop");
  EXPECT_EQ(self.user, "alice");
  EXPECT_TRUE(Prefix::parse("100.64.0.0/10")->contains(self.ipv4));
  EXPECT_TRUE(Prefix::parse("fd7a:115c:a1e0::/48")->contains(self.ipv6));
  ASSERT_FALSE(a.record.maps.empty());
  EXPECT_TRUE(a.record.maps.front().full);
  ASSERT_TRUE(a.map().self().has_value());
  EXPECT_EQ(a.map().self()->id, self.id);
  EXPECT_TRUE(a.map().peers().empty());
}

TEST_F(ControlClientTest, TwoClientsSeeEachOther) {
  const std::string key = cw.create_key("alice", /*reusable=*/true);
  TestClient& a = cw.add_client("a", key);
  TestClient& b = cw.add_client("b", key);
  ASSERT_TRUE(cw.connect(a));
  ASSERT_TRUE(cw.connect(b));
  EXPECT_TRUE(b.sees("a")) << "b's full map holds a";
  ASSERT_TRUE(cw.run_until([&] { return a.sees("b"); })) << "a gets b as a delta";
  EXPECT_FALSE(a.record.maps.back().full);
  EXPECT_EQ(a.peer("b")->ipv4, b.record.registrations.front().ipv4);
  EXPECT_NE(a.record.registrations.front().ipv4, b.record.registrations.front().ipv4);
}

TEST_F(ControlClientTest, EndpointUpdateReachesThePeerAsAPatch) {
  const std::string key = cw.create_key("alice", /*reusable=*/true);
  TestClient& a = cw.add_client("a", key);
  TestClient& b = cw.add_client("b", key);
  ASSERT_TRUE(cw.connect(a));
  ASSERT_TRUE(cw.connect(b));
  const Endpoint where = *Endpoint::parse("198.51.100.7:41641");
  b.client->set_endpoints({where});
  ASSERT_TRUE(cw.run_until([&] {
    const PeerNode* p = a.peer("b");
    return p != nullptr && p->endpoints == std::vector<Endpoint>{where};
  }));
}

TEST_F(ControlClientTest, EndpointsGivenBeforeConnectingArriveWithTheMapRequest) {
  const std::string key = cw.create_key("alice", /*reusable=*/true);
  const Endpoint where = *Endpoint::parse("203.0.113.9:5000");
  TestClient& a = cw.add_client("a", key);
  TestClient& b = cw.add_client("b", key, [&](ControlClientOptions& o) { o.endpoints = {where}; });
  ASSERT_TRUE(cw.connect(a));
  ASSERT_TRUE(cw.connect(b));
  ASSERT_TRUE(cw.run_until([&] {
    const PeerNode* p = a.peer("b");
    return p != nullptr && p->endpoints == std::vector<Endpoint>{where};
  }));
}

TEST_F(ControlClientTest, UnknownAuthKeyIsAFatalErrorWithTheServersReason) {
  TestClient& a = cw.add_client("a", "wk-000000000000-notarealkey");
  a.client->start();
  ASSERT_TRUE(cw.run_until([&] { return a.fatal_error(); })) << cw.log().text();
  const ControlClientError& e = a.record.errors.back();
  EXPECT_EQ(e.kind, ControlClientError::Kind::registration_refused);
  EXPECT_THAT(e.message, HasSubstr("auth key"));
  EXPECT_TRUE(a.record.registrations.empty());
  // Fatal means no retry.
  const uint64_t connects = a.client->counters().connects;
  cw.run_for(Duration::seconds(300));
  EXPECT_EQ(a.client->counters().connects, connects);
}

TEST_F(ControlClientTest, UsedSingleUseKeyIsRefused) {
  const std::string key = cw.create_key();
  TestClient& a = cw.add_client("a", key);
  ASSERT_TRUE(cw.connect(a));
  TestClient& b = cw.add_client("b", key);
  b.client->start();
  ASSERT_TRUE(cw.run_until([&] { return b.fatal_error(); }));
  EXPECT_THAT(b.record.errors.back().message, HasSubstr("already used"));
}

TEST_F(ControlClientTest, RevokedKeyIsRefused) {
  const std::string key = cw.create_key("alice", /*reusable=*/true);
  nlohmann::json expired = cw.admin("keys.expire", {{"key", key}});
  ASSERT_EQ(expired.value("ok", false), true) << expired.dump();
  TestClient& a = cw.add_client("a", key);
  a.client->start();
  ASSERT_TRUE(cw.run_until([&] { return a.fatal_error(); }));
  EXPECT_THAT(a.record.errors.back().message, HasSubstr("revoked"));
}

TEST_F(ControlClientTest, ExpiredKeyIsRefused) {
  const std::string key = cw.create_key("alice", true, false, {}, /*expiration_s=*/60);
  cw.run_for(Duration::seconds(61));
  TestClient& a = cw.add_client("a", key);
  a.client->start();
  ASSERT_TRUE(cw.run_until([&] { return a.fatal_error(); }));
  EXPECT_THAT(a.record.errors.back().message, HasSubstr("expired"));
}

TEST_F(ControlClientTest, AKnownMachineRegistersAgainWithoutItsSpentKey) {
  SeededRng keys(7, "machine");
  const PrivateKey machine = generate_private_key(keys);
  const PrivateKey node = generate_private_key(keys);
  auto same_machine = [&](bool registered_before) {
    return [&, registered_before](ControlClientOptions& o) {
      o.machine_key = machine;
      o.node_key = node;
      o.registered_before = registered_before;
    };
  };
  const std::string key = cw.create_key();
  TestClient& first = cw.add_client("a", key, same_machine(false));
  ASSERT_TRUE(cw.connect(first));
  first.client->stop();
  nlohmann::json revoked = cw.admin("keys.expire", {{"key", key}});
  ASSERT_EQ(revoked.value("ok", false), true) << revoked.dump();

  // A later run that remembers registering does not need the (now revoked) key.
  TestClient& again = cw.add_client("a", key, same_machine(true));
  ASSERT_TRUE(cw.connect(again)) << cw.log().text();
  EXPECT_EQ(again.record.registrations.front().id, first.record.registrations.front().id);
  again.client->stop();

  // One that does not remember sends the key and is refused for it.
  TestClient& forgetful = cw.add_client("a", key, same_machine(false));
  forgetful.client->start();
  ASSERT_TRUE(cw.run_until([&] { return forgetful.fatal_error(); }));
  EXPECT_THAT(forgetful.record.errors.back().message, HasSubstr("revoked"));
}

TEST_F(ControlClientTest, RegisteredBeforeFallsBackToTheKeyWhenTheServerForgotTheMachine) {
  const std::string key = cw.create_key();
  TestClient& a =
      cw.add_client("a", key, [](ControlClientOptions& o) { o.registered_before = true; });
  ASSERT_TRUE(cw.connect(a)) << cw.log().text();
  EXPECT_EQ(a.record.registrations.size(), 1u);
  EXPECT_TRUE(a.record.errors.empty()) << a.record.errors.front().message;
}

TEST_F(ControlClientTest, ServerKeyMismatchIsFatalAndNamesBothKeys) {
  SeededRng other_rng(99, "other");
  const PublicKey wrong = public_key(generate_private_key(other_rng));
  TestClient& a =
      cw.add_client("a", cw.create_key(), [&](ControlClientOptions& o) { o.server_key = wrong; });
  a.client->start();
  ASSERT_TRUE(cw.run_until([&] { return a.fatal_error(); })) << cw.log().text();
  const ControlClientError& e = a.record.errors.back();
  EXPECT_EQ(e.kind, ControlClientError::Kind::server_key_mismatch);
  EXPECT_THAT(e.message, HasSubstr(to_base64(cw.server().public_key())));
  EXPECT_THAT(e.message, HasSubstr(to_base64(wrong)));
}

TEST_F(ControlClientTest, ReconnectsWithGrowingBoundedBackoffWhileTheServerIsDown) {
  cw.stop_server();
  std::vector<Timestamp> attempts;
  TestClient& a = cw.add_client("a", "unused", [](ControlClientOptions& o) {
    o.backoff_initial = Duration::seconds(1);
    o.backoff_max = Duration::seconds(16);
  });
  a.client->start();
  cw.run_until([&] { return a.record.errors.size() >= 10; }, Duration::seconds(600));
  ASSERT_GE(a.record.errors.size(), 10u);
  for (const auto& e : a.record.errors) {
    EXPECT_TRUE(e.will_retry);
    EXPECT_EQ(e.kind, ControlClientError::Kind::connection);
  }
  EXPECT_GE(a.client->counters().connects, 10u);
  // Every delay is bounded by backoff_max (plus the time a refused connect takes).
  cw.run_for(Duration::seconds(1));
  const uint64_t before = a.client->counters().connects;
  cw.run_for(Duration::seconds(17));
  EXPECT_GT(a.client->counters().connects, before);
}

TEST_F(ControlClientTest, ClientFindsTheServerOnceItComesUp) {
  const std::string key = cw.create_key();
  cw.stop_server();
  TestClient& a = cw.add_client("a", key);
  a.client->start();
  cw.run_for(Duration::seconds(10));
  EXPECT_FALSE(a.client->streaming());
  EXPECT_FALSE(a.record.errors.empty());
  ASSERT_TRUE(cw.start_server().ok());
  ASSERT_TRUE(cw.run_until([&] { return a.client->streaming(); }, Duration::seconds(120)));
  EXPECT_EQ(a.record.registrations.size(), 1u) << "the key was not spent by failed attempts";
}

// A server that completes the handshake and then says nothing at all.
class SilentServer {
 public:
  SilentServer(Env& env, const PrivateKey& key, const Endpoint& at) : acceptor_(env, key) {
    listener_ = std::move(env.network.listen(at).value());
    acceptor_.set_channel_handler([this](std::unique_ptr<SecureChannel> ch) {
      ++channels;
      held_.push_back(std::move(ch));
    });
    listener_->set_accept_handler(
        [this](std::unique_ptr<Stream> s) { acceptor_.accept(std::move(s)); });
  }
  int channels = 0;

 private:
  ChannelAcceptor acceptor_;
  std::unique_ptr<StreamListener> listener_;
  std::vector<std::unique_ptr<SecureChannel>> held_;
};

TEST_F(ControlClientTest, WatchdogReconnectsAfter120SecondsOfSilence) {
  cw.stop_server();
  MemoryHost* server_host = cw.world().host_with_address(IpAddress::v4(10, 0, 0, 1));
  SeededRng rng(5, "silent");
  Env env{cw.clock(), *server_host, rng, Logger()};
  SilentServer silent(env, cw.server_key(), cw.server_endpoint());
  TestClient& a = cw.add_client("a", "key");
  a.client->start();
  ASSERT_TRUE(cw.run_until([&] { return silent.channels == 1; }));
  const Timestamp connected = cw.clock().now();
  ASSERT_TRUE(cw.run_until([&] { return !a.record.errors.empty(); }, Duration::seconds(300)));
  EXPECT_EQ(a.record.errors.front().kind, ControlClientError::Kind::watchdog);
  EXPECT_TRUE(a.record.errors.front().will_retry);
  EXPECT_GE(cw.clock().now() - connected, Duration::seconds(120));
  ASSERT_TRUE(cw.run_until([&] { return silent.channels == 2; }, Duration::seconds(120)))
      << "the client reconnects after the watchdog fired";
}

TEST_F(ControlClientTest, KeepalivesKeepTheWatchdogQuiet) {
  const std::string key = cw.create_key();
  TestClient& a = cw.add_client("a", key);
  ASSERT_TRUE(cw.connect(a));
  cw.run_for(Duration::seconds(600));
  EXPECT_TRUE(a.record.errors.empty()) << a.record.errors.front().message;
  EXPECT_GE(a.client->counters().keepalives, 5u);
  EXPECT_TRUE(a.client->streaming());
}

TEST_F(ControlClientTest, StopClosesTheChannelAndSilencesCallbacks) {
  const std::string key = cw.create_key();
  TestClient& a = cw.add_client("a", key);
  ASSERT_TRUE(cw.connect(a));
  a.client->stop();
  cw.run_for(Duration::seconds(300));
  EXPECT_TRUE(a.record.errors.empty());
  EXPECT_FALSE(a.client->streaming());
}

TEST_F(ControlClientTest, AdvertisedRoutesAreDistributedOnlyAfterApproval) {
  const std::string key = cw.create_key("alice", /*reusable=*/true);
  const Prefix lan = *Prefix::parse("192.168.7.0/24");
  const Prefix exit = *Prefix::parse("0.0.0.0/0");
  TestClient& router = cw.add_client("router", key, [&](ControlClientOptions& o) {
    o.advertised_routes = {lan, exit, lan};  // any order, repeats: the client sorts them out
  });
  TestClient& laptop = cw.add_client("laptop", key);
  ASSERT_TRUE(cw.connect(router));
  ASSERT_TRUE(cw.connect(laptop));
  ASSERT_TRUE(laptop.sees("router"));
  EXPECT_TRUE(laptop.peer("router")->routes.empty()) << "not approved yet";
  nlohmann::json approved =
      cw.admin("routes.approve", {{"node", "router"}, {"prefixes", {"192.168.7.0/24"}}});
  ASSERT_EQ(approved.value("ok", false), true) << approved.dump();
  ASSERT_TRUE(cw.run_until([&] {
    const PeerNode* p = laptop.peer("router");
    return p != nullptr && p->routes == std::vector<Prefix>{lan};
  }));
}

}  // namespace
}  // namespace warren::control
