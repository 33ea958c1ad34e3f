// The single `warren` binary: control, relay, client, lab and diagnostics subcommands.
#include <cstdio>
#include <iostream>

#include "generated/warren_version.h"
#include "nodes/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"warren: a self-hosted mesh VPN and NAT traversal laboratory"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("warren 0.1.0 (") + WARREN_COMMIT + ")");
  int exit_code = 0;
  warren::cli::add_stun_commands(app, exit_code);
  warren::cli::add_topo_commands(app, exit_code);
  warren::cli::add_sim_commands(app, exit_code);
  warren::cli::add_control_commands(app, exit_code);
  warren::cli::add_relay_commands(app, exit_code);
  warren::cli::add_debug_commands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 checks "a subcommand is required" before it complains about unexpected words, so
    // a misspelt command would otherwise be reported as a missing one.
    const auto unexpected = app.remaining(true);
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !unexpected.empty()) {
      std::cerr << "error: unknown command \"" << unexpected.front()
                << "\"; run with --help to list the commands\n";
      return 2;
    }
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}
