#include "nodes/control/control_core.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "nodes/net/memory_store.h"
#include "tests/support/memory_network.h"

namespace warren::control {
namespace {

constexpr Duration kWindow = Duration::milliseconds(250);

// A session's far end: decodes what the core sends, as a client would.
class FakeSink final : public SessionSink {
 public:
  Status send(ByteView message) override {
    if (closed) return make_error("closed");
    auto decoded = decode_server_message(message);
    EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().message);
    if (decoded.ok()) messages.push_back(*decoded);
    return Status::success();
  }
  size_t backlog_bytes() const override { return backlog; }
  void close(const std::string& reason) override {
    closed = true;
    close_reason = reason;
  }

  template <typename T>
  std::vector<T> all() const {
    std::vector<T> out;
    for (const ServerMessage& m : messages) {
      if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
    }
    return out;
  }
  std::vector<MapMessage> maps() const { return all<MapMessage>(); }
  size_t map_count() const { return maps().size(); }
  MapMessage last_map() const {
    auto m = maps();
    return m.empty() ? MapMessage{} : m.back();
  }
  std::string error() const {
    auto e = all<ErrorMessage>();
    return e.empty() ? std::string() : e.back().error;
  }
  size_t keepalives() const { return all<KeepaliveMessage>().size(); }

  std::vector<ServerMessage> messages;
  size_t backlog = 0;
  bool closed = false;
  std::string close_reason;
};

struct TestNode {
  PrivateKey machine;
  PrivateKey node_key;
  PrivateKey disco;
  FakeSink sink;
  ControlCore::SessionId session = 0;
  NodeId id = 0;
  std::string hostname;
};

std::vector<NodeId> ids(const std::vector<PeerNode>& nodes) {
  std::vector<NodeId> out;
  for (const PeerNode& n : nodes) out.push_back(n.id);
  return out;
}

Endpoint ep(const char* text) {
  return *Endpoint::parse(text);
}

class ControlCoreTest : public ::testing::Test {
 protected:
  ControlCoreTest()
      : host_(world_.add_host("control", {IpAddress::v4(10, 0, 0, 1)})),
        rng_(7, "control-core-test"),
        env_{world_.clock(), host_, rng_, Logger()},
        store_(world_.clock(), data_),
        relay_key_(generate_private_key(rng_)) {}

  ControlCoreConfig default_config() {
    ControlCoreConfig c;
    c.batch_window = kWindow;
    Relay relay;
    relay.name = "r1";
    relay.host = "relay.example";
    relay.key = public_key(relay_key_);
    RelayRegion region;
    region.id = 1;
    region.code = "home";
    region.relays.push_back(relay);
    c.relay_map.regions.push_back(region);
    return c;
  }

  void start(ControlCoreConfig config, RegistryConfig registry_config = RegistryConfig()) {
    registry_ = std::make_unique<Registry>(env_, store_, registry_config);
    ASSERT_TRUE(registry_->load().ok());
    for (const char* name : {"alice", "bob"}) {
      registry_->create_user(name, [](Result<User> r) { ASSERT_TRUE(r.ok()); });
    }
    settle();
    alice_key_ = auth_key("alice", false);
    bob_key_ = auth_key("bob", false);
    core_ = std::make_unique<ControlCore>(env_, *registry_, std::move(config));
    ASSERT_TRUE(core_->start().ok());
  }
  void start() { start(default_config()); }

  std::string auth_key(const std::string& user, bool ephemeral) {
    std::string text;
    registry_->create_auth_key(user, /*reusable=*/true, ephemeral, Duration::zero(), {},
                               [&](Result<CreatedAuthKey> r) {
                                 ASSERT_TRUE(r.ok()) << r.error().message;
                                 text = r->text;
                               });
    settle();
    return text;
  }

  void settle() { world_.clock().advance(Duration::zero()); }
  void advance(Duration d) { world_.clock().advance(d); }
  void window() { advance(kWindow); }

  void send(TestNode& n, const ClientMessage& m) { core_->on_message(n.session, encode(m)); }
  void send_text(TestNode& n, const std::string& text) {
    core_->on_message(n.session, Bytes(text.begin(), text.end()));
  }

