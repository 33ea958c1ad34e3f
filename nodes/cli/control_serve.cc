#include "nodes/cli/control_serve.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "nodes/cli/state_files.h"
#include "nodes/control/control_config.h"
#include "nodes/control/control_server.h"
#include "nodes/control/policy.h"
#include "nodes/net/env.h"
#include "nodes/real/real_loop.h"
#include "nodes/real/resolver.h"
#include "nodes/real/sqlite_store.h"
#include "nodes/real/stderr_log_sink.h"
#include "nodes/real/system_rng.h"
#include "nodes/real/unix_stream.h"

namespace warren::cli {
namespace {

constexpr const char* kCommand = "warren control serve";
const char* const kKeyFile = "control.key";
const char* const kDatabaseFile = "control.db";
// Applying the policy file at startup is one commit; if it has not completed in this long the
// disk is not answering and serving would only hide that.
constexpr Duration kStartupPolicyTimeout = Duration::seconds(60);

int fail(int code, const std::string& message) {
  std::cerr << kCommand << ": " << message << "\n";
  return code;
}

// Relative paths in the config are relative to the config file's directory, so the server
// finds the same files whatever directory it is started from.
std::string relative_to(const std::filesystem::path& base, const std::string& path) {
  const std::filesystem::path p(path);
  if (p.is_absolute() || base.empty()) return path;
  return (base / p).lexically_normal().string();
}

// The policy file's text, validated; errors read "FILE: line L: reason".
Result<std::string> read_policy_file(const std::string& path) {
  auto text = read_text_file(path, control::kMaxPolicyBytes);
  if (!text) return text.error();
  auto policy = control::parse_policy(*text);
  if (!policy) return make_error(path + ": " + policy.error().message);
  return text;
}

}  // namespace

int run_control_serve(const std::string& config_path) {
  auto text = read_text_file(config_path, control::kMaxControlConfigBytes);
  if (!text) return fail(2, text.error().message);
  auto parsed = control::parse_control_config(*text, config_path);
  if (!parsed) return fail(2, parsed.error().message);
  control::ControlConfigFile config = std::move(*parsed);

  const std::filesystem::path base = std::filesystem::path(config_path).parent_path();
  config.state_dir = relative_to(base, config.state_dir);
  config.admin_socket = relative_to(base, config.admin_socket);
  if (config.policy_file) config.policy_file = relative_to(base, *config.policy_file);

  if (!config.listen_resolved) {
    auto listen = resolve_endpoint(config.listen_text, Family::ipv4);
    if (!listen) return fail(1, config_path + ": listen: " + listen.error().message);
    config.server.listen = *listen;
  }
  // A bad policy file stops startup before anything is touched.
  std::optional<std::string> policy_text;
  if (config.policy_file) {
    auto policy = read_policy_file(*config.policy_file);
    if (!policy) return fail(2, policy.error().message);
    policy_text = std::move(*policy);
  }

  Status dir = ensure_private_dir(config.state_dir);
  if (!dir) return fail(1, dir.error().message);
  SystemRng rng;
  auto key = load_or_create_private_key(config.state_dir + "/" + kKeyFile, rng,
                                        "the control server's private key");
  if (!key) return fail(1, key.error().message);

  RealLoop loop;
  StderrLogSink sink;
  Env env{loop.clock(), loop.network(), rng,
          Logger(&sink, &loop.clock(), "control", config.log_level)};
  // The admin socket first: if another server runs on this state directory, stop before
  // opening its database.
  auto admin = UnixStreamListener::open(loop.io_context(), config.admin_socket, "control server");
  if (!admin) return fail(1, admin.error().message);
  auto store = SqliteStore::open(loop.clock(), config.state_dir + "/" + kDatabaseFile);
  if (!store) return fail(1, store.error().message);

  control::ControlServer server(env, **store, *key, config.server);
  Status started = server.start();
  if (!started) return fail(1, started.error().message);

  // The file is authoritative at startup; an unchanged policy is not re-committed.
  const control::Policy& current = server.registry().policy();
  if (policy_text && (current.allow_all || current.text != *policy_text)) {
    std::optional<Status> applied;
    server.registry().set_policy(*policy_text, [&](const Status& s) { applied = s; });
    loop.run_until([&] { return applied.has_value(); }, kStartupPolicyTimeout);
    if (!applied) return fail(1, "applying " + *config.policy_file + " did not complete");
    if (!*applied) return fail(1, *config.policy_file + ": " + applied->error().message);
    env.log.info("policy from " + *config.policy_file + " applied");
  }

  // Handle SIGINT/SIGTERM before announcing readiness: a supervisor may signal at once.
  loop.stop_on_signals();
  (*admin)->set_accept_handler(
      [&server](std::unique_ptr<Stream> stream) { server.accept_admin(std::move(stream)); });
  std::cout << "listening on " << server.listen_endpoint().to_string() << ", public key "
            << to_base64(server.public_key()) << ", admin socket " << config.admin_socket
            << std::endl;
  loop.run();
  env.log.info("stopping");
  server.stop();
  return 0;
}

}  // namespace warren::cli
