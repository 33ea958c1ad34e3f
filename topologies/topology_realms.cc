// Stage 2 of the loader: is the graph one piece (per family too), does every NAT separate an
// inside from an outside, and which realm does each node sit in.
#include <deque>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>

#include "nodes/common/json_checks.h"
#include "topologies/load_state.h"

namespace warren::topo::detail {

using namespace json_checks;  // NOLINT: the loader is built from these checks
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;

constexpr int kUnassigned = -2;

bool carries(const Node& n, Family f) {
  return n.has(f) && (n.kind != NodeKind::nat || f == Family::ipv4 || n.ipv6_firewall);
}

// Components of the subgraph of links whose both ends carry `family` (all links if nullopt).
std::vector<int> components(const Topology& t, std::optional<Family> family) {
  Graph g(t.nodes.size());
  for (const Link& l : t.links) {
    if (family && !(carries(t.nodes[static_cast<size_t>(l.a)], *family) &&
                    carries(t.nodes[static_cast<size_t>(l.b)], *family))) {
      continue;
    }
    boost::add_edge(static_cast<size_t>(l.a), static_cast<size_t>(l.b), g);
  }
  std::vector<int> component(t.nodes.size());
  boost::connected_components(g, component.data());
  return component;
}

Status check_connected(const LoadState& s) {
  const Topology& t = s.topology;
  std::vector<int> all = components(t, std::nullopt);
  for (size_t i = 1; i < all.size(); ++i) {
    if (all[i] != all[0]) {
      return error_at(s.where(static_cast<int>(i)),
                      "the graph is disconnected: " + in_quotes(t.nodes[i].name) +
                          " has no path of links to " + in_quotes(t.nodes[0].name));
    }
  }
  return Status::success();
}

Status check_family_paths(const LoadState& s) {
  const Topology& t = s.topology;
  for (Family f : {Family::ipv4, Family::ipv6}) {
    std::vector<int> comp = components(t, f);
    int first = -1;
    for (size_t i = 0; i < t.nodes.size(); ++i) {
      if (!carries(t.nodes[i], f)) continue;
      if (first < 0) {
        first = static_cast<int>(i);
      } else if (comp[i] != comp[static_cast<size_t>(first)]) {
        return error_at(s.where(static_cast<int>(i)),
                        in_quotes(t.nodes[i].name) + " has " + to_string(f) + " but no " +
                            to_string(f) + " path to " + in_quotes(s.node(first).name) +
                            ": every node on the way needs " + in_quotes(to_string(f)) +
                            " in its \"families\" (and a NAT on the way, \"ipv6_firewall\")");
      }
    }
  }
  return Status::success();
}

// Walks the inside realm of NAT `nat`: every node reachable over its inside links without
// crossing another NAT. A NAT met on its outside link is a nested NAT (a member); met on an
// inside link it would share this realm, which has one way out by definition.
Status walk_inside(LoadState& s, int nat) {
  Topology& t = s.topology;
  const Node& gw = s.node(nat);
  std::deque<int> queue;
  auto visit = [&](int from, int link) -> Status {
    int v = t.peer(link, from);
    Node& n = s.node(v);
    if (n.kind == NodeKind::nat) {
      if (link == n.outside_link) {
        n.realm_nat = nat;
      } else if (v != nat) {
        return error_at(s.where(v), "NATs " + in_quotes(gw.name) + " and " + in_quotes(n.name) +
                                        " both have " + in_quotes(s.node(from).name) +
                                        " on their inside; an inside realm has exactly one NAT "
                                        "(make one NAT's \"outside\" point into the other)");
      }
      return Status::success();
    }
    if (n.realm_nat == nat) return Status::success();
    n.realm_nat = nat;
    queue.push_back(v);
    return Status::success();
  };
  for (int l : gw.links) {
    if (l == gw.outside_link) continue;
    if (Status st = visit(nat, l); !st) return st;
  }
  while (!queue.empty()) {
    int u = queue.front();
    queue.pop_front();
    for (int l : s.node(u).links) {
      if (Status st = visit(u, l); !st) return st;
    }
  }
  int outside = t.peer(gw.outside_link, nat);
  const Node& o = s.node(outside);
  if (o.kind != NodeKind::nat && o.realm_nat == nat) {
    return error_at(s.where(nat), "the inside of NAT " + in_quotes(gw.name) +
                                      " reaches its outside " + in_quotes(o.name) +
                                      " without crossing it; remove the bypassing link");
  }
  return Status::success();
}

// Each NAT's realm comes from its outside neighbour; the realms must nest as a tree under the
// public realm, no deeper than kMaxNatDepth.
Status nest_nats(LoadState& s) {
  Topology& t = s.topology;
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    Node& n = t.nodes[i];
    if (n.kind != NodeKind::nat) continue;
    int outside = t.peer(n.outside_link, static_cast<int>(i));
    const Node& o = s.node(outside);
    if (o.kind != NodeKind::nat) {
      n.realm_nat = o.realm_nat;
    } else if (o.outside_link == n.outside_link) {
      return error_at(s.where(static_cast<int>(i)), "NATs " + in_quotes(n.name) + " and " +
                                                        in_quotes(o.name) +
                                                        " name each other as \"outside\"");
    } else {
      n.realm_nat = outside;
    }
  }
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    if (t.nodes[i].kind != NodeKind::nat) continue;
    size_t depth = 0;
    for (int at = t.nodes[i].realm_nat; at >= 0; at = s.node(at).realm_nat) {
      if (++depth > kMaxNatDepth) {
        bool cycle = false;
        for (int k = s.node(at).realm_nat, steps = 0;
             k >= 0 && steps <= static_cast<int>(kMaxNatDepth); k = s.node(k).realm_nat, ++steps) {
          if (k == at) cycle = true;
        }
        return error_at(s.where(static_cast<int>(i)),
                        cycle ? "NAT " + in_quotes(t.nodes[i].name) +
                                    " is inside a cycle of NATs (each one's outside is inside "
                                    "the next); one of them must face the public realm"
                              : "NAT " + in_quotes(t.nodes[i].name) + " sits behind more than " +
                                    std::to_string(kMaxNatDepth) + " NATs");
      }
    }
  }
  return Status::success();
}

