#include "nodes/client/net_map.h"

#include <gtest/gtest.h>

namespace warren {
namespace {

using control::MapMessage;
using control::PeerNode;
using control::PeerPatch;

PeerNode peer(control::NodeId id, const std::string& name) {
  PeerNode n;
  n.id = id;
  n.name = name;
  n.user = "alice";
  n.ipv4 = IpAddress::v4(100, 64, 0, static_cast<uint8_t>(id));
  std::array<uint8_t, 16> v6{0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0};
  v6[15] = static_cast<uint8_t>(id);
  n.ipv6 = IpAddress::v6(v6);
  n.node_key.bytes[0] = static_cast<uint8_t>(id);
  return n;
}

MapMessage full_map(uint64_t seq, std::vector<PeerNode> peers) {
  MapMessage m;
  m.seq = seq;
  m.full = true;
  m.self = peer(100, "self");
  m.peers = std::move(peers);
  return m;
}

MapMessage delta(uint64_t seq) {
  MapMessage m;
  m.seq = seq;
  return m;
}

control::FilterRule accept_all() {
  control::FilterRule rule;
  rule.any_source = true;
  rule.destinations.push_back({*Prefix::parse("0.0.0.0/0"), {}});
  return rule;
}

TEST(NetMapTest, FullMapReplacesEverything) {
  NetMap map;
  MapMessage first = full_map(1, {peer(1, "a"), peer(2, "b")});
  first.packet_filter = control::PacketFilter{accept_all()};
  ASSERT_TRUE(map.apply(first).ok());
  EXPECT_TRUE(map.has_full_map());
  EXPECT_EQ(map.peers().size(), 2u);
  EXPECT_EQ(map.packet_filter().size(), 1u);

  ASSERT_TRUE(map.apply(full_map(2, {peer(3, "c")})).ok());
  ASSERT_EQ(map.peers().size(), 1u);
  EXPECT_NE(map.find_peer(3), nullptr);
  EXPECT_EQ(map.find_peer(1), nullptr);
  EXPECT_TRUE(map.packet_filter().empty()) << "a full map without a filter carries none";
  ASSERT_TRUE(map.self().has_value());
  EXPECT_EQ(map.self()->name, "self");
  EXPECT_EQ(map.seq(), 2u);
}

TEST(NetMapTest, DeltaBeforeFullMapIsRejected) {
  NetMap map;
  MapMessage d = delta(1);
  d.peers_changed.push_back(peer(1, "a"));
  Status s = map.apply(d);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("before any full map"), std::string::npos);
  EXPECT_TRUE(map.peers().empty());
  EXPECT_EQ(map.counters().rejected, 1u);
}

TEST(NetMapTest, OutOfOrderSeqIsRejectedAndLeavesTheMapUnchanged) {
  NetMap map;
  ASSERT_TRUE(map.apply(full_map(5, {peer(1, "a")})).ok());
  MapMessage stale = delta(5);
  stale.peers_removed.push_back(1);
  Status s = map.apply(stale);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("out of order"), std::string::npos);
  EXPECT_NE(map.find_peer(1), nullptr);
  EXPECT_EQ(map.seq(), 5u);

  MapMessage older = delta(3);
  EXPECT_FALSE(map.apply(older).ok());
  EXPECT_EQ(map.counters().rejected, 2u);
  EXPECT_TRUE(map.apply(delta(6)).ok());
}

TEST(NetMapTest, DeltaAddsChangesAndRemovesPeers) {
  NetMap map;
  ASSERT_TRUE(map.apply(full_map(1, {peer(1, "a"), peer(2, "b")})).ok());
  MapMessage d = delta(2);
  PeerNode renamed = peer(2, "b-renamed");
  d.peers_changed = {renamed, peer(3, "c")};
  d.peers_removed = {1};
  ASSERT_TRUE(map.apply(d).ok());
  EXPECT_EQ(map.find_peer(1), nullptr);
  ASSERT_NE(map.find_peer(2), nullptr);
  EXPECT_EQ(map.find_peer(2)->name, "b-renamed");
  EXPECT_NE(map.find_peer(3), nullptr);
  EXPECT_EQ(map.counters().deltas, 1u);
}

TEST(NetMapTest, RemovalThenChangeOfTheSamePeerKeepsIt) {
  // Removals apply before changes: a node deleted and re-added within one batch stays.
  NetMap map;
  ASSERT_TRUE(map.apply(full_map(1, {peer(1, "a")})).ok());
  MapMessage d = delta(2);
  d.peers_removed = {1};
  d.peers_changed = {peer(1, "a-again")};
  ASSERT_TRUE(map.apply(d).ok());
  ASSERT_NE(map.find_peer(1), nullptr);
  EXPECT_EQ(map.find_peer(1)->name, "a-again");
}

