#include "nodes/relay/relay_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nodes/common/stun_message.h"
#include "tests/relay/raw_relay_client.h"
#include "tests/support/capture_log_sink.h"
#include "tests/support/memory_network.h"

namespace warren::relay {
namespace {

using testing::FakeChannel;
using ::testing::HasSubstr;
using testing::RawRelayClient;
using testing::relay_channel_options;

IpAddress ip(const char* text) {
  return IpAddress::parse(text).value();
}

// The control server's side of admission, driven by hand.
class AdmissionDriver {
 public:
  explicit AdmissionDriver(Admission& admission) : admission_(admission) {}
  void full(const std::set<PublicKey>& keys) {
    control::RelayKeysMessage m;
    m.seq = ++seq_;
    m.full = true;
    m.keys.assign(keys.begin(), keys.end());
    keys_ = keys;
    EXPECT_TRUE(admission_.apply(m).ok());
  }
  void add(const PublicKey& key) {
    if (seq_ == 0) return full({key});
    control::RelayKeysMessage m;
    m.seq = ++seq_;
    m.added.push_back(key);
    keys_.insert(key);
    EXPECT_TRUE(admission_.apply(m).ok());
  }
  void remove(const PublicKey& key, const std::string& reason) {
    control::RelayKeysMessage m;
    m.seq = ++seq_;
    m.removed.push_back({key, reason});
    keys_.erase(key);
    EXPECT_TRUE(admission_.apply(m).ok());
  }

 private:
  Admission& admission_;
  uint64_t seq_ = 0;
  std::set<PublicKey> keys_;
};

class RelayServerTest : public ::testing::Test {
 protected:
  RelayServerTest() = default;
  ~RelayServerTest() override {
    clients_.clear();
    servers_.clear();
  }

  RelayServerOptions base_options() {
    RelayServerOptions o;
    o.listen = Endpoint(ip("192.0.2.1"), 443);
    o.stun_listen = {Endpoint(ip("192.0.2.1"), 3478), Endpoint(ip("2001:db8::1"), 3478)};
    return o;
  }

  RelayServer& start(RelayServerOptions o) {
    server_ = std::make_unique<RelayServer>(relay_env_, relay_key_, admission_, std::move(o));
    Status started = server_->start();
    EXPECT_TRUE(started.ok()) << started.error().message;
    return *server_;
  }
  RelayServer& start() { return start(base_options()); }

  PrivateKey node_key() { return generate_private_key(rng_); }

  // Opens a channel to the relay (no hello yet).
  RawRelayClient* open(const PrivateKey& key, const Endpoint& server, const PublicKey& server_key) {
    std::optional<Result<std::unique_ptr<SecureChannel>>> result;
    auto pending = open_channel(
        client_env_, server, "relay.test", key, server_key,
        [&result](Result<std::unique_ptr<SecureChannel>> r) { result.emplace(std::move(r)); },
        relay_channel_options());
    world_.run_until([&] { return result.has_value(); }, Duration::seconds(30));
    EXPECT_TRUE(result.has_value());
    if (!result) return nullptr;
    EXPECT_TRUE(result->ok()) << result->error().message;
    if (!result->ok()) return nullptr;
    clients_.push_back(
        std::make_unique<RawRelayClient>(std::move(result->value()), public_key(key)));
    return clients_.back().get();
  }
  RawRelayClient* open(const PrivateKey& key) {
    return open(key, server_->listen_endpoint(), server_->public_key());
  }

  // Opens and says hello; waits for the server's answer (server_hello or refused).
  RawRelayClient* connect(const PrivateKey& key, std::optional<MeshProof> mesh = std::nullopt) {
    RawRelayClient* c = open(key);
    if (c == nullptr) return nullptr;
    ClientHello hello;
    hello.mesh_proof = mesh;
    EXPECT_TRUE(c->send(hello).ok());
    world_.run_until(
        [&] { return c->count<ServerHello>() + c->count<Refused>() > 0 || c->closed(); },
        Duration::seconds(5));
    return c;
  }
  RawRelayClient* admitted(const PrivateKey& key) {
    driver_.add(public_key(key));
    RawRelayClient* c = connect(key);
    EXPECT_NE(c, nullptr);
    if (c) {
      EXPECT_EQ(c->count<ServerHello>(), 1u);
    }
    return c;
  }

