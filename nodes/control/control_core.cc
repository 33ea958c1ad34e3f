#include "nodes/control/control_core.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <utility>

#include "nodes/common/control_messages.h"
#include "nodes/control/map_engine.h"

namespace warren::control {
namespace {

// Key expiry is wall-clock time but timers run on the monotonic clock, and the wall clock can
// jump: whatever the next expiry, look again at least this often.
constexpr Duration kMaxExpiryCheckDelay = Duration::seconds(60);
// Registry expiry is "reached" at the instant itself; check just after it.
constexpr Duration kExpiryCheckSlack = Duration::milliseconds(1);

}  // namespace

struct ControlCore::Impl final : RegistryObserver, NodeLiveSource, MapOutput {
  enum class Kind { fresh, node, relay };
  struct Session {
    SessionId id = 0;
    PublicKey peer_static;
    SessionSink* sink = nullptr;
    Kind kind = Kind::fresh;
    NodeId node = 0;           // node sessions
    bool registering = false;  // a register is being committed
    Timestamp last_sent;       // last message, for keepalives
    Duration jitter;           // drawn when the keepalive timer was last armed
    Timer timer;               // idle timeout while fresh, then keepalives
    explicit Session(Clock& clock) : timer(clock) {}
  };

  Impl(Env& e, Registry& r, ControlCoreConfig c)
      : env(e),
        registry(r),
        config(std::move(c)),
        engine(e.clock, *this, config.batch_window, config.relay_map),
        expiry_timer(e.clock) {}

  ~Impl() override {
    if (started) registry.set_observer(nullptr);
  }

  // --- RegistryObserver ---
  void node_upserted(const Node& node, bool created) override;
  void node_removed(const Node& node) override;
  void policy_changed(const Policy& policy) override { engine.set_policy(policy); }
  void reset() override;

  // --- NodeLiveSource ---
  NodeLive live(NodeId id) const override { return engine.live(id); }

  // --- MapOutput ---
  void send(MapSessionId id, ByteView message) override;
  void end_session(MapSessionId id, const std::string& error) override;

  // Sessions.
  Session* find(SessionId id) {
    auto it = sessions.find(id);
    return it == sessions.end() ? nullptr : it->second.get();
  }
  // Sends unless the client is too slow (then the session ends). False if the session is gone
  // afterwards.
  bool send_to(Session& s, ByteView message, bool stream_message);
  void arm_keepalive(Session& s);
  void on_session_timer(SessionId id);
  // Forgets the session; a node stream that ends this way goes offline after the grace period
  // when `went_away` (not when it was replaced or its node is gone).
  std::unique_ptr<Session> detach(SessionId id, bool went_away);
  // Sends "error", forgets the session, closes its sink.
  void terminate(SessionId id, const std::string& error, bool went_away);
  void reject(SessionId id, const std::string& error) {
    ++counters.sessions_rejected;
    env.log.debug("session " + std::to_string(id) + " rejected: " + error);
    terminate(id, error, true);
  }

  // Messages.
  void on_register(Session& s, const RegisterMessage& m);
  void on_map_request(Session& s, const MapRequestMessage& m);
  void on_update(Session& s, const UpdateMessage& m);
  void on_relay_subscribe(Session& s);
  void persist_client_facts(NodeId id, const PublicKey* disco_key, const std::string* hostname,
                            const std::vector<Prefix>* routes);

  // Node lifecycle.
  std::string user_name(const Node& node) const {
    const User* user = registry.find_user(node.user);
    return user ? user->name : std::string();
  }
  void node_disconnected(NodeId id);
  void went_offline(NodeId id);
  void delete_ephemeral(NodeId id);
  void cancel_node_timers(NodeId id) {
    offline_timers.erase(id);
    ephemeral_timers.erase(id);
  }
  Timer& node_timer(std::unordered_map<NodeId, std::unique_ptr<Timer>>& timers, NodeId id) {
    auto& timer = timers[id];
    if (!timer) timer = std::make_unique<Timer>(env.clock);
    return *timer;
  }
  void track_expiry(const Node& node, bool expired);
  void schedule_expiry_check();
  void on_expiry_check();

