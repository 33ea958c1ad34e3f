#include "nodes/cli/debug_relay.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/cli/state_files.h"
#include "nodes/common/relay_client.h"
#include "nodes/net/env.h"
#include "nodes/real/real_loop.h"
#include "nodes/real/resolver.h"
#include "nodes/real/stderr_log_sink.h"
#include "nodes/real/system_rng.h"
#include "nodes/relay/relay_config.h"

namespace warren::cli {
namespace {

constexpr const char* kCommand = "warren debug relay";
// A --timeout beyond a day is a typo.
constexpr double kMaxTimeoutSeconds = 86400;
// "Until interrupted", as a deadline the loop can add to its clock without overflow.
constexpr Duration kForever = Duration::seconds(100LL * 365 * 24 * 3600);
// --send-to without --timeout gives up after this: ample for loopback and real relays.
constexpr double kDefaultSendTimeoutSeconds = 10;
// One send time is kept per packet: a million is 8 MB, far beyond any test.
constexpr int kMaxCount = 1'000'000;
// A minute between packets is a typo for milliseconds.
constexpr int kMaxIntervalMs = 60'000;
// A probe packet: magic[8] | run u32 | seq u32 | zero padding up to --size.
constexpr size_t kProbeHeaderBytes = 16;
constexpr std::array<uint8_t, 8> kProbeMagic = {'w', 'r', 'n', 'p', 'r', 'o', 'b', 'e'};

struct DebugRelayArgs {
  std::string relay;
  std::string relay_key;
  std::string state_dir;
  bool echo = false;
  std::string send_to;
  int count = 10;
  int size = 64;
  int interval_ms = 10;
  double timeout_s = -1;  // < 0: not given
  // The client's own warnings repeat the errors this command prints; --log-level shows them.
  std::string log_level = "error";
};

int fail_usage(const std::string& message) {
  std::cerr << kCommand << ": " << message << "\n";
  return 2;
}

void print_line(const nlohmann::json& line) {
  std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

double round_ms(Duration d) {
  return std::round(d.ms_f() * 1000.0) / 1000.0;
}

// The packets --send-to sends and what came back.
class Probe {
 public:
  Probe(int count, size_t size, uint32_t run)
      : size_(size), run_(run), sent_at_(count), answered_(count, false) {}

  bool all_sent() const { return sent_ == sent_at_.size(); }
  bool all_received() const { return received_ == sent_at_.size(); }

  // The next packet to send, recording when; call only while !all_sent().
  const Bytes& next(Timestamp now) {
    packet_.assign(size_, 0);
    std::copy(kProbeMagic.begin(), kProbeMagic.end(), packet_.begin());
    put_be32(packet_.data() + 8, run_);
    put_be32(packet_.data() + 12, static_cast<uint32_t>(sent_));
    sent_at_[sent_++] = now;
    return packet_;
  }
  void dropped_locally() { ++dropped_locally_; }

  // An echo: counted once per packet of this run; anything else is ignored.
  void on_echo(ByteView packet, Timestamp now) {
    if (packet.size() < kProbeHeaderBytes ||
        !std::equal(kProbeMagic.begin(), kProbeMagic.end(), packet.begin()) ||
        be32(packet.data() + 8) != run_) {
      return;
    }
    const uint32_t seq = be32(packet.data() + 12);
    if (seq >= sent_ || answered_[seq]) return;
    answered_[seq] = true;
    const Duration rtt = now - sent_at_[seq];
    rtt_min_ = received_ == 0 ? rtt : std::min(rtt_min_, rtt);
    rtt_max_ = received_ == 0 ? rtt : std::max(rtt_max_, rtt);
    rtt_sum_ = rtt_sum_ + rtt;
    ++received_;
  }

  nlohmann::json summary() const {
    nlohmann::json rtt = nullptr;
    if (received_ > 0) {
      rtt = {
          {"min", round_ms(rtt_min_)},
          {"avg", round_ms(Duration::nanoseconds(rtt_sum_.ns() / static_cast<int64_t>(received_)))},
          {"max", round_ms(rtt_max_)}};
    }
    return {{"sent", sent_},
            {"received", received_},
            {"lost", sent_ - received_},
            {"dropped_locally", dropped_locally_},
            {"rtt_ms", rtt}};
  }
  size_t received() const { return received_; }
  size_t sent() const { return sent_; }

 private:
  static void put_be32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
  }
  static uint32_t be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  }

