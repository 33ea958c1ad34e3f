// PolicyIndex against a brute-force oracle that applies the matching rules of policy_index.h to
// every pair of nodes, on random small populations, random policies and random changes. The
// oracle shares no code with the index: it reads the parsed Policy directly.
#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nodes/control/policy_index.h"
#include "nodes/net/rng.h"

namespace warren::control {
namespace {

using nlohmann::json;
using Population = std::map<NodeId, PolicySubject>;

Prefix P(const std::string& text) {
  return *Prefix::parse(text);
}

// ---- The oracle -------------------------------------------------------------------------------

std::vector<IpAddress> addrs(const PolicySubject& s) {
  return {s.ipv4, s.ipv6};
}
Prefix host(const IpAddress& a) {
  return Prefix::containing(a, a.is_v4() ? 32 : 128);
}

bool overlap(const Prefix& a, const Prefix& b) {
  if (a.family() != b.family()) return false;
  return a.length() <= b.length() ? a.contains(b.network()) : b.contains(a.network());
}

bool by_identity(const Selector& sel, const PolicySubject& s, const Policy& policy) {
  bool tagged = !s.tags.empty();
  switch (sel.kind) {
    case SelectorKind::any:
      return true;
    case SelectorKind::user:
      return !tagged && s.user == sel.name;
    case SelectorKind::group: {
      const auto& members = policy.groups.at(sel.name);
      return !tagged && std::count(members.begin(), members.end(), s.user) > 0;
    }
    case SelectorKind::tag:
      return std::count(s.tags.begin(), s.tags.end(), sel.name) > 0;
    case SelectorKind::autogroup_member:
      return !tagged;
    case SelectorKind::autogroup_tagged:
      return tagged;
    default:
      return false;
  }
}

bool by_address(const Selector& sel, const PolicySubject& s) {
  if (sel.kind == SelectorKind::host || sel.kind == SelectorKind::prefix) {
    for (const IpAddress& a : addrs(s)) {
      if (sel.prefix.contains(a)) return true;
    }
    for (const Prefix& r : s.approved_routes) {
      if (r.length() > 0 && overlap(sel.prefix, r)) return true;
    }
  }
  if (sel.kind == SelectorKind::autogroup_internet) {
    for (const Prefix& r : s.approved_routes) {
      if (r.length() == 0) return true;
    }
  }
  return false;
}

bool is_source(const PolicyRule& r, const PolicySubject& s, const Policy& policy) {
  for (const Selector& sel : r.sources) {
    if (by_identity(sel, s, policy) || by_address(sel, s)) return true;
  }
  return false;
}

bool is_destination(const PolicyRule& r, const PolicySubject& s, const Policy& policy) {
  for (const PolicyDestination& d : r.destinations) {
    if (by_identity(d.selector, s, policy) || by_address(d.selector, s)) return true;
  }
  return false;
}

bool oracle_sees(const Policy& policy, const PolicySubject& a, const PolicySubject& b) {
  if (a.id == b.id) return false;
  if (policy.allow_all) return true;
  for (const PolicyRule& r : policy.rules) {
    if (is_source(r, a, policy) && is_destination(r, b, policy)) return true;
    if (is_source(r, b, policy) && is_destination(r, a, policy)) return true;
  }
  return false;
}

PacketFilter oracle_filter(const Policy& policy, const Population& pop, const PolicySubject& y) {
  auto less = [](const FilterDestination& a, const FilterDestination& b) {
    return std::make_tuple(a.prefix, a.ports.first, a.ports.last) <
           std::make_tuple(b.prefix, b.ports.first, b.ports.last);
  };
  if (policy.allow_all) {
    FilterRule all;
    all.any_source = true;
    for (const IpAddress& a : addrs(y)) all.destinations.push_back({host(a), PortRange{}});
    for (const Prefix& r : y.approved_routes) all.destinations.push_back({r, PortRange{}});
    std::sort(all.destinations.begin(), all.destinations.end(), less);
    return {all};
  }
  PacketFilter out;
  for (const PolicyRule& r : policy.rules) {
    FilterRule f;
    for (const PolicyDestination& d : r.destinations) {
      std::vector<Prefix> mine;
      const Selector& sel = d.selector;
      if (sel.kind == SelectorKind::any) {
        for (const IpAddress& a : addrs(y)) mine.push_back(host(a));
        mine.insert(mine.end(), y.approved_routes.begin(), y.approved_routes.end());
      } else if (sel.kind == SelectorKind::host || sel.kind == SelectorKind::prefix) {
        for (const IpAddress& a : addrs(y)) {
          if (sel.prefix.contains(a)) mine.push_back(host(a));
        }
        for (const Prefix& rt : y.approved_routes) {
          if (rt.length() == 0 || !overlap(sel.prefix, rt)) continue;
          mine.push_back(rt.length() > sel.prefix.length() ? rt : sel.prefix);
        }
      } else if (sel.kind == SelectorKind::autogroup_internet) {
        for (const Prefix& rt : y.approved_routes) {
          if (rt.length() == 0) mine.push_back(rt);
        }
      } else if (by_identity(sel, y, policy)) {
        for (const IpAddress& a : addrs(y)) mine.push_back(host(a));
      }
      for (const Prefix& p : mine) {
        for (const PortRange& ports : d.ports) f.destinations.push_back({p, ports});
      }
    }
    if (f.destinations.empty()) continue;
    std::sort(f.destinations.begin(), f.destinations.end(), less);
    f.destinations.erase(std::unique(f.destinations.begin(), f.destinations.end()),
                         f.destinations.end());
    for (const Selector& sel : r.sources) {
      if (sel.kind == SelectorKind::any) f.any_source = true;
      if (sel.kind == SelectorKind::host || sel.kind == SelectorKind::prefix) {
        f.sources.push_back(sel.prefix);
      }
      for (const auto& [id, x] : pop) {
        if (sel.kind != SelectorKind::any && by_identity(sel, x, policy)) {
          for (const IpAddress& a : addrs(x)) f.sources.push_back(host(a));
        }
      }
    }
    if (f.any_source) f.sources.clear();
    std::sort(f.sources.begin(), f.sources.end());
    f.sources.erase(std::unique(f.sources.begin(), f.sources.end()), f.sources.end());
    f.protocols = r.protocols;
    out.push_back(std::move(f));
  }
  return out;
}

// The nodes whose filter differs with and without `s` in the population: "depends on".
std::vector<NodeId> oracle_dependents(const Policy& policy, const Population& pop,
                                      const PolicySubject& s) {
  Population with = pop;
  with[s.id] = s;
  Population without = pop;
  without.erase(s.id);
  std::vector<NodeId> out;
  for (const auto& [id, y] : without) {
    if (oracle_filter(policy, with, y) != oracle_filter(policy, without, y)) out.push_back(id);
  }
  return out;
}

// ---- Random worlds ----------------------------------------------------------------------------

const std::vector<std::string> kUsers = {"ann", "ben", "cat", "dan"};
const std::vector<std::string> kTags = {"tag:a", "tag:b", "tag:c"};
const std::vector<std::string> kRoutes = {"192.168.1.0/24", "192.168.1.128/25", "10.0.0.0/8",
                                          "fd00:1::/64",    "0.0.0.0/0",        "::/0"};

// Uniform in [lo, hi].
uint64_t between(Rng& rng, uint64_t lo, uint64_t hi) {
  return lo + rng.uniform(hi - lo + 1);
}

template <typename T>
const T& pick(Rng& rng, const std::vector<T>& from) {
  return from[rng.uniform(from.size())];
}

bool chance(Rng& rng, int percent) {
  return rng.uniform(100) < static_cast<uint64_t>(percent);
}

PolicySubject random_subject(Rng& rng, NodeId id) {
  PolicySubject s;
  s.id = id;
  s.user = pick(rng, kUsers);
  if (chance(rng, 35)) {
    for (const std::string& t : kTags) {
      if (chance(rng, 50)) s.tags.push_back(t);
    }
  }
  s.ipv4 = *IpAddress::parse("100.64.0." + std::to_string(id));
  s.ipv6 = *IpAddress::parse("fd7a:115c:a1e0::" + std::to_string(id));
  if (chance(rng, 30)) {
    for (const std::string& r : kRoutes) {
      if (chance(rng, 30)) s.approved_routes.push_back(P(r));
    }
    std::sort(s.approved_routes.begin(), s.approved_routes.end());
  }
  return s;
}

std::string random_source(Rng& rng) {
  // Literal IPv6 /128s stay out of sources: a literal equal to both of a node's addresses would
  // make its filter entries independent of that node, which the index does not try to detect.
  static const std::vector<std::string> kSources = {"*",
                                                    "ann",
                                                    "ben@",
                                                    "cat",
                                                    "group:g0",
                                                    "group:g1",
                                                    "tag:a",
                                                    "tag:b",
                                                    "tag:c",
                                                    "autogroup:member",
                                                    "autogroup:tagged",
                                                    "h_node",
                                                    "h_lan",
                                                    "100.64.0.0/29",
                                                    "100.64.0.5",
                                                    "192.168.1.0/24",
                                                    "10.1.0.0/16",
                                                    "fd7a:115c:a1e0::/120"};
  return pick(rng, kSources);
}

std::string random_destination(Rng& rng) {
  static const std::vector<std::string> kSelectors = {"*",
                                                      "ann",
                                                      "ben",
                                                      "dan@",
                                                      "group:g0",
                                                      "group:g1",
                                                      "tag:a",
                                                      "tag:b",
                                                      "tag:c",
                                                      "autogroup:member",
                                                      "autogroup:tagged",
                                                      "autogroup:internet",
                                                      "h_node",
                                                      "h_lan",
                                                      "100.64.0.0/28",
                                                      "100.64.0.9",
                                                      "192.168.0.0/16",
                                                      "[fd00:1::7]",
                                                      "0.0.0.0/0"};
  static const std::vector<std::string> kPorts = {"*", "22", "80-90,443", "0-1023"};
  return pick(rng, kSelectors) + ":" + pick(rng, kPorts);
}

Policy random_policy(Rng& rng) {
  if (chance(rng, 10)) return allow_all_policy();
  json doc;
  for (const char* g : {"group:g0", "group:g1"}) {
    json members = json::array();
    for (const std::string& u : kUsers) {
      if (chance(rng, 40)) members.push_back(u);
    }
    doc["groups"][g] = members;
  }
  for (const std::string& t : kTags) doc["tagOwners"][t] = json::array();
  doc["hosts"]["h_node"] = "100.64.0." + std::to_string(between(rng, 1, 12));
  doc["hosts"]["h_lan"] = chance(rng, 50) ? "192.168.1.0/25" : "10.0.0.0/16";
  doc["acls"] = json::array();
  size_t rules = between(rng, 0, 4);
  for (size_t i = 0; i < rules; ++i) {
    json rule = {{"action", "accept"}, {"src", json::array()}, {"dst", json::array()}};
    for (size_t n = between(rng, 1, 3); n > 0; --n) rule["src"].push_back(random_source(rng));
    for (size_t n = between(rng, 1, 3); n > 0; --n) rule["dst"].push_back(random_destination(rng));
    if (chance(rng, 30)) rule["proto"] = chance(rng, 50) ? json("tcp") : json({"udp", "tcp"});
    doc["acls"].push_back(rule);
  }
  auto p = parse_policy(doc.dump(2));
  EXPECT_TRUE(p.ok()) << p.error().message << "\n" << doc.dump(2);
  return p.ok() ? *p : allow_all_policy();
}

std::string describe(const PolicySubject& s) {
  std::string out = "node " + std::to_string(s.id) + " user " + s.user + " tags";
  for (const std::string& t : s.tags) out += " " + t;
  out += " routes";
  for (const Prefix& r : s.approved_routes) out += " " + r.to_string();
  return out;
}

void check(const PolicyIndex& index, const Population& pop, Rng& rng) {
  const Policy& policy = index.policy();
  ASSERT_EQ(index.size(), pop.size());
  for (const auto& [id, x] : pop) {
    std::vector<NodeId> expected;
    for (const auto& [other, y] : pop) {
      if (oracle_sees(policy, x, y)) expected.push_back(other);
    }
    std::vector<NodeId> got;
    index.for_each_peer(id, [&](NodeId p) { got.push_back(p); });
    ASSERT_EQ(got, expected) << describe(x) << "\n" << policy.text;
    for (const auto& [other, y] : pop) {
      ASSERT_EQ(index.sees(id, other), oracle_sees(policy, x, y)) << id << " " << other;
    }
    ASSERT_EQ(index.filter_for(id), oracle_filter(policy, pop, x)) << describe(x) << "\n"
                                                                   << policy.text;
    std::vector<NodeId> deps;
    index.for_each_filter_dependent(x, [&](NodeId d) { deps.push_back(d); });
    ASSERT_EQ(deps, oracle_dependents(policy, pop, x)) << describe(x) << "\n" << policy.text;
  }
  // A node about to register.
  PolicySubject newcomer = random_subject(rng, 40 + between(rng, 0, 9));
  std::vector<NodeId> deps;
  index.for_each_filter_dependent(newcomer, [&](NodeId d) { deps.push_back(d); });
  ASSERT_EQ(deps, oracle_dependents(policy, pop, newcomer)) << describe(newcomer);
}

TEST(PolicyIndexProperty, MatchesTheBruteForceOracle) {
  constexpr int kSeeds = 40;
  constexpr int kSteps = 25;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SeededRng rng(static_cast<uint64_t>(seed), "policy_index_property");
    PolicyIndex index(random_policy(rng));
    Population pop;
    for (int step = 0; step < kSteps; ++step) {
      uint64_t what = between(rng, 0, 99);
      NodeId id = between(rng, 1, 16);
      if (what < 60) {
        PolicySubject s = random_subject(rng, id);
        index.upsert(s);
        pop[id] = s;
      } else if (what < 85) {
        index.remove(id);
        pop.erase(id);
      } else {
        index.set_policy(random_policy(rng));
      }
      check(index, pop, rng);
      if (HasFatalFailure()) return;
    }
  }
}

}  // namespace
}  // namespace warren::control
