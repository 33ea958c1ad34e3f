#include "nodes/control/pending_delta.h"

#include <gtest/gtest.h>

namespace warren::control {
namespace {

using Kind = PendingMapDelta::Kind;

Kind kind_of(const PendingMapDelta& d, NodeId id) {
  const PendingMapDelta::Entry* e = d.find(id);
  EXPECT_NE(e, nullptr) << id;
  return e ? e->kind : Kind::added;
}

TEST(PendingMapDelta, AddedThenRemovedLeavesNothing) {
  PendingMapDelta d;
  d.peer_added(1);
  d.peer_patched(1, kPatchEndpoints);
  EXPECT_EQ(kind_of(d, 1), Kind::added);  // the whole node goes out anyway
  d.peer_removed(1);
  EXPECT_TRUE(d.empty());
}

TEST(PendingMapDelta, RemovedThenAddedIsAChange) {
  PendingMapDelta d;
  d.peer_removed(1);
  d.peer_added(1);
  EXPECT_EQ(kind_of(d, 1), Kind::changed);
  d.peer_removed(1);
  EXPECT_EQ(kind_of(d, 1), Kind::removed);
}

TEST(PendingMapDelta, PatchesMergeAndYieldToWholeNodes) {
  PendingMapDelta d;
  d.peer_patched(1, kPatchEndpoints);
  d.peer_patched(1, kPatchOnline);
  EXPECT_EQ(kind_of(d, 1), Kind::patched);
  EXPECT_EQ(d.find(1)->fields, kPatchEndpoints | kPatchOnline);
  d.peer_changed(1);
  EXPECT_EQ(kind_of(d, 1), Kind::changed);
  d.peer_patched(1, kPatchHomeRelay);
  EXPECT_EQ(kind_of(d, 1), Kind::changed);
  d.peer_patched(2, 0);
  EXPECT_EQ(d.find(2), nullptr);
}

TEST(PendingMapDelta, RemovedPeerIgnoresLaterChanges) {
  PendingMapDelta d;
  d.peer_removed(1);
  d.peer_changed(1);
  d.peer_patched(1, kPatchEndpoints);
  EXPECT_EQ(kind_of(d, 1), Kind::removed);
}

TEST(PendingMapDelta, GrowsIntoAFullMapAndStaysThere) {
  PendingMapDelta d;
  for (NodeId id = 1; id <= kMaxPendingPeers; ++id) d.peer_added(id);
  EXPECT_FALSE(d.full());
  d.peer_patched(kMaxPendingPeers + 1, kPatchEndpoints);
  EXPECT_TRUE(d.full());
  EXPECT_TRUE(d.peers().empty());
  d.peer_added(5);
  EXPECT_TRUE(d.peers().empty());
  d.clear();
  EXPECT_TRUE(d.empty());
}

TEST(PendingMapDelta, PeersStayInAscendingOrder) {
  PendingMapDelta d;
  for (NodeId id : {5, 1, 9, 3, 7}) d.peer_changed(id);
  d.peer_removed(3);
  d.peer_added(4);
  std::vector<NodeId> ids;
  for (const auto& e : d.peers()) ids.push_back(e.id);
  EXPECT_EQ(ids, (std::vector<NodeId>{1, 3, 4, 5, 7, 9}));
}

TEST(PendingMapDelta, FlagsMakeItNonEmpty) {
  PendingMapDelta d;
  d.filter_changed();
  EXPECT_FALSE(d.empty());
  d.clear();
  d.self_changed();
  EXPECT_TRUE(d.self());
  d.relay_map_changed();
  EXPECT_TRUE(d.relay_map());
}

TEST(PendingKeyDelta, AddAndRemoveCancel) {
  PublicKey a;
  a.bytes.fill(1);
  PublicKey b;
  b.bytes.fill(2);
  PendingKeyDelta d;
  d.key_added(a);
  d.key_removed(a, "node deleted");
  EXPECT_TRUE(d.empty());
  d.key_removed(b, "node key expired");
  d.key_added(b);
  EXPECT_TRUE(d.empty());
  d.key_added(a);
  d.key_removed(b, "node key expired");
  EXPECT_TRUE(d.keys().at(a).added);
  EXPECT_FALSE(d.keys().at(b).added);
  EXPECT_EQ(d.keys().at(b).reason, "node key expired");
}

TEST(PendingKeyDelta, GrowsIntoAFullSet) {
  PendingKeyDelta d;
  for (uint32_t i = 0; i <= kMaxPendingPeers; ++i) {
    PublicKey k;
    k.bytes[0] = static_cast<uint8_t>(i);
    k.bytes[1] = static_cast<uint8_t>(i >> 8);
    d.key_added(k);
  }
  EXPECT_TRUE(d.full());
  EXPECT_TRUE(d.keys().empty());
}

}  // namespace
}  // namespace warren::control
