#include "nodes/control/store_records.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warren::control {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

PublicKey key_of(uint8_t n) {
  PublicKey k;
  k.bytes.fill(n);
  return k;
}

Node sample_node() {
  Node n;
  n.id = 12;
  n.name = "laptop-2";
  n.hostname = "Laptop.local";
  n.user = 3;
  n.tags = {"tag:a", "tag:b"};
  n.machine_key = key_of(1);
  n.node_key = key_of(2);
  n.disco_key = key_of(3);
  n.ipv4 = *IpAddress::parse("100.64.0.12");
  n.ipv6 = *IpAddress::parse("fd7a:115c:a1e0::c");
  n.ephemeral = true;
  n.auth_key = 4;
  n.created_unix_ns = 1767225600000000001;
  n.expiry_unix_ns = 1767225601000000000;
  n.last_seen_unix_ns = 1767225602000000000;
  n.advertised_routes = {*Prefix::parse("0.0.0.0/0"), *Prefix::parse("10.0.0.0/24")};
  n.approved_routes = {*Prefix::parse("10.0.0.0/24")};
  return n;
}

Bytes text_bytes(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

// A node record with one field replaced, or removed.
Bytes node_with(const char* field, json value) {
  StoreRecord r = node_record(sample_node());
  json j = json::parse(r.value.begin(), r.value.end());
  j[field] = std::move(value);
  return text_bytes(j.dump());
}
Bytes node_without(const char* field) {
  StoreRecord r = node_record(sample_node());
  json j = json::parse(r.value.begin(), r.value.end());
  j.erase(field);
  return text_bytes(j.dump());
}

TEST(StoreRecords, NodeRoundTrips) {
  Node n = sample_node();
  StoreRecord r = node_record(n);
  EXPECT_EQ(r.table, "nodes");
  EXPECT_EQ(r.key, "12");
  auto back = decode_node(r.key, r.value);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(node_record(*back).value, r.value);
  EXPECT_EQ(back->ipv6, n.ipv6);
  EXPECT_EQ(back->expiry_unix_ns, n.expiry_unix_ns);
  json j = json::parse(r.value.begin(), r.value.end());
  EXPECT_EQ(j["v"], 1);
}

TEST(StoreRecords, UserAndKeyRoundTrip) {
  User u{7, "alice", 123};
  auto user = decode_user("7", user_record(u).value);
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->name, "alice");
  EXPECT_EQ(user->created_unix_ns, 123);

  AuthKey k;
  k.id = 9;
  k.prefix = "wk-0123456789ab";
  k.secret_hash.fill(0xab);
  k.user = 7;
  k.reusable = true;
  k.used = true;
  k.expires_unix_ns = 55;
  k.tags = {"tag:x"};
  StoreRecord r = auth_key_record(k);
  EXPECT_THAT(std::string(r.value.begin(), r.value.end()), HasSubstr("\"hash\":\"abababab"));
  auto key = decode_auth_key("9", r.value);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->secret_hash, k.secret_hash);
  EXPECT_TRUE(key->reusable);
  EXPECT_FALSE(key->revoked);
  EXPECT_EQ(key->tags, k.tags);
}

TEST(StoreRecords, MetaRecordsRoundTrip) {
  IdCounters c{4, 5, 6};
  auto counters = decode_counters(counters_record(c).value);
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ(counters->next_node, 6u);
  AllocatorCursors cursors{IpAddress::parse("100.64.0.9").value(), std::nullopt};
  auto back = decode_allocator(allocator_record(cursors).value);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ipv4_last->to_string(), "100.64.0.9");
  EXPECT_FALSE(back->ipv6_last.has_value());
  auto policy = decode_policy(policy_record("{\"acls\": []}\n").value);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(*policy, "{\"acls\": []}\n");
}

