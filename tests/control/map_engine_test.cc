#include "nodes/control/map_engine.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/manual_clock.h"

namespace warren::control {
namespace {

constexpr Duration kWindow = Duration::milliseconds(250);

PublicKey key(uint8_t a, uint8_t b = 0) {
  PublicKey k;
  k.bytes.fill(a);
  k.bytes[0] = b;
  return k;
}

Node make_node(NodeId id, UserId user = 1, std::vector<std::string> tags = {}) {
  Node n;
  n.id = id;
  n.name = "node-" + std::to_string(id);
  n.hostname = n.name;
  n.user = user;
  n.tags = std::move(tags);
  n.machine_key = key(static_cast<uint8_t>(id), 1);
  n.node_key = key(static_cast<uint8_t>(id), 2);
  n.disco_key = key(static_cast<uint8_t>(id), 3);
  n.ipv4 = IpAddress::v4(100, 64, 0, static_cast<uint8_t>(id));
  n.ipv6 = *IpAddress::parse("fd7a:115c:a1e0::" + std::to_string(id));
  return n;
}

Policy policy(const std::string& text) {
  auto p = parse_policy(text);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? *p : allow_all_policy();
}

// alice's nodes see each other; bob's nodes see nobody; tag:shared is seen by everyone.
const char* kAliceOnly = R"({"tagOwners": {"tag:shared": ["alice"]},
  "acls": [{"action": "accept", "src": ["alice"], "dst": ["alice:*"]},
           {"action": "accept", "src": ["*"], "dst": ["tag:shared:*"]}]})";

// Decodes everything it is sent, so a test reads messages as a client would.
class FakeOutput final : public MapOutput {
 public:
  void send(MapSessionId id, ByteView message) override {
    auto decoded = decode_server_message(message);
    EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().message) << "\n"
                              << message.as_string();
    if (decoded.ok()) received[id].push_back(*decoded);
    if (close_on_send.count(id) && engine) engine->close_session(id);
    if (auto it = close_other_on_send.find(id); it != close_other_on_send.end() && engine) {
      engine->close_session(it->second);
    }
  }
  void end_session(MapSessionId id, const std::string& error) override { ended[id] = error; }

  std::vector<MapMessage> maps(MapSessionId id) const {
    std::vector<MapMessage> out;
    auto it = received.find(id);
    if (it == received.end()) return out;
    for (const ServerMessage& m : it->second) {
      if (auto* map = std::get_if<MapMessage>(&m)) out.push_back(*map);
    }
    return out;
  }
  MapMessage last(MapSessionId id) const {
    auto m = maps(id);
    return m.empty() ? MapMessage{} : m.back();
  }
  std::vector<RelayKeysMessage> relay(MapSessionId id) const {
    std::vector<RelayKeysMessage> out;
    auto it = received.find(id);
    if (it == received.end()) return out;
    for (const ServerMessage& m : it->second) {
      if (auto* keys = std::get_if<RelayKeysMessage>(&m)) out.push_back(*keys);
    }
    return out;
  }
  size_t count(MapSessionId id) const {
    auto it = received.find(id);
    return it == received.end() ? 0 : it->second.size();
  }

  std::map<MapSessionId, std::vector<ServerMessage>> received;
  std::map<MapSessionId, std::string> ended;
  std::set<MapSessionId> close_on_send;
  std::map<MapSessionId, MapSessionId> close_other_on_send;  // sending to key closes value
  MapEngine* engine = nullptr;
};

class MapEngineTest : public ::testing::Test {
 protected:
  explicit MapEngineTest(Policy p = allow_all_policy())
      : engine_(clock_, out_, kWindow, relay_map(), std::move(p)) {
    out_.engine = &engine_;
  }

  static RelayMap relay_map() {
    RelayMap map;
    RelayRegion region;
    region.id = 1;
    region.code = "home";
    region.name = "Home";
    Relay relay;
    relay.name = "r1";
    relay.host = "relay.example";
    relay.key = key(200);
    region.relays.push_back(relay);
    map.regions.push_back(region);
    return map;
  }

