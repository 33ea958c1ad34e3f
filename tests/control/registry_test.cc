#include "nodes/control/registry.h"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nodes/control/store_records.h"
#include "tests/control/registry_test_support.h"

namespace warren::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::RegistryHarness;
using ::testing::StartsWith;

Prefix P(const char* text) {
  return *Prefix::parse(text);
}

class RegistryTest : public ::testing::Test {
 protected:
  RegistryHarness h_;
  Registry& reg() { return h_.reg(); }
};

// --- users ---

TEST_F(RegistryTest, UsersAreValidatedAndUnique) {
  auto alice = h_.create_user("alice");
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(alice->id, 1u);
  EXPECT_EQ(alice->created_unix_ns, kSimulatedUnixEpochNs);
  EXPECT_THAT(h_.create_user("alice").error().message, HasSubstr("already exists"));
  EXPECT_THAT(h_.create_user("Bob").error().message, HasSubstr("invalid user name \"Bob\""));
  ASSERT_TRUE(h_.create_user("bob").ok());
  ASSERT_EQ(reg().users().size(), 2u);
  EXPECT_EQ(reg().users()[1].name, "bob");
}

TEST_F(RegistryTest, DeleteUserIsRefusedWhileItOwnsNodesOrUsableKeys) {
  std::string key = h_.alice_key();
  auto refused = h_.status([&](auto done) { reg().delete_user("alice", done); });
  EXPECT_THAT(refused.error().message, HasSubstr("still has usable auth key"));
  ASSERT_TRUE(h_.register_node(1, key, "laptop").ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().expire_auth_key(key, d); }).ok());
  refused = h_.status([&](auto done) { reg().delete_user("alice", done); });
  EXPECT_THAT(refused.error().message, HasSubstr("still owns 1 node(s), e.g. 1 (laptop)"));
  ASSERT_TRUE(h_.status([&](auto d) { reg().delete_node("laptop", d); }).ok());
  ASSERT_TRUE(h_.status([&](auto done) { reg().delete_user("alice", done); }).ok());
  EXPECT_THAT(reg().users(), IsEmpty());
  EXPECT_THAT(reg().auth_keys(), IsEmpty());  // the spent key went with her
  h_.restart();
  EXPECT_THAT(reg().users(), IsEmpty());
  EXPECT_THAT(h_.status([&](auto d) { reg().delete_user("nobody", d); }).error().message,
              HasSubstr("unknown user \"nobody\""));
}

// --- keys ---

TEST_F(RegistryTest, KeyCreationRules) {
  EXPECT_THAT(h_.create_key("nobody").error().message,
              HasSubstr("unknown user \"nobody\": create it first"));
  ASSERT_TRUE(h_.create_user("alice").ok());
  EXPECT_THAT(h_.create_key("alice", false, false, Duration::seconds(-1)).error().message,
              HasSubstr("must not be negative"));
  EXPECT_THAT(h_.create_key("alice", false, false, Duration::zero(), {"server"}).error().message,
              HasSubstr("invalid tag \"server\""));
  auto key = h_.create_key("alice", true, true, Duration::seconds(3600), {"tag:b", "tag:a"});
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->key.id, 1u);
  EXPECT_THAT(key->text, StartsWith(key->key.prefix + "-"));
  EXPECT_EQ(key->key.expires_unix_ns, kSimulatedUnixEpochNs + Duration::seconds(3600).ns());
  EXPECT_THAT(key->key.tags, ElementsAre("tag:a", "tag:b"));
  EXPECT_TRUE(key->key.reusable);
  EXPECT_TRUE(key->key.ephemeral);
}

TEST_F(RegistryTest, OnlyTheSecretsHashIsStored) {
  ASSERT_TRUE(h_.create_user("alice").ok());
  auto key = h_.create_key("alice");
  ASSERT_TRUE(key.ok());
  std::string secret = key->text.substr(key->key.prefix.size() + 1);
  ASSERT_EQ(secret.size(), 43u);
  for (const auto& [where, value] : h_.data().records) {
    std::string text(value.begin(), value.end());
    EXPECT_THAT(text, Not(HasSubstr(secret))) << where.first << "/" << where.second;
  }
  // The key still works after a restart: the hash is enough.
  h_.restart();
  EXPECT_TRUE(h_.register_node(1, key->text).ok());
}

