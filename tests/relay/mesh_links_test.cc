// Relays of one region meshed together (MeshLinks inside RelayServer), with real RelayClients
// as nodes, on the in-memory network.
#include "nodes/relay/mesh_links.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/common/relay_client.h"
#include "nodes/relay/relay_server.h"
#include "tests/relay/raw_relay_client.h"
#include "tests/support/memory_network.h"

namespace warren::relay {
namespace {

IpAddress ip(const char* text) {
  return IpAddress::parse(text).value();
}

// One relay: its host, admission (admitting every node the test creates) and server.
struct TestRelay {
  TestRelay(MemoryWorld& world, const std::string& name, const char* address, uint64_t seed)
      : host(world.add_host(name, {ip(address)})),
        rng(seed, name),
        env{world.clock(), host, rng, Logger()},
        key(generate_private_key(rng)),
        endpoint(ip(address), 443) {}

  void admit(const std::vector<PublicKey>& keys) {
    control::RelayKeysMessage m;
    m.seq = ++seq;
    m.full = true;
    m.keys = keys;
    std::sort(m.keys.begin(), m.keys.end());
    EXPECT_TRUE(admission.apply(m).ok());
  }
  RelayServer& start(std::optional<MeshKey> mesh_key, std::vector<MeshPeerConfig> peers) {
    RelayServerOptions o;
    o.listen = endpoint;
    o.mesh_key = mesh_key;
    o.mesh_peers = std::move(peers);
    server = std::make_unique<RelayServer>(env, key, admission, o);
    Status started = server->start();
    EXPECT_TRUE(started.ok()) << started.error().message;
    return *server;
  }
  MeshPeerConfig as_peer(bool pin_key) const {
    MeshPeerConfig p;
    p.endpoint = endpoint;
    p.host = endpoint.to_string();
    if (pin_key) p.key = public_key(key);
    return p;
  }

  MemoryHost& host;
  SeededRng rng;
  Env env;
  PrivateKey key;
  Endpoint endpoint;
  Admission admission{Admission::Mode::waiting};
  uint64_t seq = 0;
  std::unique_ptr<RelayServer> server;
};

// A node: a real RelayClient that records what arrives.
struct TestNode {
  TestNode(Env& env, PrivateKey k, const TestRelay& relay) : key(public_key(k)) {
    RelayClientOptions o;
    o.server = relay.endpoint;
    o.host = relay.endpoint.to_string();
    o.key = k;
    o.server_key = public_key(relay.key);
    o.backoff_max = Duration::seconds(2);
    RelayClient::Callbacks cb;
    cb.on_packet = [this](const PublicKey& src, ByteView p) {
      packets.emplace_back(src, std::string(p.as_string()));
    };
    cb.on_peer_gone = [this](const PeerGone& g) { gone.push_back(g); };
    client = std::make_unique<RelayClient>(env, o, cb);
    client->start();
  }
  bool send(const PublicKey& dst, const std::string& packet) {
    return client->send_packet(dst, ByteView(std::string_view(packet)));
  }

  PublicKey key;
  std::unique_ptr<RelayClient> client;
  std::vector<std::pair<PublicKey, std::string>> packets;
  std::vector<PeerGone> gone;
};

class MeshLinksTest : public ::testing::Test {
 protected:
  MeshLinksTest() {
    node_a_key_ = generate_private_key(rng_);
    node_b_key_ = generate_private_key(rng_);
    for (TestRelay* r : {&r1_, &r2_, &r3_}) {
      r->admit({public_key(node_a_key_), public_key(node_b_key_)});
    }
  }
  ~MeshLinksTest() override {
    a_.reset();
    b_.reset();
  }