  const std::string& user(UserId id) {
    static const std::string kAlice = "alice";
    static const std::string kBob = "bob";
    return id == 1 ? kAlice : kBob;
  }
  void add(const Node& n, bool expired = false) {
    nodes_[n.id] = n;
    engine_.upsert_node(n, user(n.user), expired);
  }
  // Session id = node id * 10, so tests read easily.
  MapSessionId connect(NodeId id) {
    MapSessionId sid = id * 10;
    engine_.open_map_session(sid, id);
    return sid;
  }
  void endpoints(NodeId id, std::vector<Endpoint> e) {
    LiveUpdate u;
    u.endpoints = std::move(e);
    engine_.update_live(id, u);
  }
  void window() { clock_.advance(kWindow); }
  static std::vector<NodeId> ids(const std::vector<PeerNode>& nodes) {
    std::vector<NodeId> out;
    for (const PeerNode& n : nodes) out.push_back(n.id);
    return out;
  }

  ManualClock clock_;
  FakeOutput out_;
  MapEngine engine_;
  std::map<NodeId, Node> nodes_;
};

class MapEngineAliceOnlyTest : public MapEngineTest {
 protected:
  MapEngineAliceOnlyTest() : MapEngineTest(policy(kAliceOnly)) {}
};

Endpoint ep(const char* text) {
  return *Endpoint::parse(text);
}

// --- full map ------------------------------------------------------------------------------

TEST_F(MapEngineTest, FullMapOnConnectCarriesSelfPeersRelayMapAndFilter) {
  for (NodeId id : {3, 1, 2}) add(make_node(id));
  Node expired = make_node(4);
  add(expired, /*expired=*/true);
  endpoints(2, {ep("192.0.2.2:41641")});
  connect(1);
  auto maps = out_.maps(10);
  ASSERT_EQ(maps.size(), 1u);  // at once, not after the window
  const MapMessage& m = maps.at(0);
  EXPECT_TRUE(m.full);
  EXPECT_EQ(m.seq, 1u);
  ASSERT_TRUE(m.self.has_value());
  EXPECT_EQ(m.self->id, 1u);
  EXPECT_EQ(m.self->user, "alice");
  EXPECT_EQ(ids(m.peers), (std::vector<NodeId>{2, 3}));  // ascending; not self, not expired
  EXPECT_EQ(m.peers.at(0).endpoints, std::vector<Endpoint>{ep("192.0.2.2:41641")});
  EXPECT_EQ(m.peers.at(0).node_key, make_node(2).node_key);
  ASSERT_TRUE(m.relay_map.has_value());
  ASSERT_EQ(m.relay_map->regions.size(), 1u);
  EXPECT_EQ(m.relay_map->regions.at(0).relays.at(0).key, key(200));
  ASSERT_TRUE(m.packet_filter.has_value());
  EXPECT_FALSE(m.packet_filter->empty());  // allow-all accepts everything
  window();
  EXPECT_EQ(out_.count(10), 1u);  // nothing owed after the full map
}

TEST_F(MapEngineAliceOnlyTest, FullMapHoldsOnlyVisiblePeers) {
  add(make_node(1, 1));
  add(make_node(2, 1));
  add(make_node(3, 2));
  add(make_node(4, 2, {"tag:shared"}));
  connect(1);
  connect(3);
  EXPECT_EQ(ids(out_.maps(10).at(0).peers), (std::vector<NodeId>{2, 4}));
  EXPECT_EQ(ids(out_.maps(30).at(0).peers), (std::vector<NodeId>{4}));
}

// --- patches and batching ------------------------------------------------------------------

TEST_F(MapEngineAliceOnlyTest, EndpointChangeReachesExactlyTheVisiblePeersWithinOneWindow) {
  add(make_node(1, 1));
  add(make_node(2, 1));
  add(make_node(3, 2));
  add(make_node(4, 2, {"tag:shared"}));
  for (NodeId id : {1, 2, 3, 4}) connect(id);
  endpoints(1, {ep("203.0.113.1:41641")});
  clock_.advance(kWindow - Duration::nanoseconds(1));
  EXPECT_EQ(out_.count(20), 1u) << "batched: nothing before the window ends";
  clock_.advance(Duration::nanoseconds(1));
  for (MapSessionId sid : {20, 40}) {
    auto maps = out_.maps(sid);
    ASSERT_EQ(maps.size(), 2u) << sid;
    const MapMessage& d = maps[1];
    EXPECT_FALSE(d.full);
    EXPECT_EQ(d.seq, 2u);
    ASSERT_EQ(d.peer_patches.size(), 1u);
    const PeerPatch& p = d.peer_patches.at(0);
    EXPECT_EQ(p.id, 1u);
    EXPECT_EQ(p.endpoints, std::vector<Endpoint>{ep("203.0.113.1:41641")});
    EXPECT_FALSE(p.home_relay || p.online || p.last_seen_unix_s || p.disco_key);
    EXPECT_TRUE(d.peers_changed.empty() && d.peers_removed.empty() && !d.self);
  }
  EXPECT_EQ(out_.count(10), 1u) << "the node itself gets no patch of itself";
  EXPECT_EQ(out_.count(30), 1u) << "bob's node does not see alice's";
}

