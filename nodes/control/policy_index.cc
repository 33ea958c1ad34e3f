#include "nodes/control/policy_index.h"

#include <algorithm>
#include <map>
#include <optional>
#include <queue>
#include <set>

namespace warren::control {
namespace {

using Bits = std::vector<uint64_t>;

bool has_bit(const Bits& b, size_t i) {
  return i / 64 < b.size() && (b[i / 64] >> (i % 64)) & 1;
}
void set_bit(Bits& b, size_t i) {
  b[i / 64] |= uint64_t{1} << (i % 64);
}

bool is_exit(const Prefix& p) {
  return p.length() == 0;
}

bool overlaps(const Prefix& a, const Prefix& b) {
  if (a.family() != b.family()) return false;
  return a.length() <= b.length() ? a.contains(b.network()) : b.contains(a.network());
}

std::vector<IpAddress> addresses_of(const PolicySubject& s) {
  std::vector<IpAddress> out;
  if (!s.ipv4.is_unspecified()) out.push_back(s.ipv4);
  if (!s.ipv6.is_unspecified()) out.push_back(s.ipv6);
  return out;
}

Prefix host_prefix(const IpAddress& a) {
  return Prefix::containing(a, a.is_v4() ? 32 : 128);
}

// The identity a class stands for: a user (untagged nodes) or a tag set (tagged nodes).
struct ClassKey {
  std::vector<std::string> tags;  // sorted; non-empty means tagged
  std::string user;               // empty for tagged
  bool operator<(const ClassKey& o) const { return tags != o.tags ? tags < o.tags : user < o.user; }
};

ClassKey key_of(const PolicySubject& s) {
  ClassKey k;
  k.tags = s.tags;
  std::sort(k.tags.begin(), k.tags.end());
  k.tags.erase(std::unique(k.tags.begin(), k.tags.end()), k.tags.end());
  if (k.tags.empty()) k.user = s.user;
  return k;
}

// The user/group/tag/autogroup part of one side of a rule.
struct ClassPredicate {
  bool any = false;
  bool member = false;  // autogroup:member
  bool tagged = false;  // autogroup:tagged
  std::set<std::string> users;
  std::set<std::string> tags;

  void add(const Selector& s, const Policy& policy) {
    switch (s.kind) {
      case SelectorKind::any:
        any = true;
        break;
      case SelectorKind::user:
        users.insert(s.name);
        break;
      case SelectorKind::group: {
        auto g = policy.groups.find(s.name);
        if (g != policy.groups.end()) users.insert(g->second.begin(), g->second.end());
        break;
      }
      case SelectorKind::tag:
        tags.insert(s.name);
        break;
      case SelectorKind::autogroup_member:
        member = true;
        break;
      case SelectorKind::autogroup_tagged:
        tagged = true;
        break;
      default:
        break;
    }
  }
  bool matches(const ClassKey& k) const {
    if (any) return true;
    if (k.tags.empty()) return member || users.count(k.user) > 0;
    if (tagged) return true;
    for (const std::string& t : k.tags) {
      if (tags.count(t)) return true;
    }
    return false;
  }
};

bool selector_matches_class(const Selector& s, const ClassKey& k, const Policy& policy) {
  bool tagged = !k.tags.empty();
  switch (s.kind) {
    case SelectorKind::any:
      return true;
    case SelectorKind::user:
      return !tagged && k.user == s.name;
    case SelectorKind::group: {
      auto g = policy.groups.find(s.name);
      return !tagged && g != policy.groups.end() &&
             std::find(g->second.begin(), g->second.end(), k.user) != g->second.end();
    }
    case SelectorKind::tag:
      return std::binary_search(k.tags.begin(), k.tags.end(), s.name);
    case SelectorKind::autogroup_member:
      return !tagged;
    case SelectorKind::autogroup_tagged:
      return tagged;
    default:
      return false;
  }
}

// Whether a prefix selector names the node: one of its addresses, or a subnet route overlapping.
bool prefix_names(const Prefix& p, const PolicySubject& s) {
  for (const IpAddress& a : addresses_of(s)) {
    if (p.contains(a)) return true;
  }
  for (const Prefix& r : s.approved_routes) {
    if (!is_exit(r) && overlaps(p, r)) return true;
  }
  return false;
}

bool has_exit_route(const PolicySubject& s) {
  return std::any_of(s.approved_routes.begin(), s.approved_routes.end(), is_exit);
}

bool destination_less(const FilterDestination& a, const FilterDestination& b) {
  if (a.prefix != b.prefix) return a.prefix < b.prefix;
  if (a.ports.first != b.ports.first) return a.ports.first < b.ports.first;
  return a.ports.last < b.ports.last;
}

}  // namespace

struct PolicyIndex::Impl {
  struct Rule {
    ClassPredicate src;
    ClassPredicate dst;
    std::vector<Prefix> src_prefixes;  // hosts and literals, as written
    std::vector<PolicyDestination> destinations;
    std::vector<uint8_t> protocols;
    bool has_address_selectors = false;  // prefix/host in src or dst, or autogroup:internet
    Bits src_classes;                    // classes the src names by identity
    Bits dst_classes;
    std::set<NodeId> src_nodes;  // nodes the src names by address or route
    std::set<NodeId> dst_nodes;  // nodes the dst names by address, route or exit route
    // The filter sources every destination of this rule gets (sorted, unique), built on first
    // use and dropped when a node joins or leaves a class the src names: one change costs one
    // rebuild, not one per destination.
    mutable std::optional<std::vector<Prefix>> sources;