TEST_F(RegistryTest, ExpireKeyAcceptsPrefixOrFullKeyAndRevokes) {
  ASSERT_TRUE(h_.create_user("alice").ok());
  auto a = h_.create_key("alice");
  auto b = h_.create_key("alice");
  ASSERT_TRUE(h_.status([&](auto d) { reg().expire_auth_key(a->key.prefix, d); }).ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().expire_auth_key(b->text, d); }).ok());
  EXPECT_TRUE(reg().auth_keys()[0].revoked);
  EXPECT_TRUE(reg().auth_keys()[1].revoked);
  ASSERT_TRUE(h_.status([&](auto d) { reg().expire_auth_key(a->key.prefix, d); }).ok());
  EXPECT_THAT(
      h_.status([&](auto d) { reg().expire_auth_key("wk-000000000000", d); }).error().message,
      HasSubstr("unknown auth key wk-000000000000"));
  EXPECT_THAT(h_.status([&](auto d) { reg().expire_auth_key("garbage", d); }).error().message,
              HasSubstr("unknown auth key: give its prefix"));
  // A full key with the right prefix but a wrong secret does not name that key.
  std::string forged = a->key.prefix + "-" + std::string(43, 'A');
  EXPECT_THAT(h_.status([&](auto d) { reg().expire_auth_key(forged, d); }).error().message,
              HasSubstr("unknown auth key"));
}

// --- registration: key rules ---

TEST_F(RegistryTest, NewMachineNeedsAKey) {
  auto r = h_.register_node(1, "");
  EXPECT_THAT(r.error().message, StartsWith("auth key required for a new machine"));
}

TEST_F(RegistryTest, UnknownOrMalformedKeysAreRefused) {
  std::string key = h_.alice_key();
  EXPECT_THAT(h_.register_node(1, "wk-000000000000-" + std::string(43, 'A')).error().message,
              StartsWith("unknown auth key"));
  std::string tampered = key;
  tampered.back() = tampered.back() == 'A' ? 'E' : 'A';
  EXPECT_THAT(h_.register_node(1, tampered).error().message, StartsWith("unknown auth key"));
  EXPECT_THAT(h_.register_node(1, "hello").error().message, StartsWith("unknown auth key"));
  EXPECT_THAT(reg().nodes(), IsEmpty());
}

TEST_F(RegistryTest, RevokedKeyIsRefused) {
  std::string key = h_.alice_key();
  ASSERT_TRUE(h_.status([&](auto d) { reg().expire_auth_key(key, d); }).ok());
  EXPECT_THAT(h_.register_node(1, key).error().message, StartsWith("auth key revoked"));
}

TEST_F(RegistryTest, ExpiredKeyIsRefused) {
  ASSERT_TRUE(h_.create_user("alice").ok());
  auto key = h_.create_key("alice", true, false, Duration::seconds(60));
  ASSERT_TRUE(h_.register_node(1, key->text).ok());
  h_.clock().advance(Duration::seconds(60));
  EXPECT_THAT(h_.register_node(2, key->text).error().message, StartsWith("auth key expired"));
}

TEST_F(RegistryTest, SingleUseKeyRegistersOneMachine) {
  ASSERT_TRUE(h_.create_user("alice").ok());
  auto key = h_.create_key("alice");
  EXPECT_FALSE(key->key.used);
  ASSERT_TRUE(h_.register_node(1, key->text).ok());
  EXPECT_TRUE(reg().auth_keys()[0].used);
  EXPECT_THAT(h_.register_node(2, key->text).error().message, StartsWith("auth key already used"));
  // The same machine retrying (its reply was lost) is not a second use.
  auto retry = h_.register_node(1, key->text);
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(retry->id, 1u);
  // Still used after a restart.
  h_.restart();
  EXPECT_THAT(h_.register_node(3, key->text).error().message, StartsWith("auth key already used"));
}

