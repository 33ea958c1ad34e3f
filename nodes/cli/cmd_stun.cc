// `warren stun HOST:PORT`: one STUN binding probe on real sockets.
// `warren stun-server --listen ADDR:PORT ...`: a standalone STUN server (until the relay
// serves STUN itself) that runs until SIGINT or SIGTERM.
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/cli/commands.h"
#include "nodes/client/stun_prober.h"
#include "nodes/net/env.h"
#include "nodes/real/real_loop.h"
#include "nodes/real/resolver.h"
#include "nodes/real/stderr_log_sink.h"
#include "nodes/real/system_rng.h"
#include "nodes/relay/stun_server.h"

namespace warren::cli {
namespace {

// Longest --timeout accepted: a probe that needs more than an hour is a typo.
constexpr double kMaxProbeTimeoutSeconds = 3600;
constexpr double kDefaultProbeTimeoutSeconds = 5;
std::string format_ms(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", d.ms_f());
  return buf;
}

std::string format_s(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", d.seconds_f());
  return buf;
}

// HOST:PORT or [V6]:PORT with a numeric port; names are resolved, preferring `family`.
// On failure prints why and sets `exit_code` (2: malformed, 1: lookup failed).
std::optional<Endpoint> resolve_target(const std::string& text, std::optional<Family> family,
                                       int& exit_code) {
  auto literal = Endpoint::parse(text);
  if (!literal) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
        colon + 6 < text.size() ||
        text.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
        std::stoul(text.substr(colon + 1)) > 65535) {
      std::cerr << "warren stun: expected HOST:PORT (for example stun.example.net:3478, "
                   "192.0.2.1:3478 or [2001:db8::1]:3478), got \""
                << text << "\"\n";
      exit_code = 2;
      return std::nullopt;
    }
  }
  auto resolved = literal ? literal : resolve_endpoint(text, family.value_or(Family::ipv4));
  if (!resolved) {
    std::cerr << "warren stun: " << resolved.error().message << "\n";
    exit_code = 1;
    return std::nullopt;
  }
  if (family && resolved->family() != *family) {
    std::cerr << "warren stun: " << text << " is " << to_string(resolved->family())
              << " but --bind is " << to_string(*family) << "; use addresses of one family\n";
    exit_code = 2;
    return std::nullopt;
  }
  return *resolved;
}

struct StunArgs {
  std::string server;
  double timeout_s = kDefaultProbeTimeoutSeconds;
  std::string bind;
  bool json = false;
  std::string log_level = "warn";
};

int run_stun(const StunArgs& args) {
  if (!(args.timeout_s > 0 && args.timeout_s <= kMaxProbeTimeoutSeconds)) {
    std::cerr << "warren stun: --timeout must be between 0 and " << kMaxProbeTimeoutSeconds
              << " seconds\n";
    return 2;
  }
  LogLevel level;
  if (!parse_log_level(args.log_level, level)) {
    std::cerr << "warren stun: unknown --log-level \"" << args.log_level
              << "\"; use debug, info, warn, error or off\n";
    return 2;
  }
  std::vector<Endpoint> bind;
  std::optional<Family> family;
  if (!args.bind.empty()) {
    auto b = Endpoint::parse(args.bind);
    if (!b) {
      std::cerr << "warren stun: bad --bind: " << b.error().message << "\n";
      return 2;
    }
    bind.push_back(*b);
    family = b->family();
  }
  int exit_code = 0;
  auto server = resolve_target(args.server, family, exit_code);
  if (!server) return exit_code;

  RealLoop loop;
  SystemRng rng;
  StderrLogSink sink;
  Env env{loop.clock(), loop.network(), rng, Logger(&sink, &loop.clock(), "stun", level)};
  StunProber prober(env);
  bool finished = false;
  const Duration timeout = Duration::milliseconds(static_cast<int64_t>(args.timeout_s * 1000));
  Status started = prober.start(
      {{args.server, *server}}, [&] { finished = true; }, bind);
  if (!started) {
    std::cerr << "warren stun: " << started.error().message << "\n";
    return 1;
  }
  loop.run_until([&] { return finished; }, timeout);

  const StunProbeResult& r = prober.results().front();
  if (!r.ok()) {
    std::string why = r.error;
    if (!finished || why.rfind("no STUN response", 0) == 0) {
      const Duration waited = finished ? StunRetransmitOptions().transaction_timeout() : timeout;
      why = "no STUN response from " + server->to_string() + " after " +
            std::to_string(prober.stats().transmissions) + " attempts over " + format_s(waited) +
            " s; is a STUN server listening there and is UDP allowed?";
    }
    std::cerr << "warren stun: " << why << "\n";
    return 1;
  }
  if (args.json) {
    std::cout << "{\"server\": \"" << server->to_string() << "\", \"mapped\": \""
              << r.mapped->to_string() << "\", \"rtt_ms\": " << format_ms(r.rtt)
              << ", \"local\": \"" << prober.local_endpoint(server->family())->to_string()
              << "\", \"transmissions\": " << r.transmissions << "}\n";
  } else {
    std::cout << "mapped " << r.mapped->to_string() << " (server " << server->to_string()
              << ", rtt " << format_ms(r.rtt) << " ms)\n";
  }
  return 0;
}