TEST_F(MapEngineTest, TenChangesInOneWindowAreOneMessageWithTheLatestValues) {
  for (NodeId id : {1, 2, 3}) add(make_node(id));
  for (NodeId id : {1, 2, 3}) connect(id);
  for (int i = 1; i <= 10; ++i) {
    endpoints(2, {Endpoint(IpAddress::v4(192, 0, 2, static_cast<uint8_t>(i)), 1000)});
  }
  LiveUpdate relay;
  relay.home_relay = 1;
  engine_.update_live(2, relay);
  endpoints(3, {ep("198.51.100.3:3")});
  window();
  auto maps = out_.maps(10);
  ASSERT_EQ(maps.size(), 2u);
  const MapMessage& d = maps[1];
  ASSERT_EQ(d.peer_patches.size(), 2u);
  EXPECT_EQ(d.peer_patches.at(0).id, 2u);
  EXPECT_EQ(d.peer_patches.at(0).endpoints,
            std::vector<Endpoint>{Endpoint(IpAddress::v4(192, 0, 2, 10), 1000)});
  EXPECT_EQ(d.peer_patches.at(0).home_relay, 1);
  EXPECT_EQ(d.peer_patches[1].id, 3u);
  EXPECT_EQ(engine_.stats().flushes, 1u);
}

TEST_F(MapEngineTest, EachChangedPeerIsEncodedOncePerFlush) {
  for (NodeId id = 1; id <= 6; ++id) add(make_node(id));
  for (NodeId id = 1; id <= 6; ++id) connect(id);
  const uint64_t patches_before = engine_.stats().patch_encodings;
  endpoints(1, {ep("192.0.2.1:1")});
  window();
  EXPECT_EQ(engine_.stats().patch_encodings - patches_before, 1u);  // five recipients
  for (NodeId id = 2; id <= 6; ++id) EXPECT_EQ(out_.count(id * 10), 2u);

  Node renamed = make_node(1);
  renamed.name = "renamed";
  const uint64_t nodes_before = engine_.stats().peer_encodings;
  add(renamed);
  window();
  EXPECT_EQ(engine_.stats().peer_encodings - nodes_before, 1u);
  EXPECT_EQ(out_.last(20).peers_changed.at(0).name, "renamed");
}