TEST_F(RegistryTest, ReusableKeyRegistersMany) {
  std::string key = h_.alice_key();
  for (uint32_t m = 1; m <= 5; ++m) ASSERT_TRUE(h_.register_node(m, key).ok());
  EXPECT_EQ(reg().nodes().size(), 5u);
}

TEST_F(RegistryTest, EphemeralAndTagsComeFromTheKey) {
  ASSERT_TRUE(h_.create_user("alice").ok());
  auto key = h_.create_key("alice", false, true, Duration::zero(), {"tag:ci"});
  auto n = h_.register_node(1, key->text, "runner");
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->ephemeral);
  EXPECT_THAT(n->tags, ElementsAre("tag:ci"));
  EXPECT_EQ(n->user, 1u);
  EXPECT_EQ(n->auth_key, key->key.id);
}

// --- registration: identity and addresses ---

TEST_F(RegistryTest, FirstNodeGetsTheFirstAddresses) {
  auto n = h_.register_node(1, h_.alice_key(), "laptop");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->id, 1u);
  EXPECT_EQ(n->name, "laptop");
  EXPECT_EQ(n->ipv4.to_string(), "100.64.0.1");
  EXPECT_EQ(n->ipv6.to_string(), "fd7a:115c:a1e0::1");
  EXPECT_EQ(n->expiry_unix_ns, 0);
  EXPECT_EQ(reg().find_node_by_machine_key(testing::machine_key(1))->id, 1u);
  EXPECT_EQ(reg().find_node_by_node_key(testing::node_key(1))->id, 1u);
}

TEST_F(RegistryTest, ReRegistrationKeepsIdAndAddresses) {
  std::string key = h_.alice_key();
  auto first = h_.register_node(1, key, "laptop");
  ASSERT_TRUE(h_.register_node(2, key, "desktop").ok());
  // Without a key, same node key.
  auto again = h_.register_node(1, "", "laptop");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(again->ipv4, first->ipv4);
  EXPECT_EQ(again->ipv6, first->ipv6);
  // With a new node key (rotation) and without an auth key.
  auto rotated = h_.register_node(1, "", "laptop", {}, /*node=*/100);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_EQ(rotated->id, first->id);
  EXPECT_EQ(rotated->ipv4, first->ipv4);
  EXPECT_EQ(rotated->node_key, testing::node_key(100));
  EXPECT_EQ(reg().find_node_by_node_key(testing::node_key(1)), nullptr);
  EXPECT_EQ(reg().find_node_by_node_key(testing::node_key(100))->id, first->id);
  EXPECT_EQ(reg().nodes().size(), 2u);
}

TEST_F(RegistryTest, ExpiredNodeNeedsAFreshKeyAndKeepsItsAddresses) {
  std::string key = h_.alice_key();
  auto first = h_.register_node(1, key, "laptop");
  ASSERT_TRUE(h_.status([&](auto d) { reg().expire_node("laptop", d); }).ok());
  EXPECT_TRUE(reg().node_expired(*reg().find_node(first->id)));
  EXPECT_THAT(h_.register_node(1, "").error().message,
              StartsWith("node key expired; log in again with an auth key"));
  auto back = h_.register_node(1, key, "laptop", {}, /*node=*/7);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->id, first->id);
  EXPECT_EQ(back->ipv4, first->ipv4);
  EXPECT_EQ(back->ipv6, first->ipv6);
  EXPECT_EQ(back->name, "laptop");
  EXPECT_FALSE(reg().node_expired(*reg().find_node(first->id)));
}

TEST_F(RegistryTest, ExpiredNodeCannotReuseItsSpentSingleUseKey) {
  ASSERT_TRUE(h_.create_user("alice").ok());
  auto key = h_.create_key("alice");
  ASSERT_TRUE(h_.register_node(1, key->text).ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().expire_node("1", d); }).ok());
  EXPECT_THAT(h_.register_node(1, key->text).error().message, StartsWith("auth key already used"));
}

TEST_F(RegistryTest, NodeKeyExpiryFromConfig) {
  RegistryConfig config;
  config.node_key_expiry = Duration::seconds(3600);
  h_.start(config);
  auto n = h_.register_node(1, h_.alice_key());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->expiry_unix_ns, kSimulatedUnixEpochNs + Duration::seconds(3600).ns());
  EXPECT_FALSE(reg().node_expired(*reg().find_node(n->id)));
  h_.clock().advance(Duration::seconds(3600));
  EXPECT_TRUE(reg().node_expired(*reg().find_node(n->id)));
  EXPECT_THAT(h_.register_node(1, "").error().message, StartsWith("node key expired"));
}