  size_t size_;
  uint32_t run_;
  std::vector<Timestamp> sent_at_;  // by sequence number
  std::vector<bool> answered_;      // by sequence number: duplicates count once
  size_t sent_ = 0;
  size_t received_ = 0;
  size_t dropped_locally_ = 0;
  Duration rtt_min_;
  Duration rtt_max_;
  Duration rtt_sum_;
  Bytes packet_;  // reused for every send
};

// Checks the arguments that need no I/O. Returns 0 or 2 (printed).
int check_args(const DebugRelayArgs& args, LogLevel& level) {
  if (!parse_log_level(args.log_level, level)) {
    return fail_usage("unknown --log-level \"" + args.log_level +
                      "\"; use debug, info, warn, error or off");
  }
  if (args.echo == !args.send_to.empty()) {
    return fail_usage("give either --echo or --send-to NODE_KEY");
  }
  if (args.count < 1 || args.count > kMaxCount) {
    return fail_usage("--count must be between 1 and " + std::to_string(kMaxCount));
  }
  if (args.size < static_cast<int>(kProbeHeaderBytes) ||
      args.size > static_cast<int>(relay::kMaxRelayPacketBytes)) {
    return fail_usage("--size must be between " + std::to_string(kProbeHeaderBytes) + " and " +
                      std::to_string(relay::kMaxRelayPacketBytes) + " bytes");
  }
  if (args.interval_ms < 0 || args.interval_ms > kMaxIntervalMs) {
    return fail_usage("--interval-ms must be between 0 and " + std::to_string(kMaxIntervalMs));
  }
  if (args.timeout_s > kMaxTimeoutSeconds) {
    return fail_usage("--timeout must be between 0 (none) and " +
                      std::to_string(static_cast<int>(kMaxTimeoutSeconds)) + " seconds");
  }
  return 0;
}

// The one line for a relay client error, with what to do where we know it.
std::string describe_error(const relay::RelayClientError& error, const DebugRelayArgs& args) {
  std::string line = error.message;
  if (error.kind == relay::RelayClientError::Kind::server_key_mismatch) {
    line += " (--relay-key; `warren relay pubkey --config FILE` prints the relay's key)";
  } else if (error.refusal == relay::RefusalReason::unknown_key) {
    // True whether the relay has a control server or none: say how a node gets known.
    line +=
        " (a relay serves the nodes its control server knows: register this one with "
        "`warren debug netmap --control URL --auth-key KEY --state-dir " +
        args.state_dir + "`)";
  }
  return line;
}

class Session {
 public:
  Session(const DebugRelayArgs& args, RealLoop& loop, Env& env, relay::RelayClientOptions options,
          std::optional<PublicKey> dst)
      : args_(args),
        loop_(loop),
        env_(env),
        node_key_(public_key(options.key)),
        dst_(dst),
        send_timer_(loop.clock()) {
    if (dst_) {
      probe_.emplace(args.count, static_cast<size_t>(args.size),
                     static_cast<uint32_t>(env.rng.next_u64()));
    }
    relay::RelayClient::Callbacks callbacks;
    callbacks.on_connected = [this](const relay::ServerHello& hello) { on_connected(hello); };
    callbacks.on_packet = [this](const PublicKey& src, ByteView packet) { on_packet(src, packet); };
    callbacks.on_peer_gone = [this](const relay::PeerGone& gone) { on_peer_gone(gone); };
    callbacks.on_error = [this](const relay::RelayClientError& error) { on_error(error); };
    client_ = std::make_unique<relay::RelayClient>(env, std::move(options), std::move(callbacks));
  }

