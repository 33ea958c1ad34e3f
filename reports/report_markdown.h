// Renders a run's report.json as Markdown for people: a header naming scenario, seed and
// commit, a table of nodes (site preset, NAT chain, addresses) and, when present, what STUN
// servers saw of each client. Pure text; the same report gives the same Markdown.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace warren::reports {

std::string render_markdown(const nlohmann::ordered_json& report);

}  // namespace warren::reports