TEST_F(RegistryTest, NodeKeyOfAnotherMachineIsRefused) {
  std::string key = h_.alice_key();
  ASSERT_TRUE(h_.register_node(1, key).ok());
  auto clash = h_.register_node(2, key, "other", {}, /*node=*/1);
  EXPECT_THAT(clash.error().message, StartsWith("node key already in use by another machine"));
  ASSERT_TRUE(h_.register_node(2, key, "other").ok());
  clash = h_.register_node(2, "", "other", {}, /*node=*/1);  // rotation onto a taken key
  EXPECT_THAT(clash.error().message, StartsWith("node key already in use by another machine"));
}

TEST_F(RegistryTest, RequestsWithoutKeysAreRefused) {
  RegisterRequest req;
  req.auth_key = h_.alice_key();
  req.node_key = testing::node_key(1);
  auto r = h_.wait<Node>([&](auto d) { reg().register_node(req, d); });
  EXPECT_THAT(r.error().message, HasSubstr("missing machine key"));
  req.machine_key = testing::machine_key(1);
  req.node_key = PublicKey{};
  r = h_.wait<Node>([&](auto d) { reg().register_node(req, d); });
  EXPECT_THAT(r.error().message, HasSubstr("missing node key"));
}

TEST_F(RegistryTest, NamesAreUniqueDnsLabels) {
  std::string key = h_.alice_key();
  EXPECT_EQ(h_.register_node(1, key, "Laptop.local")->name, "laptop");
  EXPECT_EQ(h_.register_node(2, key, "laptop")->name, "laptop-2");
  EXPECT_EQ(h_.register_node(3, key, "LAPTOP")->name, "laptop-3");
  EXPECT_EQ(h_.register_node(4, key, "")->name, "node");
  EXPECT_EQ(h_.register_node(5, key, "my box")->name, "my-box");
  EXPECT_THAT(h_.register_node(6, key, std::string(300, 'a')).error().message,
              HasSubstr("hostname longer than 255 bytes"));
  // The hostname is updated on re-registration; the name stays.
  auto renamed = h_.register_node(1, "", "workstation");
  EXPECT_EQ(renamed->name, "laptop");
  EXPECT_EQ(renamed->hostname, "workstation");
}

TEST_F(RegistryTest, AddressesSurviveARestart) {
  std::string key = h_.alice_key();
  std::vector<Node> before;
  for (uint32_t m = 1; m <= 3; ++m) before.push_back(*h_.register_node(m, key, "n"));
  h_.restart();
  ASSERT_EQ(reg().nodes().size(), 3u);
  for (const Node& b : before) {
    const Node* n = reg().find_node(b.id);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->ipv4, b.ipv4);
    EXPECT_EQ(n->ipv6, b.ipv6);
    EXPECT_EQ(n->name, b.name);
    EXPECT_EQ(n->machine_key, b.machine_key);
  }
  auto again = h_.register_node(2, "");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->id, before[1].id);
  EXPECT_EQ(again->ipv4, before[1].ipv4);
  auto fresh = h_.register_node(4, key);
  EXPECT_EQ(fresh->id, 4u);
  EXPECT_EQ(fresh->ipv4.to_string(), "100.64.0.4");
}

TEST_F(RegistryTest, AThousandRegistrationsGetUniqueAddresses) {
  std::string key = h_.alice_key();
  std::set<IpAddress> seen;
  std::set<std::string> names;
  for (uint32_t m = 1; m <= 1000; ++m) {
    auto n = h_.register_node(m, key, "client");
    ASSERT_TRUE(n.ok()) << n.error().message;
    ASSERT_TRUE(seen.insert(n->ipv4).second) << n->ipv4.to_string();
    ASSERT_TRUE(seen.insert(n->ipv6).second) << n->ipv6.to_string();
    ASSERT_TRUE(names.insert(n->name).second) << n->name;
  }
  h_.restart();
  EXPECT_EQ(reg().nodes().size(), 1000u);
}

