#include "nodes/control/store_records.h"

#include <algorithm>
#include <cstring>

#include "nodes/common/json_checks.h"
#include "nodes/control/auth_key_text.h"
#include "nodes/control/registry_rules.h"

namespace warren::control {

const char kUsersTable[] = "users";
const char kAuthKeysTable[] = "auth_keys";
const char kNodesTable[] = "nodes";
const char kMetaTable[] = "meta";
const char kCountersKey[] = "counters";
const char kAllocatorKey[] = "allocator";
const char kPolicyKey[] = "policy";

namespace {

using nlohmann::json;

// Bounds on lists inside one record, so a corrupt record cannot make load() allocate wildly.
constexpr size_t kMaxListEntries = 4096;

Bytes to_bytes(const json& j) {
  // replace: a string that is not valid UTF-8 must not throw out of protocol code.
  std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return Bytes(text.begin(), text.end());
}

json string_array(const std::vector<std::string>& items) {
  json out = json::array();
  for (const auto& s : items) out.push_back(s);
  return out;
}

json prefix_array(const std::vector<Prefix>& items) {
  json out = json::array();
  for (const auto& p : items) out.push_back(p.to_string());
  return out;
}

std::string hex32(const Hash32& h) {
  return to_hex(ByteView(h.data(), h.size()));
}

// Reads the fields of one record; every error names "table/key" and the field.
class FieldReader {
 public:
  FieldReader(const json& object, std::string where) : o_(object), where_(std::move(where)) {}

  Error error(const char* field, const std::string& message) const {
    return make_error(where_ + ": field \"" + field + "\": " + message);
  }

  Result<const json*> get(const char* field) const {
    auto it = o_.find(field);
    if (it == o_.end()) return error(field, "missing");
    return &*it;
  }

  Result<uint64_t> u64(const char* field) const {
    auto v = get(field);
    if (!v) return v.error();
    const json& j = **v;
    if (j.is_number_unsigned()) return j.get<uint64_t>();
    if (j.is_number_integer() && j.get<int64_t>() >= 0)
      return static_cast<uint64_t>(j.get<int64_t>());
    return error(field, std::string("expected a non-negative integer, got ") + kind(j));
  }

  Result<uint64_t> id(const char* field) const {
    auto v = u64(field);
    if (v && *v == 0) return error(field, "0 is not a valid id");
    return v;
  }

  Result<int64_t> i64(const char* field) const {
    auto v = get(field);
    if (!v) return v.error();
    const json& j = **v;
    if (j.is_number_integer() && !j.is_number_unsigned()) return j.get<int64_t>();
    if (j.is_number_unsigned() && j.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
      return static_cast<int64_t>(j.get<uint64_t>());
    }
    return error(field, std::string("expected an integer (Unix nanoseconds), got ") + kind(j));
  }

  Result<bool> boolean(const char* field) const {
    auto v = get(field);
    if (!v) return v.error();
    if (!(*v)->is_boolean())
      return error(field, std::string("expected true or false, got ") + kind(**v));
    return (*v)->get<bool>();
  }

  Result<std::string> string(const char* field) const {
    auto v = get(field);
    if (!v) return v.error();
    if (!(*v)->is_string()) return error(field, std::string("expected a string, got ") + kind(**v));
    return (*v)->get<std::string>();
  }

  Result<std::vector<std::string>> strings(const char* field) const {
    auto v = get(field);
    if (!v) return v.error();
    const json& j = **v;
    if (!j.is_array()) return error(field, std::string("expected an array, got ") + kind(j));
    if (j.size() > kMaxListEntries) return error(field, "too many entries");
    std::vector<std::string> out;
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_string()) {
        return error(field,
                     "entry " + std::to_string(i) + ": expected a string, got " + kind(j[i]));
      }
      out.push_back(j[i].get<std::string>());
    }
    return out;
  }

  Result<std::vector<Prefix>> prefixes(const char* field) const {
    auto items = strings(field);
    if (!items) return items.error();
    std::vector<Prefix> out;
    for (const auto& s : *items) {
      auto p = Prefix::parse(s);
      if (!p) return error(field, p.error().message);
      out.push_back(*p);
    }
    return out;
  }

  Result<IpAddress> address(const char* field, Family family) const {
    auto s = string(field);
    if (!s) return s.error();
    auto a = IpAddress::parse(*s);
    if (!a) return error(field, a.error().message);
    if (a->family() != family) {
      return error(field, a->to_string() + " is not an " + to_string(family) + " address");
    }
    return *a;
  }

  Result<PublicKey> key(const char* field) const {
    auto s = string(field);
    if (!s) return s.error();
    auto k = public_key_from_base64(*s);
    if (!k) return error(field, k.error().message);
    return *k;
  }