struct StunServerArgs {
  std::vector<std::string> listen;
  std::string log_level = "info";
};

int run_stun_server(const StunServerArgs& args) {
  LogLevel level;
  if (!parse_log_level(args.log_level, level)) {
    std::cerr << "warren stun-server: unknown --log-level \"" << args.log_level
              << "\"; use debug, info, warn, error or off\n";
    return 2;
  }
  std::vector<Endpoint> listen;
  for (const auto& text : args.listen) {
    auto e = Endpoint::parse(text);
    if (!e) {
      std::cerr << "warren stun-server: bad --listen: " << e.error().message << "\n";
      return 2;
    }
    listen.push_back(*e);
  }

  RealLoop loop;
  SystemRng rng;
  StderrLogSink sink;
  Env env{loop.clock(), loop.network(), rng, Logger(&sink, &loop.clock(), "", level)};
  StunServer server(env);
  Status started = server.start(listen);
  if (!started) {
    std::cerr << "warren stun-server: " << started.error().message << "\n";
    return 1;
  }
  loop.stop_on_signals();  // before announcing readiness: a supervisor may signal at once
  for (const Endpoint& e : server.local_endpoints()) {
    std::cout << "listening on " << e.to_string() << "\n";
  }
  std::cout.flush();
  loop.run();

  const StunServerStats& s = server.stats();
  env.log.info("stopping: " + std::to_string(s.binding_requests) + " answered, " +
               std::to_string(s.error_responses) + " errors sent, " + std::to_string(s.malformed) +
               " malformed, " + std::to_string(s.ignored) + " ignored");
  return 0;
}

}  // namespace

void add_stun_commands(CLI::App& app, int& exit_code) {
  auto stun_args = std::make_shared<StunArgs>();
  CLI::App* stun = app.add_subcommand(
      "stun", "Send one STUN binding request and print our endpoint as the server saw it");
  stun->add_option("server", stun_args->server, "STUN server as HOST:PORT or [IPV6]:PORT")
      ->required();
  stun->add_option("--timeout", stun_args->timeout_s,
                   "Give up after this many seconds (default 5; retransmits at 0.5, 1.5, "
                   "3.5 s, ... as RFC 8489 says)");
  stun->add_option("--bind", stun_args->bind,
                   "Local ADDR:PORT to send from (default: any address, a free port)");
  stun->add_flag("--json", stun_args->json, "Print the result as JSON");
  stun->add_option("--log-level", stun_args->log_level,
                   "debug, info, warn (default), error or off; logs go to stderr");
  stun->callback([stun_args, &exit_code] { exit_code = run_stun(*stun_args); });

  auto server_args = std::make_shared<StunServerArgs>();
  CLI::App* server = app.add_subcommand(
      "stun-server", "Run a STUN server (binding requests only) until SIGINT or SIGTERM");
  server
      ->add_option("--listen", server_args->listen,
                   "ADDR:PORT to listen on, repeatable (e.g. 0.0.0.0:3478 --listen [::]:3478; "
                   "port 0 picks a free one, printed at start)")
      ->required();
  server->add_option("--log-level", server_args->log_level,
                     "debug (one line per request), info (default), warn, error or off");
  server->callback([server_args, &exit_code] { exit_code = run_stun_server(*server_args); });
}

}  // namespace warren::cli
