// The admin protocol behind `warren control <command>`: one JSON request, one JSON reply.
// Transport (ControlServer): the admin socket carries one request line and one reply line per
// connection, each a single-line JSON document of at most kMaxAdminMessageBytes.
//
// Request: {"command": "users.create", "args": {"name": "alice"}}   ("args" may be omitted)
// Reply:   {"ok": true, "result": ...}  or  {"ok": false, "error": "what went wrong; what to do"}
//
// Commands and args (result shapes in nodes/control/README.md, "State and admin results"):
//   users.create {name} -> USER    users.list {} -> [USER]  users.delete {name} -> {deleted}
//   keys.create {user, reusable?, ephemeral?, expiration_s?, tags?[]} -> KEY + {"key": TEXT}
//   keys.list {} -> [KEY]          keys.expire {key} -> KEY  (key = prefix or full key)
//   nodes.list {} -> [NODE]        nodes.expire {node} -> NODE
//   nodes.delete {node} -> {deleted: {id, name}}            nodes.rename {node, name} -> NODE
//                                  (node = id or name; an id may also be a JSON number)
//   routes.list {} -> [ROUTE]      routes.approve {node, prefixes[]} -> [ROUTE] of that node
//                                  (sets the approved list; [] withdraws every approval)
//   policy.get {} -> {"policy": TEXT or null (no policy: allow all)}
//   policy.set {policy: TEXT} -> {"rules": N}
// expiration_s: 0 (default) = never. The full key text appears only in keys.create's reply.
// A change is replied to after it is durable. Reads and refused requests may be replied to
// inside handle(); changes always later. Unknown commands or args are errors that list what is
// accepted. Every reply serialises (strings are valid UTF-8).
#pragma once

#include <functional>

#include <nlohmann/json.hpp>

#include "nodes/control/registry.h"

namespace warren::control {

constexpr size_t kMaxAdminMessageBytes = 1 << 20;  // a policy file fits; a runaway client does not

// Live facts the admin view shows next to the registry's (online, endpoints, last seen).
class NodeLiveSource {
 public:
  virtual ~NodeLiveSource() = default;
  virtual NodeLive live(NodeId id) const = 0;
};

class AdminApi {
 public:
  using Reply = std::function<void(nlohmann::json reply)>;
  AdminApi(Env& env, Registry& registry, const NodeLiveSource& live);
  // Never throws; malformed requests get {"ok": false, "error": ...}. `reply` runs exactly
  // once (unless the Registry is destroyed before a pending change completes).
  void handle(const nlohmann::json& request, Reply reply);

 private:
  Env& env_;
  Registry& registry_;
  const NodeLiveSource& live_;
};

}  // namespace warren::control