  // A machine with fresh keys and an open session (not yet registered).
  std::unique_ptr<TestNode> machine(const std::string& hostname) {
    auto n = std::make_unique<TestNode>();
    n->machine = generate_private_key(rng_);
    n->node_key = generate_private_key(rng_);
    n->disco = generate_private_key(rng_);
    n->hostname = hostname;
    n->session = core_->open_session(public_key(n->machine), n->sink);
    return n;
  }

  void register_node(TestNode& n, const std::string& key) {
    RegisterMessage r;
    r.node_key = public_key(n.node_key);
    r.disco_key = public_key(n.disco);
    r.auth_key = key;
    r.hostname = n.hostname;
    send(n, r);
    settle();
  }

  MapRequestMessage map_request(TestNode& n, std::vector<Endpoint> endpoints = {}) {
    MapRequestMessage m;
    m.node_key = public_key(n.node_key);
    m.disco_key = public_key(n.disco);
    m.hostname = n.hostname;
    m.endpoints = std::move(endpoints);
    m.home_relay = 1;
    return m;
  }

  // Registered and streaming.
  std::unique_ptr<TestNode> join(const std::string& hostname, const std::string& key,
                                 std::vector<Endpoint> endpoints = {}) {
    auto n = machine(hostname);
    register_node(*n, key);
    auto responses = n->sink.all<RegisterResponse>();
    EXPECT_EQ(responses.size(), 1u);
    if (responses.empty() || !responses.at(0).ok) {
      ADD_FAILURE() << "registration failed: "
                    << (responses.empty() ? "no response" : responses.at(0).error);
      return n;
    }
    n->id = responses.at(0).node->id;
    send(*n, map_request(*n, std::move(endpoints)));
    EXPECT_EQ(n->sink.map_count(), 1u);
    return n;
  }

  // The same machine on a new channel.
  void reconnect(TestNode& n, std::vector<Endpoint> endpoints = {}) {
    n.sink = FakeSink();
    n.session = core_->open_session(public_key(n.machine), n.sink);
    send(n, map_request(n, std::move(endpoints)));
  }

  void set_policy(const std::string& text) {
    registry_->set_policy(text, [](const Status& s) { ASSERT_TRUE(s.ok()) << s.error().message; });
    settle();
  }

  void done_ok(const Status& s) { ASSERT_TRUE(s.ok()) << s.error().message; }