  bool is_relay_key(const PublicKey& key) const {
    for (const RelayRegion& region : config.relay_map.regions) {
      for (const Relay& relay : region.relays) {
        if (relay.key == key) return true;
      }
    }
    return false;
  }

  Env& env;
  Registry& registry;
  ControlCoreConfig config;
  MapEngine engine;
  bool started = false;
  SessionId next_id = 1;
  std::unordered_map<SessionId, std::unique_ptr<Session>> sessions;
  uint64_t detach_count = 0;                           // changes whenever a session is forgotten
  std::unordered_map<NodeId, SessionId> node_session;  // the map stream of each node
  std::unordered_map<NodeId, std::unique_ptr<Timer>> offline_timers;    // in the grace period
  std::unordered_map<NodeId, std::unique_ptr<Timer>> ephemeral_timers;  // offline ephemerals
  std::set<std::pair<int64_t, NodeId>> expiry_queue;  // (expiry unix ns, node), unexpired
  std::unordered_map<NodeId, int64_t> expiry_of;
  Timer expiry_timer;
  ControlCoreCounters counters;
};

// ---------------------------------------------------------------------------------------------
// Registry observer.

void ControlCore::Impl::node_upserted(const Node& node, bool) {
  const bool expired = registry.node_expired(node);
  const bool was_visible = engine.visible(node.id);
  engine.upsert_node(node, user_name(node), expired);
  if (expired && was_visible) ++counters.nodes_expired;
  track_expiry(node, expired);
}

void ControlCore::Impl::node_removed(const Node& node) {
  cancel_node_timers(node.id);
  track_expiry(node, true);
  engine.remove_node(node.id, "node deleted by an administrator; register again with an auth key");
  node_session.erase(node.id);
}

void ControlCore::Impl::reset() {
  std::vector<MapEngine::NodeInput> inputs;
  for (const Node* node : registry.nodes()) {
    inputs.push_back({node, user_name(*node), registry.node_expired(*node)});
  }
  expiry_queue.clear();
  expiry_of.clear();
  for (const MapEngine::NodeInput& input : inputs) track_expiry(*input.node, input.expired);
  // Timers of nodes that vanished with the reload have nothing left to do.
  for (auto* timers : {&offline_timers, &ephemeral_timers}) {
    for (auto it = timers->begin(); it != timers->end();) {
      it = registry.find_node(it->first) ? std::next(it) : timers->erase(it);
    }
  }
  engine.reset(inputs, registry.policy());
}

// ---------------------------------------------------------------------------------------------
// Output to sessions.

bool ControlCore::Impl::send_to(Session& s, ByteView message, bool stream_message) {
  const SessionId id = s.id;
  SessionSink* sink = s.sink;
  if (sink->backlog_bytes() > config.max_session_backlog_bytes) {
    ++counters.sessions_too_slow;
    ++counters.sessions_rejected;
    env.log.info("closing session " + std::to_string(id) + ": client too slow (" +
                 std::to_string(sink->backlog_bytes()) + " bytes queued)");
    terminate(id,
              "too slow: more than " + std::to_string(config.max_session_backlog_bytes) +
                  " bytes queued; reconnect for a fresh map",
              true);
    return false;
  }
  const uint64_t detaches = detach_count;
  Status sent = sink->send(message);
  // A send that fails may close the channel under us; only then look the session up again.
  Session* still = detaches == detach_count ? &s : find(id);
  if (!sent) {
    if (still) {
      env.log.debug("session " + std::to_string(id) + ": send failed: " + sent.error().message);
      detach(id, true);
      sink->close("send failed: " + sent.error().message);
    }
    return false;
  }
  counters.bytes_sent += message.size();
  if (still && stream_message) {
    still->last_sent = env.clock.now();
    if (!still->timer.armed()) arm_keepalive(*still);
  }
  return still != nullptr;
}

void ControlCore::Impl::send(MapSessionId id, ByteView message) {
  Session* s = find(id);
  if (!s) return;
  if (s->kind == Kind::relay) {
    ++counters.relay_messages_sent;
  } else {
    ++counters.map_messages_sent;
  }
  send_to(*s, message, true);
}

void ControlCore::Impl::end_session(MapSessionId id, const std::string& error) {
  terminate(id, error, false);
}

void ControlCore::Impl::arm_keepalive(Session& s) {
  const int64_t jitter_ns = config.keepalive_jitter.ns();
  s.jitter = jitter_ns > 0 ? Duration::nanoseconds(static_cast<int64_t>(
                                 env.rng.uniform(static_cast<uint64_t>(jitter_ns))))
                           : Duration::zero();
  const SessionId id = s.id;
  s.timer.arm_at(s.last_sent + config.keepalive_interval + s.jitter,
                 [this, id] { on_session_timer(id); });
}

void ControlCore::Impl::on_session_timer(SessionId id) {
  Session* s = find(id);
  if (!s) return;
  if (s->kind == Kind::fresh) {
    reject(id, "no map_request or relay_subscribe within " +
                   std::to_string(kIdleSessionTimeout.ns() / 1'000'000'000) + " s");
    return;
  }
  // The timer is not moved on every message (that would cost a timer operation per message
  // per session); it wakes at the old deadline and sleeps on if a message went out since.
  const Timestamp due = s->last_sent + config.keepalive_interval + s->jitter;
  if (env.clock.now() < due) {
    s->timer.arm_at(due, [this, id] { on_session_timer(id); });
    return;
  }
  ++counters.keepalives_sent;
  static const Bytes kKeepalive = encode(ServerMessage(KeepaliveMessage{}));
  if (!send_to(*s, kKeepalive, true)) return;
  if (Session* again = find(id)) arm_keepalive(*again);
}

std::unique_ptr<ControlCore::Impl::Session> ControlCore::Impl::detach(SessionId id,
                                                                      bool went_away) {
  auto it = sessions.find(id);
  if (it == sessions.end()) return nullptr;
  std::unique_ptr<Session> s = std::move(it->second);
  sessions.erase(it);
  ++detach_count;
  s->timer.cancel();
  if (s->kind != Kind::fresh) engine.close_session(id);
  if (s->kind == Kind::node) {
    auto owner = node_session.find(s->node);
    if (owner != node_session.end() && owner->second == id) {
      node_session.erase(owner);
      if (went_away) node_disconnected(s->node);
    }
  }
  return s;
}

void ControlCore::Impl::terminate(SessionId id, const std::string& error, bool went_away) {
  Session* s = find(id);
  if (!s) return;
  SessionSink* sink = s->sink;
  // Best effort: a client too slow for its map is still told why it is dropped.
  Bytes message = encode(ServerMessage(ErrorMessage{error}));
  Status sent = sink->send(message);
  if (sent) counters.bytes_sent += message.size();
  if (!find(id)) return;  // the send closed it already
  detach(id, went_away);
  sink->close(error);
}

// ---------------------------------------------------------------------------------------------
// Client messages.

void ControlCore::Impl::on_register(Session& s, const RegisterMessage& m) {
  if (s.kind == Kind::relay) return reject(s.id, "a relay channel cannot register a node");
  if (s.registering) return reject(s.id, "register sent again before its register_response");
  s.registering = true;
  RegisterRequest request;
  request.machine_key = s.peer_static;
  request.node_key = m.node_key;
  request.disco_key = m.disco_key;
  request.auth_key = m.auth_key;
  request.hostname = m.hostname;
  request.advertised_routes = m.routes;
  const SessionId id = s.id;
  registry.register_node(request, [this, id](Result<Node> result) {
    Session* session = find(id);
    if (!result) {
      ++counters.registrations_refused;
      env.log.info("registration refused: " + result.error().message);
      if (!session) return;
      RegisterResponse refused;
      refused.error = result.error().message;
      // The answer, then the channel closes: a retry with another key is a new channel.
      SessionSink* sink = session->sink;
      if (!send_to(*session, encode(ServerMessage(std::move(refused))), false)) return;
      detach(id, false);
      sink->close("registration refused: " + result.error().message);
      return;
    }
    ++counters.registrations;
    env.log.info("registered node " + std::to_string(result->id) + " (" + result->name + ")");
    if (!session) return;
    session->registering = false;
    RegisterResponse ok;
    ok.ok = true;
    std::optional<PeerNode> node = engine.peer_node(result->id);
    if (!node) {
      // Deleted between the commit and now: the client learns it from its next map_request.
      node = PeerNode{};
      node->id = result->id;
    }
    ok.node = std::move(node);
    send_to(*session, encode(ServerMessage(std::move(ok))), false);
  });
}

void ControlCore::Impl::persist_client_facts(NodeId id, const PublicKey* disco_key,
                                             const std::string* hostname,
                                             const std::vector<Prefix>* routes) {
  // Each commits only when the value differs; a failure is logged, the stream goes on (the
  // client resends all of it on its next connection).
  auto log_failure = [this, id](const char* what) {
    return [this, id, what](const Status& status) {
      if (!status) {
        env.log.warn("node " + std::to_string(id) + ": storing its " + what +
                     " failed: " + status.error().message);
      }
    };
  };
  const Node* node = registry.find_node(id);
  if (!node) return;
  if (disco_key && *disco_key != node->disco_key) {
    registry.set_disco_key(id, *disco_key, log_failure("disco key"));
  }
  node = registry.find_node(id);
  if (node && hostname && !hostname->empty() && *hostname != node->hostname) {
    registry.set_hostname(id, *hostname, log_failure("hostname"));
  }
  node = registry.find_node(id);
  if (node && routes && *routes != node->advertised_routes) {
    registry.set_advertised_routes(id, *routes, log_failure("advertised routes"));
  }
}

void ControlCore::Impl::on_map_request(Session& s, const MapRequestMessage& m) {
  if (s.kind == Kind::relay) return reject(s.id, "a relay channel cannot stream a map");
  if (s.kind == Kind::node) {
    return reject(s.id, "map_request sent twice on one channel; open a new channel instead");
  }
  if (s.registering) return reject(s.id, "map_request sent before the register_response");
  const Node* node = registry.find_node_by_machine_key(s.peer_static);
  if (!node) return reject(s.id, "unknown machine; register first");
  if (registry.node_expired(*node)) {
    return reject(s.id, "node key expired; register again with an auth key");
  }
  if (node->node_key != m.node_key) {
    return reject(s.id, "node key does not match the registered one; register again");
  }
  const NodeId node_id = node->id;
  const SessionId id = s.id;
  persist_client_facts(node_id, &m.disco_key, &m.hostname, m.routes ? &*m.routes : nullptr);
  if (auto old = node_session.find(node_id); old != node_session.end() && old->second != id) {
    terminate(old->second, "replaced by a newer connection of the same node", false);
  }
  if (!find(id) || !engine.visible(node_id)) {
    // Storing the facts above hid the node (its expiry passed meanwhile) or closed us.
    return reject(id, "node is not available; register again");
  }
  cancel_node_timers(node_id);
  LiveUpdate live;
  live.endpoints = m.endpoints;
  live.home_relay = m.home_relay;
  live.online = true;
  engine.update_live(node_id, live);
  s.kind = Kind::node;
  s.node = node_id;
  s.timer.cancel();  // the idle timeout; keepalives start with the full map
  node_session[node_id] = id;
  engine.open_map_session(id, node_id);  // sends the full map (which may close a slow sink)
}

void ControlCore::Impl::on_update(Session& s, const UpdateMessage& m) {
  if (s.kind != Kind::node) return reject(s.id, "update sent before map_request");
  const NodeId node_id = s.node;
  LiveUpdate live;
  live.endpoints = m.endpoints;
  live.home_relay = m.home_relay;
  engine.update_live(node_id, live);
  persist_client_facts(node_id, m.disco_key ? &*m.disco_key : nullptr,
                       m.hostname ? &*m.hostname : nullptr, m.routes ? &*m.routes : nullptr);
}

void ControlCore::Impl::on_relay_subscribe(Session& s) {
  if (s.kind != Kind::fresh || s.registering) {
    return reject(s.id, "relay_subscribe on a channel already in use");
  }
  if (!is_relay_key(s.peer_static)) {
    return reject(s.id, "key " + to_base64(s.peer_static) +
                            " is not a relay in the relay map; add it to the server's config");
  }
  s.kind = Kind::relay;
  s.timer.cancel();
  engine.open_relay_session(s.id);
}

// ---------------------------------------------------------------------------------------------
// Online, offline, ephemeral, expiry.

void ControlCore::Impl::node_disconnected(NodeId id) {
  registry.set_last_seen(id, env.clock.unix_time_ns(), [this, id](const Status& status) {
    if (!status) {
      env.log.warn("node " + std::to_string(id) +
                   ": storing last seen failed: " + status.error().message);
    }
  });
  if (!registry.find_node(id)) return;
  node_timer(offline_timers, id).arm_after(config.offline_grace, [this, id] {
    offline_timers.erase(id);  // a Timer may be destroyed from its own callback
    went_offline(id);
  });
}

void ControlCore::Impl::went_offline(NodeId id) {
  if (node_session.count(id)) return;  // reconnected
  LiveUpdate live;
  live.online = false;
  engine.update_live(id, live);
  const Node* node = registry.find_node(id);
  if (!node || !node->ephemeral) return;
  node_timer(ephemeral_timers, id).arm_after(config.ephemeral_timeout, [this, id] {
    ephemeral_timers.erase(id);
    delete_ephemeral(id);
  });
}

void ControlCore::Impl::delete_ephemeral(NodeId id) {
  if (node_session.count(id)) return;
  const Node* node = registry.find_node(id);
  if (!node || !node->ephemeral) return;
  env.log.info("deleting ephemeral node " + std::to_string(id) + " (" + node->name +
               "): offline for " + to_string(config.ephemeral_timeout));
  registry.delete_node(id, [this, id](const Status& status) {
    if (status) {
      ++counters.ephemeral_deleted;
    } else {
      env.log.warn("deleting ephemeral node " + std::to_string(id) +
                   " failed: " + status.error().message);
    }
  });
}

void ControlCore::Impl::track_expiry(const Node& node, bool expired) {
  auto it = expiry_of.find(node.id);
  if (it != expiry_of.end()) {
    if (!expired && it->second == node.expiry_unix_ns) return;
    expiry_queue.erase({it->second, node.id});
    expiry_of.erase(it);
  }
  if (!expired && node.expiry_unix_ns != 0) {
    expiry_of[node.id] = node.expiry_unix_ns;
    expiry_queue.insert({node.expiry_unix_ns, node.id});
  }
  schedule_expiry_check();
}

void ControlCore::Impl::schedule_expiry_check() {
  if (expiry_queue.empty()) {
    expiry_timer.cancel();
    return;
  }
  const int64_t wait_ns = expiry_queue.begin()->first - env.clock.unix_time_ns();
  Duration delay =
      std::min(kMaxExpiryCheckDelay,
               Duration::nanoseconds(std::max<int64_t>(0, wait_ns)) + kExpiryCheckSlack);
  const Timestamp when = env.clock.now() + delay;
  if (expiry_timer.armed() && expiry_timer.deadline() <= when) return;
  expiry_timer.arm_at(when, [this] { on_expiry_check(); });
}

void ControlCore::Impl::on_expiry_check() {
  const int64_t now = env.clock.unix_time_ns();
  std::vector<NodeId> due;
  for (auto it = expiry_queue.begin(); it != expiry_queue.end() && it->first <= now; ++it) {
    due.push_back(it->second);
  }
  for (NodeId id : due) {
    const Node* node = registry.find_node(id);
    if (!node) {
      expiry_queue.erase({expiry_of[id], id});
      expiry_of.erase(id);
      continue;
    }
    if (!registry.node_expired(*node)) continue;  // re-checked after the slack
    node_upserted(*node, false);                  // hides it and ends its stream
  }
  schedule_expiry_check();
}

// ---------------------------------------------------------------------------------------------

ControlCore::ControlCore(Env& env, Registry& registry, ControlCoreConfig config)
    : impl_(std::make_unique<Impl>(env, registry, std::move(config))) {}

ControlCore::~ControlCore() = default;

Status ControlCore::start() {
  Impl& m = *impl_;
  const ControlCoreConfig& c = m.config;
  if (c.keepalive_interval <= Duration::zero()) {
    return make_error("keepalive interval must be positive");
  }
  if (c.batch_window < Duration::zero() || c.keepalive_jitter < Duration::zero() ||
      c.offline_grace < Duration::zero() || c.ephemeral_timeout < Duration::zero()) {
    return make_error(
        "batch window, keepalive jitter, offline grace and ephemeral timeout "
        "must not be negative");
  }
  if (m.started) return make_error("control core already started");
  m.started = true;
  m.registry.set_observer(&m);
  m.reset();
  // Every node is offline when the server starts: ephemeral ones that do not come back are
  // deleted as if they had just gone offline.
  for (const Node* node : m.registry.nodes()) {
    if (!node->ephemeral) continue;
    const NodeId id = node->id;
    m.node_timer(m.ephemeral_timers, id).arm_after(c.offline_grace + c.ephemeral_timeout, [&m, id] {
      m.ephemeral_timers.erase(id);
      m.delete_ephemeral(id);
    });
  }
  return Status::success();
}

ControlCore::SessionId ControlCore::open_session(const PublicKey& peer_static, SessionSink& sink) {
  Impl& m = *impl_;
  const SessionId id = m.next_id++;
  auto session = std::make_unique<Impl::Session>(m.env.clock);
  session->id = id;
  session->peer_static = peer_static;
  session->sink = &sink;
  session->timer.arm_after(kIdleSessionTimeout, [&m, id] { m.on_session_timer(id); });
  m.sessions.emplace(id, std::move(session));
  ++m.counters.sessions_opened;
  return id;
}

void ControlCore::on_message(SessionId id, ByteView bytes) {
  Impl& m = *impl_;
  Impl::Session* s = m.find(id);
  if (!s) return;
  ++m.counters.messages_received;
  auto message = decode_client_message(bytes);
  if (!message) {
    ++m.counters.messages_malformed;
    return m.reject(id, "malformed message: " + message.error().message);
  }
  std::visit(
      [&](const auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        if constexpr (std::is_same_v<T, RegisterMessage>) {
          m.on_register(*s, msg);
        } else if constexpr (std::is_same_v<T, MapRequestMessage>) {
          m.on_map_request(*s, msg);
        } else if constexpr (std::is_same_v<T, UpdateMessage>) {
          m.on_update(*s, msg);
        } else {
          m.on_relay_subscribe(*s);
        }
      },
      *message);
}

void ControlCore::close_session(SessionId id) {
  impl_->detach(id, true);
}

NodeLive ControlCore::live(NodeId id) const {
  return impl_->engine.live(id);
}

const NodeLiveSource& ControlCore::live_source() const {
  return *impl_;
}

const ControlCoreCounters& ControlCore::counters() const {
  impl_->counters.full_maps_sent = impl_->engine.stats().full_maps;
  return impl_->counters;
}

size_t ControlCore::session_count() const {
  return impl_->sessions.size();
}

}  // namespace warren::control
