// Stage 4 of the loader: static routes. A single-link node and a NAT's outside need only
// defaults; Dijkstra runs per realm and only from routers, multi-link hosts and the realm's
// NAT, never from every host, so a 10,000-host star costs one search from its router.
#include <algorithm>
#include <limits>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>

#include "topologies/load_state.h"

namespace warren::topo::detail {
namespace {

struct EdgeProps {
  int64_t weight = 0;
  int link = -1;
};
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS,
                                    boost::no_property, EdgeProps>;
constexpr int64_t kInfinity = std::numeric_limits<int64_t>::max();

bool carries(const Node& n, Family f) {
  return n.has(f) && (n.kind != NodeKind::nat || f == Family::ipv4 || n.ipv6_firewall);
}

Prefix default_route(Family f) {
  return Prefix::containing(IpAddress::any(f), 0);
}

Prefix host_route(const IpAddress& a) {
  return Prefix::containing(a, a.is_v4() ? 32 : 128);
}

// A destination of a realm: a prefix and the realm vertex (local index) that leads to it.
struct Destination {
  Prefix prefix;
  int vertex = -1;
};

class RouteBuilder {
 public:
  explicit RouteBuilder(LoadState& s) : s_(s), local_(s.topology.nodes.size(), -1) {}
  void run();

 private:
  void add_defaults();
  void route_realm(int realm);
  void route_family(int realm, Family f);
  void collect_lans(int nat, int vertex, std::vector<Destination>& out) const;
  // For every vertex, the link out of `source` that starts its shortest path (-1: none).
  std::vector<int> first_hops(const Graph& g, int source) const;

  LoadState& s_;
  std::vector<int> local_;  // node -> vertex in the current realm, -1 outside it
  std::vector<int> verts_;  // vertex -> node
};

void RouteBuilder::add_defaults() {
  Topology& t = s_.topology;
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    Node& n = t.nodes[i];
    // Routers always route by the graph: a default out of a public stub router would bounce
    // unroutable (private) destinations back and forth.
    int link = n.kind == NodeKind::nat                           ? n.outside_link
               : n.kind == NodeKind::host && n.links.size() == 1 ? n.links[0]
                                                                 : -1;
    if (link < 0) continue;
    const Node& peer = s_.node(t.peer(link, static_cast<int>(i)));
    for (Family f : n.families) {
      if (carries(n, f) && carries(peer, f)) n.routes.push_back({default_route(f), link});
    }
  }
}

std::vector<int> RouteBuilder::first_hops(const Graph& g, int source) const {
  size_t count = boost::num_vertices(g);
  std::vector<int64_t> dist(count, kInfinity);
  boost::dijkstra_shortest_paths(g, static_cast<size_t>(source),
                                 boost::weight_map(boost::get(&EdgeProps::weight, g))
                                     .distance_map(boost::make_iterator_property_map(
                                         dist.begin(), boost::get(boost::vertex_index, g)))
                                     .distance_inf(kInfinity));
  std::vector<int> order;
  for (size_t v = 0; v < count; ++v) {
    if (dist[v] != kInfinity) order.push_back(static_cast<int>(v));
  }
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return dist[static_cast<size_t>(a)] != dist[static_cast<size_t>(b)]
               ? dist[static_cast<size_t>(a)] < dist[static_cast<size_t>(b)]
               : a < b;
  });
  // Weights are positive, so every tight predecessor comes earlier in `order`; among equal
  // shortest paths the one leaving `source` on the lowest link index wins.
  std::vector<int> first(count, -1);
  for (int v : order) {
    if (v == source) continue;
    int best = std::numeric_limits<int>::max();
    for (auto [e, end] = boost::out_edges(static_cast<size_t>(v), g); e != end; ++e) {
      size_t u = boost::target(*e, g);
      const EdgeProps& p = g[*e];
      if (dist[u] == kInfinity || dist[u] + p.weight != dist[static_cast<size_t>(v)]) continue;
      int candidate = static_cast<int>(u) == source ? p.link : first[u];
      if (candidate >= 0) best = std::min(best, candidate);
    }
    if (best != std::numeric_limits<int>::max()) first[static_cast<size_t>(v)] = best;
  }
  return first;
}