  MemoryWorld world_;
  MemoryHost& host_;
  SeededRng rng_;
  Env env_;
  std::shared_ptr<MemoryStoreData> data_ = std::make_shared<MemoryStoreData>();
  MemoryStore store_;
  PrivateKey relay_key_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<ControlCore> core_;
  std::string alice_key_;
  std::string bob_key_;
};

// --- registration and full map -------------------------------------------------------------

TEST_F(ControlCoreTest, RegisteredNodeGetsItsFullMap) {
  start();
  auto a = join("laptop", alice_key_, {ep("192.0.2.1:41641")});
  auto b = join("desktop", alice_key_, {ep("192.0.2.2:41641")});
  auto responses = b->sink.all<RegisterResponse>();
  ASSERT_TRUE(responses.at(0).ok);
  EXPECT_EQ(responses.at(0).node->name, "desktop");
  EXPECT_EQ(responses.at(0).node->node_key, public_key(b->node_key));

  const MapMessage m = b->sink.maps().at(0);
  EXPECT_TRUE(m.full);
  ASSERT_TRUE(m.self.has_value());
  EXPECT_EQ(m.self->id, b->id);
  EXPECT_EQ(m.self->machine_key, public_key(b->machine));
  EXPECT_EQ(m.self->endpoints, std::vector<Endpoint>{ep("192.0.2.2:41641")});
  EXPECT_TRUE(m.self->online);
  EXPECT_EQ(m.self->user, "alice");
  EXPECT_TRUE(m.self->ipv4.is_v4());
  ASSERT_EQ(m.peers.size(), 1u);
  const PeerNode& peer = m.peers.at(0);
  EXPECT_EQ(peer.id, a->id);
  EXPECT_EQ(peer.name, "laptop");
  EXPECT_EQ(peer.node_key, public_key(a->node_key));
  EXPECT_EQ(peer.disco_key, public_key(a->disco));
  EXPECT_EQ(peer.endpoints, std::vector<Endpoint>{ep("192.0.2.1:41641")});
  EXPECT_EQ(peer.home_relay, 1);
  EXPECT_TRUE(peer.online);
  EXPECT_NE(peer.ipv4, m.self->ipv4);
  ASSERT_TRUE(m.relay_map.has_value());
  EXPECT_EQ(m.relay_map->regions.at(0).relays.at(0).key, public_key(relay_key_));
  ASSERT_TRUE(m.packet_filter.has_value());
  EXPECT_FALSE(m.packet_filter->empty());

  // The first node learns about the second within one window: added, then nothing else.
  window();
  const MapMessage d = a->sink.last_map();
  EXPECT_EQ(ids(d.peers_changed), std::vector<NodeId>{b->id});
  EXPECT_TRUE(d.peers_changed.at(0).online);
  EXPECT_EQ(core_->counters().registrations, 2u);
  EXPECT_EQ(core_->counters().full_maps_sent, 2u);
  EXPECT_TRUE(core_->live(a->id).online);
}

TEST_F(ControlCoreTest, RefusedRegistrationIsAnsweredThenClosed) {
  start();
  auto n = machine("laptop");
  register_node(*n, "wk-000000000000-nonsense");
  auto responses = n->sink.all<RegisterResponse>();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_FALSE(responses.at(0).ok);
  EXPECT_FALSE(responses.at(0).error.empty());
  EXPECT_TRUE(n->sink.closed);
  EXPECT_EQ(core_->counters().registrations_refused, 1u);
  EXPECT_EQ(core_->session_count(), 0u);
}

TEST_F(ControlCoreTest, MapRequestNeedsARegisteredMachineWithItsNodeKey) {
  start();
  auto stranger = machine("stranger");
  send(*stranger, map_request(*stranger));
  EXPECT_TRUE(stranger->sink.closed);
  EXPECT_EQ(stranger->sink.error(), "unknown machine; register first");

  auto a = join("laptop", alice_key_);
  auto impostor = std::make_unique<TestNode>();
  impostor->machine = a->machine;
  impostor->node_key = generate_private_key(rng_);
  impostor->disco = a->disco;
  impostor->session = core_->open_session(public_key(a->machine), impostor->sink);
  send(*impostor, map_request(*impostor));
  EXPECT_TRUE(impostor->sink.closed);
  EXPECT_NE(impostor->sink.error().find("node key does not match"), std::string::npos);
  EXPECT_EQ(core_->counters().sessions_rejected, 2u);
  EXPECT_FALSE(a->sink.closed) << "the real node's stream is untouched";
}

TEST_F(ControlCoreTest, ReconnectedMachineNeedsNoAuthKey) {
  start();
  auto a = join("laptop", alice_key_);
  core_->close_session(a->session);
  a->sink = FakeSink();
  a->session = core_->open_session(public_key(a->machine), a->sink);
  register_node(*a, "");
  ASSERT_TRUE(a->sink.all<RegisterResponse>().at(0).ok);
  send(*a, map_request(*a));
  EXPECT_TRUE(a->sink.last_map().full);
}

TEST_F(ControlCoreTest, ClientFactsArePersisted) {
  start();
  auto a = join("laptop", alice_key_);
  UpdateMessage u;
  u.hostname = "laptop-renamed";
  u.disco_key = public_key(generate_private_key(rng_));
  u.routes = std::vector<Prefix>{*Prefix::parse("192.168.7.0/24")};
  send(*a, u);
  settle();
  const Node* node = registry_->find_node(a->id);
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->hostname, "laptop-renamed");
  EXPECT_EQ(node->disco_key, *u.disco_key);
  EXPECT_EQ(node->advertised_routes, *u.routes);
  EXPECT_TRUE(node->approved_routes.empty()) << "nothing is distributed before approval";
}

// --- deltas --------------------------------------------------------------------------------