TEST_F(RegistryTest, DeletingFreesNothingForReuse) {
  std::string key = h_.alice_key();
  auto a = h_.register_node(1, key, "a");
  auto b = h_.register_node(2, key, "b");
  ASSERT_TRUE(h_.status([&](auto d) { reg().delete_node("b", d); }).ok());
  auto c = h_.register_node(3, key, "c");
  EXPECT_EQ(c->id, 3u);
  EXPECT_NE(c->ipv4, b->ipv4);
  EXPECT_NE(c->ipv6, b->ipv6);
  // Across a restart too: the highest node goes, and neither its id nor address come back.
  ASSERT_TRUE(h_.status([&](auto d) { reg().delete_node(c->id, d); }).ok());
  h_.restart();
  auto d = h_.register_node(4, key, "d");
  EXPECT_EQ(d->id, 4u);
  EXPECT_EQ(d->ipv4.to_string(), "100.64.0.4");
  EXPECT_EQ(d->ipv6.to_string(), "fd7a:115c:a1e0::4");
  // The deleted machine is a new machine now: it needs a key.
  EXPECT_THAT(h_.register_node(2, "").error().message, StartsWith("auth key required"));
  EXPECT_EQ(reg().find_node(a->id)->ipv4, a->ipv4);
}

TEST_F(RegistryTest, ExhaustedPrefixIsAClearError) {
  RegistryConfig config;
  config.ipv4_prefix = P("100.64.0.0/30");
  h_.start(config);
  std::string key = h_.alice_key();
  ASSERT_TRUE(h_.register_node(1, key).ok());
  ASSERT_TRUE(h_.register_node(2, key).ok());
  auto full = h_.register_node(3, key);
  EXPECT_THAT(full.error().message, HasSubstr("no free ipv4 address left in 100.64.0.0/30"));
  EXPECT_EQ(reg().nodes().size(), 2u);
}

// --- durability ---

TEST_F(RegistryTest, ChangesAreAcknowledgedOnlyAfterTheCommit) {
  uint64_t commits = h_.data().commits;
  bool acked = false;
  reg().create_user("alice", [&](Result<User> r) {
    EXPECT_TRUE(r.ok());
    EXPECT_GT(h_.data().commits, commits);
    acked = true;
  });
  EXPECT_FALSE(acked);
  EXPECT_NE(reg().find_user(1), nullptr);  // applied in memory at once
  h_.run();
  EXPECT_TRUE(acked);
}

TEST_F(RegistryTest, CommitFailureRepliesErrorRollsBackAndResets) {
  std::string key = h_.alice_key();
  ASSERT_TRUE(h_.register_node(1, key, "laptop").ok());
  h_.observer().events.clear();
  h_.data().fail_next_commits = 1;
  auto r = h_.register_node(2, key, "desktop");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("could not store the change"));
  EXPECT_THAT(r.error().message, HasSubstr("simulated disk full"));
  EXPECT_THAT(h_.observer().kinds(), ElementsAre("created", "reset"));
  EXPECT_EQ(reg().nodes().size(), 1u);
  EXPECT_EQ(reg().find_node_by_machine_key(testing::machine_key(2)), nullptr);
  // The next registration gets what the failed one would have had.
  auto again = h_.register_node(2, key, "desktop");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, 2u);
  EXPECT_EQ(again->ipv4.to_string(), "100.64.0.2");
  EXPECT_EQ(again->name, "desktop");
}

TEST_F(RegistryTest, ChangesQueuedBehindAFailedCommitFailToo) {
  h_.data().fail_next_commits = 1;
  std::optional<Result<User>> first;
  std::optional<Result<User>> second;
  reg().create_user("alice", [&](Result<User> r) { first.emplace(std::move(r)); });
  reg().create_user("bob", [&](Result<User> r) { second.emplace(std::move(r)); });
  h_.run();
  ASSERT_TRUE(first && second);
  EXPECT_THAT(first->error().message, HasSubstr("could not store the change"));
  EXPECT_THAT(second->error().message, HasSubstr("an earlier change could not be stored"));
  EXPECT_THAT(reg().users(), IsEmpty());
  h_.restart();
  EXPECT_THAT(reg().users(), IsEmpty());
}

