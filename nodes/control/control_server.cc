#include "nodes/control/control_server.h"

#include <map>
#include <utility>

#include "nodes/control/admin_session.h"

namespace warren::control {
namespace {

// Open control channels beyond this are refused: the server is built for ten thousand nodes,
// and a flood of handshakes must not exhaust file descriptors or memory. Reconnecting clients
// back off and retry.
constexpr size_t kMaxChannels = 65536;
// Admin connections come from the local socket, one short request each; more than this at once
// is a runaway script.
constexpr size_t kMaxAdminSessions = 64;

ChannelOptions control_channel_options() {
  ChannelOptions options;
  options.protocol = "warren-control/1";
  options.path = "/control";
  return options;
}

// One established channel as the core's SessionSink. The core closes it through close(); the
// peer closes it through the channel's on_closed. Either way the server drops it afterwards.
class ChannelSession final : public SessionSink {
 public:
  explicit ChannelSession(std::unique_ptr<SecureChannel> channel) : channel_(std::move(channel)) {}

  Status send(ByteView message) override {
    if (closed_) return make_error("the control channel is closed");
    return channel_->send(message);
  }
  size_t backlog_bytes() const override { return closed_ ? 0 : channel_->pending_write_bytes(); }
  void close(const std::string& reason) override;

  SecureChannel& channel() { return *channel_; }
  bool closed() const { return closed_; }
  void mark_closed() { closed_ = true; }

  ControlCore::SessionId id = 0;
  std::function<void(const std::string&)> on_core_close;  // set by the server

 private:
  std::unique_ptr<SecureChannel> channel_;
  bool closed_ = false;
};

void ChannelSession::close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  channel_->close();  // flushes what the core queued (its "error" message, if any)
  if (on_core_close) on_core_close(reason);
}

}  // namespace

struct ControlServer::Impl {
  Impl(Env& e, DurableStore& s, const PrivateKey& key, ControlServerOptions o)
      : env(e),
        store(s),
        server_key(key),
        options(std::move(o)),
        server_public(warren::public_key(key)),
        registry(e, s, options.registry),
        core(e, registry, options.core),
        admin(e, registry, core.live_source()) {}

  ~Impl() { *alive = false; }

  void on_channel(std::unique_ptr<SecureChannel> channel);
  void drop_session(uint64_t key);
  void schedule_drop(uint64_t key);

  Env& env;
  DurableStore& store;
  PrivateKey server_key;
  ControlServerOptions options;
  PublicKey server_public;
  Registry registry;
  ControlCore core;
  AdminApi admin;