  void run(Duration d) { world_.run_for(d); }
  bool run_until(const std::function<bool()>& done, Duration timeout = Duration::seconds(5)) {
    return world_.run_until(done, timeout);
  }

  MemoryWorld world_{Duration::milliseconds(1)};
  MemoryHost& relay_host_ = world_.add_host("relay", {ip("192.0.2.1"), ip("2001:db8::1")});
  MemoryHost& client_host_ =
      world_.add_host("clients", {ip("198.51.100.2"), ip("2001:db8:100::2")});
  SeededRng rng_{11, "relay-server-test"};
  CaptureLogSink log_sink_;
  Env relay_env_{world_.clock(), relay_host_, rng_,
                 Logger(&log_sink_, &world_.clock(), "relay", LogLevel::debug)};
  Env client_env_{world_.clock(), client_host_, rng_, Logger()};
  PrivateKey relay_key_ = generate_private_key(rng_);
  Admission admission_{Admission::Mode::waiting};
  AdmissionDriver driver_{admission_};
  std::vector<std::unique_ptr<RawRelayClient>> clients_;
  std::vector<std::unique_ptr<RelayServer>> servers_;  // extra relays (mesh tests)
  std::unique_ptr<RelayServer> server_;
};

TEST_F(RelayServerTest, TwoClientsExchangePackets) {
  RelayServer& relay = start();
  const PrivateKey ka = node_key(), kb = node_key();
  RawRelayClient* a = admitted(ka);
  RawRelayClient* b = admitted(kb);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(relay.clients(), 2u);

  auto hello = a->first<ServerHello>();
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->rate_bytes_per_s, 4u << 20);  // advertised so clients pace themselves
  EXPECT_EQ(hello->burst_bytes, 1u << 20);
  EXPECT_FALSE(hello->mesh_proof);

  ASSERT_TRUE(a->send_packet(b->key(), "ping from a").ok());
  ASSERT_TRUE(run_until([&] { return b->count<RecvPacket>() == 1; }));
  ASSERT_TRUE(b->send_packet(a->key(), "pong from b").ok());
  ASSERT_TRUE(run_until([&] { return a->count<RecvPacket>() == 1; }));

  ASSERT_EQ(b->packets().size(), 1u);
  EXPECT_EQ(b->packets()[0].first, a->key());
  EXPECT_EQ(b->packets()[0].second, "ping from a");
  EXPECT_EQ(a->packets()[0].first, b->key());
  EXPECT_EQ(a->packets()[0].second, "pong from b");
  EXPECT_EQ(relay.counters().packets_received, 2u);
  EXPECT_EQ(relay.counters().packets_delivered, 2u);
  EXPECT_EQ(relay.counters().bytes_delivered, 22u);
  EXPECT_EQ(relay.counters().clients_admitted, 2u);
}

TEST_F(RelayServerTest, UnknownKeyIsRefusedWithTheReason) {
  RelayServer& relay = start();
  driver_.full({public_key(node_key())});  // live, without our key
  RawRelayClient* c = connect(node_key());
  ASSERT_NE(c, nullptr);
  auto refused = c->first<Refused>();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, RefusalReason::unknown_key);
  EXPECT_FALSE(refused->text.empty());
  EXPECT_TRUE(run_until([&] { return c->closed(); }));
  EXPECT_EQ(c->count<ServerHello>(), 0u);
  EXPECT_EQ(relay.clients(), 0u);
  EXPECT_EQ(relay.counters().refused_unknown_key, 1u);
}

