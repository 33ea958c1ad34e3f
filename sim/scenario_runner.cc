#include "sim/scenario_runner.h"

#include <sys/resource.h>

#include <chrono>
#include <map>

#include <ns3/simulator.h>

#include "reports/report_files.h"
#include "reports/report_markdown.h"
#include "sim/role_catalog.h"
#include "sim/scenario_report.h"
#include "sim/topology_builder.h"

namespace warren::sim {
namespace {

using nlohmann::ordered_json;

double peak_rss_mib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

ns3::Time to_ns3(Duration d) { return ns3::NanoSeconds(d.ns()); }

// The scenario's events, bound to the simulation's handles. Role events need the node to
// have roles: stopping a node with nothing on it is almost surely a typo in the scenario.
Status schedule_events(const Scenario& sc, SimNetwork& net,
                       const std::map<int, std::vector<ns3::Ptr<RoleApplication>>>& apps) {
  for (size_t i = 0; i < sc.events.size(); ++i) {
    const ScenarioEvent& ev = sc.events[i];
    std::string where = sc.source + ": events[" + std::to_string(i) + "]";
    int node = *net.FindNode(ev.node);
    uint32_t context = net.GetNode(node)->GetId();
    switch (ev.action) {
      case EventAction::start:
      case EventAction::stop: {
        auto it = apps.find(node);
        if (it == apps.end()) {
          return make_error(where + ": node \"" + ev.node + "\" runs no role to " + to_string(ev.action));
        }
        std::vector<ns3::Ptr<RoleApplication>> list = it->second;
        bool start = ev.action == EventAction::start;
        ns3::Simulator::ScheduleWithContext(context, to_ns3(ev.at), [list, start] {
          for (const auto& app : list) {
            if (start) app->Start();
            else app->Stop();
          }
        });
        break;
      }
      case EventAction::link_down:
      case EventAction::link_up: {
        auto link = net.FindLink(node, *net.FindNode(ev.peer));
        if (!link) return make_error(where + ": no link between " + ev.node + " and " + ev.peer);
        bool up = ev.action == EventAction::link_up;
        SimNetwork* n = &net;
        int l = *link;
        ns3::Simulator::ScheduleWithContext(context, to_ns3(ev.at), [n, l, up] { (void)n->SetLinkUp(l, up); });
        break;
      }
      case EventAction::nat_flush: {
        SimNetwork* n = &net;
        ns3::Simulator::ScheduleWithContext(context, to_ns3(ev.at), [n, node] { (void)n->FlushNat(node); });
        break;
      }
    }
  }
  return Status::success();
}

void schedule_progress(Duration total, const std::function<void(double, double)>& progress) {
  if (!progress) return;
  for (int k = 1; k <= 9; ++k) {
    Duration at = total * k / 10;
    ns3::Simulator::Schedule(to_ns3(at), [progress, at, total] { progress(at.seconds_f(), total.seconds_f()); });
  }
}

}  // namespace

Result<RunResult> run_scenario(Scenario sc, const RunOptions& options) {
  if (options.out_dir.empty()) return make_error("no output folder given (use --out DIR)");
  if (Status s = reports::ensure_output_dir(options.out_dir); !s) return s.error();
  if (options.seed) sc.seed = *options.seed;
  auto wall_start = std::chrono::steady_clock::now();

  auto built = TopologyBuilder::Build(sc.topology, sc.seed);
  if (!built) return make_error(sc.source + ": " + built.error().message);
  std::unique_ptr<SimNetwork> net = std::move(*built);

  RoleRecords records;
  auto placed = place_roles(sc, records);
  if (!placed) {
    ns3::Simulator::Destroy();
    return placed.error();
  }
  std::map<int, std::vector<ns3::Ptr<RoleApplication>>> apps;
  for (PlacedRole& p : *placed) {
    apps[p.node].push_back(net->InstallRole(p.node, p.role, std::move(p.factory), options.log_sink,
                                            options.log_level, p.start));
  }
  if (Status s = schedule_events(sc, *net, apps); !s) {
    ns3::Simulator::Destroy();
    return s.error();
  }
  if (options.pcap) {
    if (Status s = reports::ensure_output_dir(options.out_dir + "/pcap"); !s) {
      ns3::Simulator::Destroy();
      return s.error();
    }
    net->EnablePcapAll(options.out_dir + "/pcap/" + sc.name);
  }
  schedule_progress(sc.duration, options.progress);

  ns3::Simulator::Stop(to_ns3(sc.duration));
  ns3::Simulator::Run();
  uint64_t events = ns3::Simulator::GetEventCount();

  RunResult result;
  result.report = build_report(sc, *net, records, options.commit);
  // Roles go before the network they run on; the records they wrote stay with us.
  for (auto& [node, list] : apps)
    for (auto& app : list) app->Stop();
  net.reset();
  ns3::Simulator::Destroy();

  double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result.run = {{"scenario", sc.name},
                {"seed", sc.seed},
                {"commit", options.commit},
                {"simulated_s", sc.duration.seconds_f()},
                {"wall_s", wall_s},
                {"peak_rss_mib", peak_rss_mib()},
                {"events", events},
                {"events_per_second", wall_s > 0 ? static_cast<double>(events) / wall_s : 0.0}};

  const std::string& dir = options.out_dir;
  if (Status s = reports::write_file_atomic(dir, "report.json", result.report.dump(2) + "\n"); !s) return s.error();
  if (Status s = reports::write_file_atomic(dir, "report.md", reports::render_markdown(result.report)); !s) {
    return s.error();
  }
  if (Status s = reports::write_file_atomic(dir, "run.json", result.run.dump(2) + "\n"); !s) return s.error();
  return result;
}

}  // namespace warren::sim
