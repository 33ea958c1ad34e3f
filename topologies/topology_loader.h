// Loads a topology file (format: topologies/README.md): validates it, expands sites and
// groups, assigns addresses and computes static routes. Every error is a value whose message
// starts with the source name and the JSON path of the culprit, e.g.
//   topology.json: links[3]: unknown node "rotuer" (did you mean "router"?)
// Deterministic: the same document always gives the same Topology. Cost is linear in nodes
// and links plus one Dijkstra per router / multi-link host / NAT over its own realm.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nodes/net/result.h"
#include "topologies/topology.h"

namespace warren::topo {

// Files larger than this are not topologies a person or our generator writes (a 10,000-node
// generated file is well under 2 MB); refusing them bounds the loader's memory.
constexpr size_t kMaxTopologyFileBytes = 64u << 20;

// `source_name` prefixes every message (usually the file name).
Result<Topology> parse_topology(const nlohmann::json& doc, std::string_view source_name);

// JSON text -> Topology. Syntax errors carry nlohmann's line and column; a key given twice in
// one object is an error (JSON parsers silently keep one of them).
Result<Topology> parse_topology_text(std::string_view text, std::string_view source_name);

// Reads `path` (errors: unreadable, too large, not JSON) and parses it with the path as the
// source name.
Result<Topology> load_topology_file(const std::string& path);

}  // namespace warren::topo