TEST_F(RelayServerTest, NoAdmissionListYetIsRefusedAsNotReady) {
  RelayServer& relay = start();  // the admission is still waiting for its first full set
  RawRelayClient* c = connect(node_key());
  ASSERT_NE(c, nullptr);
  auto refused = c->first<Refused>();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, RefusalReason::not_ready);
  EXPECT_TRUE(run_until([&] { return c->closed(); }));
  EXPECT_EQ(relay.counters().refused_not_ready, 1u);
}

TEST_F(RelayServerTest, RemovedKeyIsDisconnectedAtOnceWithTheControlServersReason) {
  RelayServer& relay = start();
  const PrivateKey ka = node_key();
  RawRelayClient* a = admitted(ka);
  ASSERT_NE(a, nullptr);
  const Timestamp removed_at = world_.clock().now();
  driver_.remove(a->key(), "node key expired");
  ASSERT_TRUE(run_until([&] { return a->closed(); }));
  EXPECT_LT(world_.clock().now() - removed_at, Duration::seconds(1));
  auto refused = a->first<Refused>();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, RefusalReason::removed_key);
  EXPECT_THAT(refused->text, HasSubstr("node key expired"));
  EXPECT_EQ(relay.clients(), 0u);
  EXPECT_EQ(relay.counters().disconnected_removed, 1u);

  // Coming back is refused with the same reason.
  RawRelayClient* again = connect(ka);
  ASSERT_NE(again, nullptr);
  auto second = again->first<Refused>();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->reason, RefusalReason::removed_key);
  EXPECT_EQ(relay.counters().refused_removed_key, 1u);
}

TEST_F(RelayServerTest, FrameBeforeHelloIsRefusedAndClosed) {
  RelayServer& relay = start();
  const PrivateKey ka = node_key();
  driver_.add(public_key(ka));
  RawRelayClient* a = open(ka);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->send_packet(public_key(node_key()), "too early").ok());
  ASSERT_TRUE(run_until([&] { return a->closed(); }));
  auto refused = a->first<Refused>();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, RefusalReason::protocol_error);
  EXPECT_THAT(refused->text, HasSubstr("client_hello"));
  EXPECT_EQ(relay.counters().refused_protocol, 1u);
  EXPECT_EQ(relay.clients(), 0u);
}

TEST_F(RelayServerTest, SilentConnectionIsClosedAfterTheHelloTimeout) {
  RelayServerOptions o = base_options();
  o.hello_timeout = Duration::seconds(3);
  RelayServer& relay = start(o);
  RawRelayClient* a = open(node_key());
  ASSERT_NE(a, nullptr);
  run(Duration::seconds(2));
  EXPECT_FALSE(a->closed());
  ASSERT_TRUE(run_until([&] { return a->closed(); }, Duration::seconds(2)));
  auto refused = a->first<Refused>();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, RefusalReason::protocol_error);
  EXPECT_THAT(refused->text, HasSubstr("no client_hello within"));
  EXPECT_EQ(relay.counters().refused_protocol, 1u);
}

TEST_F(RelayServerTest, MalformedFrameClosesTheConnectionAndIsCounted) {
  RelayServer& relay = start();
  RawRelayClient* a = admitted(node_key());
  RawRelayClient* b = admitted(node_key());
  ASSERT_TRUE(a && b);
  // send_packet whose length field disagrees with the message.
  Bytes bad = {0x04, 0x00, 0x00, 0x00, 0x40, 1, 2, 3};
  ASSERT_TRUE(a->send_raw(bad).ok());
  ASSERT_TRUE(run_until([&] { return a->closed(); }));
  EXPECT_EQ(relay.counters().closed_malformed, 1u);
  auto refused = a->first<Refused>();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, RefusalReason::protocol_error);
  // Nobody else noticed.
  EXPECT_FALSE(b->closed());
  EXPECT_EQ(relay.clients(), 1u);
}

