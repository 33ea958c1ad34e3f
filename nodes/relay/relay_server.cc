#include "nodes/relay/relay_server.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "nodes/common/relay_client.h"
#include "nodes/common/secure_channel.h"
#include "nodes/relay/key_hash.h"
#include "nodes/relay/mesh_links.h"
#include "nodes/relay/relay_session.h"

namespace warren::relay {
namespace {

// Connections past the handshake that have not sent their hello yet. Each holds a channel
// and a timer until hello_timeout; beyond this many, new ones are refused at once so a flood
// of silent connections cannot grow the server (the acceptor bounds handshakes the same way).
constexpr size_t kMaxAwaitingHello = 4096;
// Incoming mesh connections: a region has a handful of relays, each with one link to us (two
// while one reconnects).
constexpr size_t kMaxMeshSessions = 64;
// How long a client told `restarting` should keep trying at the announced cadence.
constexpr Duration kRestartTryFor = Duration::seconds(30);

SessionConfig session_config(const PublicKey& server_key, const RelayServerOptions& o) {
  SessionConfig c;
  c.server_key = server_key;
  c.queue_depth = static_cast<uint32_t>(std::clamp<size_t>(o.queue_depth, 1, 1u << 16));
  c.rate_bytes_per_s = o.rate_bytes_per_s;
  // A maximal packet must always fit, or a well-behaved client could never send one.
  c.burst_bytes = o.rate_bytes_per_s == 0
                      ? 0
                      : std::max<uint32_t>(o.burst_bytes, uint32_t{kMaxRelayPacketBytes});
  c.hello_timeout = o.hello_timeout;
  c.keepalive = o.keepalive;
  c.keepalive_jitter = o.keepalive_jitter;
  c.stall_timeout = o.stall_timeout;
  return c;
}

}  // namespace

struct RelayServer::Impl final : SessionHost {
  Impl(Env& e, const PrivateKey& k, Admission& a, RelayServerOptions o)
      : env(e),
        log(e.log.child("relay")),
        key(k),
        public_key(warren::public_key(k)),
        admission(a),
        options(std::move(o)),
        config(session_config(public_key, options)),
        context{e, log, config, *this, counters, {}},
        reap_timer(e.clock) {
    admission.set_removed_listener([this](const PublicKey& removed, const std::string& reason) {
      on_removed(removed, reason);
    });
  }
  ~Impl() override;

  // SessionHost.
  Verdict admit(RelaySession& session, const ClientHello& hello) override;
  void on_send_packet(RelaySession& from, const PublicKey& dst, ByteView packet) override;
  void on_forward_packet(RelaySession& from, const ForwardPacket& packet) override;
  void on_watch_conns(RelaySession& from) override;
  const RelaySession* local_client(const PublicKey& k) const override {
    auto it = clients.find(k);
    return it == clients.end() ? nullptr : it->second;
  }
  void on_closed(RelaySession& session) override;

  void on_channel(std::unique_ptr<SecureChannel> channel);
  Verdict refuse(RefusalReason reason, std::string text);
  Verdict admit_client(RelaySession& session);
  Verdict admit_mesh(RelaySession& session, const ClientHello& hello);
  void deliver(RelaySession& to, const PublicKey& src, ByteView packet);
  void send_peer_gone(RelaySession& to, const PublicKey& gone, PeerGoneReason reason);
  void client_left(RelaySession& session);
  void peer_left_mesh(const PublicKey& k, const std::vector<PublicKey>& receivers);
  void presence_changed(const PublicKey& k);
  void on_removed(const PublicKey& removed, const std::string& reason);
  void close_all(Duration reconnect_in);
  void reap_later(std::unique_ptr<RelaySession> session);

  Env& env;
  Logger log;
  PrivateKey key;
  PublicKey public_key;
  Admission& admission;
  RelayServerOptions options;
  SessionConfig config;
  RelayServerCounters counters;
  SessionContext context;

  std::vector<std::unique_ptr<StreamListener>> listeners;  // listen, then additional_listen
  std::unique_ptr<ChannelAcceptor> acceptor;
  std::vector<Endpoint> bound;
  std::unique_ptr<StunServer> stun;
  StunServerStats stun_stats_before;  // of the STUN server a stop() closed
  std::unique_ptr<MeshLinks> mesh;

