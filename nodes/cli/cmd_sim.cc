#include "nodes/cli/commands.h"

namespace warren::cli {

void add_sim_commands(CLI::App& /*app*/, int& /*exit_code*/) {}

}  // namespace warren::cli