TEST_F(RelayServerTest, UnknownFrameTypesAreSkippedAndCounted) {
  RelayServer& relay = start();
  RawRelayClient* a = admitted(node_key());
  RawRelayClient* b = admitted(node_key());
  ASSERT_TRUE(a && b);
  Bytes future = {0x7e, 0x00, 0x00, 0x00, 0x02, 9, 9};
  ASSERT_TRUE(a->send_raw(future).ok());
  ASSERT_TRUE(a->send(KeepAlive{}).ok());  // a server-only frame from a client: ignored too
  ASSERT_TRUE(a->send_packet(b->key(), "still here").ok());
  ASSERT_TRUE(run_until([&] { return b->count<RecvPacket>() == 1; }));
  EXPECT_FALSE(a->closed());
  EXPECT_EQ(relay.counters().unknown_frames, 2u);
}

TEST_F(RelayServerTest, ForwardPacketFromANonMeshClientIsDropped) {
  RelayServer& relay = start();
  RawRelayClient* a = admitted(node_key());
  RawRelayClient* b = admitted(node_key());
  ASSERT_TRUE(a && b);
  const std::string payload = "spoofed";
  ASSERT_TRUE(
      a->send(ForwardPacket{public_key(node_key()), b->key(), ByteView(std::string_view(payload))})
          .ok());
  run(Duration::seconds(1));
  EXPECT_EQ(b->count<RecvPacket>(), 0u);
  EXPECT_EQ(relay.counters().dropped_forward_not_mesh, 1u);
  EXPECT_FALSE(a->closed());
}

TEST_F(RelayServerTest, WatchConnsFromANonMeshClientClosesIt) {
  RelayServer& relay = start();
  RawRelayClient* a = admitted(node_key());
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->send(WatchConns{}).ok());
  ASSERT_TRUE(run_until([&] { return a->closed(); }));
  auto refused = a->first<Refused>();
  ASSERT_TRUE(refused);
  EXPECT_THAT(refused->text, HasSubstr("mesh"));
  EXPECT_EQ(relay.counters().peer_gone_sent, 0u);
}

TEST_F(RelayServerTest, UnknownDestinationIsDroppedWithRateLimitedNotHere) {
  RelayServer& relay = start();
  RawRelayClient* a = admitted(node_key());
  ASSERT_NE(a, nullptr);
  const PublicKey nowhere = public_key(node_key());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(a->send_packet(nowhere, "lost").ok());
  run(Duration::milliseconds(100));
  EXPECT_EQ(relay.counters().dropped_unknown_dest, 10u);
  auto gone = a->all<PeerGone>();
  ASSERT_EQ(gone.size(), size_t{RelayServer::kNotHereBurst});
  EXPECT_EQ(gone[0].key, nowhere);
  EXPECT_EQ(gone[0].reason, PeerGoneReason::not_here);

  run(Duration::seconds(2));  // two more tokens
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(a->send_packet(nowhere, "lost").ok());
  run(Duration::milliseconds(100));
  EXPECT_EQ(a->count<PeerGone>(), size_t{RelayServer::kNotHereBurst} + 2);
  EXPECT_EQ(relay.counters().dropped_unknown_dest, 20u);
}

TEST_F(RelayServerTest, PeerGoneGoesToThoseTheLeaverSentTo) {
  RelayServer& relay = start();
  RawRelayClient* a = admitted(node_key());
  RawRelayClient* b = admitted(node_key());
  RawRelayClient* c = admitted(node_key());
  ASSERT_TRUE(a && b && c);
  ASSERT_TRUE(a->send_packet(b->key(), "hi b").ok());
  ASSERT_TRUE(c->send_packet(a->key(), "hi a").ok());  // c sent to a, not a to c
  ASSERT_TRUE(
      run_until([&] { return b->count<RecvPacket>() == 1 && a->count<RecvPacket>() == 1; }));
  a->close();
  ASSERT_TRUE(run_until([&] { return b->count<PeerGone>() == 1; }));
  run(Duration::milliseconds(100));
  auto gone = b->first<PeerGone>();
  EXPECT_EQ(gone->key, a->key());
  EXPECT_EQ(gone->reason, PeerGoneReason::disconnected);
  EXPECT_EQ(c->count<PeerGone>(), 0u);
  EXPECT_EQ(relay.clients(), 2u);
}