  // Every open session, in a slab (swap-remove; RelaySession::slot is the index) so that
  // walks over it are in an order that depends only on what happened, never on hashing.
  std::vector<std::unique_ptr<RelaySession>> sessions;
  std::unordered_map<PublicKey, RelaySession*, PublicKeyHash> clients;
  std::vector<RelaySession*> mesh_sessions;  // admitted mesh peers (small)
  size_t awaiting_hello = 0;
  bool closing_all = false;  // close_all owns the sessions: on_closed must not touch the slab
  Bytes scratch;             // recv_packet and peer_gone for other sessions are encoded here
  std::vector<std::unique_ptr<RelaySession>> graveyard;
  Timer reap_timer;
};

RelayServer::Impl::~Impl() {
  admission.set_removed_listener(nullptr);
  listeners.clear();
  acceptor.reset();
  mesh.reset();
  closing_all = true;
  sessions.clear();  // a session destroyed without close() runs no callback
  graveyard.clear();
}

void RelayServer::Impl::on_channel(std::unique_ptr<SecureChannel> channel) {
  ++counters.channels_accepted;
  auto session = std::make_unique<RelaySession>(context, std::move(channel),
                                                static_cast<uint32_t>(sessions.size()));
  RelaySession& s = *session;
  sessions.push_back(std::move(session));
  ++awaiting_hello;
  if (awaiting_hello > kMaxAwaitingHello) {
    ++counters.refused_full;
    s.close_refused(RefusalReason::server_full,
                    "too many connections are still saying hello; try again shortly");
    return;
  }
  s.start();
}

SessionHost::Verdict RelayServer::Impl::refuse(RefusalReason reason, std::string text) {
  switch (reason) {
    case RefusalReason::unknown_key:
      ++counters.refused_unknown_key;
      break;
    case RefusalReason::removed_key:
      ++counters.refused_removed_key;
      break;
    case RefusalReason::not_ready:
      ++counters.refused_not_ready;
      break;
    case RefusalReason::bad_mesh_key:
      ++counters.refused_bad_mesh_key;
      break;
    case RefusalReason::protocol_error:
      ++counters.refused_protocol;
      break;
    case RefusalReason::server_full:
      ++counters.refused_full;
      break;
    case RefusalReason::shutting_down:
      break;
  }
  Verdict v;
  v.reason = reason;
  v.text = std::move(text);
  return v;
}

SessionHost::Verdict RelayServer::Impl::admit(RelaySession& session, const ClientHello& hello) {
  Verdict v = hello.mesh_proof ? admit_mesh(session, hello) : admit_client(session);
  // A refused session stays "awaiting" until its on_closed, which comes right after.
  if (v.admitted) --awaiting_hello;
  return v;
}

SessionHost::Verdict RelayServer::Impl::admit_client(RelaySession& session) {
  const PublicKey& k = session.key();
  AdmissionVerdict verdict = admission.check(k);
  if (!verdict.admitted) {
    if (log.enabled(LogLevel::debug)) {
      log.debug("refused " + to_base64(k) + " from " + session.remote_endpoint().to_string() +
                ": " + verdict.text);
    }
    return refuse(verdict.reason, std::move(verdict.text));
  }
  auto it = clients.find(k);
  RelaySession* replaced = nullptr;
  if (it != clients.end()) {
    replaced = it->second;
    it->second = &session;
  } else if (clients.size() >= options.max_clients) {
    return refuse(RefusalReason::server_full,
                  "this relay serves " + std::to_string(options.max_clients) +
                      " nodes already; try another relay of the region");
  } else {
    clients.emplace(k, &session);
  }
  if (replaced != nullptr) {
    ++counters.disconnected_replaced;
    // The node is the same: whoever it sent to still wants to hear when it leaves.
    session.destinations() = std::move(replaced->destinations());
    replaced->destinations().clear();
    replaced->close_replaced("replaced by a newer connection with the same node key from " +
                             session.remote_endpoint().to_string());
  }
  ++counters.clients_admitted;
  if (log.enabled(LogLevel::debug)) {
    log.debug("admitted " + to_base64(k) + " from " + session.remote_endpoint().to_string());
  }
  presence_changed(k);
  Verdict v;
  v.admitted = true;
  v.hello.rate_bytes_per_s = config.rate_bytes_per_s;
  v.hello.burst_bytes = config.burst_bytes;
  return v;
}

SessionHost::Verdict RelayServer::Impl::admit_mesh(RelaySession& session,
                                                   const ClientHello& hello) {
  const PublicKey& k = session.key();
  if (!options.mesh_key) {
    return refuse(RefusalReason::bad_mesh_key,
                  "this relay has no mesh key; it does not mesh with other relays");
  }
  const MeshProof expected = mesh_client_proof(*options.mesh_key, k, public_key);
  if (!mesh_proof_equal(expected, *hello.mesh_proof)) {
    log.warn("refused mesh peer " + to_base64(k) + " from " +
             session.remote_endpoint().to_string() + ": its mesh key differs from ours");
    return refuse(RefusalReason::bad_mesh_key,
                  "the mesh proof does not verify: this relay holds a different mesh key");
  }
  RelaySession* replaced = nullptr;
  for (RelaySession* m : mesh_sessions) {
    if (m->key() == k) replaced = m;
  }
  if (replaced == nullptr && mesh_sessions.size() >= kMaxMeshSessions) {
    return refuse(RefusalReason::server_full,
                  "this relay has " + std::to_string(kMaxMeshSessions) + " mesh peers already");
  }
  if (replaced != nullptr) {
    ++counters.disconnected_replaced;
    replaced->close_replaced("replaced by a newer mesh connection from the same relay");
  }
  mesh_sessions.push_back(&session);
  ++counters.mesh_clients_admitted;
  log.info("mesh peer " + to_base64(k) + " connected from " +
           session.remote_endpoint().to_string());
  Verdict v;
  v.admitted = true;
  v.mesh = true;
  v.hello.mesh_proof = mesh_server_proof(*options.mesh_key, k, public_key);
  return v;  // mesh peers are not rate limited: advertise none
}

void RelayServer::Impl::deliver(RelaySession& to, const PublicKey& src, ByteView packet) {
  scratch.clear();
  encode_relay_frame(RecvPacket{src, packet}, scratch);
  to.send_frame(scratch);
  ++counters.packets_delivered;
  counters.bytes_delivered += packet.size();
}

void RelayServer::Impl::send_peer_gone(RelaySession& to, const PublicKey& gone,
                                       PeerGoneReason reason) {
  scratch.clear();
  encode_relay_frame(PeerGone{gone, reason}, scratch);
  to.send_frame(scratch);
  ++counters.peer_gone_sent;
}

void RelayServer::Impl::on_send_packet(RelaySession& from, const PublicKey& dst, ByteView packet) {
  ++counters.packets_received;
  auto it = clients.find(dst);
  if (it != clients.end()) {
    from.destinations().insert(dst);
    deliver(*it->second, from.key(), packet);
    return;
  }
  if (mesh) {
    switch (mesh->forward(from.key(), dst, packet)) {
      case MeshLinks::Route::sent:
        ++counters.packets_meshed;
        return;
      case MeshLinks::Route::dropped:
        ++counters.dropped_mesh_send;
        return;
      case MeshLinks::Route::none:
        break;
    }
  }
  ++counters.dropped_unknown_dest;
  if (from.take_not_here()) send_peer_gone(from, dst, PeerGoneReason::not_here);
}

void RelayServer::Impl::on_forward_packet(RelaySession& /*from*/, const ForwardPacket& packet) {
  ++counters.packets_received;
  ++counters.packets_from_mesh;
  auto it = clients.find(packet.dst);
  if (it == clients.end()) {
    // One hop only: a forwarded packet is never forwarded again, even if a route exists (two
    // relays with stale tables could otherwise bounce it between them).
    ++counters.dropped_unknown_dest_on_forward;
    return;
  }
  if (mesh) mesh->note_delivery(packet.src, packet.dst);
  deliver(*it->second, packet.src, packet.packet);
}

void RelayServer::Impl::on_watch_conns(RelaySession& from) {
  // The slab's order: deterministic, unlike the key map's.
  for (const auto& s : sessions) {
    if (s->role() != RelaySession::Role::client || s->closed()) continue;
    if (local_client(s->key()) == s.get()) from.note_presence_change(s->key());
  }
}

void RelayServer::Impl::presence_changed(const PublicKey& k) {
  for (RelaySession* m : mesh_sessions) {
    if (m->watcher()) m->note_presence_change(k);
  }
}

void RelayServer::Impl::client_left(RelaySession& session) {
  const PublicKey& k = session.key();
  presence_changed(k);
  // peer_gone only when the node left the region, not when it moved to another relay of it.
  if (mesh && mesh->has_route(k)) return;
  for (const PublicKey& receiver : session.destinations().keys()) {
    auto it = clients.find(receiver);
    if (it != clients.end()) send_peer_gone(*it->second, k, PeerGoneReason::disconnected);
  }
}

void RelayServer::Impl::peer_left_mesh(const PublicKey& k,
                                       const std::vector<PublicKey>& receivers) {
  if (clients.count(k) != 0) return;  // it is here now
  if (mesh && mesh->has_route(k)) return;
  for (const PublicKey& receiver : receivers) {
    auto it = clients.find(receiver);
    if (it != clients.end()) send_peer_gone(*it->second, k, PeerGoneReason::disconnected);
  }
}

void RelayServer::Impl::on_closed(RelaySession& session) {
  if (closing_all) return;
  switch (session.role()) {
    case RelaySession::Role::awaiting_hello:
      --awaiting_hello;
      break;
    case RelaySession::Role::mesh: {
      auto it = std::find(mesh_sessions.begin(), mesh_sessions.end(), &session);
      if (it != mesh_sessions.end()) mesh_sessions.erase(it);
      break;
    }
    case RelaySession::Role::client: {
      auto it = clients.find(session.key());
      if (it != clients.end() && it->second == &session) {
        clients.erase(it);
        client_left(session);
      }
      break;
    }
  }
  // Out of the slab now, destroyed on a later clock turn: it may be on the caller's stack.
  const uint32_t slot = session.slot;
  std::unique_ptr<RelaySession> owned = std::move(sessions[slot]);
  if (slot + 1 != sessions.size()) {
    sessions[slot] = std::move(sessions.back());
    sessions[slot]->slot = slot;
  }
  sessions.pop_back();
  reap_later(std::move(owned));
}

void RelayServer::Impl::reap_later(std::unique_ptr<RelaySession> session) {
  graveyard.push_back(std::move(session));
  if (!reap_timer.armed()) reap_timer.arm_after(Duration::zero(), [this] { graveyard.clear(); });
}

void RelayServer::Impl::on_removed(const PublicKey& removed, const std::string& reason) {
  auto it = clients.find(removed);
  if (it == clients.end()) return;
  ++counters.disconnected_removed;
  log.info("disconnecting " + to_base64(removed) + ": the control server removed it (" + reason +
           ")");
  it->second->close_refused(RefusalReason::removed_key,
                            reason.empty() ? "the control server removed this node key" : reason);
}

void RelayServer::Impl::close_all(Duration reconnect_in) {
  closing_all = true;
  std::vector<std::unique_ptr<RelaySession>> all = std::move(sessions);
  sessions.clear();
  clients.clear();
  mesh_sessions.clear();
  awaiting_hello = 0;
  for (auto& s : all) {
    if (s->role() == RelaySession::Role::awaiting_hello) {
      s->close_refused(RefusalReason::shutting_down, "the relay is shutting down");
    } else {
      s->close_restarting(reconnect_in, kRestartTryFor);
    }
  }
  all.clear();
  graveyard.clear();
  reap_timer.cancel();
  closing_all = false;
}

RelayServer::RelayServer(Env& env, const PrivateKey& key, Admission& admission,
                         RelayServerOptions options)
    : impl_(std::make_unique<Impl>(env, key, admission, std::move(options))) {}

RelayServer::~RelayServer() {
  stop();
}

Status RelayServer::start() {
  Impl& s = *impl_;
  if (!s.listeners.empty()) return make_error("the relay is already running");
  if (!s.options.mesh_peers.empty() && !s.options.mesh_key) {
    return make_error(
        "mesh_peers are configured but no mesh_key: relays of a region prove "
        "the shared mesh key to each other; set \"mesh_key\" or \"mesh_key_file\"");
  }
  std::vector<Endpoint> wanted = {s.options.listen};
  wanted.insert(wanted.end(), s.options.additional_listen.begin(),
                s.options.additional_listen.end());
  std::vector<std::unique_ptr<StreamListener>> listeners;
  for (const Endpoint& endpoint : wanted) {
    auto listener = s.env.network.listen(endpoint);
    if (!listener) {  // the ones opened so far close as they go out of scope
      return make_error("cannot listen on " + endpoint.to_string() + ": " +
                        listener.error().message +
                        "; pick another \"listen\" address or stop what uses the port");
    }
    listeners.push_back(std::move(listener.value()));
  }
  std::unique_ptr<StunServer> stun;
  if (!s.options.stun_listen.empty()) {
    stun = std::make_unique<StunServer>(s.env, s.options.software);
    Status started = stun->start(s.options.stun_listen);
    if (!started) return started;  // the listener closes as it goes out of scope
  }
  s.listeners = std::move(listeners);
  s.bound.clear();
  s.stun = std::move(stun);

  s.acceptor = std::make_unique<ChannelAcceptor>(s.env, s.key,
                                                 relay_channel_options(s.options.hello_timeout));
  s.acceptor->set_channel_handler(
      [&s](std::unique_ptr<SecureChannel> c) { s.on_channel(std::move(c)); });
  std::string listen_text;
  for (auto& listener : s.listeners) {
    s.bound.push_back(listener->local_endpoint());
    listen_text += (listen_text.empty() ? "" : ", ") + s.bound.back().to_string();
    listener->set_accept_handler([&s](std::unique_ptr<Stream> stream) {
      if (s.acceptor) s.acceptor->accept(std::move(stream));
    });
  }

  if (s.options.mesh_key && !s.options.mesh_peers.empty()) {
    MeshLinks::Callbacks callbacks;
    callbacks.on_peer_left = [&s](const PublicKey& k, const std::vector<PublicKey>& receivers) {
      s.peer_left_mesh(k, receivers);
    };
    s.mesh = std::make_unique<MeshLinks>(s.env, s.key, *s.options.mesh_key, s.options.mesh_peers,
                                         std::move(callbacks));
    s.mesh->start();
  }
  std::string stun_text;
  for (const Endpoint& e : stun_endpoints()) stun_text += " " + e.to_string();
  s.log.info(
      "relay listening on " + listen_text + ", key " + to_base64(s.public_key) +
      (stun_text.empty() ? ", no STUN" : ", STUN on" + stun_text) +
      (s.mesh ? ", meshing with " + std::to_string(s.options.mesh_peers.size()) + " peers" : ""));
  return Status::success();
}

void RelayServer::stop(Duration reconnect_in) {
  Impl& s = *impl_;
  s.listeners.clear();
  s.acceptor.reset();  // abandons handshakes in progress
  s.mesh.reset();
  if (s.stun) s.stun_stats_before = s.stun->stats();
  s.stun.reset();
  s.close_all(reconnect_in);
}

void RelayServer::accept_channel(std::unique_ptr<SecureChannel> channel) {
  impl_->on_channel(std::move(channel));
}

Endpoint RelayServer::listen_endpoint() const {
  return impl_->bound.empty() ? Endpoint() : impl_->bound.front();
}

std::vector<Endpoint> RelayServer::listen_endpoints() const {
  return impl_->bound;
}

std::vector<Endpoint> RelayServer::stun_endpoints() const {
  return impl_->stun ? impl_->stun->local_endpoints() : std::vector<Endpoint>{};
}

const PublicKey& RelayServer::public_key() const {
  return impl_->public_key;
}

size_t RelayServer::clients() const {
  return impl_->clients.size();
}

size_t RelayServer::mesh_links_up() const {
  return impl_->mesh ? impl_->mesh->links_up() : 0;
}

size_t RelayServer::mesh_routes() const {
  return impl_->mesh ? impl_->mesh->routes() : 0;
}

const RelayServerCounters& RelayServer::counters() const {
  return impl_->counters;
}

const StunServerStats& RelayServer::stun_stats() const {
  return impl_->stun ? impl_->stun->stats() : impl_->stun_stats_before;
}

}  // namespace warren::relay