  Result<Hash32> hash(const char* field) const {
    auto s = string(field);
    if (!s) return s.error();
    Hash32 h{};
    bool ok = s->size() == 2 * h.size();
    for (size_t i = 0; ok && i < h.size(); ++i) {
      int v = 0;
      for (int k = 0; k < 2; ++k) {
        char c = (*s)[2 * i + k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) ok = false;
        v = v * 16 + d;
      }
      if (ok) h[i] = static_cast<uint8_t>(v);
    }
    if (!ok) return error(field, "expected 64 lower-case hex digits");
    return h;
  }

 private:
  static const char* kind(const json& j) { return json_checks::type_name(j); }

  const json& o_;
  std::string where_;
};

// Unwraps a Result into `lhs` or returns its error from the enclosing function.
#define WARREN_RECORD_CONCAT_(a, b) a##b
#define WARREN_RECORD_CONCAT(a, b) WARREN_RECORD_CONCAT_(a, b)
#define WARREN_TRY_ASSIGN(lhs, expr)                       \
  auto WARREN_RECORD_CONCAT(field_, __LINE__) = (expr);    \
  if (!WARREN_RECORD_CONCAT(field_, __LINE__)) {           \
    return WARREN_RECORD_CONCAT(field_, __LINE__).error(); \
  }                                                        \
  lhs = std::move(*WARREN_RECORD_CONCAT(field_, __LINE__))

Result<json> parse_record(const std::string& table, const std::string& key, ByteView value) {
  std::string where = table + "/" + key;
  if (value.size() > kMaxRecordBytes) {
    return make_error(where + ": record of " + std::to_string(value.size()) +
                      " bytes is larger than any this server writes; the database is corrupt");
  }
  json j = json::parse(value.begin(), value.end(), nullptr, false);
  if (j.is_discarded()) return make_error(where + ": not valid JSON; the database is corrupt");
  if (!j.is_object())
    return make_error(where + ": expected a JSON object; the database is corrupt");
  return migrate_record(table, where, std::move(j));
}

Status check_id_matches_key(const std::string& where, const std::string& key, uint64_t id) {
  if (record_key(id) != key) {
    return make_error(where + ": field \"id\": " + std::to_string(id) +
                      " does not match the record key");
  }
  return Status::success();
}

}  // namespace

std::string record_key(uint64_t id) {
  return std::to_string(id);
}

StoreRecord user_record(const User& user) {
  json j = {{"v", kRecordFormatVersion},
            {"id", user.id},
            {"name", user.name},
            {"created", user.created_unix_ns}};
  return StoreRecord{kUsersTable, record_key(user.id), to_bytes(j)};
}

StoreRecord auth_key_record(const AuthKey& key) {
  json j = {{"v", kRecordFormatVersion},
            {"id", key.id},
            {"prefix", key.prefix},
            {"hash", hex32(key.secret_hash)},
            {"user", key.user},
            {"reusable", key.reusable},
            {"ephemeral", key.ephemeral},
            {"used", key.used},
            {"revoked", key.revoked},
            {"created", key.created_unix_ns},
            {"expires", key.expires_unix_ns},
            {"tags", string_array(key.tags)}};
  return StoreRecord{kAuthKeysTable, record_key(key.id), to_bytes(j)};
}

StoreRecord node_record(const Node& node) {
  json j = {{"v", kRecordFormatVersion},
            {"id", node.id},
            {"name", node.name},
            {"hostname", node.hostname},
            {"user", node.user},
            {"tags", string_array(node.tags)},
            {"machine_key", to_base64(node.machine_key)},
            {"node_key", to_base64(node.node_key)},
            {"disco_key", to_base64(node.disco_key)},
            {"ipv4", node.ipv4.to_string()},
            {"ipv6", node.ipv6.to_string()},
            {"ephemeral", node.ephemeral},
            {"auth_key", node.auth_key},
            {"created", node.created_unix_ns},
            {"expiry", node.expiry_unix_ns},
            {"last_seen", node.last_seen_unix_ns},
            {"advertised_routes", prefix_array(node.advertised_routes)},
            {"approved_routes", prefix_array(node.approved_routes)}};
  return StoreRecord{kNodesTable, record_key(node.id), to_bytes(j)};
}

StoreRecord counters_record(const IdCounters& c) {
  json j = {{"v", kRecordFormatVersion},
            {"next_user_id", c.next_user},
            {"next_auth_key_id", c.next_auth_key},
            {"next_node_id", c.next_node}};
  return StoreRecord{kMetaTable, kCountersKey, to_bytes(j)};
}