    bool src_names_by_address(const PolicySubject& s) const {
      for (const Prefix& p : src_prefixes) {
        if (prefix_names(p, s)) return true;
      }
      return false;
    }
    bool dst_names_by_address(const PolicySubject& s) const {
      for (const PolicyDestination& d : destinations) {
        const Selector& sel = d.selector;
        if ((sel.kind == SelectorKind::host || sel.kind == SelectorKind::prefix) &&
            prefix_names(sel.prefix, s)) {
          return true;
        }
        if (sel.kind == SelectorKind::autogroup_internet && has_exit_route(s)) return true;
      }
      return false;
    }
  };

  struct Class {
    ClassKey key;
    std::set<NodeId> members;
    std::vector<uint32_t> src_rules;  // rules whose src names this class (ascending)
    std::vector<uint32_t> dst_rules;
  };

  struct NodeRecord {
    PolicySubject subject;
    uint32_t cls = 0;
    std::vector<uint32_t> src_address_rules;  // rules naming it as a source by address/route
    std::vector<uint32_t> dst_address_rules;
  };

  Policy policy;
  std::vector<Rule> rules;
  std::vector<uint32_t> address_rules;  // rules with has_address_selectors
  std::vector<Class> classes;
  std::map<ClassKey, uint32_t> class_ids;
  std::map<NodeId, NodeRecord> nodes;

  void compile() {
    rules.clear();
    address_rules.clear();
    std::vector<PolicyRule> source_rules = policy.rules;
    if (policy.allow_all) {
      // Everyone to everything: the same machinery as a written "*" -> "*:*" rule.
      PolicyRule all;
      all.sources.push_back(Selector{});
      all.destinations.push_back(PolicyDestination{Selector{}, {PortRange{}}});
      source_rules = {all};
    }
    for (const PolicyRule& pr : source_rules) {
      Rule r;
      for (const Selector& s : pr.sources) {
        r.src.add(s, policy);
        if (s.kind == SelectorKind::host || s.kind == SelectorKind::prefix) {
          r.src_prefixes.push_back(s.prefix);
        }
      }
      std::sort(r.src_prefixes.begin(), r.src_prefixes.end());
      r.src_prefixes.erase(std::unique(r.src_prefixes.begin(), r.src_prefixes.end()),
                           r.src_prefixes.end());
      bool dst_address = false;
      for (const PolicyDestination& d : pr.destinations) {
        r.dst.add(d.selector, policy);
        dst_address = dst_address || d.selector.kind == SelectorKind::host ||
                      d.selector.kind == SelectorKind::prefix ||
                      d.selector.kind == SelectorKind::autogroup_internet;
      }
      r.destinations = pr.destinations;
      r.protocols = pr.protocols;
      r.has_address_selectors = dst_address || !r.src_prefixes.empty();
      if (r.has_address_selectors) address_rules.push_back(static_cast<uint32_t>(rules.size()));
      rules.push_back(std::move(r));
    }
  }

