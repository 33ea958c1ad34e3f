#include "nodes/control/registry.h"

#include <algorithm>
#include <map>
#include <utility>

#include "nodes/control/auth_key_text.h"
#include "nodes/control/registry_rules.h"
#include "nodes/control/registry_state.h"
#include "nodes/control/store_records.h"

namespace warren::control {
namespace {

// A fresh 48-bit key prefix collides with an existing one about never; a few draws make it
// never in practice, and a bound keeps a broken Rng (all zeros) from looping forever.
constexpr int kMaxKeyPrefixDraws = 8;
constexpr size_t kMaxNodeIdDigits = 20;  // UINT64_MAX has 20

Prefix default_prefix(const char* text) {
  return *Prefix::parse(text);
}

int64_t saturating_add(int64_t a, int64_t b) {
  return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}

std::string node_label(const Node& n) {
  return std::to_string(n.id) + " (" + n.name + ")";
}

}  // namespace

RegistryConfig::RegistryConfig()
    : ipv4_prefix(default_prefix("100.64.0.0/10")),
      ipv6_prefix(default_prefix("fd7a:115c:a1e0::/48")) {}

struct Registry::Impl {
  using Key = std::pair<std::string, std::string>;

  Impl(Env& e, DurableStore& s, RegistryConfig c)
      : env(e), store(s), config(std::move(c)), state(std::make_unique<RegistryState>(config)) {}

  Env& env;
  DurableStore& store;
  RegistryConfig config;
  RegistryObserver* observer = nullptr;
  std::unique_ptr<RegistryState> state;
  // Next numbered suffix to try per name base, so the thousandth "laptop" costs one lookup.
  std::map<std::string, uint64_t> name_hints;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  // Group commit: writes of changes made while a commit is in flight wait here (the latest
  // value per record; nullopt = delete) with their callbacks, and go out as the next batch.
  std::map<Key, std::optional<Bytes>> pending_writes;
  std::vector<Done> pending_dones;
  std::vector<Done> in_flight_dones;
  bool in_flight = false;

  int64_t now() const { return env.clock.unix_time_ns(); }

  void put(StoreRecord r) { pending_writes[{r.table, r.key}] = std::move(r.value); }
  void erase(const std::string& table, const std::string& key) {
    pending_writes[{table, key}] = std::nullopt;
  }
  void put_counters() { put(counters_record(state->counters)); }

  // Runs `fn` on the next clock turn unless the registry is gone by then.
  void later(std::function<void()> fn) {
    env.clock.schedule_after(Duration::zero(), [alive = alive, fn = std::move(fn)] {
      if (*alive) fn();
    });
  }
  void fail(const Done& done, Error error) {
    later([done, error = std::move(error)] {
      if (done) done(error);
    });
  }
  template <typename T>
  void fail(const Reply<T>& done, Error error) {
    later([done, error = std::move(error)] {
      if (done) done(error);
    });
  }
  // The change is applied in memory; `done` runs once it (and all before it) is durable.
  void finish(Done done) {
    pending_dones.push_back(std::move(done));
    flush();
  }
  template <typename T>
  void finish_with(const Reply<T>& done, T value) {
    finish([done, value = std::move(value)](const Status& s) {
      if (!done) return;
      if (s) {
        done(value);
      } else {
        done(s.error());
      }
    });
  }

  void flush() {
    if (in_flight || (pending_dones.empty() && pending_writes.empty())) return;
    if (pending_writes.empty()) {
      later([dones = std::move(pending_dones)] {
        for (const Done& d : dones) {
          if (d) d(Status::success());
        }
      });
      pending_dones.clear();
      return;
    }
    StoreBatch batch;
    for (auto& [key, value] : pending_writes) {
      if (value) {
        batch.puts.push_back(StoreRecord{key.first, key.second, std::move(*value)});
      } else {
        batch.deletes.push_back(key);
      }
    }
    pending_writes.clear();
    in_flight_dones = std::move(pending_dones);
    pending_dones.clear();
    in_flight = true;
    store.commit(std::move(batch), [this, alive = alive](const Status& s) {
      if (*alive) on_committed(s);
    });
  }

