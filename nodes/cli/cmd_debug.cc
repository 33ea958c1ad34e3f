// `warren debug netmap`: register with a control server as a node and print what it sends,
// one JSON line per event, the way operators use `tailscale debug netmap`. The keys live in a
// state directory so that a second run is the same machine (same addresses); the server's key
// is pinned there on first use.
//
// Output (stdout, one JSON document per line, flushed per line):
//   {"type": "registered", "server_key": "...", "node": {id, name, user, tags, addresses,
//    routes, key_expiry}}
//   {"type": "map", "full": bool, "seq", "self", "peers": [...], "packet_filter", "relay_regions",
//    "changes": {"peers_changed": [ids], "peers_removed": [ids], "peer_patches": [ids]}}
// Errors go to stderr. Exit: 0 after --count map messages (or at --timeout / SIGINT without
// --count, once registered), 1 on a refused registration, a server key mismatch or a timeout,
// 2 on bad usage. (`warren debug relay`, a relay test client, lives in debug_relay.cc.)
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "nodes/cli/commands.h"
#include "nodes/cli/debug_relay.h"
#include "nodes/cli/state_files.h"
#include "nodes/client/control_client.h"
#include "nodes/net/env.h"
#include "nodes/real/real_loop.h"
#include "nodes/real/resolver.h"
#include "nodes/real/stderr_log_sink.h"
#include "nodes/real/system_rng.h"
#include "nodes/relay/relay_config.h"

namespace warren::cli {
namespace {

constexpr const char* kCommand = "warren debug netmap";
// A --timeout beyond a day is a typo; without --timeout the command runs until interrupted.
constexpr double kMaxTimeoutSeconds = 86400;
// "Until interrupted", as a deadline the loop can add to its clock without overflow.
constexpr Duration kForever = Duration::seconds(100LL * 365 * 24 * 3600);

// The state directory's files: state_files.h.
const char* const kServerKeyFile = kControlServerKeyFile;

struct NetmapArgs {
  std::string control;
  std::string auth_key;
  std::string state_dir;
  std::string hostname;
  std::vector<std::string> routes;
  std::vector<std::string> endpoints;
  int count = 0;
  double timeout_s = 0;
  std::string log_level = "warn";
};

std::vector<std::string> split_list(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    std::stringstream in(item);
    std::string part;
    while (std::getline(in, part, ',')) {
      if (!part.empty()) out.push_back(part);
    }
  }
  return out;
}

// Replaces `path` with `text` plus a newline: a new file of mode 0600, then a rename over the
// old one, so a crash leaves the old or the new file, never half of one.
Status replace_private_file(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  ::unlink(temp.c_str());
  Status written = write_new_private_file(temp, text);
  if (!written) return written;
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return make_error("cannot replace " + path + ": " + std::strerror(errno));
  }
  return Status::success();
}

nlohmann::json ids_of(const std::vector<control::PeerNode>& nodes) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& n : nodes) out.push_back(n.id);
  return out;
}

nlohmann::json map_line(const NetMap& map, const control::MapMessage& message) {
  nlohmann::json line = {{"type", "map"}, {"full", message.full}};
  line.update(map.summary());
  if (!message.full) {
    nlohmann::json patches = nlohmann::json::array();
    for (const auto& p : message.peer_patches) patches.push_back(p.id);
    line["changes"] = {{"peers_changed", ids_of(message.peers_changed)},
                       {"peers_removed", message.peers_removed},
                       {"peer_patches", std::move(patches)}};
  }
  return line;
}

nlohmann::json registered_line(const control::PeerNode& self, const PublicKey& server_key) {
  nlohmann::json addresses = nlohmann::json::array({self.ipv4.to_string(), self.ipv6.to_string()});
  nlohmann::json routes = nlohmann::json::array();
  for (const Prefix& p : self.routes) routes.push_back(p.to_string());
  return {{"type", "registered"},
          {"server_key", to_base64(server_key)},
          {"node",
           {{"id", self.id},
            {"name", self.name},
            {"user", self.user},
            {"tags", self.tags},
            {"addresses", std::move(addresses)},
            {"routes", std::move(routes)},
            {"key_expiry", self.key_expiry_unix_s == 0 ? nlohmann::json(nullptr)
                                                       : nlohmann::json(self.key_expiry_unix_s)}}}};
}

void print_line(const nlohmann::json& line) {
  std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

std::string system_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "warren-node";
  return buf;
}