  // Runs until done, --timeout or a signal; prints the summary; returns the exit code.
  int run() {
    const double timeout_s =
        args_.timeout_s >= 0 ? args_.timeout_s : (dst_ ? kDefaultSendTimeoutSeconds : 0);
    const Duration timeout =
        timeout_s > 0 ? Duration::milliseconds(static_cast<int64_t>(timeout_s * 1000)) : kForever;
    client_->start();
    loop_.run_until([this] { return finished_; }, timeout);
    send_timer_.cancel();
    client_->stop();
    if (!connected_once_ && exit_code_ == 0) {
      std::cerr << kCommand << ": not connected to " << args_.relay
                << (last_error_.empty() ? std::string() : " (last error: " + last_error_ + ")")
                << "\n";
      return 1;
    }
    if (!connected_once_) return exit_code_;
    if (!probe_) {
      print_line({{"type", "summary"}, {"echoed", echoed_}});
      return exit_code_;
    }
    nlohmann::json line = {
        {"type", "summary"}, {"node_key", to_base64(node_key_)}, {"to", to_base64(*dst_)}};
    line.update(probe_->summary());
    print_line(line);
    if (exit_code_ == 0 && !probe_->all_received()) {
      std::cerr << kCommand << ": " << probe_->received() << " of " << probe_->sent()
                << " packets came back"
                << (peer_not_here_ ? " (the relay said the destination is not connected)" : "")
                << "\n";
      return 1;
    }
    return exit_code_;
  }

 private:
  void on_connected(const relay::ServerHello& hello) {
    connected_once_ = true;
    if (!probe_) {
      const auto& relay_key = client_->server_key();
      print_line({{"type", "connected"},
                  {"relay", args_.relay},
                  {"relay_key", relay_key ? nlohmann::json(to_base64(*relay_key)) : nullptr},
                  {"node_key", to_base64(node_key_)},
                  {"rate_bytes_per_s", hello.rate_bytes_per_s},
                  {"burst_bytes", hello.burst_bytes}});
      return;
    }
    if (!sending_) {
      sending_ = true;
      send_next();
    }
  }

  // Sends one packet (all of them when --interval-ms is 0) and schedules the next.
  void send_next() {
    do {
      const Bytes& packet = probe_->next(env_.clock.now());
      if (!client_->send_packet(*dst_, packet)) probe_->dropped_locally();
    } while (args_.interval_ms == 0 && !probe_->all_sent());
    if (!probe_->all_sent()) {
      send_timer_.arm_after(Duration::milliseconds(args_.interval_ms), [this] { send_next(); });
    }
  }

  void on_packet(const PublicKey& src, ByteView packet) {
    if (!probe_) {
      if (client_->send_packet(src, packet)) ++echoed_;
      return;
    }
    if (src != *dst_) return;
    probe_->on_echo(packet, env_.clock.now());
    if (probe_->all_received()) finished_ = true;
  }

  void on_peer_gone(const relay::PeerGone& gone) {
    if (!dst_ || gone.key != *dst_ || peer_not_here_) return;
    peer_not_here_ = true;
    std::cerr << kCommand << ": the relay says " << to_base64(gone.key)
              << (gone.reason == relay::PeerGoneReason::not_here ? " is not connected to it"
                                                                 : " disconnected")
              << "\n";
  }

  void on_error(const relay::RelayClientError& error) {
    last_error_ = error.message;
    // A node's client keeps retrying unknown_key (its relay may not have heard of it yet); a
    // diagnostic tool says so at once.
    if (error.will_retry && error.refusal != relay::RefusalReason::unknown_key) {
      std::cerr << kCommand << ": " << error.message << " (retrying)\n";
      return;
    }
    std::cerr << kCommand << ": " << describe_error(error, args_) << "\n";
    exit_code_ = 1;
    finished_ = true;
  }