TEST_F(ControlCoreTest, EndpointUpdateReachesExactlyTheVisiblePeersWithinOneWindow) {
  start();
  set_policy(R"({"acls": [{"action": "accept", "src": ["alice"], "dst": ["alice:*"]}]})");
  auto a1 = join("a1", alice_key_);
  auto a2 = join("a2", alice_key_);
  auto b1 = join("b1", bob_key_);
  window();
  const size_t a1_before = a1->sink.map_count();
  const size_t a2_before = a2->sink.map_count();
  const size_t b1_before = b1->sink.map_count();
  EXPECT_TRUE(b1->sink.maps().at(0).peers.empty());

  UpdateMessage u;
  u.endpoints = std::vector<Endpoint>{ep("203.0.113.9:41641")};
  send(*a1, u);
  advance(kWindow - Duration::nanoseconds(1));
  EXPECT_EQ(a2->sink.map_count(), a2_before);
  advance(Duration::nanoseconds(1));
  ASSERT_EQ(a2->sink.map_count(), a2_before + 1);
  const MapMessage d = a2->sink.last_map();
  ASSERT_EQ(d.peer_patches.size(), 1u);
  EXPECT_EQ(d.peer_patches.at(0).id, a1->id);
  EXPECT_EQ(d.peer_patches.at(0).endpoints, u.endpoints);
  EXPECT_EQ(a1->sink.map_count(), a1_before);
  EXPECT_EQ(b1->sink.map_count(), b1_before);
  EXPECT_EQ(core_->live(a1->id).endpoints, *u.endpoints);
}

TEST_F(ControlCoreTest, TenUpdatesInOneWindowAreOneMessage) {
  start();
  auto a = join("a", alice_key_);
  auto b = join("b", alice_key_);
  window();
  const size_t before = b->sink.map_count();
  for (int i = 1; i <= 10; ++i) {
    UpdateMessage u;
    u.endpoints =
        std::vector<Endpoint>{Endpoint(IpAddress::v4(192, 0, 2, static_cast<uint8_t>(i)), 7)};
    u.home_relay = i;
    send(*a, u);
  }
  window();
  ASSERT_EQ(b->sink.map_count(), before + 1);
  const PeerPatch p = b->sink.last_map().peer_patches.at(0);
  EXPECT_EQ(p.endpoints, std::vector<Endpoint>{Endpoint(IpAddress::v4(192, 0, 2, 10), 7)});
  EXPECT_EQ(p.home_relay, 10);
}

TEST_F(ControlCoreTest, DeletedNodeVanishesWithinOneWindowAndItsStreamCloses) {
  start();
  auto a = join("a", alice_key_);
  auto b = join("b", alice_key_);
  window();
  registry_->delete_node(std::to_string(a->id), [this](const Status& s) { done_ok(s); });
  EXPECT_TRUE(a->sink.closed);
  EXPECT_NE(a->sink.error().find("deleted"), std::string::npos);
  window();
  EXPECT_EQ(b->sink.last_map().peers_removed, std::vector<NodeId>{a->id});
  EXPECT_EQ(core_->session_count(), 1u);
}

TEST_F(ControlCoreTest, ExpiredNodeVanishesWithinOneWindowAndItsStreamCloses) {
  start();
  auto a = join("a", alice_key_);
  auto b = join("b", alice_key_);
  window();
  registry_->expire_node("a", [this](const Status& s) { done_ok(s); });
  EXPECT_TRUE(a->sink.closed);
  EXPECT_NE(a->sink.error().find("expired"), std::string::npos);
  window();
  EXPECT_EQ(b->sink.last_map().peers_removed, std::vector<NodeId>{a->id});
  // An expired machine cannot stream again without a new registration.
  reconnect(*a);
  EXPECT_TRUE(a->sink.closed);
  EXPECT_NE(a->sink.error().find("expired"), std::string::npos);
}

TEST_F(ControlCoreTest, KeyExpiryPassingHidesTheNodeWithinOneWindow) {
  RegistryConfig registry_config;
  registry_config.node_key_expiry = Duration::seconds(3600);
  start(default_config(), registry_config);
  auto a = join("a", alice_key_);
  advance(Duration::seconds(60));
  auto b = join("b", alice_key_);
  window();
  advance(Duration::seconds(3600 - 60) - kWindow - kWindow);
  EXPECT_FALSE(a->sink.closed);
  advance(kWindow + kWindow);  // a's expiry passes during the first of these windows
  EXPECT_TRUE(a->sink.closed);
  EXPECT_EQ(b->sink.last_map().peers_removed, std::vector<NodeId>{a->id});
  EXPECT_EQ(core_->counters().nodes_expired, 1u);
}

