// `warren control ...`: the control server (`serve`, control_serve.cc) and the admin commands,
// which reach a running server through its admin socket (nodes/control/admin_api.h): one JSON
// request line out, one reply line back, printed as a table or, with --json, as JSON.
//
//   warren control [--state-dir DIR | --socket PATH] users create NAME | users list |
//       users delete NAME | keys create --user NAME [--reusable] [--ephemeral]
//       [--expiration DURATION] [--tags tag:a,tag:b] | keys list | keys expire KEY |
//       nodes list | nodes expire NODE | nodes delete NODE | nodes rename NODE NAME |
//       routes list | routes approve NODE PREFIX... | policy get | policy set FILE
//
// The socket: --socket PATH, else DIR/admin.sock for --state-dir DIR, else
// $WARREN_CONTROL_STATE_DIR/admin.sock, else /var/lib/warren/control/admin.sock.
// Exit: 0 done, 1 the server refused or cannot be reached, 2 bad usage.
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/cli/admin_format.h"
#include "nodes/cli/commands.h"
#include "nodes/cli/control_serve.h"
#include "nodes/cli/state_files.h"
#include "nodes/control/admin_api.h"
#include "nodes/control/policy.h"
#include "nodes/real/unix_stream.h"

namespace warren::cli {
namespace {

using nlohmann::json;

constexpr const char* kDefaultStateDir = "/var/lib/warren/control";
constexpr const char* kStateDirEnv = "WARREN_CONTROL_STATE_DIR";
// Every admin request is one commit at most; a server that has not answered in this long is
// stuck, and the person at the terminal should hear so.
constexpr Duration kAdminTimeout = Duration::seconds(60);
// Replies are lists of at most ~10,000 nodes of under 1 KB each; far above that is not a reply.
constexpr size_t kMaxAdminReplyBytes = size_t{64} << 20;

struct AdminTarget {
  std::string state_dir;
  std::string socket;

