#include "nodes/cli/relay_serve.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "nodes/cli/state_files.h"
#include "nodes/net/env.h"
#include "nodes/real/real_loop.h"
#include "nodes/real/resolver.h"
#include "nodes/real/stderr_log_sink.h"
#include "nodes/real/system_rng.h"
#include "nodes/relay/admission.h"
#include "nodes/relay/admission_feed.h"
#include "nodes/relay/relay_config.h"
#include "nodes/relay/relay_server.h"

namespace warren::cli {
namespace {

constexpr const char* kServe = "warren relay serve";
constexpr const char* kPubkey = "warren relay pubkey";
// A mesh key file holds 64 hex digits and a newline; anything much bigger is the wrong file.
constexpr size_t kMaxMeshKeyFileBytes = 4096;
// After stop(), the loop runs this long more so that the `restarting` frames and closes reach
// the clients (a graceful close flushes only while the loop runs). Bounded: a stuck client
// must not hold up a shutdown.
constexpr Duration kShutdownFlush = Duration::milliseconds(250);

int fail(const char* command, int code, const std::string& message) {
  std::cerr << command << ": " << message << "\n";
  return code;
}

// Relative paths in the config are relative to the config file's directory, so the relay
// finds the same files whatever directory it is started from.
std::string relative_to(const std::filesystem::path& base, const std::string& path) {
  const std::filesystem::path p(path);
  if (p.is_absolute() || base.empty()) return path;
  return (base / p).lexically_normal().string();
}

struct LoadedConfig {
  relay::RelayConfigFile config;
  std::string state_dir;  // resolved: config, else $WARREN_RELAY_STATE_DIR, else the default
};

// Reads and checks the config file. Returns 0, or the exit code after printing why.
int load_config(const char* command, const std::string& path, LoadedConfig& out) {
  auto text = read_text_file(path, relay::kMaxRelayConfigBytes);
  if (!text) return fail(command, 2, text.error().message);
  auto parsed = relay::parse_relay_config(*text, path);
  if (!parsed) return fail(command, 2, parsed.error().message);
  out.config = std::move(*parsed);

  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  if (!out.config.state_dir.empty()) {
    out.state_dir = relative_to(base, out.config.state_dir);
  } else if (const char* env = std::getenv(kRelayStateDirEnv); env != nullptr && *env != '\0') {
    out.state_dir = env;
  } else {
    out.state_dir = kDefaultRelayStateDir;
  }
  if (out.config.mesh_key_file) {
    out.config.mesh_key_file = relative_to(base, *out.config.mesh_key_file);
  }
  return 0;
}

// The relay's key from the state directory, generated on first use. Returns 0 or the exit code.
int load_relay_key(const char* command, const std::string& state_dir, Rng& rng,
                   std::optional<PrivateKey>& key) {
  Status dir = ensure_private_dir(state_dir);
  if (!dir) return fail(command, 1, dir.error().message);
  auto loaded =
      load_or_create_private_key(state_dir + "/" + kRelayKeyFile, rng, "the relay's private key");
  if (!loaded) return fail(command, 1, loaded.error().message);
  key = std::move(*loaded);
  return 0;
}

int read_mesh_key(const std::string& config_path, const relay::RelayConfigFile& config,
                  relay::RelayServerOptions& options) {
  std::string text;
  std::string where = config_path + ": mesh_key";
  if (config.mesh_key_text) {
    text = *config.mesh_key_text;
  } else if (config.mesh_key_file) {
    auto file = read_text_file(*config.mesh_key_file, kMaxMeshKeyFileBytes);
    if (!file) return fail(kServe, 2, "mesh_key_file: " + file.error().message);
    text = std::move(*file);
    where = *config.mesh_key_file;
  } else {
    return 0;
  }
  auto key = relay::parse_mesh_key(text);
  if (!key) return fail(kServe, 2, where + ": " + key.error().message);
  options.mesh_key = std::move(*key);
  return 0;
}

// Fills the endpoints of `options` from the config's texts. Returns 0 or the exit code.
int resolve_endpoints(const std::string& config_path, const relay::RelayConfigFile& config,
                      relay::RelayServerOptions& options,
                      std::optional<Endpoint>& control_endpoint) {
  auto listen = resolve_endpoint(config.listen_text, Family::ipv4);
  if (!listen) return fail(kServe, 1, config_path + ": listen: " + listen.error().message);
  options.listen = *listen;
  options.additional_listen.clear();
  for (size_t i = 0; i < config.additional_listen_text.size(); ++i) {
    auto more = resolve_endpoint(config.additional_listen_text[i], Family::ipv4);
    if (!more) {
      return fail(kServe, 1,
                  config_path + ": listen[" + std::to_string(i + 1) + "]: " + more.error().message);
    }
    options.additional_listen.push_back(*more);
  }
  options.stun_listen.clear();
  for (size_t i = 0; i < config.stun_listen_text.size(); ++i) {
    auto stun = resolve_endpoint(config.stun_listen_text[i], Family::ipv4);
    if (!stun) {
      return fail(
          kServe, 1,
          config_path + ": stun_listen[" + std::to_string(i) + "]: " + stun.error().message);
    }
    options.stun_listen.push_back(*stun);
  }
  if (config.control_url) {
    auto control = resolve_endpoint(config.control_url->host_port, Family::ipv4);
    if (!control) return fail(kServe, 1, config_path + ": control_url: " + control.error().message);
    control_endpoint = *control;
  }
  options.mesh_peers.clear();
  for (size_t i = 0; i < config.mesh_peers.size(); ++i) {
    const relay::HttpTarget& peer = config.mesh_peers[i];
    auto endpoint = resolve_endpoint(peer.host_port, Family::ipv4);
    if (!endpoint) {
      return fail(
          kServe, 1,
          config_path + ": mesh_peers[" + std::to_string(i) + "]: " + endpoint.error().message);
    }
    options.mesh_peers.push_back(relay::MeshPeerConfig{*endpoint, peer.host_port, std::nullopt});
  }
  return 0;
}

std::string endpoint_list(const std::vector<Endpoint>& endpoints) {
  std::string out = "[";
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (i > 0) out += ", ";
    out += endpoints[i].to_string();
  }
  return out + "]";
}

// One line for the log at shutdown: what the relay did while it ran.
std::string counters_line(const relay::RelayServer& server) {
  const relay::RelayServerCounters& c = server.counters();
  const uint64_t refused = c.refused_unknown_key + c.refused_removed_key + c.refused_not_ready +
                           c.refused_bad_mesh_key + c.refused_protocol + c.refused_full;
  const uint64_t dropped = c.dropped_unknown_dest + c.dropped_unknown_dest_on_forward +
                           c.dropped_queue_head + c.dropped_rate_limit +
                           c.dropped_forward_not_mesh + c.dropped_mesh_send;
  std::ostringstream out;
  out << "clients admitted " << c.clients_admitted << ", mesh peers admitted "
      << c.mesh_clients_admitted << ", refused " << refused << ", disconnected (removed "
      << c.disconnected_removed << ", replaced " << c.disconnected_replaced << ", stalled "
      << c.disconnected_stalled << "); packets received " << c.packets_received << ", delivered "
      << c.packets_delivered << ", meshed " << c.packets_meshed << ", dropped " << dropped
      << " (queue " << c.dropped_queue_head << ", rate limit " << c.dropped_rate_limit
      << ", unknown destination " << c.dropped_unknown_dest << "); STUN answered "
      << server.stun_stats().binding_requests;
  return out.str();
}

}  // namespace