  // r1 and r2 meshed; each lists both (itself included, as a shared config file would).
  void mesh_r1_r2(bool pin_keys) {
    const std::vector<MeshPeerConfig> peers = {r1_.as_peer(pin_keys), r2_.as_peer(pin_keys)};
    r1_.start(mesh_key_, peers);
    r2_.start(mesh_key_, peers);
    ASSERT_TRUE(world_.run_until(
        [&] { return r1_.server->mesh_links_up() == 1 && r2_.server->mesh_links_up() == 1; },
        Duration::seconds(10)));
  }
  void connect_nodes() {
    a_ = std::make_unique<TestNode>(client_env_, node_a_key_, r1_);
    b_ = std::make_unique<TestNode>(client_env_, node_b_key_, r2_);
    ASSERT_TRUE(world_.run_until(
        [&] {
          return a_->client->connected() && b_->client->connected() &&
                 r1_.server->mesh_routes() == 1 && r2_.server->mesh_routes() == 1;
        },
        Duration::seconds(10)));
  }

  MemoryWorld world_{Duration::milliseconds(1)};
  TestRelay r1_{world_, "relay1", "192.0.2.1", 1};
  TestRelay r2_{world_, "relay2", "192.0.2.2", 2};
  TestRelay r3_{world_, "relay3", "192.0.2.3", 3};
  MemoryHost& client_host_ = world_.add_host("nodes", {ip("198.51.100.2")});
  SeededRng rng_{5, "mesh-links-test"};
  Env client_env_{world_.clock(), client_host_, rng_, Logger()};
  MeshKey mesh_key_{Key32{1, 2, 3}};
  PrivateKey node_a_key_, node_b_key_;
  std::unique_ptr<TestNode> a_, b_;
};

TEST_F(MeshLinksTest, ForwardsOneHopBetweenMeshedRelaysAndSkipsItself) {
  mesh_r1_r2(/*pin_keys=*/false);  // keys fetched from GET /key: self found by key
  connect_nodes();
  // Each relay connected to the other only, never to itself.
  EXPECT_EQ(r1_.server->counters().mesh_clients_admitted, 1u);
  EXPECT_EQ(r2_.server->counters().mesh_clients_admitted, 1u);

  ASSERT_TRUE(a_->send(b_->key, "across the region"));
  ASSERT_TRUE(world_.run_until([&] { return b_->packets.size() == 1; }, Duration::seconds(2)));
  EXPECT_EQ(b_->packets[0].first, a_->key);
  EXPECT_EQ(b_->packets[0].second, "across the region");
  ASSERT_TRUE(b_->send(a_->key, "and back"));
  ASSERT_TRUE(world_.run_until([&] { return a_->packets.size() == 1; }, Duration::seconds(2)));
  EXPECT_EQ(a_->packets[0].first, b_->key);

  EXPECT_EQ(r1_.server->counters().packets_meshed, 1u);
  EXPECT_EQ(r1_.server->counters().packets_from_mesh, 1u);
  EXPECT_EQ(r2_.server->counters().packets_meshed, 1u);
  EXPECT_EQ(r2_.server->counters().packets_from_mesh, 1u);
}

TEST_F(MeshLinksTest, ANodeLeavingTheRegionIsReportedAcrossTheMesh) {
  mesh_r1_r2(/*pin_keys=*/true);
  connect_nodes();
  ASSERT_TRUE(a_->send(b_->key, "hello"));
  ASSERT_TRUE(world_.run_until([&] { return b_->packets.size() == 1; }, Duration::seconds(2)));
  a_.reset();  // a leaves r1, hence the region
  ASSERT_TRUE(world_.run_until([&] { return !b_->gone.empty(); }, Duration::seconds(2)));
  EXPECT_EQ(b_->gone[0].key, public_key(node_a_key_));
  EXPECT_EQ(b_->gone[0].reason, PeerGoneReason::disconnected);
  EXPECT_TRUE(
      world_.run_until([&] { return r2_.server->mesh_routes() == 0; }, Duration::seconds(2)));
}

TEST_F(MeshLinksTest, AForwardedPacketIsNeverForwardedAgain) {
  mesh_r1_r2(/*pin_keys=*/true);
  connect_nodes();
  // r2 has a route to a (on r1). A mesh peer of r2 forwards a packet for a to r2: r2 must
  // deliver locally or drop, never pass it on to r1.
  const PrivateKey other_relay = generate_private_key(rng_);
  std::optional<Result<std::unique_ptr<SecureChannel>>> opened;
  auto pending = open_channel(
      client_env_, r2_.endpoint, "relay2", other_relay, public_key(r2_.key),
      [&](Result<std::unique_ptr<SecureChannel>> r) { opened.emplace(std::move(r)); },
      testing::relay_channel_options());
  ASSERT_TRUE(world_.run_until([&] { return opened.has_value(); }, Duration::seconds(5)));
  ASSERT_TRUE(opened->ok());
  testing::RawRelayClient peer(std::move(opened->value()), public_key(other_relay));
  ClientHello hello;
  hello.mesh_proof = mesh_client_proof(mesh_key_, public_key(other_relay), public_key(r2_.key));
  ASSERT_TRUE(peer.send(hello).ok());
  ASSERT_TRUE(
      world_.run_until([&] { return peer.count<ServerHello>() == 1; }, Duration::seconds(2)));
  const std::string payload = "no second hop";
  ASSERT_TRUE(peer.send(ForwardPacket{public_key(other_relay), a_->key,
                                      ByteView(std::string_view(payload))})
                  .ok());
  ASSERT_TRUE(
      world_.run_until([&] { return r2_.server->counters().dropped_unknown_dest_on_forward == 1; },
                       Duration::seconds(2)));
  world_.run_for(Duration::milliseconds(100));
  EXPECT_EQ(r2_.server->counters().packets_meshed, 0u);
  EXPECT_EQ(r1_.server->counters().packets_from_mesh, 0u);
  EXPECT_TRUE(a_->packets.empty());
}

TEST_F(MeshLinksTest, AWrongMeshKeyIsRefusedAndNotRetried) {
  r1_.start(mesh_key_, {r1_.as_peer(true)});
  r3_.start(MeshKey(Key32{9, 9, 9}), {r1_.as_peer(true)});
  world_.run_for(Duration::seconds(30));
  EXPECT_EQ(r3_.server->mesh_links_up(), 0u);
  EXPECT_EQ(r1_.server->counters().refused_bad_mesh_key, 1u);  // fatal: no retry loop
  EXPECT_EQ(r1_.server->counters().mesh_clients_admitted, 0u);
}

TEST_F(MeshLinksTest, ALinkThatDropsForgetsItsRoutesAndComesBack) {
  mesh_r1_r2(/*pin_keys=*/true);
  connect_nodes();
  EXPECT_EQ(r1_.server->mesh_routes(), 1u);

  // r2 goes away: r1 forgets b.
  r2_.server.reset();
  ASSERT_TRUE(world_.run_until(
      [&] { return r1_.server->mesh_links_up() == 0 && r1_.server->mesh_routes() == 0; },
      Duration::seconds(2)));
  ASSERT_TRUE(a_->send(b_->key, "into the void"));
  ASSERT_TRUE(world_.run_until([&] { return r1_.server->counters().dropped_unknown_dest == 1; },
                               Duration::seconds(2)));
  EXPECT_EQ(r1_.server->counters().dropped_mesh_send, 0u);

  // r2 comes back (same key and port); the link and b reconnect, and b is reachable again.
  r2_.start(mesh_key_, {r1_.as_peer(true), r2_.as_peer(true)});
  ASSERT_TRUE(world_.run_until(
      [&] {
        return r1_.server->mesh_links_up() == 1 && r1_.server->mesh_routes() == 1 &&
               b_->client->connected();
      },
      Duration::seconds(30)));
  ASSERT_TRUE(a_->send(b_->key, "found you"));
  ASSERT_TRUE(world_.run_until([&] { return b_->packets.size() == 1; }, Duration::seconds(2)));
  EXPECT_EQ(b_->packets[0].second, "found you");
}

TEST_F(MeshLinksTest, APeerListingOnlyOurselvesMakesNoLink) {
  r1_.start(mesh_key_, {r1_.as_peer(true)});
  world_.run_for(Duration::seconds(5));
  EXPECT_EQ(r1_.server->mesh_links_up(), 0u);
  EXPECT_EQ(r1_.server->counters().channels_accepted, 0u);
}

}  // namespace
}  // namespace warren::relay