// The IPv6 LANs reached through member NAT `nat`: its own /64 and those nested behind it.
void RouteBuilder::collect_lans(int nat, int vertex, std::vector<Destination>& out) const {
  std::vector<int> stack = {nat};
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    const Node& node = s_.node(n);
    if (!node.lan_ipv6) continue;  // IPv6 cannot pass it, nor anything nested in it
    out.push_back({*node.lan_ipv6, vertex});
    const std::vector<int>& inside = s_.realm(n);
    for (auto it = inside.rbegin(); it != inside.rend(); ++it) {
      if (s_.node(*it).kind == NodeKind::nat) stack.push_back(*it);
    }
  }
}

void RouteBuilder::route_family(int realm, Family f) {
  Topology& t = s_.topology;
  int gateway = realm >= 0 ? 0 : -1;  // the realm's NAT is vertex 0 of an inside realm
  std::vector<int> sources;
  for (size_t v = 0; v < verts_.size(); ++v) {
    const Node& n = s_.node(verts_[v]);
    if (!carries(n, f)) continue;
    bool multi = n.kind != NodeKind::nat && (n.kind == NodeKind::router || n.links.size() > 1);
    if (static_cast<int>(v) == gateway || multi) sources.push_back(static_cast<int>(v));
  }
  if (sources.empty()) return;
  Graph g(verts_.size());
  for (size_t v = 0; v < verts_.size(); ++v) {
    int node = verts_[v];
    if (!carries(s_.node(node), f)) continue;
    for (int l : s_.node(node).links) {
      int peer = t.peer(l, node);
      int pv = local_[static_cast<size_t>(peer)];
      // Each link once; the gateway's outside link never has a local peer.
      if (pv < 0 || peer < node || !carries(s_.node(peer), f)) continue;
      int64_t weight = t.links[static_cast<size_t>(l)].params.delay.ns() + 1;  // +1: fewer hops
      boost::add_edge(v, static_cast<size_t>(pv), EdgeProps{weight, l}, g);
    }
  }
  std::vector<Destination> dests;
  for (size_t v = 0; v < verts_.size(); ++v) {
    if (static_cast<int>(v) == gateway) continue;
    const Node& n = s_.node(verts_[v]);
    const std::optional<IpAddress>& a = f == Family::ipv4 ? n.ipv4 : n.ipv6;
    if (a) dests.push_back({host_route(*a), static_cast<int>(v)});
  }
  if (f == Family::ipv6) {
    for (size_t v = 0; v < verts_.size(); ++v) {
      if (static_cast<int>(v) == gateway) continue;
      if (s_.node(verts_[v]).kind == NodeKind::nat)
        collect_lans(verts_[v], static_cast<int>(v), dests);
    }
  }
  for (int src : sources) {
    std::vector<int> first = first_hops(g, src);
    Node& n = s_.node(verts_[static_cast<size_t>(src)]);
    if (gateway >= 0 && src != gateway && carries(s_.node(verts_[0]), f) && first[0] >= 0) {
      n.routes.push_back({default_route(f), first[0]});  // out of the realm: via its NAT
    }
    for (const Destination& d : dests) {
      if (d.vertex == src || first[static_cast<size_t>(d.vertex)] < 0) continue;
      n.routes.push_back({d.prefix, first[static_cast<size_t>(d.vertex)]});
    }
  }
}

void RouteBuilder::route_realm(int realm) {
  verts_.clear();
  if (realm >= 0) verts_.push_back(realm);
  const std::vector<int>& members = s_.realm(realm);
  verts_.insert(verts_.end(), members.begin(), members.end());
  for (size_t v = 0; v < verts_.size(); ++v)
    local_[static_cast<size_t>(verts_[v])] = static_cast<int>(v);
  route_family(realm, Family::ipv4);
  route_family(realm, Family::ipv6);
  for (int node : verts_) local_[static_cast<size_t>(node)] = -1;
}

void RouteBuilder::run() {
  add_defaults();
  route_realm(-1);
  for (size_t i = 0; i < s_.topology.nodes.size(); ++i) {
    if (s_.topology.nodes[i].kind == NodeKind::nat) route_realm(static_cast<int>(i));
  }
}

}  // namespace

void compute_routes(LoadState& s) {
  RouteBuilder(s).run();
}

}  // namespace warren::topo::detail