TEST_F(RegistryTest, ChangesMadeDuringACommitGoOutTogether) {
  uint64_t commits = h_.data().commits;
  int acked = 0;
  for (const char* name : {"a1", "a2", "a3", "a4"}) {
    reg().create_user(name, [&](Result<User> r) { acked += r.ok(); });
  }
  h_.run();
  EXPECT_EQ(acked, 4);
  EXPECT_EQ(h_.data().commits - commits, 2u);  // the first alone, the rest as one batch
  h_.restart();
  EXPECT_EQ(reg().users().size(), 4u);
}

TEST_F(RegistryTest, NoOpChangesStillWaitForEarlierCommits) {
  ASSERT_TRUE(h_.register_node(1, h_.alice_key(), "laptop").ok());
  std::vector<std::string> order;
  reg().rename_node("laptop", "work", [&](const Status&) { order.push_back("rename"); });
  reg().rename_node("work", "work", [&](const Status&) { order.push_back("no-op"); });
  h_.run();
  EXPECT_THAT(order, ElementsAre("rename", "no-op"));
}

TEST_F(RegistryTest, CorruptStoreFailsToLoadNamingTheRecord) {
  ASSERT_TRUE(h_.register_node(1, h_.alice_key()).ok());
  h_.data().records[{"nodes", "1"}] = Bytes{'{', 'x'};
  Status s = h_.try_start(RegistryConfig());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("nodes/1: not valid JSON"));
}

TEST_F(RegistryTest, DuplicateAddressesAndUnknownUsersFailToLoad) {
  std::string key = h_.alice_key();
  auto a = h_.register_node(1, key);
  auto b = h_.register_node(2, key);
  auto good = h_.data().records;
  Node copy = *b;
  copy.ipv4 = a->ipv4;
  StoreRecord dup = node_record(copy);
  h_.data().records[{dup.table, dup.key}] = dup.value;
  Status s = h_.try_start(RegistryConfig());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("nodes/2: address 100.64.0.1 is also node 1's"));

  h_.data().records = good;
  copy = *b;
  copy.user = 99;
  StoreRecord orphan = node_record(copy);
  h_.data().records[{orphan.table, orphan.key}] = orphan.value;
  s = h_.try_start(RegistryConfig());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("nodes/2: unknown user 99"));
}

TEST_F(RegistryTest, ConfigPrefixesOfTheWrongFamilyFailToLoad) {
  RegistryConfig config;
  config.ipv4_prefix = P("fd00::/64");
  Status s = h_.try_start(config);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("is not an IPv4 prefix"));
}

// --- observer ---

TEST_F(RegistryTest, ObserverHearsOfEveryNodeChange) {
  std::string key = h_.alice_key();
  auto& events = h_.observer().events;
  events.clear();
  auto n = h_.register_node(1, key, "laptop");
  ASSERT_TRUE(h_.register_node(1, "", "laptop").ok());  // nothing changed: no call
  ASSERT_TRUE(h_.status([&](auto d) { reg().rename_node("laptop", "work", d); }).ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().set_last_seen(n->id, 5, d); }).ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().set_last_seen(n->id, 5, d); }).ok());  // same
  ASSERT_TRUE(
      h_.status([&](auto d) { reg().set_disco_key(n->id, testing::disco_key(9), d); }).ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().set_hostname(n->id, "box", d); }).ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().expire_node("work", d); }).ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().set_policy("{}", d); }).ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().delete_node("work", d); }).ok());
  EXPECT_THAT(h_.observer().kinds(), ElementsAre("created", "upserted", "upserted", "upserted",
                                                 "upserted", "upserted", "policy", "removed"));
  EXPECT_EQ(events.front().id, n->id);
  EXPECT_EQ(events.back().id, n->id);
}

