// The relay's config file (`warren relay serve --config FILE`). Minimal:
//   {"listen": "ADDR:PORT", "stun_listen": ["ADDR:PORT", ...]}
// which serves STUN and admits no node. "listen" may also be a list ("0.0.0.0:443", "[::]:443").
// Everything else (documented in nodes/relay/README.md):
//   "state_dir": "/var/lib/warren/relay" (or $WARREN_RELAY_STATE_DIR): relay.key lives there
//   "control_url": "http://HOST:PORT"     admit the nodes that control server knows
//   "control_key": "<base64>"             pin it; absent: fetched once and kept in
//                                         STATE_DIR/control-server.pub (trust on first use)
//   "mesh_key": "<64 hex>" | "mesh_key_file": "FILE"    the region's shared mesh key
//   "mesh_peers": ["http://HOST:PORT", ...]  the region's relays (ourselves may be listed)
//   "queue_depth": 32, "rate_limit_bytes_per_s": 4194304 (0 = no limit), "burst_bytes":
//   1048576 (raised to at least one maximal packet), "max_clients": 100000, "log_level": "info"
// Errors start with `source` and name the JSON path; misspelt keys get the nearest known one.
// Host names (not IP literals) in "listen", "stun_listen", "control_url" and "mesh_peers" are
// kept as text for the caller's resolver. Paths are kept as written (the CLI resolves relative
// ones against the config file's directory).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodes/net/logger.h"
#include "nodes/relay/relay_server.h"

namespace warren::relay {

// An http://HOST:PORT URL split for the resolver; port defaults to 80.
struct HttpTarget {
  std::string text;  // as written
  std::string host;  // without brackets
  uint16_t port = 80;
  std::string host_port;  // the Host header value
};

struct RelayConfigFile {
  std::string listen_text;                          // the first (or only) "listen" entry
  std::vector<std::string> additional_listen_text;  // the rest, when "listen" is a list
  std::vector<std::string> stun_listen_text;
  std::string state_dir;  // empty: the caller applies its default
  std::optional<HttpTarget> control_url;
  std::optional<PublicKey> control_key;
  std::optional<std::string> mesh_key_text;  // the 64 hex digits, validated
  std::optional<std::string> mesh_key_file;
  std::vector<HttpTarget> mesh_peers;
  RelayServerOptions server;  // tunables filled; endpoints left for the caller to resolve
  LogLevel log_level = LogLevel::info;
};

constexpr size_t kMaxRelayConfigBytes = 1 << 20;

// "http://HOST[:PORT][/]": errors say what form is expected (https: not yet; TLS belongs to a
// reverse proxy in front). `what` names the field ("control_url") in messages.
Result<HttpTarget> parse_http_target(const std::string& url, const std::string& what);

Result<RelayConfigFile> parse_relay_config(std::string_view json_text,
                                           const std::string& source = "config");

}  // namespace warren::relay
