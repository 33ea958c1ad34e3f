#include "nodes/control/admin_api.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nodes/common/json_checks.h"
#include "nodes/control/admin_views.h"
#include "nodes/control/auth_key_text.h"
#include "nodes/control/registry_rules.h"

namespace warren::control {
namespace {

using nlohmann::json;
namespace jc = json_checks;

// A century; "never" is 0. Keeps now + expiration far from overflowing.
constexpr int64_t kMaxKeyExpirationS = 100LL * 365 * 24 * 3600;
// Lists in one request (tags, prefixes): far above what the registry accepts, so the registry's
// own limit gives the message, while a runaway list is refused before it is copied.
constexpr size_t kMaxArgListEntries = 4096;

json ok_reply(json result) {
  return {{"ok", true}, {"result", std::move(result)}};
}
json error_reply(const std::string& message) {
  return {{"ok", false}, {"error", valid_utf8(message)}};
}

struct Context {
  Env& env;
  Registry& registry;
  const NodeLiveSource& live;
  const json& args;
  const std::string& where;  // the command name, for messages
  AdminApi::Reply reply;
};

using Handler = void (*)(Context&);

struct Command {
  const char* name;
  std::vector<std::string> args;
  Handler run;
};

// Every arg must be one the command accepts; the message lists them.
Status check_args(const json& args, const std::string& where,
                  const std::vector<std::string>& accepted) {
  for (auto it = args.begin(); it != args.end(); ++it) {
    const std::string& key = it.key();
    if (std::find(accepted.begin(), accepted.end(), key) != accepted.end()) continue;
    std::string list;
    for (const auto& a : accepted) list += (list.empty() ? "" : ", ") + a;
    return make_error(where + ": unknown argument " + printable(key) +
                      jc::suggestion(key, accepted) +
                      (accepted.empty() ? "; it takes no arguments" : "; accepted: " + list));
  }
  return Status::success();
}

// "node": a name or id as a string, or an id as a number.
Result<std::string> node_arg(const json& args, const std::string& where) {
  auto it = args.find("node");
  if (it == args.end()) return jc::error_at(where, "missing \"node\" (a node id or name)");
  if (it->is_number_unsigned()) return std::to_string(it->get<uint64_t>());
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return std::to_string(it->get<int64_t>());
  if (it->is_string()) return it->get<std::string>();
  return jc::error_at(where + ".node",
                      std::string("expected a node id or name, got ") + jc::type_name(*it));
}

Result<std::vector<std::string>> string_list(const json& args, const char* key,
                                             const std::string& where) {
  std::vector<std::string> out;
  auto it = args.find(key);
  if (it == args.end()) return out;
  std::string at = where + "." + key;
  if (!it->is_array()) {
    return jc::error_at(at, std::string("expected an array of strings, got ") + jc::type_name(*it));
  }
  if (it->size() > kMaxArgListEntries) {
    return jc::error_at(at, "more than " + std::to_string(kMaxArgListEntries) + " entries");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& v = (*it)[i];
    if (!v.is_string()) {
      return jc::error_at(at + "[" + std::to_string(i) + "]",
                          std::string("expected a string, got ") + jc::type_name(v));
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Replies with `result` once the change is durable, or with the error.
Registry::Done reply_when_done(AdminApi::Reply reply, std::function<json()> result) {
  return [reply = std::move(reply), result = std::move(result)](const Status& s) {
    reply(s ? ok_reply(result()) : error_reply(s.error().message));
  };
}

const Node* node_after(Registry* registry, NodeId id) {
  return registry->find_node(id);
}

// --- users ---

void users_create(Context& c) {
  auto name = jc::required_string(c.args, "name", c.where);
  if (!name) return c.reply(error_reply(name.error().message));
  c.registry.create_user(*name, [reply = c.reply](Result<User> r) {
    reply(r ? ok_reply(user_view(*r)) : error_reply(r.error().message));
  });
}

void users_list(Context& c) {
  json out = json::array();
  for (const User& u : c.registry.users()) out.push_back(user_view(u));
  c.reply(ok_reply(std::move(out)));
}

void users_delete(Context& c) {
  auto name = jc::required_string(c.args, "name", c.where);
  if (!name) return c.reply(error_reply(name.error().message));
  std::string deleted = *name;
  c.registry.delete_user(*name, reply_when_done(c.reply, [deleted] {
    return json{{"deleted", deleted}};
  }));
}

// --- keys ---

void keys_create(Context& c) {
  auto user = jc::required_string(c.args, "user", c.where);
  if (!user) return c.reply(error_reply(user.error().message));
  auto reusable = jc::optional_bool(c.args, "reusable", c.where);
  if (!reusable) return c.reply(error_reply(reusable.error().message));
  auto ephemeral = jc::optional_bool(c.args, "ephemeral", c.where);
  if (!ephemeral) return c.reply(error_reply(ephemeral.error().message));
  auto expiration = jc::optional_integer(c.args, "expiration_s", c.where, 0, kMaxKeyExpirationS);
  if (!expiration) return c.reply(error_reply(expiration.error().message));
  auto tags = string_list(c.args, "tags", c.where);
  if (!tags) return c.reply(error_reply(tags.error().message));
  Registry* registry = &c.registry;
  Env* env = &c.env;
  c.registry.create_auth_key(*user, reusable->value_or(false), ephemeral->value_or(false),
                             Duration::seconds(expiration->value_or(0)), std::move(*tags),
                             [reply = c.reply, registry, env](Result<CreatedAuthKey> r) {
                               if (!r) return reply(error_reply(r.error().message));
                               json view =
                                   auth_key_view(r->key, *registry, env->clock.unix_time_ns());
                               view["key"] = r->text;
                               reply(ok_reply(std::move(view)));
                             });
}

void keys_list(Context& c) {
  json out = json::array();
  int64_t now = c.env.clock.unix_time_ns();
  for (const AuthKey& k : c.registry.auth_keys()) out.push_back(auth_key_view(k, c.registry, now));
  c.reply(ok_reply(std::move(out)));
}

void keys_expire(Context& c) {
  auto key = jc::required_string(c.args, "key", c.where);
  if (!key) return c.reply(error_reply(key.error().message));
  // The prefix is the key's first part, whether a prefix or the full key was given.
  std::string prefix = key->substr(0, kAuthKeyTag.size() + kAuthKeyPrefixHexChars);
  Registry* registry = &c.registry;
  Env* env = &c.env;
  c.registry.expire_auth_key(*key, reply_when_done(c.reply, [registry, env, prefix] {
    for (const AuthKey& k : registry->auth_keys()) {
      if (k.prefix == prefix) {
        return auth_key_view(k, *registry, env->clock.unix_time_ns());
      }
    }
    return json{{"prefix", prefix}};
  }));
}

// --- nodes ---

void nodes_list(Context& c) {
  json out = json::array();
  for (const Node* n : c.registry.nodes()) {
    out.push_back(node_view(*n, c.registry, c.live.live(n->id)));
  }
  c.reply(ok_reply(std::move(out)));
}

// Resolves the "node" arg; replies with the error and returns nullopt when it fails.
std::optional<NodeId> resolve_node_arg(Context& c) {
  auto ref = node_arg(c.args, c.where);
  if (!ref) {
    c.reply(error_reply(ref.error().message));
    return std::nullopt;
  }
  auto id = c.registry.resolve_node(*ref);
  if (!id) {
    c.reply(error_reply(id.error().message));
    return std::nullopt;
  }
  return *id;
}

// The node as it is once the change is durable.
std::function<json()> node_result(Context& c, NodeId id) {
  Registry* registry = &c.registry;
  const NodeLiveSource* live = &c.live;
  return [registry, live, id] {
    const Node* n = node_after(registry, id);
    return n ? node_view(*n, *registry, live->live(id)) : json{{"id", id}};
  };
}

void nodes_expire(Context& c) {
  auto id = resolve_node_arg(c);
  if (!id) return;
  c.registry.expire_node(std::to_string(*id), reply_when_done(c.reply, node_result(c, *id)));
}

void nodes_delete(Context& c) {
  auto id = resolve_node_arg(c);
  if (!id) return;
  std::string name = c.registry.find_node(*id)->name;
  NodeId deleted = *id;
  c.registry.delete_node(*id, reply_when_done(c.reply, [deleted, name] {
    return json{{"deleted", {{"id", deleted}, {"name", name}}}};
  }));
}

void nodes_rename(Context& c) {
  auto name = jc::required_string(c.args, "name", c.where);
  if (!name) return c.reply(error_reply(name.error().message));
  auto id = resolve_node_arg(c);
  if (!id) return;
  c.registry.rename_node(std::to_string(*id), *name, reply_when_done(c.reply, node_result(c, *id)));
}

// --- routes ---

void routes_list(Context& c) {
  json out = json::array();
  for (const Node* n : c.registry.nodes()) {
    for (json& r : route_views(*n)) out.push_back(std::move(r));
  }
  c.reply(ok_reply(std::move(out)));
}

void routes_approve(Context& c) {
  if (!c.args.contains("prefixes")) {
    return c.reply(error_reply(c.where + ": missing \"prefixes\" (a list; [] withdraws every "
                                         "approval)"));
  }
  auto texts = string_list(c.args, "prefixes", c.where);
  if (!texts) return c.reply(error_reply(texts.error().message));
  std::vector<Prefix> prefixes;
  for (size_t i = 0; i < texts->size(); ++i) {
    auto p = Prefix::parse((*texts)[i]);
    if (!p) {
      return c.reply(
          error_reply(c.where + ".prefixes[" + std::to_string(i) + "]: " + p.error().message));
    }
    prefixes.push_back(*p);
  }
  auto id = resolve_node_arg(c);
  if (!id) return;
  Registry* registry = &c.registry;
  NodeId node = *id;
  c.registry.approve_routes(std::to_string(node), std::move(prefixes),
                            reply_when_done(c.reply, [registry, node] {
                              const Node* n = node_after(registry, node);
                              return n ? route_views(*n) : json::array();
                            }));
}

// --- policy ---

void policy_get(Context& c) {
  const Policy& p = c.registry.policy();
  c.reply(ok_reply({{"policy", p.allow_all ? json(nullptr) : json(valid_utf8(p.text))}}));
}

void policy_set(Context& c) {
  auto text = jc::required_string(c.args, "policy", c.where);
  if (!text) return c.reply(error_reply(text.error().message));
  Registry* registry = &c.registry;
  c.registry.set_policy(*text, reply_when_done(c.reply, [registry] {
    return json{{"rules", registry->policy().rules.size()}};
  }));
}

const std::vector<Command>& commands() {
  static const std::vector<Command> kCommands = {
      {"users.create", {"name"}, users_create},
      {"users.list", {}, users_list},
      {"users.delete", {"name"}, users_delete},
      {"keys.create", {"user", "reusable", "ephemeral", "expiration_s", "tags"}, keys_create},
      {"keys.list", {}, keys_list},
      {"keys.expire", {"key"}, keys_expire},
      {"nodes.list", {}, nodes_list},
      {"nodes.expire", {"node"}, nodes_expire},
      {"nodes.delete", {"node"}, nodes_delete},
      {"nodes.rename", {"node", "name"}, nodes_rename},
      {"routes.list", {}, routes_list},
      {"routes.approve", {"node", "prefixes"}, routes_approve},
      {"policy.get", {}, policy_get},
      {"policy.set", {"policy"}, policy_set},
  };
  return kCommands;
}

}  // namespace

AdminApi::AdminApi(Env& env, Registry& registry, const NodeLiveSource& live)
    : env_(env), registry_(registry), live_(live) {}

void AdminApi::handle(const nlohmann::json& request, Reply reply_once) {
  if (!reply_once) return;
  // Exactly one reply, even if something below threw after replying.
  auto replied = std::make_shared<bool>(false);
  Reply reply = [replied, inner = std::move(reply_once)](nlohmann::json j) {
    if (*replied) return;
    *replied = true;
    inner(std::move(j));
  };
  // The boundary: nothing below is meant to throw, but a reply must come whatever happens.
  try {
    if (!request.is_object()) {
      return reply(
          error_reply("a request is a JSON object {\"command\": NAME, \"args\": {...}}, got " +
                      std::string(jc::type_name(request))));
    }
    if (Status s = check_args(request, "request", {"command", "args"}); !s) {
      return reply(error_reply(s.error().message));
    }
    auto name = jc::required_string(request, "command", "request");
    if (!name) return reply(error_reply(name.error().message));
    const Command* command = nullptr;
    std::vector<std::string> names;
    for (const Command& c : commands()) {
      names.emplace_back(c.name);
      if (*name == c.name) command = &c;
    }
    if (!command) {
      std::string list;
      for (const auto& n : names) list += " " + n;
      return reply(error_reply("unknown command " + printable(*name) +
                               jc::suggestion(*name, names) + "; commands:" + list));
    }
    static const json kNoArgs = json::object();
    auto args_it = request.find("args");
    const json& args = args_it == request.end() || args_it->is_null() ? kNoArgs : *args_it;
    if (!args.is_object()) {
      return reply(error_reply(*name + ": \"args\" must be an object, got " + jc::type_name(args)));
    }
    if (Status s = check_args(args, *name, command->args); !s) {
      return reply(error_reply(s.error().message));
    }
    Context context{env_, registry_, live_, args, *name, reply};
    command->run(context);
  } catch (const std::exception& e) {
    reply(error_reply(std::string("internal error: ") + e.what()));
  }
}

}  // namespace warren::control
