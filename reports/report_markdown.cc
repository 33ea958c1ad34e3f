#include "reports/report_markdown.h"

#include <sstream>

namespace warren::reports {
namespace {

using nlohmann::ordered_json;

std::string str(const ordered_json& v) {
  if (v.is_null()) return "—";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump();
}

// "EIM/APDF preserve" style shorthand keeps a NAT chain readable in one table cell.
std::string short_behaviour(const std::string& b) {
  if (b == "endpoint-independent") return "EI";
  if (b == "address-dependent") return "AD";
  if (b == "address-and-port-dependent") return "APD";
  return b;
}

std::string nat_chain(const ordered_json& node) {
  if (!node.contains("nat") || node["nat"].empty()) return "none (public)";
  std::string out;
  for (const auto& n : node["nat"]) {
    if (!out.empty()) out += " → ";
    out += short_behaviour(n.value("mapping", "?")) + "M/" + short_behaviour(n.value("filtering", "?")) +
           "F " + n.value("ports", "?");
  }
  return out;
}

std::string families(const ordered_json& node) {
  std::string out;
  for (const auto& f : node.value("families", ordered_json::array())) {
    out += (out.empty() ? "" : "+") + f.get<std::string>();
  }
  return out.empty() ? "—" : out;
}

}  // namespace

std::string render_markdown(const ordered_json& report) {
  std::ostringstream md;
  md << "# " << report.value("scenario", "scenario") << "\n\n";
  if (report.contains("description") && report["description"].is_string()) {
    md << report["description"].get<std::string>() << "\n\n";
  }
  md << "| seed | commit | simulated |\n|---|---|---|\n";
  md << "| " << str(report.value("seed", ordered_json())) << " | `" << report.value("commit", "?")
     << "` | " << str(report.value("duration_s", ordered_json())) << " s |\n\n";

  const ordered_json nodes = report.value("nodes", ordered_json::array());
  md << "## Nodes\n\n";
  md << "| node | site | families | IPv4 | IPv6 | NATs in front (innermost first) | IPv6 firewall |\n";
  md << "|---|---|---|---|---|---|---|\n";
  for (const auto& n : nodes) {
    md << "| " << str(n.value("name", ordered_json())) << " | " << str(n.value("preset", ordered_json()))
       << " | " << families(n) << " | " << str(n.value("ipv4", ordered_json())) << " | "
       << str(n.value("ipv6", ordered_json())) << " | " << nat_chain(n) << " | "
       << str(n.value("ipv6_firewall", ordered_json())) << " |\n";
  }

  bool any_control = false;
  for (const auto& n : nodes) any_control = any_control || n.contains("control");
  if (any_control) {
    md << "\n## Control clients\n\n";
    md << "| node | overlay IPv4 | overlay IPv6 | registered at (s) | peers at end | full maps | deltas | errors |\n";
    md << "|---|---|---|---|---|---|---|---|\n";
    for (const auto& n : nodes) {
      if (!n.contains("control")) continue;
      const auto& c = n["control"];
      md << "| " << str(n["name"]) << " | " << str(n.value("overlay_ipv4", ordered_json())) << " | "
         << str(n.value("overlay_ipv6", ordered_json())) << " | "
         << str(c.value("registered_s", ordered_json())) << " | " << str(c.value("peers", ordered_json()))
         << " | " << str(c.value("full_maps", ordered_json())) << " | " << str(c.value("deltas", ordered_json()))
         << " | " << str(c.value("errors", ordered_json())) << " |\n";
    }
  }

  bool any_stun = false;
  for (const auto& n : nodes) any_stun = any_stun || n.contains("stun");
  if (any_stun) {
    md << "\n## What STUN servers saw\n\n";
    md << "Each client asks every server from one socket per family. Mapping varies by destination "
          "when two servers saw different endpoints: the client infers it from the answers alone.\n\n";
    md << "| client | server | family | mapped endpoint | rtt ms | varies by destination (inferred) | configured NAT mapping varies |\n";
    md << "|---|---|---|---|---|---|---|\n";
    for (const auto& n : nodes) {
      if (!n.contains("stun")) continue;
      const auto& s = n["stun"];
      const auto mapped = s.value("mapped", ordered_json::array());
      if (mapped.empty()) {
        md << "| " << str(n["name"]) << " | — | — | no answer | — | "
           << str(s.value("mapping_varies_by_destination", ordered_json())) << " | "
           << str(s.value("configured_mapping_varies", ordered_json())) << " |\n";
      }
      bool first = true;
      for (const auto& m : mapped) {
        md << "| " << (first ? str(n["name"]) : "") << " | " << str(m.value("server", ordered_json()))
           << " | " << str(m.value("family", ordered_json())) << " | "
           << str(m.value("endpoint", ordered_json())) << " | " << str(m.value("rtt_ms", ordered_json()))
           << " | " << (first ? str(s.value("mapping_varies_by_destination", ordered_json())) : "")
           << " | " << (first ? str(s.value("configured_mapping_varies", ordered_json())) : "") << " |\n";
        first = false;
      }
    }
  }
  const ordered_json events = report.value("events", ordered_json::array());
  if (!events.empty()) {
    md << "\n## Events\n\n| at (s) | action | node | peer |\n|---|---|---|---|\n";
    for (const auto& e : events) {
      md << "| " << str(e.value("at_s", ordered_json())) << " | " << str(e.value("action", ordered_json()))
         << " | " << str(e.value("node", ordered_json())) << " | " << str(e.value("peer", ordered_json()))
         << " |\n";
    }
  }
  const ordered_json nats = report.value("nats", ordered_json::array());
  if (!nats.empty()) {
    md << "\n## NAT counters\n\n| NAT | site | out | in | hairpinned | IPv6 forwarded | drops |\n"
          "|---|---|---|---|---|---|---|\n";
    for (const auto& n : nats) {
      std::string drops;
      for (auto it = n["drops"].begin(); it != n["drops"].end(); ++it) {
        drops += (drops.empty() ? "" : ", ") + it.key() + " " + str(it.value());
      }
      md << "| " << str(n.value("node", ordered_json())) << " | " << str(n.value("preset", ordered_json()))
         << " | " << str(n.value("translated_outbound", ordered_json())) << " | "
         << str(n.value("translated_inbound", ordered_json())) << " | " << str(n.value("hairpinned", ordered_json()))
         << " | " << str(n.value("forwarded_ipv6", ordered_json())) << " | " << (drops.empty() ? "none" : drops)
         << " |\n";
    }
  }
  if (report.contains("summary")) {
    md << "\n## Summary\n\n| measure | value |\n|---|---|\n";
    for (auto it = report["summary"].begin(); it != report["summary"].end(); ++it) {
      md << "| " << it.key() << " | " << str(it.value()) << " |\n";
    }
  }
  return md.str();
}

}  // namespace warren::reports