TEST_F(RelayServerTest, ASecondConnectionWithTheSameKeyReplacesTheFirst) {
  RelayServer& relay = start();
  const PrivateKey ka = node_key();
  RawRelayClient* a1 = admitted(ka);
  RawRelayClient* b = admitted(node_key());
  ASSERT_TRUE(a1 && b);
  ASSERT_TRUE(a1->send_packet(b->key(), "from a1").ok());
  ASSERT_TRUE(run_until([&] { return b->count<RecvPacket>() == 1; }));

  RawRelayClient* a2 = connect(ka);
  ASSERT_NE(a2, nullptr);
  EXPECT_EQ(a2->count<ServerHello>(), 1u);
  ASSERT_TRUE(run_until([&] { return a1->closed(); }));
  auto health = a1->first<Health>();
  ASSERT_TRUE(health);
  EXPECT_THAT(health->text, HasSubstr("replaced"));
  EXPECT_EQ(relay.counters().disconnected_replaced, 1u);
  EXPECT_EQ(relay.clients(), 2u);
  EXPECT_EQ(b->count<PeerGone>(), 0u);  // the node did not leave

  ASSERT_TRUE(b->send_packet(a2->key(), "to a").ok());
  ASSERT_TRUE(run_until([&] { return a2->count<RecvPacket>() == 1; }));

  // The new connection inherited who a sent to: b hears when a really leaves.
  a2->close();
  ASSERT_TRUE(run_until([&] { return b->count<PeerGone>() == 1; }));
}

TEST_F(RelayServerTest, MaxClientsRefusesMoreWithServerFull) {
  RelayServerOptions o = base_options();
  o.max_clients = 1;
  RelayServer& relay = start(o);
  RawRelayClient* a = admitted(node_key());
  ASSERT_NE(a, nullptr);
  const PrivateKey kb = node_key();
  driver_.add(public_key(kb));
  RawRelayClient* b = connect(kb);
  ASSERT_NE(b, nullptr);
  auto refused = b->first<Refused>();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, RefusalReason::server_full);
  EXPECT_EQ(relay.counters().refused_full, 1u);
}

TEST_F(RelayServerTest, RateLimitDropsWhatExceedsTheBucket) {
  RelayServerOptions o = base_options();
  o.rate_bytes_per_s = 10000;
  o.burst_bytes = 1000;  // raised to one maximal packet
  RelayServer& relay = start(o);
  RawRelayClient* a = admitted(node_key());
  RawRelayClient* b = admitted(node_key());
  ASSERT_TRUE(a && b);
  auto hello = a->first<ServerHello>();
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->rate_bytes_per_s, 10000u);
  EXPECT_EQ(hello->burst_bytes, uint32_t{kMaxRelayPacketBytes});

  const std::string packet(1024, 'x');
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(a->send_packet(b->key(), packet).ok());
  run(Duration::milliseconds(200));
  // 64 fit the burst (plus what 10 kB/s refills within the few ms the sends take).
  EXPECT_GE(b->count<RecvPacket>(), 64u);
  EXPECT_LE(b->count<RecvPacket>(), 66u);
  EXPECT_EQ(relay.counters().dropped_rate_limit + b->count<RecvPacket>(), 100u);
  EXPECT_FALSE(a->closed());
}