int fail_usage(const std::string& message) {
  std::cerr << kCommand << ": " << message << "\n";
  return 2;
}

// The command line as client options (without keys); a usage error is printed (exit 2).
std::optional<ControlClientOptions> options_from_args(const NetmapArgs& args) {
  auto fail = [](const std::string& message) {
    fail_usage(message);
    return std::nullopt;
  };
  auto url = relay::parse_http_target(args.control, "--control");
  if (!url) return fail(url.error().message);
  ControlClientOptions options;
  options.host = url->host_port;
  options.auth_key = args.auth_key;
  options.hostname = args.hostname.empty() ? system_hostname() : args.hostname;
  // The protocol's own limits, checked here so that the server never has to refuse them.
  if (options.hostname.size() > control::kMaxHostnameBytes) {
    return fail("--hostname is longer than " + std::to_string(control::kMaxHostnameBytes) +
                " bytes");
  }
  if (options.auth_key.size() > control::kMaxAuthKeyBytes) {
    return fail("--auth-key is longer than any key `warren control keys create` prints");
  }
  for (const std::string& text : split_list(args.routes)) {
    auto prefix = Prefix::parse(text);
    if (!prefix) return fail("--advertise-routes: " + prefix.error().message);
    options.advertised_routes.push_back(*prefix);
  }
  for (const std::string& text : split_list(args.endpoints)) {
    auto endpoint = Endpoint::parse(text);
    if (!endpoint) return fail("--endpoints: " + endpoint.error().message);
    options.endpoints.push_back(*endpoint);
  }
  if (options.advertised_routes.size() > control::kMaxRoutes) {
    return fail("--advertise-routes: at most " + std::to_string(control::kMaxRoutes) + " prefixes");
  }
  if (options.endpoints.size() > control::kMaxEndpoints) {
    return fail("--endpoints: at most " + std::to_string(control::kMaxEndpoints) + " endpoints");
  }
  return options;
}

// This machine's identity from the state directory (created, and keys generated, on first
// use): the three private keys, the pinned server key and whether it registered before.
Status load_identity(const std::string& state_dir, Rng& rng, ControlClientOptions& options) {
  Status dir = ensure_private_dir(state_dir);
  if (!dir) return dir;
  for (auto [name, slot, what] :
       {std::tuple{kMachineKeyFile, &options.machine_key, "this machine's key"},
        std::tuple{kNodeKeyFile, &options.node_key, "this node's key"},
        std::tuple{kDiscoKeyFile, &options.disco_key, "this node's disco key"}}) {
    auto key = load_or_create_private_key(state_dir + "/" + name, rng, what);
    if (!key) return key.error();
    *slot = *key;
  }
  const std::string server_key_path = state_dir + "/" + kServerKeyFile;
  auto pinned = read_pinned_key(server_key_path, "the server's key");
  if (!pinned) return pinned.error();
  options.server_key = *pinned;
  std::error_code ignored;
  options.registered_before = std::filesystem::exists(state_dir + "/" + kNodeFile, ignored);
  return Status::success();
}