TEST(NetMapTest, PatchesUpdateOnlyTheFieldsTheyCarry) {
  NetMap map;
  PeerNode a = peer(1, "a");
  a.home_relay = 7;
  a.endpoints = {*Endpoint::parse("192.0.2.1:41641")};
  ASSERT_TRUE(map.apply(full_map(1, {a})).ok());
  MapMessage d = delta(2);
  PeerPatch patch;
  patch.id = 1;
  patch.online = true;
  patch.endpoints = std::vector<Endpoint>{*Endpoint::parse("198.51.100.2:1234"),
                                          *Endpoint::parse("[2001:db8::2]:1234")};
  patch.last_seen_unix_s = 1767225600;
  d.peer_patches.push_back(patch);
  ASSERT_TRUE(map.apply(d).ok());
  const PeerNode* p = map.find_peer(1);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->online);
  EXPECT_EQ(p->endpoints.size(), 2u);
  EXPECT_EQ(p->home_relay, 7) << "absent field = unchanged";
  EXPECT_EQ(p->last_seen_unix_s, 1767225600);
}

TEST(NetMapTest, PatchOrRemovalOfAnUnknownPeerIsCountedAndIgnored) {
  NetMap map;
  ASSERT_TRUE(map.apply(full_map(1, {peer(1, "a")})).ok());
  MapMessage d = delta(2);
  PeerPatch patch;
  patch.id = 99;
  patch.online = true;
  d.peer_patches.push_back(patch);
  d.peers_removed.push_back(98);
  ASSERT_TRUE(map.apply(d).ok());
  EXPECT_EQ(map.peers().size(), 1u);
  EXPECT_EQ(map.find_peer(99), nullptr) << "a patch never creates a peer";
  EXPECT_EQ(map.counters().unknown_peer_patches, 1u);
  EXPECT_EQ(map.counters().unknown_peer_removals, 1u);
}

TEST(NetMapTest, DeltaReplacesSelfRelayMapAndFilterOnlyWhenPresent) {
  NetMap map;
  MapMessage first = full_map(1, {});
  control::RelayMap relays;
  relays.regions.push_back({1, "home", "Home", {}});
  first.relay_map = relays;
  first.packet_filter = control::PacketFilter{accept_all()};
  ASSERT_TRUE(map.apply(first).ok());

  ASSERT_TRUE(map.apply(delta(2)).ok());
  EXPECT_EQ(map.relay_map().regions.size(), 1u);
  EXPECT_EQ(map.packet_filter().size(), 1u);

  MapMessage d = delta(3);
  d.packet_filter = control::PacketFilter{};  // present and empty: blocks everything
  d.self = peer(100, "self-renamed");
  ASSERT_TRUE(map.apply(d).ok());
  EXPECT_TRUE(map.packet_filter().empty());
  EXPECT_EQ(map.self()->name, "self-renamed");
  EXPECT_EQ(map.relay_map().regions.size(), 1u);
}

TEST(NetMapTest, ResetRequiresANewFullMapAndKeepsCounters) {
  NetMap map;
  ASSERT_TRUE(map.apply(full_map(9, {peer(1, "a")})).ok());
  map.reset();
  EXPECT_FALSE(map.has_full_map());
  EXPECT_TRUE(map.peers().empty());
  EXPECT_FALSE(map.apply(delta(10)).ok());
  // A new stream may start from any seq.
  EXPECT_TRUE(map.apply(full_map(1, {})).ok());
  EXPECT_EQ(map.counters().full_maps, 2u);
}

TEST(NetMapTest, SummaryListsPeersInIdOrderWithAddresses) {
  NetMap map;
  PeerNode b = peer(2, "b");
  b.online = true;
  b.routes = {*Prefix::parse("192.168.1.0/24")};
  ASSERT_TRUE(map.apply(full_map(1, {b, peer(1, "a")})).ok());
  nlohmann::json s = map.summary();
  ASSERT_EQ(s["peers"].size(), 2u);
  EXPECT_EQ(s["peers"][0]["id"], 1);
  EXPECT_EQ(s["peers"][1]["name"], "b");
  EXPECT_EQ(s["peers"][1]["addresses"][0], "100.64.0.2");
  EXPECT_EQ(s["peers"][1]["addresses"][1], "fd7a:115c:a1e0::2");
  EXPECT_EQ(s["peers"][1]["online"], true);
  EXPECT_EQ(s["peers"][1]["routes"][0], "192.168.1.0/24");
  EXPECT_EQ(s["self"]["name"], "self");
  EXPECT_EQ(s["seq"], 1);
  EXPECT_TRUE(s["packet_filter"].is_array());
}

}  // namespace
}  // namespace warren