TEST_F(RegistryTest, ObserverSeesTheChangeBeforeTheCommit) {
  struct Probe : RegistryObserver {
    MemoryStoreData* data = nullptr;
    uint64_t commits_seen = UINT64_MAX;
    void node_upserted(const Node&, bool) override { commits_seen = data->commits; }
    void node_removed(const Node&) override {}
    void policy_changed(const Policy&) override {}
    void reset() override {}
  } probe;
  std::string key = h_.alice_key();
  probe.data = &h_.data();
  reg().set_observer(&probe);
  uint64_t before = h_.data().commits;
  ASSERT_TRUE(h_.register_node(1, key).ok());
  EXPECT_EQ(probe.commits_seen, before);
  reg().set_observer(&h_.observer());
}

// --- lifecycle ---

TEST_F(RegistryTest, LastSeenIsStored) {
  auto n = h_.register_node(1, h_.alice_key());
  ASSERT_TRUE(h_.status([&](auto d) { reg().set_last_seen(n->id, 1234, d); }).ok());
  EXPECT_THAT(h_.status([&](auto d) { reg().set_last_seen(99, 1, d); }).error().message,
              HasSubstr("unknown node 99"));
  h_.restart();
  EXPECT_EQ(reg().find_node(n->id)->last_seen_unix_ns, 1234);
}

TEST_F(RegistryTest, RenameRulesAndCollisions) {
  std::string key = h_.alice_key();
  ASSERT_TRUE(h_.register_node(1, key, "laptop").ok());
  ASSERT_TRUE(h_.register_node(2, key, "desktop").ok());
  auto taken = h_.status([&](auto d) { reg().rename_node("laptop", "desktop", d); });
  EXPECT_THAT(taken.error().message, HasSubstr("name desktop is already used by node 2 (desktop)"));
  auto bad = h_.status([&](auto d) { reg().rename_node("laptop", "Big Box", d); });
  EXPECT_THAT(bad.error().message, HasSubstr("invalid node name \"Big Box\""));
  auto unknown = h_.status([&](auto d) { reg().rename_node("printer", "x", d); });
  EXPECT_THAT(unknown.error().message, HasSubstr("unknown node \"printer\""));
  ASSERT_TRUE(h_.status([&](auto d) { reg().rename_node("1", "work", d); }).ok());
  EXPECT_EQ(reg().find_node(1)->name, "work");
  EXPECT_EQ(*reg().resolve_node("work"), 1u);
  EXPECT_FALSE(reg().resolve_node("laptop").ok());
  // The freed name is available to the next node with that hostname.
  EXPECT_EQ(h_.register_node(3, key, "laptop")->name, "laptop");
  h_.restart();
  EXPECT_EQ(reg().find_node(1)->name, "work");
}

TEST_F(RegistryTest, NodeReferencesPreferIds) {
  std::string key = h_.alice_key();
  ASSERT_TRUE(h_.register_node(1, key, "a").ok());
  ASSERT_TRUE(h_.register_node(2, key, "1").ok());  // a node named "1"
  EXPECT_EQ(*reg().resolve_node("1"), 1u);
  EXPECT_EQ(*reg().resolve_node("2"), 2u);
  EXPECT_FALSE(reg().resolve_node("99999999999999999999999").ok());
  EXPECT_FALSE(reg().resolve_node("").ok());
}

// --- routes ---