  // Everything derived from the nodes, from scratch (after a policy change).
  void rebuild() {
    compile();
    std::map<NodeId, NodeRecord> old;
    old.swap(nodes);
    classes.clear();
    class_ids.clear();
    for (auto& [id, rec] : old) insert(rec.subject);
  }

  uint32_t class_for(const ClassKey& key) {
    auto it = class_ids.find(key);
    if (it != class_ids.end()) return it->second;
    auto id = static_cast<uint32_t>(classes.size());
    Class c;
    c.key = key;
    size_t words = id / 64 + 1;
    for (uint32_t r = 0; r < rules.size(); ++r) {
      Rule& rule = rules[r];
      if (rule.src_classes.size() < words) rule.src_classes.resize(words);
      if (rule.dst_classes.size() < words) rule.dst_classes.resize(words);
      if (rule.src.matches(key)) {
        set_bit(rule.src_classes, id);
        c.src_rules.push_back(r);
      }
      if (rule.dst.matches(key)) {
        set_bit(rule.dst_classes, id);
        c.dst_rules.push_back(r);
      }
    }
    classes.push_back(std::move(c));
    class_ids.emplace(key, id);
    return id;
  }

  void insert(const PolicySubject& subject) {
    NodeRecord rec;
    rec.subject = subject;
    rec.cls = class_for(key_of(subject));
    for (uint32_t r : address_rules) {
      Rule& rule = rules[r];
      if (rule.src_names_by_address(subject)) {
        rule.src_nodes.insert(subject.id);
        rec.src_address_rules.push_back(r);
      }
      if (rule.dst_names_by_address(subject)) {
        rule.dst_nodes.insert(subject.id);
        rec.dst_address_rules.push_back(r);
      }
    }
    classes[rec.cls].members.insert(subject.id);
    forget_sources(rec.cls);
    nodes[subject.id] = std::move(rec);
  }

  void erase(NodeId id) {
    auto it = nodes.find(id);
    if (it == nodes.end()) return;
    const NodeRecord& rec = it->second;
    classes[rec.cls].members.erase(id);
    forget_sources(rec.cls);
    for (uint32_t r : rec.src_address_rules) rules[r].src_nodes.erase(id);
    for (uint32_t r : rec.dst_address_rules) rules[r].dst_nodes.erase(id);
    nodes.erase(it);
  }

  void forget_sources(uint32_t cls) {
    for (uint32_t r : classes[cls].src_rules) rules[r].sources.reset();
  }

  const std::vector<Prefix>& sources_of(const Rule& rule) const {
    if (!rule.sources) {
      std::vector<Prefix> out = rule.src_prefixes;
      enumerate(rule.src_classes, {}, 0, [&](NodeId member) {
        for (const IpAddress& a : addresses_of(nodes.at(member).subject)) {
          out.push_back(host_prefix(a));
        }
      });
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
      rule.sources = std::move(out);
    }
    return *rule.sources;
  }

  // The rules naming the node on one side, by identity or by address, ascending and unique.
  std::vector<uint32_t> rules_naming(const NodeRecord& rec, bool as_source) const {
    const Class& c = classes[rec.cls];
    const std::vector<uint32_t>& by_class = as_source ? c.src_rules : c.dst_rules;
    const std::vector<uint32_t>& by_address =
        as_source ? rec.src_address_rules : rec.dst_address_rules;
    std::vector<uint32_t> out;
    out.reserve(by_class.size() + by_address.size());
    std::set_union(by_class.begin(), by_class.end(), by_address.begin(), by_address.end(),
                   std::back_inserter(out));
    return out;
  }

  bool names(const Rule& rule, const NodeRecord& rec, bool as_source) const {
    if (has_bit(as_source ? rule.src_classes : rule.dst_classes, rec.cls)) return true;
    const std::set<NodeId>& by_address = as_source ? rule.src_nodes : rule.dst_nodes;
    return by_address.count(rec.subject.id) > 0;
  }

