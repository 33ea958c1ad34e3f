// `warren relay serve --config FILE` and `warren relay pubkey --config FILE`: the relay on real
// sockets (config: nodes/relay/relay_config.h, documented in nodes/relay/README.md).
//
// The state directory is "state_dir" from the config (relative to the config file's directory),
// else $WARREN_RELAY_STATE_DIR, else /var/lib/warren/relay. It is created 0700 and holds the
// relay's key (relay.key, 0600, generated once: its public half goes into the control server's
// relay_map) and, when the config pins no "control_key", the control server's key as first
// seen (control-server.pub).
//
// serve: resolves the endpoints, opens the stream and STUN ports, links to the control server
// when "control_url" is set (without it no node is admitted), then prints
//   listening on ADDR:PORT, public key KEY, stun on [ADDR:PORT, ...]
// once SIGINT/SIGTERM are handled, and runs until one arrives.
// pubkey: prints the relay's public key (base64), creating relay.key if missing.
//
// Exit: 0 after a signal (pubkey: printed); 1 when the relay cannot run (port in use, state
// directory not writable, a name that does not resolve); 2 for a bad config or mesh key file.
#pragma once

#include <string>

namespace warren::cli {

constexpr const char* kRelayStateDirEnv = "WARREN_RELAY_STATE_DIR";
constexpr const char* kDefaultRelayStateDir = "/var/lib/warren/relay";
constexpr const char* kRelayKeyFile = "relay.key";

int run_relay_serve(const std::string& config_path);
int run_relay_pubkey(const std::string& config_path);

}  // namespace warren::cli
