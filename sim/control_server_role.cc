#include "sim/control_server_role.h"

#include <algorithm>

namespace warren::sim {

// Every field summed: a counter added to the core must be added here too.
static_assert(sizeof(control::ControlCoreCounters) == 14 * sizeof(uint64_t),
              "ControlCoreCounters changed: sum the new counter in add_counters");

void add_counters(control::ControlCoreCounters& total, const control::ControlCoreCounters& c) {
  total.sessions_opened += c.sessions_opened;
  total.sessions_rejected += c.sessions_rejected;
  total.sessions_too_slow += c.sessions_too_slow;
  total.messages_received += c.messages_received;
  total.messages_malformed += c.messages_malformed;
  total.map_messages_sent += c.map_messages_sent;
  total.full_maps_sent += c.full_maps_sent;
  total.relay_messages_sent += c.relay_messages_sent;
  total.keepalives_sent += c.keepalives_sent;
  total.bytes_sent += c.bytes_sent;
  total.registrations += c.registrations;
  total.registrations_refused += c.registrations_refused;
  total.nodes_expired += c.nodes_expired;
  total.ephemeral_deleted += c.ephemeral_deleted;
}

std::shared_ptr<ControlServerRole> ControlServerRole::Create(
    Env& env, std::shared_ptr<MemoryStoreData> disk, const PrivateKey& server_key,
    control::ControlServerOptions options, ControlServerSetup setup, ControlServerRecord& record) {
  std::shared_ptr<ControlServerRole> role(new ControlServerRole(
      env, std::move(disk), server_key, std::move(options), std::move(setup), record));
  if (Status s = role->server_->start(); !s) {
    record.failed_starts += 1;
    record.last_error = "control server not started: " + s.error().message;
    env.log.error(record.last_error);
    return nullptr;
  }
  record.starts += 1;
  record.running = role->server_.get();
  role->provision_next();
  return role;
}

ControlServerRole::ControlServerRole(Env& env, std::shared_ptr<MemoryStoreData> disk,
                                     const PrivateKey& server_key,
                                     control::ControlServerOptions options,
                                     ControlServerSetup setup, ControlServerRecord& record)
    : env_(env),
      setup_(std::move(setup)),
      record_(record),
      store_(env.clock, std::move(disk)),
      server_(
          std::make_unique<control::ControlServer>(env, store_, server_key, std::move(options))) {}

ControlServerRole::~ControlServerRole() {
  *alive_ = false;
  if (record_.running == server_.get()) {
    add_counters(record_.finished, server_->core().counters());
    record_.nodes_at_stop = server_->registry().nodes().size();
    record_.running = nullptr;
  }
  server_->stop();
}

void ControlServerRole::provision_failed(const std::string& what, const Error& error) {
  record_.last_error = what + ": " + error.message;
  env_.log.error("scenario provisioning stopped: " + record_.last_error);
}

void ControlServerRole::provision_next() {
  control::Registry& registry = server_->registry();
  std::weak_ptr<bool> alive = alive_;
  while (next_user_ < setup_.users.size()) {
    const std::string name = setup_.users[next_user_++];
    const auto users = registry.users();
    bool exists = std::any_of(users.begin(), users.end(),
                              [&](const control::User& u) { return u.name == name; });
    if (exists) continue;
    registry.create_user(name, [this, alive, name](Result<control::User> user) {
      if (alive.expired() || !*alive.lock()) return;
      if (!user) return provision_failed("creating user \"" + name + "\"", user.error());
      provision_next();
    });
    return;
  }
  while (next_key_ < setup_.keys.size()) {
    const ScenarioAuthKey& key = setup_.keys[next_key_++];
    auto issued = record_.keys.find(key.name);
    if (issued != record_.keys.end()) {
      // Created by an earlier start: keep it if the registry still has it.
      const auto keys = registry.auth_keys();
      bool kept = std::any_of(keys.begin(), keys.end(), [&](const control::AuthKey& k) {
        return k.prefix == issued->second.prefix;
      });
      if (kept) continue;
    }
    const std::string name = key.name;
    registry.create_auth_key(
        key.user, key.reusable, key.ephemeral, key.expiration, key.tags,
        [this, alive, name](Result<control::CreatedAuthKey> created) {
          if (alive.expired() || !*alive.lock()) return;
          if (!created) {
            return provision_failed("creating key \"" + name + "\"", created.error());
          }
          record_.keys[name] = IssuedAuthKey{created->text, created->key.prefix, env_.clock.now()};
          provision_next();
        });
    return;
  }
  if (!policy_done_) {
    policy_done_ = true;
    if (setup_.policy && registry.policy().text != *setup_.policy) {
      registry.set_policy(*setup_.policy, [this, alive](const Status& s) {
        if (alive.expired() || !*alive.lock()) return;
        if (!s) return provision_failed("setting the policy", s.error());
        provision_next();
      });
      return;
    }
  }
  if (!record_.provisioned) record_.provisioned = env_.clock.now();
}

}  // namespace warren::sim