TEST_F(RelayServerTest, KeepalivesEveryIntervalPlusJitterAndPingsAreAnswered) {
  RelayServerOptions o = base_options();
  o.keepalive = Duration::seconds(60);
  o.keepalive_jitter = Duration::seconds(5);
  RelayServer& relay = start(o);
  RawRelayClient* a = admitted(node_key());
  ASSERT_NE(a, nullptr);
  run(Duration::seconds(59));
  EXPECT_EQ(a->count<KeepAlive>(), 0u);
  run(Duration::seconds(7));
  EXPECT_EQ(a->count<KeepAlive>(), 1u);
  run(Duration::seconds(134));  // 200 s in all: three intervals of 60..65 s
  EXPECT_EQ(a->count<KeepAlive>(), 3u);
  EXPECT_EQ(relay.counters().keepalives_sent, 3u);

  Ping ping;
  ping.data = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(a->send(ping).ok());
  ASSERT_TRUE(run_until([&] { return a->count<Pong>() == 1; }));
  EXPECT_EQ(a->first<Pong>()->data, ping.data);
  EXPECT_EQ(relay.counters().pings_answered, 1u);
}

TEST_F(RelayServerTest, StunIsAnsweredOnEveryStunPort) {
  RelayServer& relay = start();
  ASSERT_EQ(relay.stun_endpoints().size(), 2u);
  int answered = 0;
  for (const Endpoint& to : relay.stun_endpoints()) {
    const Endpoint bind(to.family() == Family::ipv4 ? ip("0.0.0.0") : ip("::"), 0);
    auto socket = client_host_.open_udp(bind);
    ASSERT_TRUE(socket.ok()) << socket.error().message;
    std::optional<StunMessage> reply;
    (*socket)->set_receive_handler([&](const Endpoint&, const Endpoint&, ByteView p) {
      auto m = parse_stun(p);
      if (m.ok()) reply = *m;
    });
    const StunTransactionId id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    ASSERT_TRUE((*socket)->send_to(to, build_binding_request(id)).ok());
    ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
    EXPECT_EQ(reply->message_class, StunClass::success);
    ASSERT_TRUE(reply->xor_mapped_address.has_value());
    EXPECT_EQ(reply->xor_mapped_address->family(), to.family());
    ++answered;
  }
  EXPECT_EQ(answered, 2);
  EXPECT_EQ(relay.stun_stats().binding_requests, 2u);
}

TEST_F(RelayServerTest, StopTellsClientsTheRelayIsRestarting) {
  RelayServer& relay = start();
  RawRelayClient* a = admitted(node_key());
  RawRelayClient* silent = open(node_key());
  ASSERT_TRUE(a && silent);
  relay.stop(Duration::seconds(2));
  ASSERT_TRUE(run_until([&] { return a->closed() && silent->closed(); }));
  auto restarting = a->first<Restarting>();
  ASSERT_TRUE(restarting);
  EXPECT_EQ(restarting->reconnect_in_ms, 2000u);
  EXPECT_GT(restarting->try_for_ms, 0u);
  auto refused = silent->first<Refused>();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, RefusalReason::shutting_down);
  EXPECT_EQ(relay.clients(), 0u);
  EXPECT_TRUE(relay.stun_endpoints().empty());
}

TEST_F(RelayServerTest, ListenFailureNamesTheEndpointAndLeavesNothingOpen) {
  RelayServerOptions o = base_options();
  o.stun_listen = {Endpoint(ip("203.0.113.9"), 3478)};  // not an address of the relay host
  RelayServer relay(relay_env_, relay_key_, admission_, o);
  Status started = relay.start();
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.error().message, HasSubstr("203.0.113.9:3478"));
  // The stream port was released: a second relay can take it.
  RelayServer second(relay_env_, relay_key_, admission_, base_options());
  EXPECT_TRUE(second.start().ok());
}

// A reader that stops reading: its channel's unsent bytes only grow.
class SlowReaderTest : public RelayServerTest {
 protected:
  // A client on a fake channel, admitted; returns its channel state.
  std::shared_ptr<FakeChannel::State> fake_client(const PrivateKey& key) {
    driver_.add(public_key(key));
    auto state = std::make_shared<FakeChannel::State>();
    server_->accept_channel(
        std::make_unique<FakeChannel>(state, public_key(key), Endpoint(ip("198.51.100.9"), 4000)));
    EXPECT_TRUE(static_cast<bool>(state->handlers.on_message));
    deliver(*state, ClientHello{});
    return state;
  }
  static void deliver(FakeChannel::State& state, const RelayFrame& frame) {
    const Bytes m = encode_relay_frame(frame);
    state.handlers.on_message(m);
  }
  static std::vector<std::string> packets(const FakeChannel::State& state) {
    std::vector<std::string> out;
    for (const Bytes& m : state.sent) {
      auto f = decode_relay_frame(m);
      if (!f.ok()) continue;
      if (const auto* p = std::get_if<RecvPacket>(&*f)) out.emplace_back(p->packet.as_string());
    }
    return out;
  }
};

