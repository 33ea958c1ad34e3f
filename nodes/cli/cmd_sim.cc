// `warren sim run SCENARIO --out DIR [--seed N] [--pcap] [--log-level LEVEL]`
#include <cstdio>
#include <iostream>

#include "generated/warren_version.h"
#include "nodes/cli/commands.h"
#include "sim/role_catalog.h"
#include "sim/scenario_runner.h"
#include "sim/sim_log_sink.h"

namespace warren::cli {
namespace {

struct SimRunArgs {
  std::string scenario;
  std::string out;
  uint64_t seed = 0;
  bool pcap = false;
  bool quiet = false;
  std::string log_level = "warn";
};

int run(const SimRunArgs& args, bool seed_given) {
  LogLevel level;
  if (!parse_log_level(args.log_level, level)) {
    std::cerr << "error: unknown log level \"" << args.log_level << "\" (debug, info, warn, error, off)\n";
    return 2;
  }
  auto scenario = sim::load_scenario_file(args.scenario);
  if (!scenario) {
    std::cerr << "error: " << scenario.error().message << "\n";
    return 2;
  }
  if (Status s = sim::validate_roles(*scenario); !s) {
    std::cerr << "error: " << s.error().message << "\n";
    return 2;
  }
  sim::SimLogSink sink;
  sim::RunOptions options;
  options.out_dir = args.out;
  if (seed_given) options.seed = args.seed;
  options.pcap = args.pcap;
  options.commit = WARREN_COMMIT;
  options.log_sink = &sink;
  options.log_level = level;
  if (!args.quiet) {
    options.progress = [](double done, double total) {
      std::fprintf(stderr, "sim: %3.0f%% (%.1f of %.1f simulated seconds)\n", 100.0 * done / total, done, total);
    };
  }
  auto result = sim::run_scenario(std::move(*scenario), options);
  if (!result) {
    std::cerr << "error: " << result.error().message << "\n";
    return 1;
  }
  if (!args.quiet) {
    std::fprintf(stderr, "sim: done in %.2f s wall, %.0f events/s, peak %.0f MiB; wrote %s/report.json, report.md, run.json\n",
                 result->run["wall_s"].get<double>(), result->run["events_per_second"].get<double>(),
                 result->run["peak_rss_mib"].get<double>(), args.out.c_str());
  }
  return 0;
}

}  // namespace

void add_sim_commands(CLI::App& app, int& exit_code) {
  CLI::App* sim = app.add_subcommand("sim", "Run simulated scenarios in ns-3");
  sim->require_subcommand(1);
  auto args = std::make_shared<SimRunArgs>();
  CLI::App* run_cmd = sim->add_subcommand("run", "Run a scenario; write report.json, report.md and run.json to --out");
  run_cmd->add_option("scenario", args->scenario, "Scenario file (JSON)")->required()->check(CLI::ExistingFile);
  run_cmd->add_option("--out", args->out, "Output folder (created if missing)")->required();
  CLI::Option* seed = run_cmd->add_option("--seed", args->seed, "Seed overriding the scenario's (same seed and commit, same report)");
  run_cmd->add_flag("--pcap", args->pcap, "Write a pcap per link end to DIR/pcap");
  run_cmd->add_flag("-q,--quiet", args->quiet, "No progress on stderr");
  run_cmd->add_option("--log-level", args->log_level, "Role log level on stderr: debug, info, warn (default), error, off");
  run_cmd->callback([args, seed, &exit_code] { exit_code = run(*args, seed->count() > 0); });
}

}  // namespace warren::cli