StoreRecord allocator_record(const AllocatorCursors& c) {
  json j = {{"v", kRecordFormatVersion}};
  if (c.ipv4_last) j["ipv4_last"] = c.ipv4_last->to_string();
  if (c.ipv6_last) j["ipv6_last"] = c.ipv6_last->to_string();
  return StoreRecord{kMetaTable, kAllocatorKey, to_bytes(j)};
}

StoreRecord policy_record(const std::string& text) {
  json j = {{"v", kRecordFormatVersion}, {"text", text}};
  return StoreRecord{kMetaTable, kPolicyKey, to_bytes(j)};
}

Result<json> migrate_record(const std::string& table, const std::string& where, json record,
                            bool* migrated) {
  (void)table;  // future steps may differ per table
  auto v = record.find("v");
  if (v == record.end() || !v->is_number_integer()) {
    return make_error(where + ": field \"v\": missing or not an integer; the database is corrupt");
  }
  int64_t version = v->get<int64_t>();
  if (version > kRecordFormatVersion) {
    return make_error(where + ": record format " + std::to_string(version) +
                      " was written by a newer warren (this one reads up to " +
                      std::to_string(kRecordFormatVersion) + "); run the newer version");
  }
  if (version < 1) {
    return make_error(where + ": field \"v\": record format " + std::to_string(version) +
                      " does not exist; the database is corrupt");
  }
  // Steps: `if (version == 1) { ...rewrite fields to v2...; version = 2; }` and so on.
  if (migrated) *migrated = version != kRecordFormatVersion;
  record["v"] = kRecordFormatVersion;
  return record;
}

Result<User> decode_user(const std::string& key, ByteView value) {
  auto parsed = parse_record(kUsersTable, key, value);
  if (!parsed) return parsed.error();
  std::string where = std::string(kUsersTable) + "/" + key;
  FieldReader r(*parsed, where);
  User u;
  WARREN_TRY_ASSIGN(u.id, r.id("id"));
  WARREN_TRY_ASSIGN(u.name, r.string("name"));
  WARREN_TRY_ASSIGN(u.created_unix_ns, r.i64("created"));
  Status s = check_id_matches_key(where, key, u.id);
  if (!s) return s.error();
  if (Status name = check_user_name(u.name); !name) return r.error("name", name.error().message);
  return u;
}

Result<AuthKey> decode_auth_key(const std::string& key, ByteView value) {
  auto parsed = parse_record(kAuthKeysTable, key, value);
  if (!parsed) return parsed.error();
  std::string where = std::string(kAuthKeysTable) + "/" + key;
  FieldReader r(*parsed, where);
  AuthKey k;
  WARREN_TRY_ASSIGN(k.id, r.id("id"));
  WARREN_TRY_ASSIGN(k.prefix, r.string("prefix"));
  WARREN_TRY_ASSIGN(k.secret_hash, r.hash("hash"));
  WARREN_TRY_ASSIGN(k.user, r.id("user"));
  WARREN_TRY_ASSIGN(k.reusable, r.boolean("reusable"));
  WARREN_TRY_ASSIGN(k.ephemeral, r.boolean("ephemeral"));
  WARREN_TRY_ASSIGN(k.used, r.boolean("used"));
  WARREN_TRY_ASSIGN(k.revoked, r.boolean("revoked"));
  WARREN_TRY_ASSIGN(k.created_unix_ns, r.i64("created"));
  WARREN_TRY_ASSIGN(k.expires_unix_ns, r.i64("expires"));
  WARREN_TRY_ASSIGN(k.tags, r.strings("tags"));
  Status s = check_id_matches_key(where, key, k.id);
  if (!s) return s.error();
  if (!is_auth_key_prefix(k.prefix)) {
    return r.error("prefix", "expected \"wk-\" and 12 lower-case hex digits");
  }
  auto tags = normalize_tags(k.tags);
  if (!tags) return r.error("tags", tags.error().message);
  k.tags = std::move(*tags);
  return k;
}

