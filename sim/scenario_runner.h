// Runs a scenario in ns-3 and writes its results:
//   DIR/report.json  simulated results only; byte-identical for the same (seed, commit)
//   DIR/report.md    the same as tables, for people
//   DIR/run.json     host figures: wall time, peak memory, events processed per second
//   DIR/pcap/*.pcap  one per link end, when asked (Wireshark opens them)
// One run per process: ns-3 keeps global state (node list, RNG run number) that a second
// run in the same process would inherit, so determinism is only promised per process.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "nodes/net/logger.h"
#include "nodes/net/result.h"
#include "sim/scenario.h"

namespace warren::sim {

struct RunOptions {
  std::string out_dir;                  // required; created if missing
  std::optional<uint64_t> seed;         // overrides the scenario's seed
  bool pcap = false;
  std::string commit = "unknown";       // recorded in report.json
  LogSink* log_sink = nullptr;          // roles' logs; null discards them
  LogLevel log_level = LogLevel::warn;
  // Called about every tenth of the run with (simulated seconds done, total).
  std::function<void(double done_s, double total_s)> progress;
};

struct RunResult {
  nlohmann::ordered_json report;
  nlohmann::ordered_json run;  // the host figures written to run.json
};

Result<RunResult> run_scenario(Scenario scenario, const RunOptions& options);

}  // namespace warren::sim