TEST_F(RegistryTest, RoutesNeedApprovalOfAdvertisedPrefixes) {
  std::string key = h_.alice_key();
  auto n = h_.register_node(
      1, key, "router",
      {P("10.0.0.0/24"), P("0.0.0.0/0"), P("::/0"), P("2001:db8::/48"), P("10.0.0.0/24")});
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->advertised_routes.size(), 4u);
  EXPECT_THAT(n->approved_routes, IsEmpty());

  auto refused =
      h_.status([&](auto d) { reg().approve_routes("router", {P("192.168.0.0/16")}, d); });
  EXPECT_THAT(refused.error().message,
              HasSubstr("node 1 (router) does not advertise 192.168.0.0/16 (it advertises: "
                        "0.0.0.0/0, 10.0.0.0/24, ::/0, 2001:db8::/48)"));
  ASSERT_TRUE(h_.status([&](auto d) {
                  reg().approve_routes("router", {P("2001:db8::/48"), P("0.0.0.0/0")}, d);
                }).ok());
  EXPECT_EQ(reg().find_node(1)->approved_routes,
            (std::vector<Prefix>{P("0.0.0.0/0"), P("2001:db8::/48")}));

  // The node stops advertising the exit route: its approval goes; the other stays.
  ASSERT_TRUE(h_.status([&](auto d) {
                  reg().set_advertised_routes(1, {P("2001:db8::/48"), P("10.0.0.0/24")}, d);
                }).ok());
  EXPECT_EQ(reg().find_node(1)->approved_routes, (std::vector<Prefix>{P("2001:db8::/48")}));
  // Advertising it again does not bring the approval back.
  ASSERT_TRUE(h_.status([&](auto d) {
                  reg().set_advertised_routes(1, {P("0.0.0.0/0"), P("2001:db8::/48")}, d);
                }).ok());
  EXPECT_EQ(reg().find_node(1)->approved_routes, (std::vector<Prefix>{P("2001:db8::/48")}));
  h_.restart();
  EXPECT_EQ(reg().find_node(1)->approved_routes, (std::vector<Prefix>{P("2001:db8::/48")}));

  // Re-registration replaces the advertised set the same way.
  ASSERT_TRUE(h_.register_node(1, "", "router", {}).ok());
  EXPECT_THAT(reg().find_node(1)->approved_routes, IsEmpty());

  // An empty approval list withdraws everything.
  ASSERT_TRUE(
      h_.status([&](auto d) { reg().set_advertised_routes(1, {P("10.1.0.0/16")}, d); }).ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().approve_routes("1", {P("10.1.0.0/16")}, d); }).ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().approve_routes("1", {}, d); }).ok());
  EXPECT_THAT(reg().find_node(1)->approved_routes, IsEmpty());
}

TEST_F(RegistryTest, BadAdvertisedRoutesAreRefused) {
  auto n = h_.register_node(1, h_.alice_key(), "r", {P("::ffff:10.0.0.0/104")});
  EXPECT_THAT(n.error().message, HasSubstr("invalid advertised routes"));
  EXPECT_THAT(h_.status([&](auto d) { reg().set_advertised_routes(77, {}, d); }).error().message,
              HasSubstr("unknown node 77"));
}

// --- policy ---

TEST_F(RegistryTest, PolicyIsValidatedStoredAndABadOneKeepsTheOld) {
  EXPECT_TRUE(reg().policy().allow_all);
  const std::string good =
      "{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:22\"]}]}";
  ASSERT_TRUE(h_.status([&](auto d) { reg().set_policy(good, d); }).ok());
  EXPECT_FALSE(reg().policy().allow_all);
  EXPECT_EQ(reg().policy().text, good);
  auto bad =
      h_.status([&](auto d) { reg().set_policy("{\"acls\": [{\"action\": \"drop\"}]}", d); });
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message,
              HasSubstr("policy rejected, the old one stays in force: line 1"));
  EXPECT_EQ(reg().policy().text, good);
  h_.restart();
  EXPECT_EQ(reg().policy().text, good);
  EXPECT_EQ(reg().policy().rules.size(), 1u);
}

TEST_F(RegistryTest, UnknownNodesInAdminCallsAreErrors) {
  for (auto call : std::vector<std::function<void(Registry::Done)>>{
           [&](auto d) { reg().expire_node("ghost", d); },
           [&](auto d) { reg().delete_node("ghost", d); },
           [&](auto d) { reg().approve_routes("ghost", {}, d); },
       }) {
    EXPECT_THAT(h_.status(call).error().message, HasSubstr("unknown node \"ghost\""));
  }
  EXPECT_THAT(h_.status([&](auto d) { reg().delete_node(NodeId{5}, d); }).error().message,
              HasSubstr("unknown node 5"));
}

TEST_F(RegistryTest, IdsAreNeverReused) {
  ASSERT_TRUE(h_.create_user("a").ok());
  ASSERT_TRUE(h_.create_user("b").ok());
  ASSERT_TRUE(h_.status([&](auto d) { reg().delete_user("b", d); }).ok());
  h_.restart();
  EXPECT_EQ(h_.create_user("c")->id, 3u);
}

}  // namespace
}  // namespace warren::control