  void on_committed(const Status& status) {
    in_flight = false;
    std::vector<Done> dones = std::move(in_flight_dones);
    in_flight_dones.clear();
    if (status) {
      flush();
      for (const Done& d : dones) {
        if (d) d(Status::success());
      }
      return;
    }
    // Later changes were applied on top of the failed one: none of them may reach the store.
    std::vector<Done> dropped = std::move(pending_dones);
    pending_dones.clear();
    pending_writes.clear();
    const std::string& why = status.error().message;
    env.log.error("commit failed (" + why + "); reloading the registry from the store");
    Status reloaded = reload();
    if (!reloaded) {
      env.log.error("reload after a failed commit failed too: " + reloaded.error().message +
                    "; the in-memory state may hold changes that are not stored");
    }
    Error failed{"could not store the change (" + why + "); nothing was changed, try again"};
    Error later_error{"not stored: an earlier change could not be stored (" + why +
                      "); nothing was changed, try again"};
    for (const Done& d : dones) {
      if (d) d(failed);
    }
    for (const Done& d : dropped) {
      if (d) d(later_error);
    }
  }

  Status reload() {
    auto records = store.load_all();
    if (!records) return make_error("could not read the control store: " + records.error().message);
    auto built = build_registry_state(config, *records);
    if (!built) return built.error();
    state = std::move(*built);
    if (observer) observer->reset();
    return Status::success();
  }

  void upserted(const Node& node, bool created) {
    if (observer) observer->node_upserted(node, created);
  }

  // --- helpers ---

  Result<Node*> node_by_ref(const std::string& ref) {
    auto id = resolve(ref);
    if (!id) return id.error();
    return &state->nodes.at(*id);
  }