  // Calls fn for every member of the classes in `class_bits` and every node in `extras`, once
  // each, ascending, skipping `exclude`.
  void enumerate(const Bits& class_bits, const std::vector<const std::set<NodeId>*>& extras,
                 NodeId exclude, const std::function<void(NodeId)>& fn) const {
    using Iter = std::set<NodeId>::const_iterator;
    std::vector<std::pair<Iter, Iter>> streams;
    size_t total = 0;
    for (size_t w = 0; w < class_bits.size(); ++w) {
      for (uint64_t word = class_bits[w]; word != 0; word &= word - 1) {
        size_t c = w * 64 + static_cast<size_t>(__builtin_ctzll(word));
        if (c >= classes.size() || classes[c].members.empty()) continue;
        streams.emplace_back(classes[c].members.begin(), classes[c].members.end());
        total += classes[c].members.size();
      }
    }
    for (const std::set<NodeId>* e : extras) {
      if (e->empty()) continue;
      streams.emplace_back(e->begin(), e->end());
      total += e->size();
    }
    if (streams.empty()) return;
    if (streams.size() == 1) {
      for (Iter it = streams[0].first; it != streams[0].second; ++it) {
        if (*it != exclude) fn(*it);
      }
      return;
    }
    if (total * 2 >= nodes.size()) {
      // Most of the tailnet: one ordered pass over all nodes beats merging many lists.
      std::vector<NodeId> extra_ids;
      for (const std::set<NodeId>* e : extras)
        extra_ids.insert(extra_ids.end(), e->begin(), e->end());
      std::sort(extra_ids.begin(), extra_ids.end());
      size_t next_extra = 0;
      for (const auto& [id, rec] : nodes) {
        while (next_extra < extra_ids.size() && extra_ids[next_extra] < id) ++next_extra;
        bool in = has_bit(class_bits, rec.cls) ||
                  (next_extra < extra_ids.size() && extra_ids[next_extra] == id);
        if (in && id != exclude) fn(id);
      }
      return;
    }
    // k-way merge; the lists may overlap (a node named both by class and by address).
    using Head = std::pair<NodeId, size_t>;
    std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heap;
    for (size_t i = 0; i < streams.size(); ++i) heap.emplace(*streams[i].first, i);
    bool emitted_any = false;
    NodeId last = 0;
    while (!heap.empty()) {
      auto [id, i] = heap.top();
      heap.pop();
      if (!emitted_any || id != last) {
        emitted_any = true;
        last = id;
        if (id != exclude) fn(id);
      }
      if (++streams[i].first != streams[i].second) heap.emplace(*streams[i].first, i);
    }
  }

  void or_into(Bits& into, const Bits& from) const {
    if (into.size() < from.size()) into.resize(from.size());
    for (size_t w = 0; w < from.size(); ++w) into[w] |= from[w];
  }

