#include "nodes/client/control_client.h"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

#include "nodes/common/secure_channel.h"
#include "nodes/net/backoff.h"

namespace warren {
namespace {

ChannelOptions control_channel_options() {
  ChannelOptions options;
  options.protocol = "warren-control/1";
  options.path = "/control";
  return options;
}

// The protocol wants advertised routes sorted and unique (one canonical form to compare).
std::vector<Prefix> canonical_routes(std::vector<Prefix> routes) {
  std::sort(routes.begin(), routes.end());
  routes.erase(std::unique(routes.begin(), routes.end()), routes.end());
  return routes;
}

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace

struct ControlClient::Impl {
  enum class State {
    idle,
    fetching_key,
    connecting,
    registering,
    map_requested,
    streaming,
    waiting_retry,
    failed
  };

  Impl(Env& e, ControlClientOptions o, Callbacks c)
      : env(e),
        options(std::move(o)),
        callbacks(std::move(c)),
        server_key(options.server_key),
        watchdog(e.clock),
        retry(e.clock),
        send_auth_key(!options.registered_before) {}
  ~Impl() { *alive = false; }

  void connect();
  void on_key(Result<PublicKey> key);
  void open();
  void on_channel(Result<std::unique_ptr<SecureChannel>> channel);
  void diagnose_handshake_failure(const std::string& message);
  void on_diagnosis(Result<PublicKey> key, PublicKey pinned, std::string message);
  void on_message(ByteView bytes);
  void on_register_response(const control::RegisterResponse& response);
  void on_map(const control::MapMessage& message);
  void send(const control::ClientMessage& message);
  void send_update(control::UpdateMessage update);
  void fail(ControlClientError::Kind kind, const std::string& message, bool fatal);
  void teardown();
  void arm_watchdog();

