#include "nodes/relay/admission_feed.h"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

#include "nodes/common/control_messages.h"
#include "nodes/common/secure_channel.h"
#include "nodes/net/backoff.h"

namespace warren::relay {
namespace {}  // namespace

struct AdmissionFeed::Impl {
  enum class State { idle, fetching_key, connecting, subscribing, subscribed, waiting_retry };
  // How long to wait before the next attempt: transient failures back off from
  // backoff_initial; ones an operator must fix (refusal, key mismatch) retry at backoff_max.
  enum class Retry { backoff, slow };

  Impl(Env& e, AdmissionFeedOptions o, Admission& a, Callbacks c)
      : env(e),
        options(std::move(o)),
        admission(a),
        callbacks(std::move(c)),
        server_key(options.server_key),
        watchdog(e.clock),
        retry(e.clock) {}
  ~Impl() { *alive = false; }

  void connect();
  void on_key(Result<PublicKey> key);
  void open();
  void on_channel(Result<std::unique_ptr<SecureChannel>> channel);
  void diagnose_handshake_failure(const std::string& message);
  void on_diagnosis(Result<PublicKey> key, PublicKey pinned, std::string message);
  void on_message(ByteView bytes);
  void on_relay_keys(const control::RelayKeysMessage& message);
  void on_server_error(const std::string& error);
  void fail(const std::string& message, Retry retry_kind);
  void teardown();
  Duration next_backoff(Retry retry_kind);
  void arm_watchdog();
  std::string server_name() const {
    return options.host.empty() ? options.server.to_string()
                                : options.host + " (" + options.server.to_string() + ")";
  }