TEST_F(ControlCoreTest, PolicyChangeRemovesAndAddsPeers) {
  start();
  auto a = join("a", alice_key_);
  auto b = join("b", bob_key_);
  window();
  set_policy(R"({"acls": [{"action": "accept", "src": ["alice"], "dst": ["alice:*"]}]})");
  window();
  EXPECT_EQ(a->sink.last_map().peers_removed, std::vector<NodeId>{b->id});
  EXPECT_EQ(b->sink.last_map().peers_removed, std::vector<NodeId>{a->id});
  ASSERT_TRUE(b->sink.last_map().packet_filter.has_value());
  EXPECT_TRUE(b->sink.last_map().packet_filter->empty());  // bob's node now accepts nothing

  set_policy(R"({"acls": [{"action": "accept", "src": ["bob"], "dst": ["alice:22"]}]})");
  window();
  EXPECT_EQ(ids(a->sink.last_map().peers_changed), std::vector<NodeId>{b->id});
  EXPECT_EQ(ids(b->sink.last_map().peers_changed), std::vector<NodeId>{a->id});
}

TEST_F(ControlCoreTest, ApprovedRouteReachesPeersAsAChangedNode) {
  start();
  auto a = join("a", alice_key_);
  auto b = join("b", alice_key_);
  UpdateMessage u;
  u.routes = std::vector<Prefix>{*Prefix::parse("192.168.7.0/24")};
  send(*a, u);
  settle();
  window();
  const size_t before = b->sink.map_count();
  registry_->approve_routes("a", *u.routes, [this](const Status& s) { done_ok(s); });
  window();
  ASSERT_EQ(b->sink.map_count(), before + 1);
  const PeerNode changed = b->sink.last_map().peers_changed.at(0);
  EXPECT_EQ(changed.routes, *u.routes);
  EXPECT_EQ(a->sink.last_map().self->routes, *u.routes);
}

// --- online, offline, ephemeral ------------------------------------------------------------

TEST_F(ControlCoreTest, ReconnectWithinTheGracePeriodIsInvisibleToPeers) {
  start();
  auto a = join("a", alice_key_);
  auto b = join("b", alice_key_);
  window();
  const size_t before = b->sink.map_count();
  core_->close_session(a->session);
  advance(Duration::seconds(5));
  reconnect(*a);
  EXPECT_TRUE(a->sink.last_map().full);
  advance(Duration::seconds(30));
  EXPECT_EQ(b->sink.map_count(), before);
  EXPECT_TRUE(core_->live(a->id).online);
}