TEST(StoreRecords, CorruptRecordsNameTableKeyAndField) {
  struct Case {
    Bytes value;
    std::string message;
  };
  std::vector<Case> cases = {
      {text_bytes("not json"), "nodes/12: not valid JSON"},
      {text_bytes("[1]"), "nodes/12: expected a JSON object"},
      {node_with("ipv4", 5), "nodes/12: field \"ipv4\": expected a string, got a number"},
      {node_with("ipv4", "fd00::1"), "nodes/12: field \"ipv4\": fd00::1 is not an ipv4 address"},
      {node_without("ipv6"), "nodes/12: field \"ipv6\": missing"},
      {node_with("node_key", "short"), "nodes/12: field \"node_key\""},
      {node_with("id", 13), "nodes/12: field \"id\": 13 does not match the record key"},
      {node_with("id", 0), "nodes/12: field \"id\": 0 is not a valid id"},
      {node_with("created", 1.5), "nodes/12: field \"created\": expected an integer"},
      {node_with("user", -1), "nodes/12: field \"user\": expected a non-negative integer"},
      {node_with("name", "Bad Name"), "nodes/12: field \"name\": invalid node name"},
      {node_with("tags", json::array({"nope"})), "nodes/12: field \"tags\": invalid tag"},
      {node_with("approved_routes", json::array({"192.168.0.0/16"})),
       "nodes/12: field \"approved_routes\": 192.168.0.0/16 is approved but not advertised"},
      {node_with("advertised_routes", json::array({"10.0.0.1/24"})),
       "nodes/12: field \"advertised_routes\": 10.0.0.1/24 has host bits set"},
      {node_with("v", 2), "nodes/12: record format 2 was written by a newer warren"},
      {node_with("v", 0), "nodes/12: field \"v\": record format 0 does not exist"},
      {node_with("v", "1"), "nodes/12: field \"v\": missing or not an integer"},
  };
  for (const Case& c : cases) {
    auto n = decode_node("12", c.value);
    ASSERT_FALSE(n.ok()) << c.message;
    EXPECT_THAT(n.error().message, HasSubstr(c.message));
  }
}

TEST(StoreRecords, CorruptUsersAndKeysAreRefused) {
  auto user = decode_user("1", user_record(User{1, "Not Valid", 0}).value);
  ASSERT_FALSE(user.ok());
  EXPECT_THAT(user.error().message, HasSubstr("users/1: field \"name\": invalid user name"));
  AuthKey k;
  k.id = 2;
  k.user = 1;
  k.prefix = "tskey-1";
  auto key = decode_auth_key("2", auth_key_record(k).value);
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.error().message, HasSubstr("auth_keys/2: field \"prefix\""));
  k.prefix = "wk-0123456789ab";
  StoreRecord r = auth_key_record(k);
  json j = json::parse(r.value.begin(), r.value.end());
  j["hash"] = "zz";
  auto bad_hash = decode_auth_key("2", text_bytes(j.dump()));
  ASSERT_FALSE(bad_hash.ok());
  EXPECT_THAT(bad_hash.error().message, HasSubstr("auth_keys/2: field \"hash\": expected 64"));
}

TEST(StoreRecords, OversizedRecordsAreRefused) {
  Bytes huge(kMaxRecordBytes + 1, ' ');
  auto u = decode_user("1", huge);
  ASSERT_FALSE(u.ok());
  EXPECT_THAT(u.error().message, HasSubstr("users/1: record of"));
}

TEST(StoreRecords, MigrationAcceptsCurrentAndRefusesNewer) {
  bool migrated = true;
  auto same = migrate_record("users", "users/1", json{{"v", 1}, {"id", 1}}, &migrated);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(migrated);
  auto newer = migrate_record("users", "users/1", json{{"v", 9}});
  ASSERT_FALSE(newer.ok());
  EXPECT_THAT(newer.error().message, HasSubstr("run the newer version"));
}

TEST(StoreRecords, DecodeStoreSortsRecordsIntoTablesAndSkipsUnknownOnes) {
  Node n = sample_node();
  std::vector<StoreRecord> records = {
      user_record(User{3, "alice", 1}),
      node_record(n),
      counters_record(IdCounters{4, 1, 13}),
      policy_record("{}"),
      StoreRecord{"meta", "server_key", text_bytes("whatever")},
      StoreRecord{"future_table", "x", text_bytes("{}")},
  };
  auto state = decode_store(records);
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->users.size(), 1u);
  EXPECT_EQ(state->nodes.size(), 1u);
  EXPECT_EQ(state->counters->next_node, 13u);
  EXPECT_EQ(*state->policy_text, "{}");
  EXPECT_FALSE(state->cursors.ipv4_last.has_value());

  records.push_back(StoreRecord{"users", "4", text_bytes("{\"v\":1}")});
  auto bad = decode_store(records);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("users/4: field \"id\": missing"));
}

TEST(StoreRecords, InvalidUtf8NeverThrowsOnEncode) {
  Node n = sample_node();
  n.hostname = "bad\xff\xfe";
  StoreRecord r = node_record(n);
  auto back = decode_node(r.key, r.value);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_NE(back->hostname, n.hostname);  // replaced, not thrown
}

}  // namespace
}  // namespace warren::control
