#include "sim/control_client_role.h"

namespace warren::sim {

ControlClientRole::ControlClientRole(Env& env, ControlClientSetup setup,
                                     const ControlServerRecord& server, ControlClientRecord& record)
    : env_(env), setup_(std::move(setup)), server_(server), record_(record), wait_(env.clock) {
  record_.starts += 1;
  Duration jitter = Duration::zero();
  if (setup_.start_jitter > Duration::zero()) {
    jitter = Duration::nanoseconds(
        static_cast<int64_t>(env_.rng.uniform(static_cast<uint64_t>(setup_.start_jitter.ns()))));
  }
  wait_.arm_after(jitter, [this] { try_connect(); });
}

ControlClientRole::~ControlClientRole() {
  wait_.cancel();
  client_.reset();  // closes the channel; no callback runs afterwards
}

void ControlClientRole::try_connect() {
  if (!record_.first_try) record_.first_try = env_.clock.now();
  ControlClientOptions options;
  options.server = setup_.server;
  options.host = setup_.host;
  options.machine_key = setup_.machine_key;
  options.node_key = setup_.node_key;
  options.hostname = setup_.hostname;
  options.server_key = record_.pinned_server_key;
  if (record_.registrations == 0) {
    // A machine the server does not know yet needs the scenario's pre-auth key.
    auto key = server_.keys.find(setup_.key_name);
    if (key == server_.keys.end()) {
      if (++key_polls_ > kMaxKeyPolls) {
        record_.errors += 1;
        record_.last_error = "pre-auth key \"" + setup_.key_name + "\" was never created by " +
                             setup_.host + "; check the control-server role's \"keys\"";
        env_.log.error(record_.last_error);
        return;
      }
      wait_.arm_after(kKeyPollInterval, [this] { try_connect(); });
      return;
    }
    options.auth_key = key->second.text;
  }
  options.disco_key = generate_private_key(env_.rng);  // a new one per start, as a real client
  ControlClient::Callbacks callbacks;
  callbacks.on_server_key = [this](const PublicKey& key) { record_.pinned_server_key = key; };
  callbacks.on_registered = [this](const control::PeerNode& self) { on_registered(self); };
  callbacks.on_map = [this](const NetMap& map, const control::MapMessage& message) {
    on_map(map, message);
  };
  callbacks.on_error = [this](const ControlClientError& error) { on_error(error); };
  client_ = std::make_unique<ControlClient>(env_, std::move(options), std::move(callbacks));
  client_->start();
}

void ControlClientRole::on_registered(const control::PeerNode& self) {
  const Timestamp now = env_.clock.now();
  if (record_.overlay_ipv4 && (*record_.overlay_ipv4 != self.ipv4 || !record_.overlay_ipv6 ||
                               *record_.overlay_ipv6 != self.ipv6)) {
    record_.address_changes += 1;
    env_.log.warn("overlay addresses changed on re-registration: now " + self.ipv4.to_string() +
                  ", " + self.ipv6.to_string());
  }
  record_.overlay_ipv4 = self.ipv4;
  record_.overlay_ipv6 = self.ipv6;
  record_.node_id = self.id;
  record_.node_name = self.name;
  record_.registrations += 1;
  if (!record_.first_registered) record_.first_registered = now;
  record_.last_registered = now;
}

void ControlClientRole::on_map(const NetMap& map, const control::MapMessage& message) {
  if (message.full) {
    record_.full_maps += 1;
  } else {
    record_.deltas += 1;
  }
  record_.peers = map.peers().size();
  record_.last_map = env_.clock.now();
  if (map_listener_) map_listener_(map);
}

void ControlClientRole::on_error(const ControlClientError& error) {
  record_.errors += 1;
  record_.last_error = error.message;
  if (error.will_retry) {
    env_.log.info("control client: " + error.message + " (retrying)");
  } else {
    env_.log.error("control client stopped: " + error.message);
  }
}

}  // namespace warren::sim