Result<Node> decode_node(const std::string& key, ByteView value) {
  auto parsed = parse_record(kNodesTable, key, value);
  if (!parsed) return parsed.error();
  std::string where = std::string(kNodesTable) + "/" + key;
  FieldReader r(*parsed, where);
  Node n;
  WARREN_TRY_ASSIGN(n.id, r.id("id"));
  WARREN_TRY_ASSIGN(n.name, r.string("name"));
  WARREN_TRY_ASSIGN(n.hostname, r.string("hostname"));
  WARREN_TRY_ASSIGN(n.user, r.id("user"));
  WARREN_TRY_ASSIGN(n.tags, r.strings("tags"));
  WARREN_TRY_ASSIGN(n.machine_key, r.key("machine_key"));
  WARREN_TRY_ASSIGN(n.node_key, r.key("node_key"));
  WARREN_TRY_ASSIGN(n.disco_key, r.key("disco_key"));
  WARREN_TRY_ASSIGN(n.ipv4, r.address("ipv4", Family::ipv4));
  WARREN_TRY_ASSIGN(n.ipv6, r.address("ipv6", Family::ipv6));
  WARREN_TRY_ASSIGN(n.ephemeral, r.boolean("ephemeral"));
  WARREN_TRY_ASSIGN(n.auth_key, r.u64("auth_key"));
  WARREN_TRY_ASSIGN(n.created_unix_ns, r.i64("created"));
  WARREN_TRY_ASSIGN(n.expiry_unix_ns, r.i64("expiry"));
  WARREN_TRY_ASSIGN(n.last_seen_unix_ns, r.i64("last_seen"));
  WARREN_TRY_ASSIGN(n.advertised_routes, r.prefixes("advertised_routes"));
  WARREN_TRY_ASSIGN(n.approved_routes, r.prefixes("approved_routes"));
  Status s = check_id_matches_key(where, key, n.id);
  if (!s) return s.error();
  if (Status name = check_node_name(n.name); !name) return r.error("name", name.error().message);
  auto tags = normalize_tags(n.tags);
  if (!tags) return r.error("tags", tags.error().message);
  n.tags = std::move(*tags);
  auto advertised = normalize_routes(n.advertised_routes);
  if (!advertised) return r.error("advertised_routes", advertised.error().message);
  n.advertised_routes = std::move(*advertised);
  auto approved = normalize_routes(n.approved_routes);
  if (!approved) return r.error("approved_routes", approved.error().message);
  n.approved_routes = std::move(*approved);
  for (const Prefix& p : n.approved_routes) {
    if (!std::binary_search(n.advertised_routes.begin(), n.advertised_routes.end(), p)) {
      return r.error("approved_routes", p.to_string() + " is approved but not advertised");
    }
  }
  return n;
}

Result<IdCounters> decode_counters(ByteView value) {
  auto parsed = parse_record(kMetaTable, kCountersKey, value);
  if (!parsed) return parsed.error();
  FieldReader r(*parsed, std::string(kMetaTable) + "/" + kCountersKey);
  IdCounters c;
  WARREN_TRY_ASSIGN(c.next_user, r.id("next_user_id"));
  WARREN_TRY_ASSIGN(c.next_auth_key, r.id("next_auth_key_id"));
  WARREN_TRY_ASSIGN(c.next_node, r.id("next_node_id"));
  return c;
}

Result<AllocatorCursors> decode_allocator(ByteView value) {
  auto parsed = parse_record(kMetaTable, kAllocatorKey, value);
  if (!parsed) return parsed.error();
  FieldReader r(*parsed, std::string(kMetaTable) + "/" + kAllocatorKey);
  AllocatorCursors c;
  if (parsed->contains("ipv4_last")) {
    WARREN_TRY_ASSIGN(c.ipv4_last, r.address("ipv4_last", Family::ipv4));
  }
  if (parsed->contains("ipv6_last")) {
    WARREN_TRY_ASSIGN(c.ipv6_last, r.address("ipv6_last", Family::ipv6));
  }
  return c;
}

Result<std::string> decode_policy(ByteView value) {
  auto parsed = parse_record(kMetaTable, kPolicyKey, value);
  if (!parsed) return parsed.error();
  FieldReader r(*parsed, std::string(kMetaTable) + "/" + kPolicyKey);
  return r.string("text");
}

Result<StoredState> decode_store(const std::vector<StoreRecord>& records) {
  StoredState out;
  for (const StoreRecord& rec : records) {
    ByteView value(rec.value);
    if (rec.table == kUsersTable) {
      auto u = decode_user(rec.key, value);
      if (!u) return u.error();
      out.users.push_back(std::move(*u));
    } else if (rec.table == kAuthKeysTable) {
      auto k = decode_auth_key(rec.key, value);
      if (!k) return k.error();
      out.auth_keys.push_back(std::move(*k));
    } else if (rec.table == kNodesTable) {
      auto n = decode_node(rec.key, value);
      if (!n) return n.error();
      out.nodes.push_back(std::move(*n));
    } else if (rec.table == kMetaTable && rec.key == kCountersKey) {
      auto c = decode_counters(value);
      if (!c) return c.error();
      out.counters = *c;
    } else if (rec.table == kMetaTable && rec.key == kAllocatorKey) {
      auto c = decode_allocator(value);
      if (!c) return c.error();
      out.cursors = *c;
    } else if (rec.table == kMetaTable && rec.key == kPolicyKey) {
      auto p = decode_policy(value);
      if (!p) return p.error();
      out.policy_text = std::move(*p);
    }
  }
  return out;
}

}  // namespace warren::control