// Runs the client until --count, --timeout, a fatal error or a signal; returns the exit code.
int run_client(const NetmapArgs& args, ControlClientOptions options, LogLevel level, Rng& rng) {
  const std::string server_key_path = args.state_dir + "/" + kServerKeyFile;
  const std::string node_path = args.state_dir + "/" + kNodeFile;
  RealLoop loop;
  StderrLogSink sink;
  Env env{loop.clock(), loop.network(), rng, Logger(&sink, &loop.clock(), "netmap", level)};
  bool finished = false;
  int exit_code = 0;
  bool registered = false;
  int maps_seen = 0;
  std::string last_error;
  ControlClient* client_ptr = nullptr;

  ControlClient::Callbacks callbacks;
  callbacks.on_server_key = [&](const PublicKey& key) {
    Status saved = write_new_private_file(server_key_path, to_base64(key));
    if (!saved) {
      std::cerr << kCommand << ": cannot pin the server key: " << saved.error().message << "\n";
      exit_code = 1;
      finished = true;
    }
  };
  callbacks.on_registered = [&](const control::PeerNode& self) {
    registered = true;
    const nlohmann::json line =
        registered_line(self, client_ptr->server_key().value_or(PublicKey{}));
    print_line(line);
    Status saved = replace_private_file(node_path, line["node"].dump());
    if (!saved) env.log.warn("cannot record the registration: " + saved.error().message);
  };
  callbacks.on_map = [&](const NetMap& map, const control::MapMessage& message) {
    print_line(map_line(map, message));
    ++maps_seen;
    if (args.count > 0 && maps_seen >= args.count) finished = true;
  };
  callbacks.on_error = [&](const ControlClientError& error) {
    last_error = error.message;
    std::cerr << kCommand << ": " << error.message;
    if (error.will_retry) {
      std::cerr << " (retrying)\n";
      return;
    }
    if (error.kind == ControlClientError::Kind::server_key_mismatch) {
      std::cerr << " (pinned in " << server_key_path
                << "); if the server was reinstalled on purpose, delete that file and run again";
    }
    std::cerr << "\n";
    exit_code = 1;
    finished = true;
  };

  loop.stop_on_signals();
  ControlClient client(env, std::move(options), std::move(callbacks));
  client_ptr = &client;
  client.start();
  const Duration timeout = args.timeout_s > 0
                               ? Duration::milliseconds(static_cast<int64_t>(args.timeout_s * 1000))
                               : kForever;
  const bool done = loop.run_until([&] { return finished; }, timeout);
  client.stop();
  if (done) return exit_code;
  // Timed out or interrupted.
  if (!registered) {
    std::cerr << kCommand << ": not registered with " << args.control
              << (last_error.empty() ? std::string() : " (last error: " + last_error + ")") << "\n";
    return 1;
  }
  if (args.count > 0) {
    std::cerr << kCommand << ": received " << maps_seen << " of " << args.count
              << " map messages before stopping\n";
    return 1;
  }
  return 0;
}

int run_netmap(const NetmapArgs& args) {
  LogLevel level;
  if (!parse_log_level(args.log_level, level)) {
    return fail_usage("unknown --log-level \"" + args.log_level +
                      "\"; use debug, info, warn, error or off");
  }
  if (args.count < 0) return fail_usage("--count must be 0 (no limit) or more");
  if (!(args.timeout_s >= 0 && args.timeout_s <= kMaxTimeoutSeconds)) {
    return fail_usage("--timeout must be between 0 (none) and " +
                      std::to_string(static_cast<int>(kMaxTimeoutSeconds)) + " seconds");
  }
  auto options = options_from_args(args);
  if (!options) return 2;
  auto server = resolve_endpoint(options->host, Family::ipv4);
  if (!server) {
    std::cerr << kCommand << ": " << server.error().message << "\n";
    return 1;
  }
  options->server = *server;
  SystemRng rng;
  Status identity = load_identity(args.state_dir, rng, *options);
  if (!identity) {
    std::cerr << kCommand << ": " << identity.error().message << "\n";
    return 1;
  }
  return run_client(args, std::move(*options), level, rng);
}

}  // namespace

void add_debug_commands(CLI::App& app, int& exit_code) {
  CLI::App* debug = app.add_subcommand("debug", "Debugging tools for operators");
  debug->require_subcommand(1);

  auto args = std::make_shared<NetmapArgs>();
  CLI::App* netmap = debug->add_subcommand(
      "netmap",
      "Register with a control server as a node and print each map it sends as a JSON line");
  netmap->add_option("--control", args->control, "control server URL, http://HOST:PORT")
      ->required();
  netmap->add_option("--auth-key", args->auth_key,
                     "pre-auth key (`warren control keys create`); needed the first time");
  netmap
      ->add_option("--state-dir", args->state_dir,
                   "directory for this node's keys and the pinned server key (created 0700)")
      ->required();
  netmap->add_option("--hostname", args->hostname, "name to register (default: this host's)");
  netmap
      ->add_option("--advertise-routes", args->routes,
                   "prefixes to offer as routes, comma separated (e.g. 192.168.1.0/24,::/0)")
      ->delimiter(',');
  netmap
      ->add_option("--endpoints", args->endpoints,
                   "UDP endpoints to report, comma separated (e.g. 192.0.2.1:41641)")
      ->delimiter(',');
  netmap->add_option("--count", args->count,
                     "exit 0 after this many map messages (default: no limit)");
  netmap->add_option("--timeout", args->timeout_s,
                     "give up after this many seconds (exit 1 if --count was not reached; "
                     "default: run until interrupted)");
  netmap->add_option("--log-level", args->log_level,
                     "debug, info, warn (default), error or off; logs go to stderr");
  netmap->callback([args, &exit_code] { exit_code = run_netmap(*args); });

  add_debug_relay_command(*debug, exit_code);
}

}  // namespace warren::cli