  Env& env;
  AdmissionFeedOptions options;
  Admission& admission;
  Callbacks callbacks;
  std::optional<PublicKey> server_key;
  State state = State::idle;
  std::unique_ptr<PendingChannel> pending;
  std::unique_ptr<SecureChannel> channel;
  Timer watchdog;
  Timer retry;
  Backoff backoff{options.backoff_initial, options.backoff_max};
  AdmissionFeedCounters counters;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

void AdmissionFeed::Impl::connect() {
  ++counters.connects;
  if (!server_key) {
    state = State::fetching_key;
    pending = fetch_server_key(
        env, options.server, options.host,
        [this](Result<PublicKey> key) { on_key(std::move(key)); }, ChannelOptions{});
    return;
  }
  open();
}

void AdmissionFeed::Impl::on_key(Result<PublicKey> key) {
  pending.reset();
  if (!key) {
    fail("cannot fetch the control server's key from " + server_name() + ": " + key.error().message,
         Retry::backoff);
    return;
  }
  server_key = *key;
  env.log.info("control server key " + to_base64(*key) + " (trusted on first use)");
  if (callbacks.on_server_key) {
    std::weak_ptr<bool> weak = alive;
    callbacks.on_server_key(*key);
    if (weak.expired() || state != State::fetching_key) return;
  }
  open();
}

void AdmissionFeed::Impl::open() {
  state = State::connecting;
  pending = open_channel(
      env, options.server, options.host, options.relay_key, *server_key,
      [this](Result<std::unique_ptr<SecureChannel>> ch) { on_channel(std::move(ch)); },
      ChannelOptions{});
}

void AdmissionFeed::Impl::on_channel(Result<std::unique_ptr<SecureChannel>> result) {
  pending.reset();
  if (!result) {
    diagnose_handshake_failure(result.error().message);
    return;
  }
  channel = std::move(result.value());
  SecureChannel::Handlers handlers;
  handlers.on_message = [this](ByteView bytes) { on_message(bytes); };
  handlers.on_closed = [this](const Status& reason) {
    fail(reason.ok() ? "the control server closed the channel"
                     : "control channel failed: " + reason.error().message,
         Retry::backoff);
  };
  channel->set_handlers(std::move(handlers));
  state = State::subscribing;
  arm_watchdog();
  Status sent =
      channel->send(control::encode(control::ClientMessage(control::RelaySubscribeMessage{})));
  if (!sent) fail("cannot send relay_subscribe: " + sent.error().message, Retry::backoff);
}

// A failed handshake against a pinned key may mean the control server has another key. Ask
// /key to tell that apart from an ordinary network failure.
void AdmissionFeed::Impl::diagnose_handshake_failure(const std::string& message) {
  const PublicKey pinned = *server_key;
  pending = fetch_server_key(
      env, options.server, options.host,
      [this, pinned, message](Result<PublicKey> key) {
        // By value: resetting `pending` destroys this closure.
        on_diagnosis(std::move(key), pinned, message);
      },
      ChannelOptions{});
}

void AdmissionFeed::Impl::on_diagnosis(Result<PublicKey> key, PublicKey pinned,
                                       std::string message) {
  pending.reset();
  if (key && *key != pinned) {
    fail("the control server at " + server_name() + " presents key " + to_base64(*key) +
             " but this relay expects " + to_base64(pinned) +
             "; check the control server key in the relay's config",
         Retry::slow);
    return;
  }
  fail("cannot open the control channel to " + server_name() + ": " + message, Retry::backoff);
}

void AdmissionFeed::Impl::on_message(ByteView bytes) {
  arm_watchdog();
  auto decoded = control::decode_server_message(bytes);
  if (!decoded) {
    fail("malformed message from the control server: " + decoded.error().message, Retry::backoff);
    return;
  }
  if (auto* keys = std::get_if<control::RelayKeysMessage>(&*decoded)) {
    on_relay_keys(*keys);
  } else if (std::holds_alternative<control::KeepaliveMessage>(*decoded)) {
    ++counters.keepalives;
  } else if (auto* error = std::get_if<control::ErrorMessage>(&*decoded)) {
    on_server_error(error->error);
  } else {
    fail(std::string("unexpected ") + control::message_type(*decoded) +
             " message from the control server on a relay feed",
         Retry::backoff);
  }
}

void AdmissionFeed::Impl::on_relay_keys(const control::RelayKeysMessage& message) {
  if (state == State::subscribing && !message.full) {
    fail("the control server's first relay_keys message is not a full key set", Retry::backoff);
    return;
  }
  const size_t before = admission.size();
  std::weak_ptr<bool> weak = alive;
  Status applied = admission.apply(message);  // removal listeners run in here
  // A listener may have stopped or destroyed the feed.
  if (weak.expired() || (state != State::subscribing && state != State::subscribed)) return;
  if (!applied) {
    fail(applied.error().message, Retry::backoff);
    return;
  }
  if (!message.full) {
    ++counters.deltas;
    return;
  }
  ++counters.full_sets;
  const bool first = state == State::subscribing;
  state = State::subscribed;
  backoff.reset();  // a working feed: the next outage starts its backoff from the beginning
  if (first) {
    env.log.info("admission list from the control server: " + std::to_string(admission.size()) +
                 " node keys (" + std::to_string(before) + " before)");
  }
  if (callbacks.on_full_set) callbacks.on_full_set();
}

void AdmissionFeed::Impl::on_server_error(const std::string& error) {
  if (state == State::subscribing) {
    // Refused before the first key set: most likely this relay's key is not in the relay map.
    // The operator may be fixing that right now, so keep trying, slowly.
    fail("the control server refused this relay (key " + to_base64(public_key(options.relay_key)) +
             "): " + error,
         Retry::slow);
    return;
  }
  fail("the control server closed the relay feed: " + error, Retry::backoff);
}

void AdmissionFeed::Impl::teardown() {
  watchdog.cancel();
  retry.cancel();
  pending.reset();
  if (channel) {
    channel->close();
    channel.reset();
  }
}

Duration AdmissionFeed::Impl::next_backoff(Retry retry_kind) {
  return retry_kind == Retry::backoff ? backoff.next(env.rng) : backoff.next_at_max(env.rng);
}

void AdmissionFeed::Impl::fail(const std::string& message, Retry retry_kind) {
  teardown();
  ++counters.errors;
  state = State::waiting_retry;
  const Duration delay = next_backoff(retry_kind);
  const std::string line = message + "; retrying in " + to_string(delay);
  if (retry_kind == Retry::slow) {
    env.log.warn(line);
  } else {
    env.log.info(line);
  }
  retry.arm_after(delay, [this] { connect(); });
  if (callbacks.on_error) callbacks.on_error(message);  // may destroy the feed
}

void AdmissionFeed::Impl::arm_watchdog() {
  watchdog.arm_after(options.watchdog, [this] {
    fail("nothing heard from the control server for " + to_string(options.watchdog),
         Retry::backoff);
  });
}

AdmissionFeed::AdmissionFeed(Env& env, AdmissionFeedOptions options, Admission& admission,
                             Callbacks callbacks)
    : impl_(std::make_unique<Impl>(env, std::move(options), admission, std::move(callbacks))) {
  // A live admission (a feed replaced at runtime) keeps its set until the next full one.
  if (admission.mode() == Admission::Mode::no_control) {
    admission.set_mode(Admission::Mode::waiting);
  }
}

AdmissionFeed::~AdmissionFeed() {
  impl_->teardown();
}

void AdmissionFeed::start() {
  Impl& s = *impl_;
  if (s.state != Impl::State::idle) return;
  s.backoff.reset();
  s.connect();
}

void AdmissionFeed::stop() {
  impl_->teardown();
  impl_->state = Impl::State::idle;
}

bool AdmissionFeed::subscribed() const {
  return impl_->state == Impl::State::subscribed;
}

const AdmissionFeedCounters& AdmissionFeed::counters() const {
  return impl_->counters;
}

}  // namespace warren::relay
