// A scenario: which topology, which roles run on which nodes from when, which events happen
// at which simulated times, how long to run. Parsed from JSON with errors that name the key
// (`scenario.json: events[2].action: unknown action "flsh" (one of: ...)`). Pure: no ns-3.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/net/result.h"
#include "nodes/net/time.h"
#include "topologies/topology.h"

namespace warren::sim {

enum class EventAction {
  start,      // (re)start the roles on `node`
  stop,       // stop the roles on `node` (their state is dropped, as a process exit)
  link_down,  // every packet on the link `node`–`peer` is lost, both ways
  link_up,
  nat_flush,  // the NAT `node` loses every mapping, as after a reboot
};
const char* to_string(EventAction a);  // "start", "stop", "link-down", "link-up", "nat-flush"

struct ScenarioEvent {
  Duration at;
  EventAction action = EventAction::start;
  std::string node;
  std::string peer;  // link events only
};

// One role placed on some nodes. `params` holds the role-specific keys, validated by the
// role's own factory when the run starts (so the parser needs no list of every role). A role
// may name topology groups ("groups": ["home"]) instead of, or besides, nodes: they expand to
// the group's hosts in topology order.
struct RoleSpec {
  std::string role;
  std::vector<std::string> nodes;  // groups expanded
  Duration start = Duration::zero();
  nlohmann::json params = nlohmann::json::object();
};

struct Scenario {
  std::string name;
  std::string description;
  std::string source;         // the file it was read from, for messages
  std::string topology_path;  // as resolved against the scenario file's folder
  topo::Topology topology;
  uint64_t seed = 1;
  Duration duration = Duration::seconds(30);
  std::vector<RoleSpec> roles;
  std::vector<ScenarioEvent> events;  // sorted by time, file order kept for equal times
};

// Longest simulated run we accept: a typo of "duration_s": 36000000 should fail fast.
constexpr int64_t kMaxScenarioDurationSeconds = 7 * 24 * 3600;

// Reads the scenario and the topology it names (relative paths resolve against the scenario
// file's folder). Unknown keys, unknown nodes, events past the end and bad values are errors.
Result<Scenario> load_scenario_file(const std::string& path);
Result<Scenario> parse_scenario(const nlohmann::json& doc, const std::string& source,
                                const std::string& base_dir);

}  // namespace warren::sim