  std::string socket_path() const {
    if (!socket.empty()) return socket;
    if (!state_dir.empty()) return state_dir + "/admin.sock";
    const char* env = std::getenv(kStateDirEnv);
    return std::string(env && *env ? env : kDefaultStateDir) + "/admin.sock";
  }
};

// What one admin subcommand sends and how it shows the result.
struct AdminCall {
  std::string words;    // "users create", for messages
  std::string command;  // "users.create"
  json args = json::object();
  std::function<void(const json& result)> print;  // human output
};

// Sends the call's request and prints the result; returns the exit code.
int run_admin(const AdminTarget& target, const AdminCall& call, bool json_output) {
  const std::string prefix = "warren control " + call.words + ": ";
  const std::string path = target.socket_path();
  json request = {{"command", call.command}, {"args", call.args}};
  std::string line = request.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (line.size() > control::kMaxAdminMessageBytes) {
    std::cerr << prefix << "the request is larger than the server accepts ("
              << control::kMaxAdminMessageBytes << " bytes)\n";
    return 2;
  }
  bool nobody = false;
  auto reply_text = unix_request_line(path, line, kMaxAdminReplyBytes, kAdminTimeout, &nobody);
  if (!reply_text) {
    if (nobody) {
      std::cerr << prefix << "no control server at " << path
                << ": is `warren control serve` running? use --state-dir or --socket\n";
    } else {
      std::cerr << prefix << reply_text.error().message << "\n";
    }
    return 1;
  }
  json reply = json::parse(*reply_text, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object() || !reply.contains("ok") ||
      !reply["ok"].is_boolean()) {
    std::cerr << prefix << "the server on " << path
              << " sent a reply that is not an admin reply; is it a warren control server?\n";
    return 1;
  }
  if (!reply["ok"].get<bool>()) {
    const json& error = reply["error"];
    std::cerr << prefix << (error.is_string() ? error.get<std::string>() : error.dump()) << "\n";
    return 1;
  }
  const json& result = reply.contains("result") ? reply["result"] : json(nullptr);
  if (json_output) {
    std::cout << result.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else if (call.print) {
    call.print(result);
  }
  return 0;
}

const json& field(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string text_of(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  return v.dump();
}

// A Unix-seconds field as "2026-01-01 12:00:00Z", or `none` for null.
std::string time_of(const json& v, const char* none = "-") {
  if (!v.is_number_integer()) return v.is_null() ? none : v.dump();
  return format_unix_seconds(v.get<int64_t>());
}

std::string list_of(const json& v) {
  if (!v.is_array() || v.empty()) return "-";
  std::string out;
  for (const json& item : v) out += (out.empty() ? "" : ",") + text_of(item);
  return out;
}

bool flag(const json& object, const char* key) {
  const json& v = field(object, key);
  return v.is_boolean() && v.get<bool>();
}

void print_users(const json& result) {
  AdminTable table({"ID", "NAME", "CREATED"});
  for (const json& u : result) {
    table.add({text_of(field(u, "id")), text_of(field(u, "name")), time_of(field(u, "created"))});
  }
  table.print(std::cout, "no users yet: create one with `warren control users create NAME`");
}

std::string key_state(const json& k) {
  if (flag(k, "revoked")) return "revoked";
  if (flag(k, "expired")) return "expired";
  if (flag(k, "used") && !flag(k, "reusable")) return "used";
  return "usable";
}

void print_keys(const json& result) {
  AdminTable table({"ID", "PREFIX", "USER", "REUSABLE", "EPHEMERAL", "STATE", "EXPIRES", "TAGS"});
  for (const json& k : result) {
    table.add({text_of(field(k, "id")), text_of(field(k, "prefix")), text_of(field(k, "user")),
               flag(k, "reusable") ? "yes" : "no", flag(k, "ephemeral") ? "yes" : "no",
               key_state(k), time_of(field(k, "expiration"), "never"), list_of(field(k, "tags"))});
  }
  table.print(std::cout, "no auth keys: create one with `warren control keys create --user NAME`");
}

std::string node_state(const json& n) {
  if (flag(n, "expired")) return "expired";
  return flag(n, "online") ? "online" : "offline";
}

void print_nodes(const json& result) {
  AdminTable table(
      {"ID", "NAME", "USER", "IPV4", "IPV6", "STATE", "LAST SEEN", "EXPIRES", "TAGS", "ROUTES"});
  for (const json& n : result) {
    std::string routes = "-";
    const json& advertised = field(n, "advertised_routes");
    if (advertised.is_array() && !advertised.empty()) {
      routes = std::to_string(field(n, "approved_routes").size()) + "/" +
               std::to_string(advertised.size()) + " approved";
    }
    table.add({text_of(field(n, "id")), text_of(field(n, "name")), text_of(field(n, "user")),
               text_of(field(n, "ipv4")), text_of(field(n, "ipv6")), node_state(n),
               time_of(field(n, "last_seen"), "never"), time_of(field(n, "expiry"), "never"),
               list_of(field(n, "tags")), routes});
  }
  table.print(std::cout, "no nodes registered yet");
}

void print_routes(const json& result) {
  AdminTable table({"NODE", "ID", "PREFIX", "APPROVED", "EXIT NODE"});
  for (const json& r : result) {
    table.add({text_of(field(r, "node")), text_of(field(r, "node_id")), text_of(field(r, "prefix")),
               flag(r, "approved") ? "yes" : "no", flag(r, "exit") ? "yes" : "no"});
  }
  table.print(std::cout, "no routes advertised");
}

std::string node_label(const json& n) {
  return text_of(field(n, "name")) + " (id " + text_of(field(n, "id")) + ")";
}

// --- CLI11 wiring ----------------------------------------------------------------------------

// One admin subcommand, with --json: `make` builds the call from the parsed arguments, or
// returns a usage error (exit 2).
CLI::App* add_leaf(CLI::App& parent, const char* name, const char* help,
                   std::shared_ptr<AdminTarget> target, int& exit_code,
                   std::function<Result<AdminCall>()> make) {
  CLI::App* app = parent.add_subcommand(name, help);
  app->fallthrough();
  auto json_output = std::make_shared<bool>(false);
  app->add_flag("--json", *json_output, "Print the server's result as JSON");
  const std::string words = parent.get_name() + " " + name;
  app->callback([target, &exit_code, json_output, words, make = std::move(make)] {
    auto call = make();
    if (!call) {
      std::cerr << "warren control " << words << ": " << call.error().message << "\n";
      exit_code = 2;
      return;
    }
    exit_code = run_admin(*target, *call, *json_output);
  });
  return app;
}

CLI::App* add_group(CLI::App& control, const char* name, const char* help) {
  CLI::App* group = control.add_subcommand(name, help);
  group->require_subcommand(1);
  group->fallthrough();
  return group;
}

void add_user_commands(CLI::App& control, std::shared_ptr<AdminTarget> target, int& exit_code) {
  CLI::App* users = add_group(control, "users", "Create, list and delete users");
  auto name = std::make_shared<std::string>();
  add_leaf(*users, "create", "Create a user", target, exit_code,
           [name]() -> Result<AdminCall> {
             return AdminCall{"users create", "users.create", {{"name", *name}}, [](const json& u) {
                                std::cout << "created user " << text_of(field(u, "name")) << " (id "
                                          << text_of(field(u, "id")) << ")\n";
                              }};
           })
      ->add_option("name", *name, "User name: [a-z0-9][a-z0-9._-]*")
      ->required();
  add_leaf(*users, "list", "List users", target, exit_code, []() -> Result<AdminCall> {
    return AdminCall{"users list", "users.list", json::object(), print_users};
  });
  auto del = std::make_shared<std::string>();
  add_leaf(*users, "delete", "Delete a user that owns no nodes or keys", target, exit_code,
           [del]() -> Result<AdminCall> {
             return AdminCall{"users delete", "users.delete", {{"name", *del}}, [del](const json&) {
                                std::cout << "deleted user " << *del << "\n";
                              }};
           })
      ->add_option("name", *del, "User name")
      ->required();
}

void add_key_commands(CLI::App& control, std::shared_ptr<AdminTarget> target, int& exit_code) {
  CLI::App* keys = add_group(control, "keys", "Create, list and expire pre-auth keys");
  struct CreateArgs {
    std::string user;
    bool reusable = false;
    bool ephemeral = false;
    std::string expiration;
    std::vector<std::string> tags;
  };
  auto a = std::make_shared<CreateArgs>();
  CLI::App* create = add_leaf(
      *keys, "create", "Create a pre-auth key and print it (shown only this once)", target,
      exit_code, [a]() -> Result<AdminCall> {
        json args = {{"user", a->user}};
        if (a->reusable) args["reusable"] = true;
        if (a->ephemeral) args["ephemeral"] = true;
        if (!a->expiration.empty()) {
          auto seconds = parse_duration_s(a->expiration);
          if (!seconds) return make_error("--expiration: " + seconds.error().message);
          args["expiration_s"] = *seconds;
        }
        if (!a->tags.empty()) args["tags"] = a->tags;
        return AdminCall{"keys create", "keys.create", std::move(args), [](const json& k) {
                           std::cout << text_of(field(k, "key")) << "\n";
                           std::cerr << "auth key " << text_of(field(k, "prefix")) << " for "
                                     << text_of(field(k, "user")) << ": "
                                     << (flag(k, "reusable") ? "reusable" : "single use")
                                     << (flag(k, "ephemeral") ? ", ephemeral" : "") << ", expires "
                                     << time_of(field(k, "expiration"), "never")
                                     << "; the full key is shown only this once\n";
                         }};
      });
  create->add_option("--user", a->user, "The user the key's nodes belong to")->required();
  create->add_flag("--reusable", a->reusable, "Usable for many nodes (default: once)");
  create->add_flag("--ephemeral", a->ephemeral,
                   "Nodes registered with it are deleted after they go offline");
  create->add_option("--expiration", a->expiration,
                     "Key lifetime, e.g. 90m, 24h, 7d (default: never expires)");
  create->add_option("--tags", a->tags, "Tags for its nodes: tag:a,tag:b")->delimiter(',');

  add_leaf(*keys, "list", "List pre-auth keys (never their secrets)", target, exit_code,
           []() -> Result<AdminCall> {
             return AdminCall{"keys list", "keys.list", json::object(), print_keys};
           });
  auto key = std::make_shared<std::string>();
  add_leaf(*keys, "expire", "Revoke a key so it registers no more nodes", target, exit_code,
           [key]() -> Result<AdminCall> {
             return AdminCall{"keys expire", "keys.expire", {{"key", *key}}, [](const json& k) {
                                std::cout << "revoked key " << text_of(field(k, "prefix")) << "\n";
                              }};
           })
      ->add_option("key", *key, "The key's prefix (wk-...) as `keys list` shows, or the key")
      ->required();
}

void add_node_commands(CLI::App& control, std::shared_ptr<AdminTarget> target, int& exit_code) {
  CLI::App* nodes = add_group(control, "nodes", "List, expire, delete and rename nodes");
  add_leaf(*nodes, "list", "List nodes", target, exit_code, []() -> Result<AdminCall> {
    return AdminCall{"nodes list", "nodes.list", json::object(), print_nodes};
  });
  auto expire = std::make_shared<std::string>();
  add_leaf(*nodes, "expire", "Expire a node's key: it leaves every map until it logs in again",
           target, exit_code,
           [expire]() -> Result<AdminCall> {
             return AdminCall{
                 "nodes expire", "nodes.expire", {{"node", *expire}}, [](const json& n) {
                   std::cout << "expired node " << node_label(n) << "\n";
                 }};
           })
      ->add_option("node", *expire, "Node name or id")
      ->required();
  auto del = std::make_shared<std::string>();
  add_leaf(*nodes, "delete", "Delete a node", target, exit_code,
           [del]() -> Result<AdminCall> {
             return AdminCall{"nodes delete", "nodes.delete", {{"node", *del}}, [](const json& r) {
                                std::cout << "deleted node " << node_label(field(r, "deleted"))
                                          << "\n";
                              }};
           })
      ->add_option("node", *del, "Node name or id")
      ->required();
  auto rename = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* rename_app =
      add_leaf(*nodes, "rename", "Rename a node (its name in every peer's map)", target, exit_code,
               [rename]() -> Result<AdminCall> {
                 return AdminCall{"nodes rename",
                                  "nodes.rename",
                                  {{"node", rename->first}, {"name", rename->second}},
                                  [rename](const json& n) {
                                    std::cout << "renamed node " << rename->first << " to "
                                              << node_label(n) << "\n";
                                  }};
               });
  rename_app->add_option("node", rename->first, "Node name or id")->required();
  rename_app->add_option("name", rename->second, "The new name (a DNS label)")->required();
}

void add_route_commands(CLI::App& control, std::shared_ptr<AdminTarget> target, int& exit_code) {
  CLI::App* routes = add_group(control, "routes", "List and approve advertised routes");
  add_leaf(*routes, "list", "List advertised routes and whether they are approved", target,
           exit_code, []() -> Result<AdminCall> {
             return AdminCall{"routes list", "routes.list", json::object(), print_routes};
           });
  struct ApproveArgs {
    std::string node;
    std::vector<std::string> prefixes;
    bool none = false;
  };
  auto a = std::make_shared<ApproveArgs>();
  CLI::App* approve =
      add_leaf(*routes, "approve",
               "Set the node's approved routes to exactly PREFIX... (each must be advertised)",
               target, exit_code, [a]() -> Result<AdminCall> {
                 if (a->prefixes.empty() && !a->none) {
                   return make_error(
                       "give the prefixes to approve, or --none "
                       "to withdraw every approval of " +
                       a->node);
                 }
                 if (!a->prefixes.empty() && a->none) {
                   return make_error(
                       "--none withdraws every approval; do not "
                       "give prefixes with it");
                 }
                 return AdminCall{"routes approve",
                                  "routes.approve",
                                  {{"node", a->node}, {"prefixes", a->prefixes}},
                                  print_routes};
               });
  approve->add_option("node", a->node, "Node name or id")->required();
  approve->add_option("prefixes", a->prefixes,
                      "Prefixes to approve (e.g. 192.168.1.0/24 0.0.0.0/0 ::/0); approvals not "
                      "listed are withdrawn");
  approve->add_flag("--none", a->none, "Withdraw every approval of the node");
}

void add_policy_commands(CLI::App& control, std::shared_ptr<AdminTarget> target, int& exit_code) {
  CLI::App* policy = add_group(control, "policy", "Show or replace the ACL policy");
  add_leaf(*policy, "get", "Print the policy in force, as it was set", target, exit_code,
           []() -> Result<AdminCall> {
             return AdminCall{"policy get", "policy.get", json::object(), [](const json& r) {
                                const json& text = field(r, "policy");
                                if (!text.is_string()) {
                                  std::cerr << "no policy set: every node may reach every "
                                               "other; set one with `warren control policy "
                                               "set FILE`\n";
                                  return;
                                }
                                std::string s = text.get<std::string>();
                                std::cout << s << (s.empty() || s.back() != '\n' ? "\n" : "");
                              }};
           });
  auto file = std::make_shared<std::string>();
  add_leaf(*policy, "set",
           "Validate FILE and make it the policy; a bad one is refused with its line and the "
           "old one stays",
           target, exit_code,
           [file]() -> Result<AdminCall> {
             auto text = read_text_file(*file, control::kMaxPolicyBytes);
             if (!text) return text.error();
             AdminCall call{"policy set", "policy.set", {{"policy", *text}}, [file](const json& r) {
                              std::cout << "policy from " << *file << " is in force ("
                                        << text_of(field(r, "rules")) << " rules)\n";
                            }};
             // Server errors read "line L: reason"; name the file in front of them.
             call.words = "policy set: " + *file;
             return call;
           })
      ->add_option("file", *file, "Policy file (JSON with // comments allowed)")
      ->required();
}

}  // namespace

void add_control_commands(CLI::App& app, int& exit_code) {
  CLI::App* control = app.add_subcommand(
      "control", "Run the control server, or administer a running one through its admin socket");
  control->require_subcommand(1);
  auto target = std::make_shared<AdminTarget>();
  auto* state_dir = control->add_option(
      "--state-dir", target->state_dir,
      std::string("The server's state directory; its admin socket is DIR/admin.sock (default: $") +
          kStateDirEnv + ", else " + kDefaultStateDir + ")");
  auto* socket = control->add_option("--socket", target->socket,
                                     "The admin socket (when the config sets \"admin_socket\")");
  socket->excludes(state_dir);

  auto config = std::make_shared<std::string>();
  CLI::App* serve = control->add_subcommand(
      "serve", "Run the control server until SIGINT or SIGTERM (config: nodes/control/README.md)");
  serve
      ->add_option("--config", *config,
                   "JSON config: {\"listen\": \"ADDR:PORT\", "
                   "\"state_dir\": \"DIR\", ...}")
      ->required();
  serve->callback([config, target, &exit_code] {
    if (!target->state_dir.empty() || !target->socket.empty()) {
      std::cerr << "warren control serve: --state-dir and --socket are for the admin commands; "
                   "serve takes them from --config\n";
      exit_code = 2;
      return;
    }
    exit_code = run_control_serve(*config);
  });

  add_user_commands(*control, target, exit_code);
  add_key_commands(*control, target, exit_code);
  add_node_commands(*control, target, exit_code);
  add_route_commands(*control, target, exit_code);
  add_policy_commands(*control, target, exit_code);
}

}  // namespace warren::cli