int run_relay_serve(const std::string& config_path) {
  LoadedConfig loaded;
  if (int code = load_config(kServe, config_path, loaded)) return code;
  const relay::RelayConfigFile& config = loaded.config;
  relay::RelayServerOptions options = config.server;
  if (int code = read_mesh_key(config_path, config, options)) return code;
  std::optional<Endpoint> control_endpoint;
  if (int code = resolve_endpoints(config_path, config, options, control_endpoint)) return code;

  SystemRng rng;
  std::optional<PrivateKey> key;
  if (int code = load_relay_key(kServe, loaded.state_dir, rng, key)) return code;
  const std::string pinned_path = loaded.state_dir + "/" + kControlServerKeyFile;
  std::optional<PublicKey> control_key = config.control_key;
  if (config.control_url && !control_key) {
    auto pinned = read_pinned_key(pinned_path, "the control server's key");
    if (!pinned) return fail(kServe, 1, pinned.error().message);
    control_key = *pinned;
  }

  RealLoop loop;
  StderrLogSink sink;
  Env env{loop.clock(), loop.network(), rng,
          Logger(&sink, &loop.clock(), "relay", config.log_level)};
  relay::Admission admission(relay::Admission::Mode::no_control);
  relay::RelayServer server(env, *key, admission, options);
  Status started = server.start();
  if (!started) return fail(kServe, 1, started.error().message);

  std::unique_ptr<relay::AdmissionFeed> feed;
  if (config.control_url) {
    relay::AdmissionFeedOptions feed_options;
    feed_options.server = *control_endpoint;
    feed_options.host = config.control_url->host_port;
    feed_options.relay_key = *key;
    feed_options.server_key = control_key;
    relay::AdmissionFeed::Callbacks callbacks;
    callbacks.on_server_key = [&env, pinned_path](const PublicKey& server_key) {
      Status saved = write_new_private_file(pinned_path, to_base64(server_key));
      if (saved) {
        env.log.info("pinned the control server's key " + to_base64(server_key) + " in " +
                     pinned_path);
      } else {
        env.log.error("cannot pin the control server's key: " + saved.error().message);
      }
    };
    const std::string url = config.control_url->text;
    callbacks.on_error = [&env, url](const std::string& message) {
      env.log.warn("control server " + url + ": " + message + " (retrying)");
    };
    callbacks.on_full_set = [&env, &admission] {
      env.log.info("admitting the " + std::to_string(admission.size()) +
                   " node keys the control server knows");
    };
    feed = std::make_unique<relay::AdmissionFeed>(env, std::move(feed_options), admission,
                                                  std::move(callbacks));
  } else {
    env.log.info("no control_url in the config: serving STUN and admitting no node");
  }

  // Handle SIGINT/SIGTERM before announcing readiness: a supervisor may signal at once.
  loop.stop_on_signals();
  if (feed) feed->start();
  std::cout << "listening on " << server.listen_endpoint().to_string() << ", public key "
            << to_base64(server.public_key()) << ", stun on "
            << endpoint_list(server.stun_endpoints());
  const std::vector<Endpoint> listening = server.listen_endpoints();
  if (listening.size() > 1) {
    std::cout << ", also listening on "
              << endpoint_list(std::vector<Endpoint>(listening.begin() + 1, listening.end()));
  }
  std::cout << std::endl;
  loop.run();
  env.log.info("stopping");
  if (feed) feed->stop();
  server.stop();
  loop.run_for(kShutdownFlush);
  env.log.info(counters_line(server));
  return 0;
}

int run_relay_pubkey(const std::string& config_path) {
  LoadedConfig loaded;
  if (int code = load_config(kPubkey, config_path, loaded)) return code;
  SystemRng rng;
  std::optional<PrivateKey> key;
  if (int code = load_relay_key(kPubkey, loaded.state_dir, rng, key)) return code;
  std::cout << to_base64(public_key(*key)) << std::endl;
  return 0;
}

}  // namespace warren::cli