  bool loaded = false;
  std::unique_ptr<StreamListener> listener;
  std::unique_ptr<ChannelAcceptor> acceptor;
  Endpoint bound;
  // Keyed by a local counter (not the core's id, which is only known after open_session).
  uint64_t next_session_key = 1;
  std::map<uint64_t, std::unique_ptr<ChannelSession>> sessions;
  uint64_t next_admin_key = 1;
  std::map<uint64_t, std::unique_ptr<AdminSession>> admin_sessions;
  uint64_t channels_refused = 0;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

void ControlServer::Impl::on_channel(std::unique_ptr<SecureChannel> channel) {
  if (sessions.size() >= kMaxChannels) {
    ++channels_refused;
    env.log.warn("refusing control channel from " + channel->remote_endpoint().to_string() + ": " +
                 std::to_string(kMaxChannels) + " channels already open");
    channel->close();
    return;
  }
  const uint64_t key = next_session_key++;
  auto owned = std::make_unique<ChannelSession>(std::move(channel));
  ChannelSession* session = owned.get();
  sessions.emplace(key, std::move(owned));
  session->on_core_close = [this, key](const std::string& reason) {
    env.log.debug("control session closed by the server: " + reason);
    // The sink may still be on the caller's stack: destroy it on the next clock turn.
    schedule_drop(key);
  };
  const PublicKey peer = session->channel().peer_static_key();
  session->id = core.open_session(peer, *session);
  if (session->closed()) return;  // refused inside open_session; drop already scheduled

  SecureChannel::Handlers handlers;
  handlers.on_message = [this, session](ByteView message) {
    if (session->closed()) return;
    core.on_message(session->id, message);
  };
  handlers.on_closed = [this, session, key](const Status& reason) {
    if (session->closed()) return;
    session->mark_closed();
    if (!reason.ok()) env.log.debug("control channel failed: " + reason.error().message);
    core.close_session(session->id);
    drop_session(key);  // the channel allows being destroyed from its own callback
  };
  session->channel().set_handlers(std::move(handlers));
}

void ControlServer::Impl::drop_session(uint64_t key) {
  sessions.erase(key);
}

void ControlServer::Impl::schedule_drop(uint64_t key) {
  std::weak_ptr<bool> weak = alive;
  env.clock.schedule_after(Duration::zero(), [this, weak, key] {
    if (weak.expired()) return;
    drop_session(key);
  });
}

ControlServer::ControlServer(Env& env, DurableStore& store, const PrivateKey& server_key,
                             ControlServerOptions options)
    : impl_(std::make_unique<Impl>(env, store, server_key, std::move(options))) {}

ControlServer::~ControlServer() {
  if (impl_) stop();
}

Status ControlServer::start() {
  Impl& s = *impl_;
  if (s.listener) return make_error("the control server is already running");
  if (!s.loaded) {
    Status loaded = s.registry.load();
    if (!loaded) return loaded;
    Status started = s.core.start();
    if (!started) return started;
    s.loaded = true;
  }
  auto listener = s.env.network.listen(s.options.listen);
  if (!listener) {
    return make_error("cannot listen on " + s.options.listen.to_string() + ": " +
                      listener.error().message +
                      "; pick another \"listen\" address or stop what uses the port");
  }
  s.listener = std::move(listener.value());
  s.bound = s.listener->local_endpoint();
  s.acceptor = std::make_unique<ChannelAcceptor>(s.env, s.server_key, control_channel_options());
  s.acceptor->set_channel_handler(
      [&s](std::unique_ptr<SecureChannel> channel) { s.on_channel(std::move(channel)); });
  s.listener->set_accept_handler([&s](std::unique_ptr<Stream> stream) {
    if (s.acceptor) s.acceptor->accept(std::move(stream));
  });
  s.env.log.info("control server listening on " + s.bound.to_string() + ", key " +
                 to_base64(s.server_public));
  return Status::success();
}

void ControlServer::stop() {
  Impl& s = *impl_;
  s.listener.reset();
  s.acceptor.reset();  // abandons handshakes in progress
  // Detach the sessions first: closing one may re-enter the core, which must not find it.
  auto sessions = std::move(s.sessions);
  s.sessions.clear();
  for (auto& [key, session] : sessions) {
    if (session->closed()) continue;
    session->mark_closed();
    s.core.close_session(session->id);
    session->channel().close();
  }
  sessions.clear();
  auto admins = std::move(s.admin_sessions);
  s.admin_sessions.clear();
  for (auto& [key, admin] : admins) admin->abort();
  admins.clear();
}

void ControlServer::accept_admin(std::unique_ptr<Stream> stream) {
  Impl& s = *impl_;
  if (s.admin_sessions.size() >= kMaxAdminSessions) {
    s.env.log.warn("refusing admin connection: " + std::to_string(kMaxAdminSessions) +
                   " already open");
    const std::string reply =
        "{\"ok\":false,\"error\":\"the control server is busy with other admin requests; "
        "try again\"}\n";
    (void)stream->write(ByteView(std::string_view(reply)));
    stream->close();
    return;
  }
  const uint64_t key = s.next_admin_key++;
  std::weak_ptr<bool> weak = s.alive;
  auto session = std::make_unique<AdminSession>(s.env, s.admin, std::move(stream), [&s, weak, key] {
    if (weak.expired()) return;
    // Called from inside the session: destroy it on the next clock turn.
    s.env.clock.schedule_after(Duration::zero(), [&s, weak, key] {
      if (!weak.expired()) s.admin_sessions.erase(key);
    });
  });
  s.admin_sessions.emplace(key, std::move(session));
}

Endpoint ControlServer::listen_endpoint() const {
  return impl_->bound;
}
const PublicKey& ControlServer::public_key() const {
  return impl_->server_public;
}
Registry& ControlServer::registry() {
  return impl_->registry;
}
ControlCore& ControlServer::core() {
  return impl_->core;
}
AdminApi& ControlServer::admin() {
  return impl_->admin;
}

}  // namespace warren::control