  const DebugRelayArgs& args_;
  RealLoop& loop_;
  Env& env_;
  PublicKey node_key_;
  std::optional<PublicKey> dst_;
  std::optional<Probe> probe_;
  Timer send_timer_;
  std::unique_ptr<relay::RelayClient> client_;
  bool connected_once_ = false;
  bool sending_ = false;
  bool peer_not_here_ = false;
  bool finished_ = false;
  int exit_code_ = 0;
  uint64_t echoed_ = 0;
  std::string last_error_;
};

int run_debug_relay(const DebugRelayArgs& args) {
  LogLevel level;
  if (int code = check_args(args, level)) return code;
  auto target = relay::parse_http_target(args.relay, "--relay");
  if (!target) return fail_usage(target.error().message);
  relay::RelayClientOptions options;
  options.host = target->host_port;
  if (!args.relay_key.empty()) {
    auto pinned = public_key_from_base64(args.relay_key);
    if (!pinned) return fail_usage("--relay-key: " + pinned.error().message);
    options.server_key = *pinned;
  }
  std::optional<PublicKey> dst;
  if (!args.send_to.empty()) {
    auto key = public_key_from_base64(args.send_to);
    if (!key) return fail_usage("--send-to: " + key.error().message + " (expected a node key)");
    dst = *key;
  }
  auto server = resolve_endpoint(target->host_port, Family::ipv4);
  if (!server) {
    std::cerr << kCommand << ": --relay: " << server.error().message << "\n";
    return 1;
  }
  options.server = *server;

  SystemRng rng;
  Status dir = ensure_private_dir(args.state_dir);
  if (!dir) {
    std::cerr << kCommand << ": " << dir.error().message << "\n";
    return 1;
  }
  auto key =
      load_or_create_private_key(args.state_dir + "/" + kNodeKeyFile, rng, "this node's key");
  if (!key) {
    std::cerr << kCommand << ": " << key.error().message << "\n";
    return 1;
  }
  options.key = *key;

  RealLoop loop;
  StderrLogSink sink;
  Env env{loop.clock(), loop.network(), rng, Logger(&sink, &loop.clock(), "debug-relay", level)};
  loop.stop_on_signals();
  Session session(args, loop, env, std::move(options), dst);
  return session.run();
}

}  // namespace

void add_debug_relay_command(CLI::App& debug, int& exit_code) {
  auto args = std::make_shared<DebugRelayArgs>();
  CLI::App* cmd = debug.add_subcommand(
      "relay",
      "Connect to a relay as the node in --state-dir: echo packets back, or send packets to "
      "another node and report what came back");
  cmd->add_option("--relay", args->relay, "relay URL, http://HOST:PORT")->required();
  cmd->add_option("--relay-key", args->relay_key,
                  "the relay's public key to pin (default: fetched from the relay)");
  cmd->add_option("--state-dir", args->state_dir,
                  "the node's state directory (`warren debug netmap --state-dir`); its node.key "
                  "is the identity")
      ->required();
  auto* echo = cmd->add_flag("--echo", args->echo, "send every packet back to its sender");
  auto* send_to = cmd->add_option("--send-to", args->send_to,
                                  "node key (base64) to send packets to; it should run --echo");
  echo->excludes(send_to);
  cmd->add_option("--count", args->count, "packets to send (default 10)");
  cmd->add_option("--size", args->size, "bytes per packet (default 64, at least 16)");
  cmd->add_option("--interval-ms", args->interval_ms,
                  "milliseconds between packets (default 10; 0 sends them all at once)");
  cmd->add_option("--timeout", args->timeout_s,
                  "give up after this many seconds (default: 10 with --send-to; --echo runs "
                  "until interrupted)");
  cmd->add_option("--log-level", args->log_level,
                  "debug, info, warn, error (default) or off; logs go to stderr");
  cmd->callback([args, &exit_code] { exit_code = run_debug_relay(*args); });
}

}  // namespace warren::cli
