// The control server's durable state: users, pre-auth keys, nodes, routes and the policy text,
// held in memory and persisted through a DurableStore (records: nodes/control/store_records.h).
//
// Every mutation is validated and applied in memory at once (so the next call sees it), then
// committed; its `done` callback runs after the commit with the result. Acknowledge a change to
// anyone (admin, registering node) only from `done`. `done` never runs inside the call, not
// even for a validation error or a change that changes nothing (those complete once every
// earlier change is durable). Changes made while a commit is in flight are grouped into the
// next commit (group commit), so the store never holds a change without the ones before it.
// If a commit fails (disk full), its `done` callbacks and those of every later change not yet
// committed get the error, the registry reloads its state from the store (dropping every
// change not yet durable) and tells the observer reset() so that derived state is rebuilt.
//
// Node references in admin calls are an id ("12") or a name ("laptop"); an id wins when a
// node's name is also some node's id. Pointers returned by find_* and nodes() stay valid until
// that object is deleted or the registry reloads (load(), or reset() after a failed commit).
// Overlay addresses: see address_allocator.h. Sequential from the configured prefixes,
// skipping the network and broadcast addresses, 100.100.100.100, 100.115.92.0/23 and
// fd7a:115c:a1e0::53; both families together; never reused while the node exists, and not
// soon after it is deleted (the cursor moves on); kept on re-registration of the same machine
// key and across restarts. Ids are never reused (the next ids are persisted).
// Deterministic: key randomness comes from env.rng, times from env.clock.unix_time_ns().
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/control/model.h"
#include "nodes/control/policy.h"
#include "nodes/net/durable_store.h"
#include "nodes/net/env.h"

namespace warren::control {

struct RegistryConfig {
  Prefix ipv4_prefix;                           // default 100.64.0.0/10
  Prefix ipv6_prefix;                           // default fd7a:115c:a1e0::/48
  Duration node_key_expiry = Duration::zero();  // 0 = node keys never expire (default)
  RegistryConfig();
};

// What changed, for the map engine. Called after the in-memory change, before the commit.
// Callbacks must not call the Registry's mutating methods (reads are fine).
class RegistryObserver {
 public:
  virtual ~RegistryObserver() = default;
  virtual void node_upserted(const Node& node, bool created) = 0;  // new or any field changed
  virtual void node_removed(const Node& node) = 0;                 // deleted
  virtual void policy_changed(const Policy& policy) = 0;
  virtual void reset() = 0;  // state reloaded after a failed commit: rebuild everything
};

struct RegisterRequest {
  PublicKey machine_key;  // the channel's authenticated static key
  PublicKey node_key;
  PublicKey disco_key;
  std::string auth_key;  // full key text; empty = re-registration of a known machine
  std::string hostname;
  std::vector<Prefix> advertised_routes;
};

struct CreatedAuthKey {
  AuthKey key;
  std::string text;  // the full key, shown once
};

class Registry {
 public:
  template <typename T>
  using Reply = std::function<void(Result<T>)>;
  using Done = std::function<void(const Status&)>;

  Registry(Env& env, DurableStore& store, RegistryConfig config);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Reads everything from the store, running record-format migrations. Errors name the table,
  // key and problem (corrupt record, duplicate address, unknown user, a stored policy this
  // build rejects, prefixes of the wrong family in the config). On error the state is unchanged.
  Status load();
  void set_observer(RegistryObserver* observer);

  // Users.
  void create_user(const std::string& name, Reply<User> done);
  // Refused while the user owns nodes or keys that can still register (expire those first);
  // its spent keys (used single-use, revoked or expired) are deleted with it.
  void delete_user(const std::string& name, Done done);
  std::vector<User> users() const;  // ascending id
  const User* find_user(UserId id) const;

  // Pre-auth keys. `expiration` zero = never expires (negative is an error). Tags must look
  // like "tag:name" (registry_rules.h); they are sorted and de-duplicated.
  void create_auth_key(const std::string& user, bool reusable, bool ephemeral, Duration expiration,
                       std::vector<std::string> tags, Reply<CreatedAuthKey> done);
  void expire_auth_key(const std::string& prefix_or_key, Done done);  // revokes it; idempotent
  std::vector<AuthKey> auth_keys() const;                             // ascending id

  // Registration over an authenticated channel. Error messages start with exactly why:
  // "auth key expired", "auth key revoked", "auth key already used", "unknown auth key",
  // "node key expired; log in again with an auth key", "auth key required for a new machine",
  // "node key already in use by another machine" (a "; what to do" may follow).
  // - A new machine needs a valid key: it gets a new id, the next addresses, a unique name from
  //   its hostname ("laptop", "laptop-2", ...), the key's user, tags and ephemeral flag, and an
  //   expiry of now + node_key_expiry (0 = never). The key is marked used.
  // - A known machine keeps its id, addresses and name, with or without a key, also with a new
  //   node key. Without a key it must not be expired; with one it takes the key's user, tags,
  //   ephemeral flag and a fresh expiry. A single-use key it already registered with is
  //   accepted again while the node is not expired (a retry after a lost reply).
  // - Advertised routes are replaced by the request's; approvals of prefixes no longer
  //   advertised are dropped.
  void register_node(const RegisterRequest& request, Reply<Node> done);

  // Nodes.
  const Node* find_node(NodeId id) const;
  const Node* find_node_by_machine_key(const PublicKey& key) const;
  const Node* find_node_by_node_key(const PublicKey& key) const;
  Result<NodeId> resolve_node(const std::string& id_or_name) const;
  std::vector<const Node*> nodes() const;               // ascending id
  bool node_expired(const Node& node) const;            // expiry reached (by the wall clock)
  void expire_node(const std::string& ref, Done done);  // expiry = now (kept if earlier)
  void delete_node(const std::string& ref, Done done);
  void delete_node(NodeId id, Done done);
  void rename_node(const std::string& ref, const std::string& new_name, Done done);
  void set_last_seen(NodeId id, int64_t unix_ns, Done done);
  // Client-reported (map request / update); unknown id is an error. Unchanged values commit
  // nothing and notify nobody.
  void set_disco_key(NodeId id, const PublicKey& disco_key, Done done);
  void set_hostname(NodeId id, const std::string& hostname, Done done);  // name unchanged
  // Client-reported; unknown id or a route normalize_routes() rejects is an error. Approvals of
  // prefixes no longer advertised are dropped.
  void set_advertised_routes(NodeId id, std::vector<Prefix> routes, Done done);
  // Admin: sets the node's approved routes to `routes` (an empty list withdraws every
  // approval); each prefix must be currently advertised by the node.
  void approve_routes(const std::string& ref, std::vector<Prefix> routes, Done done);

  // Policy: validated with parse_policy (errors "line L: reason"); a bad one is rejected and
  // the old one stays. At most kMaxPolicyBytes (policy.h).
  void set_policy(const std::string& text, Done done);
  const Policy& policy() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warren::control
