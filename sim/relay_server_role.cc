#include "sim/relay_server_role.h"

#include <utility>

namespace warren::sim {

// Every field summed: a counter added to the relay or the feed must be added here too.
static_assert(sizeof(relay::RelayServerCounters) == 28 * sizeof(uint64_t),
              "RelayServerCounters changed: sum the new counter in add_counters");
static_assert(sizeof(relay::AdmissionFeedCounters) == 5 * sizeof(uint64_t),
              "AdmissionFeedCounters changed: sum the new counter in add_counters");

void add_counters(relay::RelayServerCounters& total, const relay::RelayServerCounters& c) {
  total.channels_accepted += c.channels_accepted;
  total.clients_admitted += c.clients_admitted;
  total.mesh_clients_admitted += c.mesh_clients_admitted;
  total.refused_unknown_key += c.refused_unknown_key;
  total.refused_removed_key += c.refused_removed_key;
  total.refused_not_ready += c.refused_not_ready;
  total.refused_bad_mesh_key += c.refused_bad_mesh_key;
  total.refused_protocol += c.refused_protocol;
  total.refused_full += c.refused_full;
  total.disconnected_removed += c.disconnected_removed;
  total.disconnected_replaced += c.disconnected_replaced;
  total.disconnected_stalled += c.disconnected_stalled;
  total.closed_malformed += c.closed_malformed;
  total.packets_received += c.packets_received;
  total.packets_delivered += c.packets_delivered;
  total.packets_meshed += c.packets_meshed;
  total.packets_from_mesh += c.packets_from_mesh;
  total.bytes_delivered += c.bytes_delivered;
  total.dropped_unknown_dest += c.dropped_unknown_dest;
  total.dropped_unknown_dest_on_forward += c.dropped_unknown_dest_on_forward;
  total.dropped_queue_head += c.dropped_queue_head;
  total.dropped_rate_limit += c.dropped_rate_limit;
  total.dropped_forward_not_mesh += c.dropped_forward_not_mesh;
  total.dropped_mesh_send += c.dropped_mesh_send;
  total.unknown_frames += c.unknown_frames;
  total.peer_gone_sent += c.peer_gone_sent;
  total.keepalives_sent += c.keepalives_sent;
  total.pings_answered += c.pings_answered;
}

void add_counters(relay::AdmissionFeedCounters& total, const relay::AdmissionFeedCounters& c) {
  total.connects += c.connects;
  total.full_sets += c.full_sets;
  total.deltas += c.deltas;
  total.keepalives += c.keepalives;
  total.errors += c.errors;
}

std::shared_ptr<RelayServerRole> RelayServerRole::Create(Env& env, RelayServerSetup setup,
                                                         RelayServerRecord& record) {
  std::shared_ptr<RelayServerRole> role(new RelayServerRole(env, std::move(setup), record));
  if (Status s = role->server_->start(); !s) {
    record.failed_starts += 1;
    record.last_error = "relay not started: " + s.error().message;
    env.log.error(record.last_error);
    return nullptr;
  }
  record.starts += 1;
  record.running = role.get();
  if (role->control_) {
    relay::AdmissionFeed::Callbacks callbacks;
    RelayServerRecord* r = &record;
    Env* e = &env;
    callbacks.on_error = [r, e](const std::string& message) {
      r->last_error = "control server: " + message;
      e->log.warn(r->last_error + " (retrying)");
    };
    role->feed_ = std::make_unique<relay::AdmissionFeed>(env, *role->control_, role->admission_,
                                                         std::move(callbacks));
    role->feed_->start();
  } else {
    env.log.info("no control server named: serving STUN and admitting no node");
  }
  return role;
}

RelayServerRole::RelayServerRole(Env& env, RelayServerSetup setup, RelayServerRecord& record)
    : record_(record),
      control_(std::move(setup.control)),
      admission_(relay::Admission::Mode::no_control),
      server_(std::make_unique<relay::RelayServer>(env, setup.key, admission_,
                                                   std::move(setup.options))) {}

RelayServerRole::~RelayServerRole() {
  if (record_.running == this) {
    add_counters(record_.finished, server_->counters());
    if (feed_) add_counters(record_.feed_finished, feed_->counters());
    record_.stun_requests_finished += server_->stun_stats().binding_requests;
    record_.running = nullptr;
  }
  feed_.reset();  // closes the control channel; no callback runs afterwards
  server_->stop();
  server_.reset();
}

}  // namespace warren::sim
