// `warren control serve --config FILE`: the control server on real sockets.
//
// Reads the config (nodes/control/control_config.h; relative paths in it are relative to the
// config file's directory), creates the state directory (0700) with the server's Noise key
// (control.key, 0600, generated once) and the SQLite store (control.db), applies
// "policy_file" if given, opens the control port and the admin socket (0600), then runs until
// SIGINT or SIGTERM and stops gracefully.
//
// Exit: 0 after a signal; 1 when the server cannot run (port in use, another server on the
// admin socket, corrupt database); 2 for a bad config or policy file.
#pragma once

#include <string>

namespace warren::cli {

int run_control_serve(const std::string& config_path);

}  // namespace warren::cli