  Result<NodeId> resolve(const std::string& ref) const {
    if (!ref.empty() && ref.size() <= kMaxNodeIdDigits &&
        std::all_of(ref.begin(), ref.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      uint64_t id = 0;
      bool overflow = false;
      for (char c : ref) {
        uint64_t d = static_cast<uint64_t>(c - '0');
        if (id > (UINT64_MAX - d) / 10) overflow = true;
        id = id * 10 + d;
      }
      if (!overflow && state->nodes.count(id)) return id;
    }
    auto it = state->by_name.find(ref);
    if (it != state->by_name.end()) return it->second;
    return make_error("unknown node " + printable(ref) +
                      ": give a node id or name (see `warren control nodes list`)");
  }

  bool key_expired(const AuthKey& k) const {
    return k.expires_unix_ns != 0 && now() >= k.expires_unix_ns;
  }
  bool key_usable(const AuthKey& k) const {
    return !k.revoked && !key_expired(k) && (k.reusable || !k.used);
  }
  bool node_expired(const Node& n) const {
    return n.expiry_unix_ns != 0 && now() >= n.expiry_unix_ns;
  }

  std::string unique_name(const std::string& hostname) {
    std::string base = dns_label_from_hostname(hostname);
    if (!state->by_name.count(base)) return base;
    uint64_t n = std::max<uint64_t>(2, name_hints[base]);
    // At most nodes.size() names are taken, so one of this many distinct candidates is free.
    for (size_t i = 0; i <= state->nodes.size(); ++i, ++n) {
      std::string candidate = numbered_name(base, n);
      if (!state->by_name.count(candidate)) {
        name_hints[base] = n + 1;
        return candidate;
      }
    }
    return base + "-" + std::to_string(state->counters.next_node);  // unreachable
  }

  // Checks a key presented at registration. `existing` is the machine's node, if known.
  Result<AuthKey*> check_auth_key(const std::string& text, const Node* existing) {
    auto parsed = parse_auth_key(text);
    if (!parsed) return make_error("unknown auth key (" + parsed.error().message + ")");
    auto it = state->key_by_prefix.find(parsed->prefix);
    if (it == state->key_by_prefix.end()) {
      return make_error("unknown auth key " + parsed->prefix +
                        ": check the key, or create one with `warren control keys create`");
    }
    AuthKey& k = state->keys.at(it->second);
    if (!constant_time_equal(k.secret_hash, hash_auth_key_secret(parsed->prefix, parsed->secret))) {
      return make_error("unknown auth key " + parsed->prefix +
                        ": check the key, or create one with `warren control keys create`");
    }
    if (k.revoked) {
      return make_error("auth key revoked (" + k.prefix +
                        "); create a new one with "
                        "`warren control keys create`");
    }
    if (key_expired(k)) {
      return make_error("auth key expired (" + k.prefix +
                        "); create a new one with "
                        "`warren control keys create`");
    }
    bool retry = existing && existing->auth_key == k.id && !node_expired(*existing);
    if (!k.reusable && k.used && !retry) {
      return make_error("auth key already used (" + k.prefix +
                        " is single-use); create a new "
                        "one, or a --reusable one for many machines");
    }
    return &k;
  }

  // Replaces the advertised routes, dropping approvals of prefixes no longer advertised.
  static bool apply_advertised(Node& node, std::vector<Prefix> routes) {
    if (routes == node.advertised_routes) return false;
    node.advertised_routes = std::move(routes);
    std::vector<Prefix> kept;
    for (const Prefix& p : node.approved_routes) {
      if (std::binary_search(node.advertised_routes.begin(), node.advertised_routes.end(), p)) {
        kept.push_back(p);
      }
    }
    node.approved_routes = std::move(kept);
    return true;
  }

  void register_node(const RegisterRequest& req, Reply<Node> done);
  void delete_node(NodeId id, Done done);
};

Registry::Registry(Env& env, DurableStore& store, RegistryConfig config)
    : impl_(std::make_unique<Impl>(env, store, std::move(config))) {}

Registry::~Registry() {
  *impl_->alive = false;
}

Status Registry::load() {
  // A load while changes are uncommitted would lose track of them; the caller loads first.
  return impl_->reload();
}

void Registry::set_observer(RegistryObserver* observer) {
  impl_->observer = observer;
}

// --- users ---

void Registry::create_user(const std::string& name, Reply<User> done) {
  Impl& m = *impl_;
  if (Status s = check_user_name(name); !s) return m.fail(done, s.error());
  auto& s = *m.state;
  if (s.user_by_name.count(name)) {
    return m.fail(done, make_error("user " + printable(name) + " already exists"));
  }
  User u{s.counters.next_user++, name, m.now()};
  s.users[u.id] = u;
  s.user_by_name[name] = u.id;
  m.put(user_record(u));
  m.put_counters();
  m.finish_with(done, u);
}

void Registry::delete_user(const std::string& name, Done done) {
  Impl& m = *impl_;
  auto& s = *m.state;
  auto it = s.user_by_name.find(name);
  if (it == s.user_by_name.end()) {
    return m.fail(
        done, make_error("unknown user " + printable(name) + " (see `warren control users list`)"));
  }
  UserId id = it->second;
  size_t owned = 0;
  const Node* example = nullptr;
  for (const auto& [nid, n] : s.nodes) {
    if (n.user != id) continue;
    if (!example) example = &n;
    ++owned;
  }
  if (owned > 0) {
    return m.fail(done, make_error("user " + name + " still owns " + std::to_string(owned) +
                                   " node(s), e.g. " + node_label(*example) +
                                   ": delete them first with `warren control nodes delete`"));
  }
  std::vector<AuthKeyId> spent;
  for (const auto& [kid, k] : s.keys) {
    if (k.user != id) continue;
    if (m.key_usable(k)) {
      return m.fail(
          done, make_error("user " + name + " still has usable auth key " + k.prefix +
                           ": expire it first with `warren control keys expire " + k.prefix + "`"));
    }
    spent.push_back(kid);
  }
  for (AuthKeyId kid : spent) {
    s.key_by_prefix.erase(s.keys.at(kid).prefix);
    s.keys.erase(kid);
    m.erase(kAuthKeysTable, record_key(kid));
  }
  s.users.erase(id);
  s.user_by_name.erase(it);
  m.erase(kUsersTable, record_key(id));
  m.finish(std::move(done));
}

std::vector<User> Registry::users() const {
  std::vector<User> out;
  for (const auto& [id, u] : impl_->state->users) out.push_back(u);
  return out;
}

const User* Registry::find_user(UserId id) const {
  auto it = impl_->state->users.find(id);
  return it == impl_->state->users.end() ? nullptr : &it->second;
}

// --- auth keys ---

void Registry::create_auth_key(const std::string& user, bool reusable, bool ephemeral,
                               Duration expiration, std::vector<std::string> tags,
                               Reply<CreatedAuthKey> done) {
  Impl& m = *impl_;
  auto& s = *m.state;
  auto u = s.user_by_name.find(user);
  if (u == s.user_by_name.end()) {
    return m.fail(done, make_error("unknown user " + printable(user) +
                                   ": create it first with `warren control users create`"));
  }
  if (expiration < Duration::zero()) {
    return m.fail(done, make_error("a key's expiration must not be negative (0 = never)"));
  }
  auto normalized = normalize_tags(std::move(tags));
  if (!normalized) return m.fail(done, normalized.error());
  AuthKeySecret secret;
  bool fresh = false;
  for (int i = 0; i < kMaxKeyPrefixDraws && !fresh; ++i) {
    secret = generate_auth_key(m.env.rng);
    fresh = !s.key_by_prefix.count(secret.prefix);
  }
  if (!fresh) {
    return m.fail(done, make_error("could not draw an unused key prefix; the random source "
                                   "looks broken"));
  }
  AuthKey k;
  k.id = s.counters.next_auth_key++;
  k.prefix = secret.prefix;
  k.secret_hash = hash_auth_key_secret(secret.prefix, secret.secret);
  k.user = u->second;
  k.reusable = reusable;
  k.ephemeral = ephemeral;
  k.created_unix_ns = m.now();
  k.expires_unix_ns =
      expiration == Duration::zero() ? 0 : saturating_add(k.created_unix_ns, expiration.ns());
  k.tags = std::move(*normalized);
  s.keys[k.id] = k;
  s.key_by_prefix[k.prefix] = k.id;
  m.put(auth_key_record(k));
  m.put_counters();
  m.finish_with(done, CreatedAuthKey{k, format_auth_key(secret)});
}

void Registry::expire_auth_key(const std::string& prefix_or_key, Done done) {
  Impl& m = *impl_;
  auto& s = *m.state;
  std::string prefix;
  std::optional<AuthKeySecret> full;
  if (is_auth_key_prefix(prefix_or_key)) {
    prefix = prefix_or_key;
  } else {
    auto parsed = parse_auth_key(prefix_or_key);
    if (!parsed) {
      return m.fail(done, make_error("unknown auth key: give its prefix (wk-<12 hex digits>, as "
                                     "`warren control keys list` shows) or the full key"));
    }
    prefix = parsed->prefix;
    full = std::move(*parsed);
  }
  auto it = s.key_by_prefix.find(prefix);
  bool known = it != s.key_by_prefix.end();
  if (known && full) {
    known = constant_time_equal(s.keys.at(it->second).secret_hash,
                                hash_auth_key_secret(prefix, full->secret));
  }
  if (!known) {
    return m.fail(done,
                  make_error("unknown auth key " + prefix + " (see `warren control keys list`)"));
  }
  AuthKey& k = s.keys.at(it->second);
  if (!k.revoked) {
    k.revoked = true;
    m.put(auth_key_record(k));
  }
  m.finish(std::move(done));
}

std::vector<AuthKey> Registry::auth_keys() const {
  std::vector<AuthKey> out;
  for (const auto& [id, k] : impl_->state->keys) out.push_back(k);
  return out;
}

// --- registration ---

void Registry::register_node(const RegisterRequest& request, Reply<Node> done) {
  impl_->register_node(request, std::move(done));
}

void Registry::Impl::register_node(const RegisterRequest& req, Reply<Node> done) {
  auto& s = *state;
  if (req.machine_key.is_zero()) return fail(done, make_error("missing machine key"));
  if (req.node_key.is_zero()) return fail(done, make_error("missing node key"));
  if (req.hostname.size() > kMaxHostnameBytes) {
    return fail(done,
                make_error("hostname longer than " + std::to_string(kMaxHostnameBytes) + " bytes"));
  }
  auto routes = normalize_routes(req.advertised_routes);
  if (!routes)
    return fail(done, make_error("invalid advertised routes: " + routes.error().message));

  auto by_machine = s.by_machine_key.find(req.machine_key);
  Node* existing = by_machine == s.by_machine_key.end() ? nullptr : &s.nodes.at(by_machine->second);
  auto holder = s.by_node_key.find(req.node_key);
  if (holder != s.by_node_key.end() && (!existing || holder->second != existing->id)) {
    return fail(done, make_error("node key already in use by another machine; generate a new "
                                 "node key"));
  }

  AuthKey* key = nullptr;
  if (req.auth_key.empty()) {
    if (!existing) {
      return fail(done, make_error("auth key required for a new machine; create one with "
                                   "`warren control keys create`"));
    }
    if (node_expired(*existing)) {
      return fail(done, make_error("node key expired; log in again with an auth key"));
    }
  } else {
    auto checked = check_auth_key(req.auth_key, existing);
    if (!checked) return fail(done, checked.error());
    key = *checked;
  }

  if (!existing) {
    auto addresses = s.allocator.allocate();  // the last check: nothing changed before it
    if (!addresses) return fail(done, addresses.error());
    Node n;
    n.id = s.counters.next_node++;
    n.name = unique_name(req.hostname);
    n.hostname = req.hostname;
    n.user = key->user;
    n.tags = key->tags;
    n.machine_key = req.machine_key;
    n.node_key = req.node_key;
    n.disco_key = req.disco_key;
    n.ipv4 = addresses->ipv4;
    n.ipv6 = addresses->ipv6;
    n.ephemeral = key->ephemeral;
    n.auth_key = key->id;
    n.created_unix_ns = now();
    n.expiry_unix_ns = config.node_key_expiry > Duration::zero()
                           ? saturating_add(now(), config.node_key_expiry.ns())
                           : 0;
    n.advertised_routes = std::move(*routes);
    if (!key->used) {
      key->used = true;
      put(auth_key_record(*key));
    }
    Node& stored = s.insert_node(std::move(n));
    put(node_record(stored));
    put_counters();
    put(allocator_record(s.cursors()));
    upserted(stored, true);
    return finish_with(done, Node(stored));
  }

  Node before = *existing;
  Node& n = *existing;
  if (n.node_key != req.node_key) {
    s.by_node_key.erase(n.node_key);
    s.by_node_key[req.node_key] = n.id;
    n.node_key = req.node_key;
  }
  n.disco_key = req.disco_key;
  n.hostname = req.hostname;
  apply_advertised(n, std::move(*routes));
  if (key) {
    n.user = key->user;
    n.tags = key->tags;
    n.ephemeral = key->ephemeral;
    n.auth_key = key->id;
    n.expiry_unix_ns = config.node_key_expiry > Duration::zero()
                           ? saturating_add(now(), config.node_key_expiry.ns())
                           : 0;
    if (!key->used) {
      key->used = true;
      put(auth_key_record(*key));
    }
  }
  bool changed = node_record(before).value != node_record(n).value;
  if (changed) {
    put(node_record(n));
    upserted(n, false);
  }
  finish_with(done, Node(n));
}

// --- nodes ---

const Node* Registry::find_node(NodeId id) const {
  auto it = impl_->state->nodes.find(id);
  return it == impl_->state->nodes.end() ? nullptr : &it->second;
}

const Node* Registry::find_node_by_machine_key(const PublicKey& key) const {
  auto it = impl_->state->by_machine_key.find(key);
  return it == impl_->state->by_machine_key.end() ? nullptr : find_node(it->second);
}

const Node* Registry::find_node_by_node_key(const PublicKey& key) const {
  auto it = impl_->state->by_node_key.find(key);
  return it == impl_->state->by_node_key.end() ? nullptr : find_node(it->second);
}

Result<NodeId> Registry::resolve_node(const std::string& id_or_name) const {
  return impl_->resolve(id_or_name);
}

std::vector<const Node*> Registry::nodes() const {
  std::vector<const Node*> out;
  out.reserve(impl_->state->nodes.size());
  for (const auto& [id, n] : impl_->state->nodes) out.push_back(&n);
  return out;
}

bool Registry::node_expired(const Node& node) const {
  return impl_->node_expired(node);
}

void Registry::expire_node(const std::string& ref, Done done) {
  Impl& m = *impl_;
  auto node = m.node_by_ref(ref);
  if (!node) return m.fail(done, node.error());
  Node& n = **node;
  if (!m.node_expired(n)) {
    n.expiry_unix_ns = m.now();
    m.put(node_record(n));
    m.upserted(n, false);
  }
  m.finish(std::move(done));
}

void Registry::delete_node(const std::string& ref, Done done) {
  auto id = impl_->resolve(ref);
  if (!id) return impl_->fail(done, id.error());
  impl_->delete_node(*id, std::move(done));
}

void Registry::delete_node(NodeId id, Done done) {
  impl_->delete_node(id, std::move(done));
}

void Registry::Impl::delete_node(NodeId id, Done done) {
  if (!state->nodes.count(id)) {
    return fail(done, make_error("unknown node " + std::to_string(id)));
  }
  // Its addresses go back to the pool but are not handed out until the cursor wraps; its id
  // is never handed out again (the counter only grows).
  Node removed = state->erase_node(id);
  erase(kNodesTable, record_key(id));
  if (observer) observer->node_removed(removed);
  finish(std::move(done));
}

void Registry::rename_node(const std::string& ref, const std::string& new_name, Done done) {
  Impl& m = *impl_;
  auto node = m.node_by_ref(ref);
  if (!node) return m.fail(done, node.error());
  if (Status s = check_node_name(new_name); !s) return m.fail(done, s.error());
  Node& n = **node;
  if (n.name != new_name) {
    auto taken = m.state->by_name.find(new_name);
    if (taken != m.state->by_name.end()) {
      return m.fail(done, make_error("name " + new_name + " is already used by node " +
                                     node_label(m.state->nodes.at(taken->second)) +
                                     "; rename or delete that one first"));
    }
    m.state->by_name.erase(n.name);
    m.state->by_name[new_name] = n.id;
    n.name = new_name;
    m.put(node_record(n));
    m.upserted(n, false);
  }
  m.finish(std::move(done));
}

namespace {

// Looks up a node by id for client-reported changes.
Result<Node*> node_by_id(RegistryState& s, NodeId id) {
  auto it = s.nodes.find(id);
  if (it == s.nodes.end()) return make_error("unknown node " + std::to_string(id));
  return &it->second;
}

}  // namespace

void Registry::set_last_seen(NodeId id, int64_t unix_ns, Done done) {
  Impl& m = *impl_;
  auto node = node_by_id(*m.state, id);
  if (!node) return m.fail(done, node.error());
  if (unix_ns < 0) return m.fail(done, make_error("last seen time must not be negative"));
  Node& n = **node;
  if (n.last_seen_unix_ns != unix_ns) {
    n.last_seen_unix_ns = unix_ns;
    m.put(node_record(n));
    m.upserted(n, false);
  }
  m.finish(std::move(done));
}

void Registry::set_disco_key(NodeId id, const PublicKey& disco_key, Done done) {
  Impl& m = *impl_;
  auto node = node_by_id(*m.state, id);
  if (!node) return m.fail(done, node.error());
  Node& n = **node;
  if (n.disco_key != disco_key) {
    n.disco_key = disco_key;
    m.put(node_record(n));
    m.upserted(n, false);
  }
  m.finish(std::move(done));
}

void Registry::set_hostname(NodeId id, const std::string& hostname, Done done) {
  Impl& m = *impl_;
  auto node = node_by_id(*m.state, id);
  if (!node) return m.fail(done, node.error());
  if (hostname.size() > kMaxHostnameBytes) {
    return m.fail(
        done, make_error("hostname longer than " + std::to_string(kMaxHostnameBytes) + " bytes"));
  }
  Node& n = **node;
  if (n.hostname != hostname) {
    n.hostname = hostname;
    m.put(node_record(n));
    m.upserted(n, false);
  }
  m.finish(std::move(done));
}

void Registry::set_advertised_routes(NodeId id, std::vector<Prefix> routes, Done done) {
  Impl& m = *impl_;
  auto node = node_by_id(*m.state, id);
  if (!node) return m.fail(done, node.error());
  auto normalized = normalize_routes(std::move(routes));
  if (!normalized) {
    return m.fail(done, make_error("invalid advertised routes: " + normalized.error().message));
  }
  Node& n = **node;
  if (Impl::apply_advertised(n, std::move(*normalized))) {
    m.put(node_record(n));
    m.upserted(n, false);
  }
  m.finish(std::move(done));
}

void Registry::approve_routes(const std::string& ref, std::vector<Prefix> routes, Done done) {
  Impl& m = *impl_;
  auto node = m.node_by_ref(ref);
  if (!node) return m.fail(done, node.error());
  Node& n = **node;
  std::sort(routes.begin(), routes.end());
  routes.erase(std::unique(routes.begin(), routes.end()), routes.end());
  for (const Prefix& p : routes) {
    if (!std::binary_search(n.advertised_routes.begin(), n.advertised_routes.end(), p)) {
      std::string advertised;
      for (const Prefix& a : n.advertised_routes) {
        advertised += (advertised.empty() ? "" : ", ") + a.to_string();
      }
      return m.fail(done, make_error("node " + node_label(n) + " does not advertise " +
                                     p.to_string() + " (it advertises: " +
                                     (advertised.empty() ? "nothing" : advertised) + ")"));
    }
  }
  if (routes != n.approved_routes) {
    n.approved_routes = std::move(routes);
    m.put(node_record(n));
    m.upserted(n, false);
  }
  m.finish(std::move(done));
}

// --- policy ---

void Registry::set_policy(const std::string& text, Done done) {
  Impl& m = *impl_;
  if (text.size() > kMaxPolicyBytes) {
    return m.fail(
        done, make_error("policy of " + std::to_string(text.size()) +
                         " bytes is larger than the limit of " + std::to_string(kMaxPolicyBytes)));
  }
  auto parsed = parse_policy(text);
  if (!parsed) {
    return m.fail(
        done, make_error("policy rejected, the old one stays in force: " + parsed.error().message));
  }
  m.state->policy = std::move(*parsed);
  m.state->policy.text = text;
  m.put(policy_record(text));
  if (m.observer) m.observer->policy_changed(m.state->policy);
  m.finish(std::move(done));
}

const Policy& Registry::policy() const {
  return impl_->state->policy;
}

}  // namespace warren::control
