// Each group of `warren` subcommands registers itself on the root app. A subcommand's
// callback stores its exit status in `exit_code`: 0 on success, 1 on a runtime failure,
// 2 on bad usage or bad input. Errors go to stderr and say what to do.
#pragma once

#include <CLI/CLI.hpp>

namespace warren::cli {

void add_stun_commands(CLI::App& app, int& exit_code);
void add_topo_commands(CLI::App& app, int& exit_code);
void add_sim_commands(CLI::App& app, int& exit_code);
void add_control_commands(CLI::App& app, int& exit_code);
void add_relay_commands(CLI::App& app, int& exit_code);
void add_debug_commands(CLI::App& app, int& exit_code);

}  // namespace warren::cli