TEST_F(MapEngineTest, GoingOfflineCarriesLastSeenAndOnlineTogether) {
  Node a = make_node(1);
  a.last_seen_unix_ns = kSimulatedUnixEpochNs;
  add(a);
  add(make_node(2));
  LiveUpdate on;
  on.online = true;
  engine_.update_live(1, on);
  connect(2);
  EXPECT_TRUE(out_.maps(20).at(0).peers.at(0).online);
  LiveUpdate off;
  off.online = false;
  engine_.update_live(1, off);
  window();
  const PeerPatch p = out_.last(20).peer_patches.at(0);
  EXPECT_EQ(p.online, false);
  EXPECT_EQ(p.last_seen_unix_s, kSimulatedUnixEpochNs / 1'000'000'000);
}

TEST_F(MapEngineTest, LastSeenOfAnOnlineNodeIsNotPushed) {
  add(make_node(1));
  add(make_node(2));
  LiveUpdate on;
  on.online = true;
  engine_.update_live(1, on);
  connect(2);
  Node seen = make_node(1);
  seen.last_seen_unix_ns = kSimulatedUnixEpochNs + 5'000'000'000;
  add(seen);
  window();
  EXPECT_EQ(out_.count(20), 1u);
}

TEST_F(MapEngineTest, DiscoKeyChangeIsAPatch) {
  add(make_node(1));
  add(make_node(2));
  connect(2);
  Node n = make_node(1);
  n.disco_key = key(99);
  add(n);
  window();
  const MapMessage d = out_.last(20);
  ASSERT_EQ(d.peer_patches.size(), 1u);
  EXPECT_EQ(d.peer_patches.at(0).disco_key, key(99));
  EXPECT_TRUE(d.peers_changed.empty());
}

TEST_F(MapEngineTest, WholeNodeChangeGoesToPeersAndSelf) {
  add(make_node(1));
  add(make_node(2));
  connect(1);
  connect(2);
  Node routed = make_node(1);
  routed.advertised_routes = {*Prefix::parse("192.168.1.0/24")};
  routed.approved_routes = routed.advertised_routes;
  add(routed);
  window();
  const MapMessage peer_view = out_.last(20);
  ASSERT_EQ(peer_view.peers_changed.size(), 1u);
  EXPECT_EQ(peer_view.peers_changed.at(0).routes, routed.approved_routes);
  EXPECT_EQ(peer_view.peers_changed.at(0).allowed_ips().size(), 3u);
  const MapMessage self_view = out_.last(10);
  ASSERT_TRUE(self_view.self.has_value());
  EXPECT_EQ(self_view.self->routes, routed.approved_routes);
}

// --- removal, expiry, merge rules ----------------------------------------------------------

TEST_F(MapEngineTest, DeletedNodeVanishesFromEveryMapAndItsStreamEnds) {
  for (NodeId id : {1, 2, 3}) add(make_node(id));
  for (NodeId id : {1, 2, 3}) connect(id);
  engine_.remove_node(2, "node deleted");
  EXPECT_EQ(out_.ended.at(20), "node deleted");  // at once
  window();
  for (MapSessionId sid : {10, 30}) {
    EXPECT_EQ(out_.last(sid).peers_removed, std::vector<NodeId>{2}) << sid;
  }
  EXPECT_EQ(out_.count(20), 1u);  // only its full map; nothing after it ended
  EXPECT_FALSE(engine_.visible(2));
  EXPECT_EQ(engine_.map_session_count(), 2u);
}

TEST_F(MapEngineTest, ExpiredNodeVanishesAndItsStreamEnds) {
  for (NodeId id : {1, 2}) add(make_node(id));
  for (NodeId id : {1, 2}) connect(id);
  add(make_node(2), /*expired=*/true);
  EXPECT_NE(out_.ended.at(20).find("expired"), std::string::npos);
  window();
  EXPECT_EQ(out_.last(10).peers_removed, std::vector<NodeId>{2});
  EXPECT_TRUE(engine_.peer_node(2).has_value());  // still registered, just hidden
}

TEST_F(MapEngineTest, RemovedThenAddedInOneWindowIsAChange) {
  for (NodeId id : {1, 2}) add(make_node(id));
  connect(1);
  add(make_node(2), /*expired=*/true);
  Node back = make_node(2);
  back.name = "back";
  add(back);
  window();
  const MapMessage d = out_.last(10);
  EXPECT_TRUE(d.peers_removed.empty());
  ASSERT_EQ(d.peers_changed.size(), 1u);
  EXPECT_EQ(d.peers_changed.at(0).name, "back");
}

TEST_F(MapEngineTest, AddedThenRemovedInOneWindowSendsNothing) {
  add(make_node(1));
  connect(1);
  add(make_node(2));
  engine_.remove_node(2, "gone");
  window();
  EXPECT_EQ(out_.count(10), 1u);
}

TEST_F(MapEngineTest, NewNodeIsAddedToEveryPeer) {
  add(make_node(1));
  connect(1);
  add(make_node(2));
  window();
  EXPECT_EQ(ids(out_.last(10).peers_changed), std::vector<NodeId>{2});
}

TEST_F(MapEngineTest, ManyChangesCollapseIntoAFullMap) {
  add(make_node(1));
  connect(1);
  for (NodeId id = 2; id <= kMaxPendingPeers + 2; ++id) {
    Node n = make_node(id);
    n.ipv4 = IpAddress::v4(static_cast<uint32_t>(0x64400000u + id));
    add(n);
  }
  window();
  const MapMessage m = out_.last(10);
  EXPECT_TRUE(m.full);
  EXPECT_EQ(m.seq, 2u);
  EXPECT_EQ(m.peers.size(), kMaxPendingPeers + 1);
}

// --- visibility ----------------------------------------------------------------------------

TEST_F(MapEngineAliceOnlyTest, TagChangeMovesANodeBetweenPeerSets) {
  add(make_node(1, 1));
  add(make_node(2, 1));
  add(make_node(3, 2));
  for (NodeId id : {1, 2, 3}) connect(id);
  add(make_node(3, 2, {"tag:shared"}));  // bob's node becomes shared: seen by everyone
  window();
  EXPECT_EQ(ids(out_.last(10).peers_changed), std::vector<NodeId>{3});
  EXPECT_EQ(ids(out_.last(20).peers_changed), std::vector<NodeId>{3});
  const MapMessage own = out_.last(30);
  EXPECT_EQ(ids(own.peers_changed), (std::vector<NodeId>{1, 2}));
  ASSERT_TRUE(own.self.has_value());
  EXPECT_EQ(own.self->tags, std::vector<std::string>{"tag:shared"});

  add(make_node(3, 2));  // and back
  window();
  EXPECT_EQ(out_.last(10).peers_removed, std::vector<NodeId>{3});
  EXPECT_EQ(out_.last(30).peers_removed, (std::vector<NodeId>{1, 2}));
}

TEST_F(MapEngineAliceOnlyTest, PolicyChangeAddsAndRemovesPeersAndSendsNewFilters) {
  add(make_node(1, 1));
  add(make_node(2, 1));
  add(make_node(3, 2));
  for (NodeId id : {1, 2, 3}) connect(id);
  // Now alice's node 1 may reach bob's nodes, and alice's nodes no longer see each other.
  engine_.set_policy(
      policy(R"({"acls": [{"action": "accept", "src": ["bob"], "dst": ["alice:22"]}]})"));
  window();
  const MapMessage a1 = out_.last(10);
  EXPECT_EQ(ids(a1.peers_changed), std::vector<NodeId>{3});
  EXPECT_EQ(a1.peers_removed, std::vector<NodeId>{2});
  ASSERT_TRUE(a1.packet_filter.has_value());
  ASSERT_EQ(a1.packet_filter->size(), 1u);
  EXPECT_EQ(a1.packet_filter->at(0).destinations.at(0).ports.first, 22);
  const MapMessage b3 = out_.last(30);
  EXPECT_EQ(ids(b3.peers_changed), (std::vector<NodeId>{1, 2}));
  // Bob's node accepted nothing before and accepts nothing now: its filter is not resent.
  EXPECT_FALSE(b3.packet_filter.has_value());
}

TEST_F(MapEngineTest, UnchangedFilterIsNotResent) {
  add(make_node(1));
  add(make_node(2));
  connect(1);
  engine_.set_policy(allow_all_policy());
  window();
  EXPECT_EQ(out_.count(10), 1u);
}

TEST_F(MapEngineTest, ResetSendsFullMapsAndEndsStreamsOfVanishedNodes) {
  for (NodeId id : {1, 2}) add(make_node(id));
  for (NodeId id : {1, 2}) connect(id);
  Node one = make_node(1);
  std::vector<MapEngine::NodeInput> inputs = {{&one, "alice", false}};
  engine_.reset(inputs, allow_all_policy());
  EXPECT_EQ(out_.ended.count(20), 1u);
  window();
  const MapMessage m = out_.last(10);
  EXPECT_TRUE(m.full);
  EXPECT_TRUE(m.peers.empty());
}

// --- sessions ------------------------------------------------------------------------------

TEST_F(MapEngineTest, ANewerStreamOfTheSameNodeReplacesTheOlder) {
  add(make_node(1));
  engine_.open_map_session(10, 1);
  engine_.open_map_session(11, 1);
  EXPECT_NE(out_.ended.at(10).find("replaced"), std::string::npos);
  EXPECT_EQ(engine_.map_session_count(), 1u);
}

TEST_F(MapEngineTest, ASessionClosedWhileBeingSentDoesNotDisturbTheFlush) {
  for (NodeId id : {1, 2, 3}) add(make_node(id));
  for (NodeId id : {1, 2, 3}) connect(id);
  out_.close_on_send = {10, 20};
  endpoints(3, {ep("192.0.2.3:3")});
  window();
  EXPECT_EQ(out_.count(10), 2u);
  EXPECT_EQ(out_.count(20), 2u);
  EXPECT_EQ(engine_.map_session_count(), 1u);
  endpoints(3, {ep("192.0.2.3:4")});
  window();
  EXPECT_EQ(out_.count(10), 2u);
}

TEST_F(MapEngineTest, StreamsClosedWhileQueuedAreSkipped) {
  for (NodeId id : {1, 2, 3, 4}) add(make_node(id));
  for (NodeId id : {1, 2, 3, 4}) connect(id);
  endpoints(4, {ep("192.0.2.4:4")});      // queues 10, 20, 30 in that order
  engine_.close_session(20);              // before the flush
  out_.close_other_on_send = {{10, 30}};  // during the flush, before 30's turn
  window();
  EXPECT_EQ(out_.count(10), 2u);
  EXPECT_EQ(out_.count(20), 1u);
  EXPECT_EQ(out_.count(30), 1u);
  EXPECT_EQ(engine_.map_session_count(), 2u);
  // The node of a closed stream connects again: a fresh stream, nothing stale.
  out_.close_other_on_send.clear();
  engine_.open_map_session(31, 3);
  endpoints(4, {ep("192.0.2.4:5")});
  window();
  EXPECT_EQ(out_.count(31), 2u);
  EXPECT_EQ(out_.last(31).seq, 2u);
}

// --- relay feed ----------------------------------------------------------------------------

TEST_F(MapEngineTest, RelayFeedStartsFullThenBatchesDeltas) {
  add(make_node(2));
  add(make_node(1));
  add(make_node(3), /*expired=*/true);
  engine_.open_relay_session(500);
  auto feed = out_.relay(500);
  ASSERT_EQ(feed.size(), 1u);
  EXPECT_TRUE(feed.at(0).full);
  EXPECT_EQ(feed.at(0).keys,
            (std::vector<PublicKey>{make_node(1).node_key, make_node(2).node_key}));

  add(make_node(4));
  engine_.remove_node(1, "deleted");
  Node rotated = make_node(2);
  rotated.node_key = key(42, 2);
  add(rotated);
  window();
  feed = out_.relay(500);
  ASSERT_EQ(feed.size(), 2u);
  EXPECT_EQ(feed[1].seq, 2u);
  std::vector<PublicKey> added = {make_node(4).node_key, key(42, 2)};
  std::sort(added.begin(), added.end());
  EXPECT_EQ(feed[1].added, added);
  // Each removal says why: the relay logs it and tells the node it refuses.
  std::vector<RemovedRelayKey> removed = {
      {make_node(1).node_key, "node deleted"},
      {make_node(2).node_key, "node key replaced by a newer one"}};
  std::sort(removed.begin(), removed.end(),
            [](const RemovedRelayKey& a, const RemovedRelayKey& b) { return a.key < b.key; });
  EXPECT_EQ(feed[1].removed, removed);
}

TEST_F(MapEngineTest, ExpiredNodeKeyLeavesTheRelayFeedWithinOneWindow) {
  add(make_node(1));
  engine_.open_relay_session(500);
  add(make_node(1), /*expired=*/true);
  window();
  auto feed = out_.relay(500);
  ASSERT_EQ(feed.size(), 2u);
  EXPECT_EQ(feed[1].removed,
            (std::vector<RemovedRelayKey>{{make_node(1).node_key, "node key expired"}}));
  EXPECT_TRUE(feed[1].added.empty());
}

TEST_F(MapEngineTest, ExpiryThatAlsoChangesTheKeyRemovesTheKeyTheRelayHad) {
  add(make_node(1));
  engine_.open_relay_session(500);
  Node rekeyed = make_node(1);
  rekeyed.node_key = key(42, 1);
  add(rekeyed, /*expired=*/true);
  window();
  auto feed = out_.relay(500);
  ASSERT_EQ(feed.size(), 2u);
  EXPECT_EQ(feed[1].removed,
            (std::vector<RemovedRelayKey>{{make_node(1).node_key, "node key expired"}}));
  EXPECT_TRUE(feed[1].added.empty());
  // Shown again (re-registered) with the new key: only that key comes back.
  add(rekeyed);
  window();
  feed = out_.relay(500);
  ASSERT_EQ(feed.size(), 3u);
  EXPECT_EQ(feed[2].added, std::vector<PublicKey>{key(42, 1)});
  EXPECT_TRUE(feed[2].removed.empty());
}

TEST_F(MapEngineTest, KeyAddedAndRemovedInOneWindowNeverReachesTheRelay) {
  engine_.open_relay_session(500);
  add(make_node(1));
  engine_.remove_node(1, "deleted");
  window();
  EXPECT_EQ(out_.relay(500).size(), 1u);
}

}  // namespace
}  // namespace warren::control