TEST_F(SlowReaderTest, DoesNotDelayOthersLosesItsOldestFramesThenIsDisconnected) {
  RelayServerOptions o = base_options();
  o.queue_depth = 32;
  o.stall_timeout = Duration::seconds(10);
  o.rate_bytes_per_s = 0;
  RelayServer& relay = start(o);
  RawRelayClient* a = admitted(node_key());
  RawRelayClient* b = admitted(node_key());
  ASSERT_TRUE(a && b);
  const PrivateKey kc = node_key();
  auto slow = fake_client(kc);
  ASSERT_EQ(slow->sent.size(), 1u);  // server_hello
  slow->reading = false;

  const std::string filler(1000, 'f');
  for (int i = 0; i < 200; ++i) {
    const std::string payload = std::to_string(i) + ":" + filler;
    ASSERT_TRUE(a->send_packet(public_key(kc), payload).ok());
    ASSERT_TRUE(a->send_packet(b->key(), payload).ok());
  }
  ASSERT_TRUE(run_until([&] { return b->count<RecvPacket>() == 200; }, Duration::seconds(1)));
  EXPECT_EQ(relay.counters().dropped_queue_head + packets(*slow).size() + 32, 200u);
  EXPECT_GT(relay.counters().dropped_queue_head, 0u);
  // The channel holds about the budget; the rest waits or was dropped.
  EXPECT_LE(slow->pending, RelayServer::kChannelBudgetBytes + 2000);

  // Still within stall_timeout: connected.
  run(Duration::seconds(9));
  EXPECT_FALSE(slow->closed);
  EXPECT_EQ(relay.counters().disconnected_stalled, 0u);
  ASSERT_TRUE(run_until([&] { return slow->closed; }, Duration::seconds(2)));
  EXPECT_EQ(relay.counters().disconnected_stalled, 1u);
  EXPECT_EQ(relay.clients(), 2u);
  EXPECT_FALSE(b->closed());
}

TEST_F(SlowReaderTest, AReaderThatResumesGetsTheNewestFrames) {
  RelayServerOptions o = base_options();
  o.queue_depth = 4;
  o.rate_bytes_per_s = 0;
  RelayServer& relay = start(o);
  RawRelayClient* a = admitted(node_key());
  ASSERT_NE(a, nullptr);
  const PrivateKey kc = node_key();
  auto slow = fake_client(kc);
  slow->reading = false;
  slow->pending = RelayServer::kChannelBudgetBytes;  // full from the start
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(a->send_packet(public_key(kc), std::to_string(i)).ok());
  run(Duration::milliseconds(50));
  EXPECT_TRUE(packets(*slow).empty());
  EXPECT_EQ(relay.counters().dropped_queue_head, 6u);

  slow->reading = true;
  slow->pending = 0;  // the reader caught up
  run(Duration::milliseconds(50));
  EXPECT_EQ(packets(*slow), (std::vector<std::string>{"6", "7", "8", "9"}));
  EXPECT_FALSE(slow->closed);
  run(Duration::seconds(30));  // no longer backlogged: no stall
  EXPECT_FALSE(slow->closed);
}

// --- Mesh -----------------------------------------------------------------------------------