TEST_F(ControlCoreTest, NodeGoesOfflineAfterTheGracePeriodWithLastSeen) {
  start();
  auto a = join("a", alice_key_);
  auto b = join("b", alice_key_);
  window();
  const size_t before = b->sink.map_count();
  advance(Duration::seconds(100));
  const int64_t closed_at = world_.clock().unix_time_ns();
  core_->close_session(a->session);
  settle();
  EXPECT_EQ(registry_->find_node(a->id)->last_seen_unix_ns, closed_at);
  advance(Duration::seconds(10) - Duration::nanoseconds(1));
  EXPECT_EQ(b->sink.map_count(), before);
  advance(Duration::nanoseconds(1) + kWindow);
  ASSERT_EQ(b->sink.map_count(), before + 1);
  const PeerPatch p = b->sink.last_map().peer_patches.at(0);
  EXPECT_EQ(p.id, a->id);
  EXPECT_EQ(p.online, false);
  EXPECT_EQ(p.last_seen_unix_s, closed_at / 1'000'000'000);
  EXPECT_FALSE(core_->live(a->id).online);

  reconnect(*a);
  window();
  EXPECT_EQ(b->sink.last_map().peer_patches.at(0).online, true);
}

TEST_F(ControlCoreTest, EphemeralNodeIsDeletedAfterItsTimeoutOffline) {
  start();
  const std::string ephemeral = auth_key("alice", true);
  auto e = join("ci-runner", ephemeral);
  auto b = join("b", alice_key_);
  window();
  core_->close_session(e->session);
  advance(Duration::seconds(10) + Duration::seconds(120) - Duration::seconds(1));
  EXPECT_NE(registry_->find_node(e->id), nullptr);
  advance(Duration::seconds(1));
  settle();
  EXPECT_EQ(registry_->find_node(e->id), nullptr);
  EXPECT_EQ(core_->counters().ephemeral_deleted, 1u);
  window();
  EXPECT_EQ(b->sink.last_map().peers_removed, std::vector<NodeId>{e->id});
}

TEST_F(ControlCoreTest, EphemeralNodeThatComesBackIsKept) {
  start();
  const std::string ephemeral = auth_key("alice", true);
  auto e = join("ci-runner", ephemeral);
  core_->close_session(e->session);
  advance(Duration::seconds(60));
  reconnect(*e);
  advance(Duration::seconds(600));
  EXPECT_NE(registry_->find_node(e->id), nullptr);
  EXPECT_EQ(core_->counters().ephemeral_deleted, 0u);
}

TEST_F(ControlCoreTest, ANewerConnectionReplacesTheOlder) {
  start();
  auto a = join("a", alice_key_);
  auto b = join("b", alice_key_);
  window();
  const size_t before = b->sink.map_count();
  auto again = std::make_unique<TestNode>();  // the same machine on a second channel
  again->machine = a->machine;
  again->node_key = a->node_key;
  again->disco = a->disco;
  again->hostname = a->hostname;
  again->session = core_->open_session(public_key(a->machine), again->sink);
  send(*again, map_request(*again));
  EXPECT_TRUE(again->sink.last_map().full);
  EXPECT_TRUE(a->sink.closed);
  EXPECT_NE(a->sink.error().find("replaced"), std::string::npos);
  core_->close_session(a->session);  // the old channel's close arrives later: a no-op
  advance(Duration::seconds(60));
  EXPECT_EQ(b->sink.map_count(), before) << "peers never saw it go offline";
  EXPECT_TRUE(core_->live(a->id).online);
  EXPECT_FALSE(again->sink.closed);
}

// --- keepalives ----------------------------------------------------------------------------

TEST_F(ControlCoreTest, KeepaliveFollowsTheLastMessageByIntervalPlusJitter) {
  start();
  auto a = join("a", alice_key_);
  advance(Duration::seconds(50) - Duration::nanoseconds(1));
  EXPECT_EQ(a->sink.keepalives(), 0u);
  advance(Duration::seconds(9) + Duration::nanoseconds(1));
  EXPECT_EQ(a->sink.keepalives(), 1u);

  // A real message resets the wait.
  auto b = join("b", alice_key_);  // a gets a delta now + one window
  window();
  const size_t after_delta = a->sink.keepalives();
  advance(Duration::seconds(50) - kWindow);
  EXPECT_EQ(a->sink.keepalives(), after_delta);
  advance(Duration::seconds(9) + kWindow);
  EXPECT_EQ(a->sink.keepalives(), after_delta + 1);
  // And they keep coming, one per interval + jitter.
  advance(Duration::seconds(59 * 10));
  const size_t later = a->sink.keepalives();
  EXPECT_GE(later, after_delta + 10);
  EXPECT_LE(later, after_delta + 12);
}

// --- relay feed ----------------------------------------------------------------------------

TEST_F(ControlCoreTest, RelayGetsAllNodeKeysThenDeltas) {
  start();
  auto a = join("a", alice_key_);
  FakeSink relay;
  auto relay_session = core_->open_session(public_key(relay_key_), relay);
  core_->on_message(relay_session, encode(ClientMessage(RelaySubscribeMessage{})));
  auto feed = relay.all<RelayKeysMessage>();
  ASSERT_EQ(feed.size(), 1u);
  EXPECT_TRUE(feed.at(0).full);
  EXPECT_EQ(feed.at(0).keys, std::vector<PublicKey>{public_key(a->node_key)});

  auto b = join("b", alice_key_);
  window();
  feed = relay.all<RelayKeysMessage>();
  ASSERT_EQ(feed.size(), 2u);
  EXPECT_EQ(feed[1].added, std::vector<PublicKey>{public_key(b->node_key)});

  registry_->expire_node("a", [this](const Status& s) { done_ok(s); });
  window();
  feed = relay.all<RelayKeysMessage>();
  ASSERT_EQ(feed.size(), 3u);
  EXPECT_EQ(feed[2].removed,
            (std::vector<RemovedRelayKey>{{public_key(a->node_key), "node key expired"}}));

  registry_->delete_node(std::to_string(b->id), [this](const Status& s) { done_ok(s); });
  window();
  feed = relay.all<RelayKeysMessage>();
  ASSERT_EQ(feed.size(), 4u);
  EXPECT_EQ(feed[3].removed,
            (std::vector<RemovedRelayKey>{{public_key(b->node_key), "node deleted"}}));
  EXPECT_GE(core_->counters().relay_messages_sent, 4u);

  advance(Duration::seconds(60));
  EXPECT_EQ(relay.keepalives(), 1u);
}

TEST_F(ControlCoreTest, RelaySubscribeNeedsARelayKey) {
  start();
  auto n = machine("not-a-relay");
  send(*n, RelaySubscribeMessage{});
  EXPECT_TRUE(n->sink.closed);
  EXPECT_NE(n->sink.error().find("not a relay in the relay map"), std::string::npos);
  EXPECT_EQ(core_->counters().sessions_rejected, 1u);
}

// --- bad input -----------------------------------------------------------------------------

TEST_F(ControlCoreTest, MalformedMessageIsAnsweredWithAnErrorAndClosed) {
  start();
  auto a = join("a", alice_key_);
  send_text(*a, "{\"type\": \"update\", \"endpoints\": \"nope\"}");
  EXPECT_TRUE(a->sink.closed);
  EXPECT_EQ(a->sink.error(),
            "malformed message: update.endpoints: expected an array, got a string");
  EXPECT_EQ(core_->counters().messages_malformed, 1u);
  EXPECT_EQ(core_->counters().sessions_rejected, 1u);

  auto garbage = machine("garbage");
  send_text(*garbage, std::string("\x00\xff\x10", 3));
  EXPECT_TRUE(garbage->sink.closed);
  EXPECT_EQ(core_->counters().messages_malformed, 2u);
  EXPECT_EQ(core_->session_count(), 0u);
}

TEST_F(ControlCoreTest, MessagesOutOfOrderAreRejected) {
  start();
  auto early = machine("early");
  send(*early, UpdateMessage{});
  EXPECT_EQ(early->sink.error(), "update sent before map_request");

  auto a = join("a", alice_key_);
  send(*a, map_request(*a));
  EXPECT_TRUE(a->sink.closed);
  EXPECT_NE(a->sink.error().find("map_request sent twice"), std::string::npos);

  FakeSink relay;
  auto relay_session = core_->open_session(public_key(relay_key_), relay);
  core_->on_message(relay_session, encode(ClientMessage(RelaySubscribeMessage{})));
  RegisterMessage r;
  r.hostname = "x";
  core_->on_message(relay_session, encode(ClientMessage(r)));
  EXPECT_TRUE(relay.closed);
  EXPECT_EQ(core_->counters().sessions_rejected, 3u);
  EXPECT_EQ(core_->counters().messages_malformed, 0u);
}

TEST_F(ControlCoreTest, IdleSessionIsClosed) {
  start();
  auto idle = machine("idle");
  advance(kIdleSessionTimeout - Duration::nanoseconds(1));
  EXPECT_FALSE(idle->sink.closed);
  advance(Duration::nanoseconds(1));
  EXPECT_TRUE(idle->sink.closed);
  EXPECT_EQ(core_->session_count(), 0u);
}

TEST_F(ControlCoreTest, SlowSinkIsClosedAndItsNodeStaysOnlineThroughTheGrace) {
  ControlCoreConfig config = default_config();
  config.max_session_backlog_bytes = 1000;
  start(config);
  auto a = join("a", alice_key_);
  auto b = join("b", alice_key_);
  window();
  b->sink.backlog = 1001;  // b stopped reading
  UpdateMessage u;
  u.endpoints = std::vector<Endpoint>{ep("192.0.2.1:1")};
  send(*a, u);
  window();
  EXPECT_TRUE(b->sink.closed);
  EXPECT_NE(b->sink.close_reason.find("too slow"), std::string::npos);
  EXPECT_EQ(core_->counters().sessions_too_slow, 1u);
  EXPECT_EQ(core_->counters().sessions_rejected, 1u);
  EXPECT_EQ(core_->session_count(), 1u);
  // It reconnects and starts over with a full map.
  reconnect(*b);
  EXPECT_TRUE(b->sink.last_map().full);
  EXPECT_EQ(b->sink.last_map().peers.at(0).endpoints, *u.endpoints);
}

TEST_F(ControlCoreTest, StartRejectsANonPositiveKeepalive) {
  ControlCoreConfig config = default_config();
  config.keepalive_interval = Duration::zero();
  registry_ = std::make_unique<Registry>(env_, store_, RegistryConfig());
  ASSERT_TRUE(registry_->load().ok());
  ControlCore core(env_, *registry_, config);
  EXPECT_FALSE(core.start().ok());
}

}  // namespace
}  // namespace warren::control
