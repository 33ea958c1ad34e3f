#include "topologies/topology_json.h"

#include "nat-models/nat_config_json.h"

namespace warren::topo {
namespace {

using ojson = nlohmann::ordered_json;

const std::string& name_of(const Topology& t, int node) {
  static const std::string kNone;
  return node >= 0 && static_cast<size_t>(node) < t.nodes.size()
             ? t.nodes[static_cast<size_t>(node)].name
             : kNone;
}

ojson node_json(const Topology& t, int index, bool with_routes) {
  const Node& n = t.nodes[static_cast<size_t>(index)];
  ojson j;
  j["name"] = n.name;
  j["kind"] = to_string(n.kind);
  ojson families = ojson::array();
  for (Family f : n.families) families.push_back(to_string(f));
  j["families"] = families;
  j["ipv4"] = n.ipv4 ? ojson(n.ipv4->to_string()) : ojson();
  j["ipv6"] = n.ipv6 ? ojson(n.ipv6->to_string()) : ojson();
  if (!n.site.empty()) j["site"] = n.site;
  if (!n.group.empty()) j["group"] = n.group;
  ojson chain = ojson::array();
  for (int nat : t.nat_chain(index)) chain.push_back(name_of(t, nat));
  j["nat_chain"] = chain;
  if (n.kind == NodeKind::nat) {
    if (n.nat) j["nat"] = ojson(nat::nat_config_to_json(*n.nat));
    j["outside"] = name_of(t, t.peer(n.outside_link, index));
    j["ipv6_firewall"] = n.ipv6_firewall;
    if (n.ipv6_firewall) j["firewall"] = ojson(nat::firewall_config_to_json(n.firewall));
    j["lan_ipv4"] = n.lan_ipv4 ? ojson(n.lan_ipv4->to_string()) : ojson();
    j["lan_ipv6"] = n.lan_ipv6 ? ojson(n.lan_ipv6->to_string()) : ojson();
  }
  if (with_routes) {
    ojson routes = ojson::array();
    for (const Route& r : n.routes) {
      routes.push_back({{"destination", r.destination.to_string()},
                        {"link", r.link},
                        {"via", name_of(t, t.peer(r.link, index))}});
    }
    j["routes"] = routes;
  }
  return j;
}

}  // namespace

TopologyCounts count(const Topology& topology) {
  TopologyCounts c;
  for (const Node& n : topology.nodes) {
    switch (n.kind) {
      case NodeKind::host:
        ++c.hosts;
        break;
      case NodeKind::router:
        ++c.routers;
        break;
      case NodeKind::nat:
        ++c.nats;
        break;
    }
  }
  c.links = topology.links.size();
  c.realms = 1 + c.nats;
  return c;
}

std::string summary_line(const Topology& topology) {
  TopologyCounts c = count(topology);
  auto plural = [](size_t k, const char* one, const char* many) {
    return std::to_string(k) + " " + (k == 1 ? one : many);
  };
  return plural(topology.nodes.size(), "node", "nodes") + " (" + plural(c.hosts, "host", "hosts") +
         ", " + plural(c.routers, "router", "routers") + ", " + plural(c.nats, "NAT", "NATs") +
         "), " + plural(c.links, "link", "links") + ", " + plural(c.realms, "realm", "realms");
}

nlohmann::ordered_json topology_to_json(const Topology& topology, bool with_routes) {
  TopologyCounts c = count(topology);
  ojson j;
  j["name"] = topology.name;
  j["summary"] = {{"nodes", topology.nodes.size()},
                  {"hosts", c.hosts},
                  {"routers", c.routers},
                  {"nats", c.nats},
                  {"links", c.links},
                  {"realms", c.realms}};
  ojson nodes = ojson::array();
  for (size_t i = 0; i < topology.nodes.size(); ++i) {
    nodes.push_back(node_json(topology, static_cast<int>(i), with_routes));
  }
  j["nodes"] = std::move(nodes);
  ojson links = ojson::array();
  for (const Link& l : topology.links) {
    links.push_back({{"a", name_of(topology, l.a)},
                     {"b", name_of(topology, l.b)},
                     {"delay_ms", l.params.delay.ms_f()},
                     {"rate_mbps", static_cast<double>(l.params.rate_bps) / 1e6},
                     {"loss", l.params.loss},
                     {"queue_packets", l.params.queue_packets}});
  }
  j["links"] = std::move(links);
  return j;
}

}  // namespace warren::topo
