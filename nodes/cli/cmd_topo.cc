// `warren topo check FILE [--json] [--routes]` and `warren topo dot FILE`.
#include <iostream>
#include <memory>
#include <string>

#include "nodes/cli/commands.h"
#include "topologies/topology_dot.h"
#include "topologies/topology_json.h"
#include "topologies/topology_loader.h"

namespace warren::cli {
namespace {

struct TopoOptions {
  std::string file;
  bool json = false;
  bool routes = false;
};

// Loads the file or prints the loader's message (it names the file and the culprit).
std::optional<topo::Topology> load_or_report(const std::string& file) {
  auto t = topo::load_topology_file(file);
  if (!t) {
    std::cerr << "error: " << t.error().message << "\n";
    return std::nullopt;
  }
  return std::move(*t);
}

}  // namespace

void add_topo_commands(CLI::App& app, int& exit_code) {
  CLI::App* topo = app.add_subcommand("topo", "Validate and render topology files");
  topo->require_subcommand(1);

  auto check_opts = std::make_shared<TopoOptions>();
  CLI::App* check = topo->add_subcommand(
      "check", "Validate a topology file; print a summary, or every node with --json");
  check->add_option("FILE", check_opts->file, "topology JSON file")->required();
  check->add_flag("--json", check_opts->json,
                  "print nodes with kind, families, addresses and NAT chain as JSON");
  check->add_flag("--routes", check_opts->routes, "with --json: include each node's routes");
  check->callback([check_opts, &exit_code] {
    auto t = load_or_report(check_opts->file);
    if (!t) {
      exit_code = 2;
      return;
    }
    if (check_opts->json) {
      std::cout << topo::topology_to_json(*t, check_opts->routes).dump(2) << "\n";
    } else {
      std::cout << "ok: " << topo::summary_line(*t) << "\n";
    }
    exit_code = 0;
  });

  auto dot_opts = std::make_shared<TopoOptions>();
  CLI::App* dot = topo->add_subcommand("dot", "Print a topology as Graphviz DOT on stdout");
  dot->add_option("FILE", dot_opts->file, "topology JSON file")->required();
  dot->callback([dot_opts, &exit_code] {
    auto t = load_or_report(dot_opts->file);
    if (!t) {
      exit_code = 2;
      return;
    }
    std::cout << topo::to_dot(*t);
    exit_code = 0;
  });
}

}  // namespace warren::cli