TEST_F(RelayServerTest, MeshClientWithTheRightProofWatchesWhoIsHere) {
  RelayServerOptions o = base_options();
  o.mesh_key = MeshKey(Key32{7});
  RelayServer& relay = start(o);
  RawRelayClient* a = admitted(node_key());
  ASSERT_NE(a, nullptr);

  const PrivateKey peer_relay = node_key();
  RawRelayClient* m = connect(
      peer_relay, mesh_client_proof(*o.mesh_key, public_key(peer_relay), relay.public_key()));
  ASSERT_NE(m, nullptr);
  auto hello = m->first<ServerHello>();
  ASSERT_TRUE(hello);
  ASSERT_TRUE(hello->mesh_proof);
  EXPECT_TRUE(
      mesh_proof_equal(*hello->mesh_proof,
                       mesh_server_proof(*o.mesh_key, public_key(peer_relay), relay.public_key())));
  EXPECT_EQ(hello->rate_bytes_per_s, 0u);  // mesh peers are not rate limited
  EXPECT_EQ(relay.counters().mesh_clients_admitted, 1u);
  EXPECT_EQ(relay.clients(), 1u);  // mesh peers are not clients

  ASSERT_TRUE(m->send(WatchConns{}).ok());
  ASSERT_TRUE(run_until([&] { return m->count<PeerPresent>() == 1; }));
  EXPECT_EQ(m->first<PeerPresent>()->key, a->key());
  EXPECT_EQ(m->first<PeerPresent>()->endpoint.address, ip("198.51.100.2"));

  RawRelayClient* b = admitted(node_key());
  ASSERT_TRUE(run_until([&] { return m->count<PeerPresent>() == 2; }));
  EXPECT_EQ(m->all<PeerPresent>()[1].key, b->key());
  a->close();
  ASSERT_TRUE(run_until([&] { return m->count<PeerGone>() == 1; }));
  EXPECT_EQ(m->first<PeerGone>()->key, a->key());

  // It may forward packets to local clients.
  const PublicKey remote = public_key(node_key());
  const std::string payload = "via the mesh";
  ASSERT_TRUE(m->send(ForwardPacket{remote, b->key(), ByteView(std::string_view(payload))}).ok());
  ASSERT_TRUE(run_until([&] { return b->count<RecvPacket>() == 1; }));
  EXPECT_EQ(b->packets()[0].first, remote);
  EXPECT_EQ(relay.counters().packets_from_mesh, 1u);
}

TEST_F(RelayServerTest, MeshClientWithAWrongProofIsRefused) {
  RelayServerOptions o = base_options();
  o.mesh_key = MeshKey(Key32{7});
  RelayServer& relay = start(o);
  const PrivateKey peer_relay = node_key();
  RawRelayClient* m = connect(
      peer_relay, mesh_client_proof(MeshKey(Key32{8}), public_key(peer_relay), relay.public_key()));
  ASSERT_NE(m, nullptr);
  auto refused = m->first<Refused>();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, RefusalReason::bad_mesh_key);
  EXPECT_TRUE(run_until([&] { return m->closed(); }));
  EXPECT_EQ(relay.counters().refused_bad_mesh_key, 1u);
}

TEST_F(RelayServerTest, AForwardedPacketForNobodyHereIsDroppedQuietly) {
  RelayServerOptions o = base_options();
  o.mesh_key = MeshKey(Key32{7});
  RelayServer& relay = start(o);
  const PrivateKey peer_relay = node_key();
  RawRelayClient* m = connect(
      peer_relay, mesh_client_proof(*o.mesh_key, public_key(peer_relay), relay.public_key()));
  ASSERT_NE(m, nullptr);
  const std::string payload = "bounce";
  ASSERT_TRUE(m->send(ForwardPacket{public_key(node_key()), public_key(node_key()),
                                    ByteView(std::string_view(payload))})
                  .ok());
  run(Duration::milliseconds(100));
  EXPECT_EQ(relay.counters().dropped_unknown_dest_on_forward, 1u);
  EXPECT_EQ(relay.counters().packets_meshed, 0u);
  EXPECT_EQ(m->count<PeerGone>(), 0u);  // no not_here for forwarded packets
}

}  // namespace
}  // namespace warren::relay
