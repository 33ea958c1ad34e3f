// The control server's config file (`warren control serve --config FILE`). Minimal:
//   {"listen": "ADDR:PORT", "state_dir": "DIR"}
// Everything else has a default (documented in nodes/control/README.md):
//   "prefixes": {"v4": "100.64.0.0/10", "v6": "fd7a:115c:a1e0::/48"},
//   "admin_socket": "STATE_DIR/admin.sock", "policy_file": null (allow all until set),
//   "node_key_expiry_s": 0 (never), "batch_window_ms": 250, "keepalive_s": 50,
//   "offline_grace_s": 10, "ephemeral_timeout_s": 120, "log_level": "info",
//   "relay_map": {"regions": [{"id": 1, "code": "home", "name": "Home",
//       "relays": [{"name": "r1", "host": "relay.example", "port": 443, "addresses": [],
//                   "stun_port": 3478, "tls": false, "key": "<base64>"}]}]}
// Errors start with `source` (the file name) and name the JSON path ("control.json: prefixes.v4:
// ..."); misspelt keys get the nearest known one. Paths are kept as written: the caller
// resolves relative ones (`warren control serve` resolves them against the config file's
// directory). A "listen" host that is not an IP literal is left in listen_text for the caller's
// resolver (server.listen stays unset).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "nodes/control/control_server.h"
#include "nodes/net/logger.h"

namespace warren::control {

struct ControlConfigFile {
  ControlServerOptions server;
  std::string listen_text;  // as written (host part may be a name for the real resolver)
  bool listen_resolved = false;  // listen_text was an IP literal and server.listen holds it
  std::string state_dir;
  std::string admin_socket;  // resolved default: state_dir + "/admin.sock"
  std::optional<std::string> policy_file;
  LogLevel log_level = LogLevel::info;
};

// A config file larger than this is refused unread: a real one is a few KB.
constexpr size_t kMaxControlConfigBytes = 4 << 20;

Result<ControlConfigFile> parse_control_config(std::string_view json_text,
                                               const std::string& source = "config");

}  // namespace warren::control