  Env& env;
  ControlClientOptions options;
  Callbacks callbacks;
  std::optional<PublicKey> server_key;
  State state = State::idle;
  std::unique_ptr<PendingChannel> pending;
  std::unique_ptr<SecureChannel> channel;
  NetMap map;
  Timer watchdog;
  Timer retry;
  Backoff backoff{options.backoff_initial, options.backoff_max};
  bool send_auth_key = true;  // false once the server knows this machine
  ControlClientCounters counters;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

void ControlClient::Impl::connect() {
  ++counters.connects;
  map.reset();
  if (!server_key) {
    state = State::fetching_key;
    pending = fetch_server_key(
        env, options.server, options.host,
        [this](Result<PublicKey> key) { on_key(std::move(key)); }, control_channel_options());
    return;
  }
  open();
}

void ControlClient::Impl::on_key(Result<PublicKey> key) {
  pending.reset();
  if (!key) {
    fail(ControlClientError::Kind::connection,
         "cannot fetch the control server's key from " + options.server.to_string() + ": " +
             key.error().message,
         false);
    return;
  }
  server_key = *key;
  env.log.info("control server key " + to_base64(*key) + " (trusted on first use)");
  if (callbacks.on_server_key) {
    std::weak_ptr<bool> weak = alive;
    callbacks.on_server_key(*key);
    if (weak.expired()) return;
  }
  open();
}

void ControlClient::Impl::open() {
  state = State::connecting;
  pending = open_channel(
      env, options.server, options.host, options.machine_key, *server_key,
      [this](Result<std::unique_ptr<SecureChannel>> ch) { on_channel(std::move(ch)); },
      control_channel_options());
}

void ControlClient::Impl::on_channel(Result<std::unique_ptr<SecureChannel>> result) {
  pending.reset();
  if (!result) {
    diagnose_handshake_failure(result.error().message);
    return;
  }
  channel = std::move(result.value());
  SecureChannel::Handlers handlers;
  handlers.on_message = [this](ByteView bytes) { on_message(bytes); };
  handlers.on_closed = [this](const Status& reason) {
    fail(ControlClientError::Kind::connection,
         reason.ok() ? "the control server closed the channel"
                     : "control channel failed: " + reason.error().message,
         false);
  };
  channel->set_handlers(std::move(handlers));
  state = State::registering;
  arm_watchdog();
  control::RegisterMessage reg;
  reg.node_key = public_key(options.node_key);
  reg.disco_key = public_key(options.disco_key);
  reg.auth_key = send_auth_key ? options.auth_key : std::string();
  reg.hostname = options.hostname;
  reg.routes = options.advertised_routes;
  send(reg);
}

// A failed handshake against a pinned key may mean the server now has another key. Ask /key to
// tell that apart from an ordinary network failure: a different key is fatal (someone must
// decide whether to trust it), anything else is retried.
void ControlClient::Impl::diagnose_handshake_failure(const std::string& message) {
  state = State::connecting;
  const PublicKey pinned = *server_key;
  pending = fetch_server_key(
      env, options.server, options.host,
      [this, pinned, message](Result<PublicKey> key) {
        // By value: resetting `pending` destroys this closure.
        on_diagnosis(std::move(key), pinned, message);
      },
      control_channel_options());
}

void ControlClient::Impl::on_diagnosis(Result<PublicKey> key, PublicKey pinned,
                                       std::string message) {
  pending.reset();
  if (key && *key != pinned) {
    fail(ControlClientError::Kind::server_key_mismatch,
         "the control server at " + options.server.to_string() + " presents key " +
             to_base64(*key) + " but this client pinned " + to_base64(pinned),
         true);
    return;
  }
  fail(ControlClientError::Kind::connection,
       "cannot open the control channel to " + options.server.to_string() + ": " + message, false);
}

void ControlClient::Impl::on_message(ByteView bytes) {
  ++counters.messages;
  arm_watchdog();
  auto decoded = control::decode_server_message(bytes);
  if (!decoded) {
    ++counters.malformed;
    fail(ControlClientError::Kind::protocol,
         "malformed message from the control server: " + decoded.error().message, false);
    return;
  }
  std::visit(Overloaded{
                 [this](const control::RegisterResponse& m) { on_register_response(m); },
                 [this](const control::MapMessage& m) { on_map(m); },
                 [this](const control::KeepaliveMessage&) { ++counters.keepalives; },
                 [this](const control::RelayKeysMessage&) {
                   fail(ControlClientError::Kind::protocol,
                        "the control server sent relay_keys to a node; reconnecting", false);
                 },
                 [this](const control::ErrorMessage& m) {
                   fail(ControlClientError::Kind::protocol, "the control server said: " + m.error,
                        false);
                 },
             },
             *decoded);
}

void ControlClient::Impl::on_register_response(const control::RegisterResponse& response) {
  if (state != State::registering) {
    fail(ControlClientError::Kind::protocol, "unexpected register_response from the server", false);
    return;
  }
  if (!response.ok) {
    if (!send_auth_key && !options.auth_key.empty()) {
      // The server no longer knows this machine (deleted, expired): log in again with the key,
      // at once, since nothing is wrong with the network.
      env.log.info("registration without the auth key refused (" + response.error +
                   "); trying again with the auth key");
      send_auth_key = true;
      teardown();
      connect();
      return;
    }
    fail(ControlClientError::Kind::registration_refused,
         "the control server refused registration: " + response.error, true);
    return;
  }
  ++counters.registrations;
  send_auth_key = false;
  state = State::map_requested;
  if (callbacks.on_registered) {
    std::weak_ptr<bool> weak = alive;
    callbacks.on_registered(response.node.value_or(control::PeerNode{}));
    if (weak.expired() || state != State::map_requested) return;
  }
  control::MapRequestMessage request;
  request.node_key = public_key(options.node_key);
  request.disco_key = public_key(options.disco_key);
  request.hostname = options.hostname;
  request.endpoints = options.endpoints;
  request.home_relay = options.home_relay;
  request.routes = options.advertised_routes;
  send(request);
}

void ControlClient::Impl::on_map(const control::MapMessage& message) {
  if (state != State::map_requested && state != State::streaming) {
    fail(ControlClientError::Kind::protocol, "map message before the map was requested", false);
    return;
  }
  Status applied = map.apply(message);
  if (!applied) {
    fail(ControlClientError::Kind::protocol, applied.error().message, false);
    return;
  }
  ++counters.map_messages;
  state = State::streaming;
  backoff.reset();  // a working stream: the next outage starts its backoff from the beginning
  if (callbacks.on_map) callbacks.on_map(map, message);
}

void ControlClient::Impl::send(const control::ClientMessage& message) {
  if (!channel) return;
  Bytes bytes = control::encode(message);
  Status sent = channel->send(bytes);
  if (!sent) {
    fail(ControlClientError::Kind::connection,
         "cannot send to the control server: " + sent.error().message, false);
  }
}

void ControlClient::Impl::send_update(control::UpdateMessage update) {
  if (state == State::map_requested || state == State::streaming) send(update);
}

void ControlClient::Impl::teardown() {
  watchdog.cancel();
  retry.cancel();
  pending.reset();
  if (channel) {
    channel->close();
    channel.reset();
  }
  map.reset();
}

void ControlClient::Impl::fail(ControlClientError::Kind kind, const std::string& message,
                               bool fatal) {
  teardown();
  ControlClientError error{kind, message, !fatal};
  if (fatal) {
    state = State::failed;
    env.log.warn(message);
  } else {
    state = State::waiting_retry;
    ++counters.reconnects;
    const Duration delay = backoff.next(env.rng);
    env.log.info(message + "; reconnecting in " + to_string(delay));
    retry.arm_after(delay, [this] { connect(); });
  }
  if (callbacks.on_error) callbacks.on_error(error);  // may destroy the client
}

void ControlClient::Impl::arm_watchdog() {
  watchdog.arm_after(options.watchdog, [this] {
    fail(ControlClientError::Kind::watchdog,
         "nothing heard from the control server for " + to_string(options.watchdog), false);
  });
}

ControlClient::ControlClient(Env& env, ControlClientOptions options, Callbacks callbacks)
    : impl_(std::make_unique<Impl>(env, std::move(options), std::move(callbacks))) {
  impl_->options.advertised_routes = canonical_routes(std::move(impl_->options.advertised_routes));
}

ControlClient::~ControlClient() {
  impl_->teardown();
}

void ControlClient::start() {
  Impl& s = *impl_;
  if (s.state != Impl::State::idle && s.state != Impl::State::failed) return;
  s.backoff.reset();
  s.connect();
}

void ControlClient::stop() {
  impl_->teardown();
  impl_->state = Impl::State::idle;
}

void ControlClient::set_endpoints(std::vector<Endpoint> endpoints) {
  impl_->options.endpoints = endpoints;
  control::UpdateMessage update;
  update.endpoints = std::move(endpoints);
  impl_->send_update(std::move(update));
}

void ControlClient::set_home_relay(int region) {
  impl_->options.home_relay = region;
  control::UpdateMessage update;
  update.home_relay = region;
  impl_->send_update(std::move(update));
}

void ControlClient::set_hostname(std::string hostname) {
  impl_->options.hostname = hostname;
  control::UpdateMessage update;
  update.hostname = std::move(hostname);
  impl_->send_update(std::move(update));
}

void ControlClient::set_advertised_routes(std::vector<Prefix> routes) {
  routes = canonical_routes(std::move(routes));
  impl_->options.advertised_routes = routes;
  control::UpdateMessage update;
  update.routes = std::move(routes);
  impl_->send_update(std::move(update));
}

void ControlClient::set_disco_key(const PrivateKey& disco_key) {
  impl_->options.disco_key = disco_key;
  control::UpdateMessage update;
  update.disco_key = public_key(disco_key);
  impl_->send_update(std::move(update));
}

bool ControlClient::streaming() const {
  return impl_->state == Impl::State::streaming;
}
const NetMap& ControlClient::net_map() const {
  return impl_->map;
}
const std::optional<PublicKey>& ControlClient::server_key() const {
  return impl_->server_key;
}
const ControlClientCounters& ControlClient::counters() const {
  return impl_->counters;
}

}  // namespace warren
