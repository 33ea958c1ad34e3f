// How the Registry's state sits in a DurableStore: one versioned JSON record per object.
//
//   table       key          value
//   users       "<id>"       {"v":1, "id", "name", "created"}
//   auth_keys   "<id>"       {"v":1, "id", "prefix", "hash" (64 hex), "user", "reusable",
//                             "ephemeral", "used", "revoked", "created", "expires", "tags"[]}
//   nodes       "<id>"       {"v":1, "id", "name", "hostname", "user", "tags"[], "machine_key",
//                             "node_key", "disco_key" (base64), "ipv4", "ipv6", "ephemeral",
//                             "auth_key", "created", "expiry", "last_seen",
//                             "advertised_routes"[], "approved_routes"[]}
//   meta        "counters"   {"v":1, "next_user_id", "next_auth_key_id", "next_node_id"}
//   meta        "allocator"  {"v":1, "ipv4_last", "ipv6_last"}  the allocation cursors
//   meta        "policy"     {"v":1, "text"}                    absent = allow all
// Times are Unix nanoseconds (0 = never / not yet). Keys are decimal ids.
//
// Decoding treats the bytes as untrusted (a corrupt or hand-edited database): every error names
// the table, key and field ("nodes/12: field \"ipv4\": ..."). Tables and meta keys this build
// does not know are skipped, so the store can hold other things. A record's "v" selects the
// format: older versions are brought up to kRecordFormatVersion by migrate_record(), newer
// ones are refused (the database was written by a newer warren).
// Cross-record rules (unknown users, duplicate addresses) are the Registry's load() checks.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/control/model.h"
#include "nodes/net/durable_store.h"

namespace warren::control {

constexpr int kRecordFormatVersion = 1;
// A policy is at most 1 MiB (the admin message limit); nothing else comes near this.
constexpr size_t kMaxRecordBytes = 4u << 20;

extern const char kUsersTable[];
extern const char kAuthKeysTable[];
extern const char kNodesTable[];
extern const char kMetaTable[];
extern const char kCountersKey[];
extern const char kAllocatorKey[];
extern const char kPolicyKey[];

struct IdCounters {
  UserId next_user = 1;
  AuthKeyId next_auth_key = 1;
  NodeId next_node = 1;
};

struct AllocatorCursors {
  std::optional<IpAddress> ipv4_last;
  std::optional<IpAddress> ipv6_last;
};

// Everything a store holds for the Registry, in key order (not yet cross-checked).
struct StoredState {
  std::vector<User> users;
  std::vector<AuthKey> auth_keys;
  std::vector<Node> nodes;
  std::optional<IdCounters> counters;
  AllocatorCursors cursors;
  std::optional<std::string> policy_text;
};

std::string record_key(uint64_t id);

StoreRecord user_record(const User& user);
StoreRecord auth_key_record(const AuthKey& key);
StoreRecord node_record(const Node& node);
StoreRecord counters_record(const IdCounters& counters);
StoreRecord allocator_record(const AllocatorCursors& cursors);
StoreRecord policy_record(const std::string& text);

Result<User> decode_user(const std::string& key, ByteView value);
Result<AuthKey> decode_auth_key(const std::string& key, ByteView value);
Result<Node> decode_node(const std::string& key, ByteView value);
Result<IdCounters> decode_counters(ByteView value);
Result<AllocatorCursors> decode_allocator(ByteView value);
Result<std::string> decode_policy(ByteView value);

// The migration hook: brings `record` (of version record["v"]) up to kRecordFormatVersion,
// one version step at a time. `where` is "table/key" for messages. Version 1 is the first
// format, so today there are no steps; a future v2 adds its v1 -> v2 step here.
Result<nlohmann::json> migrate_record(const std::string& table, const std::string& where,
                                      nlohmann::json record, bool* migrated = nullptr);

Result<StoredState> decode_store(const std::vector<StoreRecord>& records);

}  // namespace warren::control
