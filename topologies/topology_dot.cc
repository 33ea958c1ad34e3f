#include "topologies/topology_dot.h"

#include <cstdio>
#include <sstream>

#include "topologies/topology_format.h"

namespace warren::topo {
namespace {

// DOT string literal: only '"' and '\' need escaping; "\n" in labels is Graphviz's newline,
// which we write on purpose, so callers pass label lines separately.
std::string dot_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string addresses(const Node& n) {
  std::string out;
  if (n.ipv4) out += "\n" + n.ipv4->to_string();
  if (n.ipv6) out += "\n" + n.ipv6->to_string();
  return out;
}

std::string node_line(const Node& n) {
  std::string label = n.name;
  std::string shape = "ellipse";
  if (n.kind == NodeKind::router) {
    shape = "octagon";
    label += "\nrouter";
  } else if (n.kind == NodeKind::nat) {
    shape = "box";
    if (n.nat && !n.nat->preset.empty()) label += "\n" + n.nat->preset;
    if (n.nat) label += "\n" + behaviour_summary(*n.nat);
    if (n.ipv6_firewall) label += "\n+ IPv6 firewall";
  }
  label += addresses(n);
  std::string style =
      n.kind == NodeKind::nat ? ", style=\"rounded,filled\", fillcolor=\"#fff3d6\"" : "";
  return "  " + dot_quote(n.name) + " [shape=" + shape + style + ", label=" + dot_quote(label) +
         "];\n";
}

class DotWriter {
 public:
  explicit DotWriter(const Topology& t) : t_(t), members_(t.nodes.size() + 1) {
    for (size_t i = 0; i < t.nodes.size(); ++i) {
      int realm = t.nodes[i].realm_nat;
      size_t slot = realm >= 0 && static_cast<size_t>(realm) < t.nodes.size()
                        ? static_cast<size_t>(realm) + 1
                        : 0;
      members_[slot].push_back(static_cast<int>(i));
    }
  }

  std::string write() {
    out_ << "graph " << dot_quote(t_.name.empty() ? "topology" : t_.name) << " {\n";
    out_ << "  graph [fontname=\"Helvetica\", fontsize=11, label=" << dot_quote(t_.name)
         << ", labelloc=t];\n";
    out_ << "  node [fontname=\"Helvetica\", fontsize=9];\n";
    out_ << "  edge [fontname=\"Helvetica\", fontsize=8];\n";
    realm(-1, 0);
    for (size_t i = 0; i < t_.links.size(); ++i) link(static_cast<int>(i));
    out_ << "}\n";
    return out_.str();
  }

 private:
  // Members of the realm behind `nat` (-1: public); a nested NAT's own realm follows it as a
  // cluster. Depth is bounded by the loader's NAT nesting limit.
  void realm(int nat, int depth) {
    std::string indent(static_cast<size_t>(depth) * 2, ' ');
    for (int m : members_[static_cast<size_t>(nat + 1)]) {
      const Node& n = t_.nodes[static_cast<size_t>(m)];
      out_ << indent << node_line(n);
      if (n.kind != NodeKind::nat) continue;
      std::string label = "inside " + n.name;
      if (n.lan_ipv4) label += "\n" + n.lan_ipv4->to_string();
      if (n.lan_ipv6) label += "\n" + n.lan_ipv6->to_string();
      out_ << indent << "  subgraph " << dot_quote("cluster_" + n.name) << " {\n";
      out_ << indent << "    graph [label=" << dot_quote(label)
           << ", style=dashed, color=\"gray50\", fontsize=9];\n";
      realm(m, depth + 1);
      out_ << indent << "  }\n";
    }
  }

  void link(int index) {
    const Link& l = t_.links[static_cast<size_t>(index)];
    if (l.a < 0 || l.b < 0 || static_cast<size_t>(l.a) >= t_.nodes.size() ||
        static_cast<size_t>(l.b) >= t_.nodes.size()) {
      return;
    }
    const Node& a = t_.nodes[static_cast<size_t>(l.a)];
    const Node& b = t_.nodes[static_cast<size_t>(l.b)];
    std::string label = format_delay(l.params.delay);
    if (l.params.rate_bps != LinkParams{}.rate_bps) label += "\n" + format_rate(l.params.rate_bps);
    if (l.params.loss > 0) label += "\n" + format_loss(l.params.loss);
    bool outside = (a.kind == NodeKind::nat && a.outside_link == index) ||
                   (b.kind == NodeKind::nat && b.outside_link == index);
    out_ << "  " << dot_quote(a.name) << " -- " << dot_quote(b.name)
         << " [label=" << dot_quote(label) << (outside ? ", style=bold" : "") << "];\n";
  }

  const Topology& t_;
  std::vector<std::vector<int>> members_;
  std::ostringstream out_;
};

}  // namespace

std::string to_dot(const Topology& topology) {
  return DotWriter(topology).write();
}

}  // namespace warren::topo