  // The destinations of `rule` that belong to `y`.
  std::vector<FilterDestination> own_destinations(const Rule& rule, const NodeRecord& y) const {
    std::vector<FilterDestination> out;
    const PolicySubject& s = y.subject;
    std::vector<IpAddress> addrs = addresses_of(s);
    const ClassKey& key = classes[y.cls].key;
    for (const PolicyDestination& d : rule.destinations) {
      std::vector<Prefix> mine;
      switch (d.selector.kind) {
        case SelectorKind::any:
          for (const IpAddress& a : addrs) mine.push_back(host_prefix(a));
          mine.insert(mine.end(), s.approved_routes.begin(), s.approved_routes.end());
          break;
        case SelectorKind::host:
        case SelectorKind::prefix:
          for (const IpAddress& a : addrs) {
            if (d.selector.prefix.contains(a)) mine.push_back(host_prefix(a));
          }
          for (const Prefix& r : s.approved_routes) {
            if (is_exit(r) || !overlaps(d.selector.prefix, r)) continue;
            mine.push_back(r.length() >= d.selector.prefix.length() ? r : d.selector.prefix);
          }
          break;
        case SelectorKind::autogroup_internet:
          for (const Prefix& r : s.approved_routes) {
            if (is_exit(r)) mine.push_back(r);
          }
          break;
        default:
          if (selector_matches_class(d.selector, key, policy)) {
            for (const IpAddress& a : addrs) mine.push_back(host_prefix(a));
          }
          break;
      }
      for (const Prefix& p : mine) {
        for (const PortRange& ports : d.ports) out.push_back(FilterDestination{p, ports});
      }
    }
    std::sort(out.begin(), out.end(), destination_less);
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }
};

PolicyIndex::PolicyIndex(Policy policy) : impl_(std::make_unique<Impl>()) {
  impl_->policy = std::move(policy);
  impl_->compile();
}

PolicyIndex::~PolicyIndex() = default;

const Policy& PolicyIndex::policy() const {
  return impl_->policy;
}

void PolicyIndex::set_policy(Policy policy) {
  impl_->policy = std::move(policy);
  impl_->rebuild();
}

void PolicyIndex::upsert(const PolicySubject& subject) {
  impl_->erase(subject.id);
  impl_->insert(subject);
}

void PolicyIndex::remove(NodeId id) {
  impl_->erase(id);
}

bool PolicyIndex::contains(NodeId id) const {
  return impl_->nodes.count(id) > 0;
}

size_t PolicyIndex::size() const {
  return impl_->nodes.size();
}

const PolicySubject* PolicyIndex::subject(NodeId id) const {
  auto it = impl_->nodes.find(id);
  return it == impl_->nodes.end() ? nullptr : &it->second.subject;
}

void PolicyIndex::for_each_peer(NodeId id, const std::function<void(NodeId)>& fn) const {
  const Impl& m = *impl_;
  auto it = m.nodes.find(id);
  if (it == m.nodes.end()) return;
  const Impl::NodeRecord& rec = it->second;
  Bits visible;
  std::vector<const std::set<NodeId>*> extras;
  // As a source it sees the rules' destinations; as a destination, their sources.
  for (bool as_source : {true, false}) {
    for (uint32_t r : m.rules_naming(rec, as_source)) {
      const Impl::Rule& rule = m.rules[r];
      m.or_into(visible, as_source ? rule.dst_classes : rule.src_classes);
      const std::set<NodeId>& other = as_source ? rule.dst_nodes : rule.src_nodes;
      if (!other.empty()) extras.push_back(&other);
    }
  }
  m.enumerate(visible, extras, id, fn);
}

bool PolicyIndex::sees(NodeId a, NodeId b) const {
  const Impl& m = *impl_;
  if (a == b) return false;
  auto ia = m.nodes.find(a);
  auto ib = m.nodes.find(b);
  if (ia == m.nodes.end() || ib == m.nodes.end()) return false;
  for (bool as_source : {true, false}) {
    for (uint32_t r : m.rules_naming(ia->second, as_source)) {
      if (m.names(m.rules[r], ib->second, !as_source)) return true;
    }
  }
  return false;
}

PacketFilter PolicyIndex::filter_for(NodeId id) const {
  const Impl& m = *impl_;
  PacketFilter filter;
  auto it = m.nodes.find(id);
  if (it == m.nodes.end()) return filter;
  const Impl::NodeRecord& y = it->second;
  for (uint32_t r : m.rules_naming(y, /*as_source=*/false)) {
    const Impl::Rule& rule = m.rules[r];
    FilterRule out;
    out.destinations = m.own_destinations(rule, y);
    if (out.destinations.empty()) continue;
    out.any_source = rule.src.any;
    if (!out.any_source) {
      out.sources = m.sources_of(rule);
    }
    out.protocols = rule.protocols;
    filter.push_back(std::move(out));
  }
  return filter;
}

void PolicyIndex::for_each_filter_dependent(const PolicySubject& subject,
                                            const std::function<void(NodeId)>& fn) const {
  const Impl& m = *impl_;
  ClassKey key = key_of(subject);
  Bits dependents;
  std::vector<const std::set<NodeId>*> extras;
  for (const Impl::Rule& rule : m.rules) {
    // With "*" the filter says any_source and lists nobody.
    if (rule.src.any || !rule.src.matches(key)) continue;
    m.or_into(dependents, rule.dst_classes);
    if (!rule.dst_nodes.empty()) extras.push_back(&rule.dst_nodes);
  }
  m.enumerate(dependents, extras, subject.id, fn);
}

}  // namespace warren::control