// A node that wants IPv6 needs every NAT in front of it to forward IPv6.
Status check_ipv6_chains(const LoadState& s) {
  const Topology& t = s.topology;
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    if (!t.nodes[i].has(Family::ipv6)) continue;
    for (int nat : t.nat_chain(static_cast<int>(i))) {
      if (!s.node(nat).ipv6_firewall) {
        return error_at(s.where(static_cast<int>(i)),
                        in_quotes(t.nodes[i].name) + " has ipv6, but NAT " +
                            in_quotes(s.node(nat).name) +
                            " in front of it does not carry IPv6 (give it \"ipv6_firewall\": "
                            "true and ipv6, or drop ipv6 from " +
                            in_quotes(t.nodes[i].name) + ")");
      }
    }
  }
  return Status::success();
}

}  // namespace

Status assign_realms(LoadState& s) {
  Topology& t = s.topology;
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    const Node& n = t.nodes[i];
    if (n.kind == NodeKind::nat && n.links.size() < 2) {
      return error_at(
          s.where(static_cast<int>(i)),
          "NAT " + in_quotes(n.name) + " has no inside link: link a host, router or NAT behind it");
    }
  }
  if (Status st = check_connected(s); !st) return st;
  for (Node& n : t.nodes) n.realm_nat = kUnassigned;
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    if (t.nodes[i].kind != NodeKind::nat) continue;
    if (Status st = walk_inside(s, static_cast<int>(i)); !st) return st;
  }
  for (Node& n : t.nodes) {
    if (n.realm_nat == kUnassigned) n.realm_nat = -1;
  }
  if (Status st = nest_nats(s); !st) return st;
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    const Node& n = t.nodes[i];
    if (n.kind != NodeKind::nat) continue;
    const Node& o = s.node(t.peer(n.outside_link, static_cast<int>(i)));
    if (!o.has(Family::ipv4)) {
      return error_at(s.where(static_cast<int>(i)), "the outside neighbour " + in_quotes(o.name) +
                                                        " of NAT " + in_quotes(n.name) +
                                                        " has no ipv4");
    }
  }
  if (Status st = check_ipv6_chains(s); !st) return st;
  if (Status st = check_family_paths(s); !st) return st;
  s.members.assign(t.nodes.size() + 1, {});
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    s.members[static_cast<size_t>(t.nodes[i].realm_nat + 1)].push_back(static_cast<int>(i));
  }
  return Status::success();
}

}  // namespace warren::topo::detail
