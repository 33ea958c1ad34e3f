// Stage 1 of the loader: JSON -> nodes and links, with sites and groups expanded in file
// order (so names, link indices and later addresses are deterministic).
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "nat-models/nat_config_json.h"
#include "nodes/common/json_checks.h"
#include "topologies/load_state.h"

namespace warren::topo::detail {

using namespace json_checks;  // NOLINT: the loader is built from these checks
namespace {

// A group larger than this is a typo (an extra zero); the public IPv4 ranges would run out
// long before anyway.
constexpr int64_t kMaxGroupCount = 1'000'000;
// Nodes after expansion; each costs about a kilobyte with its routes, so this caps the
// loader's memory at a few gigabytes on a bad file rather than exhausting the machine.
constexpr size_t kMaxNodes = 3'000'000;
// Longest one-way link delay: anything beyond a minute is a unit mistake (seconds vs ms).
constexpr double kMaxDelayMs = 60'000;
constexpr double kMinRateMbps = 0.001;      // 1 kbit/s
constexpr double kMaxRateMbps = 1'000'000;  // 1 Tbit/s
constexpr int64_t kMaxQueuePackets = 1'000'000;
// The LAN link of a generated site when the file gives no "lan_link" / "cgnat_link".
constexpr Duration kDefaultLanDelay = Duration::milliseconds(1);

const std::vector<std::string> kTopKeys = {"name",  "comment", "link_defaults",
                                           "nodes", "links",   "groups"};
const std::vector<std::string> kLinkParamKeys = {"delay_ms", "rate_mbps", "loss", "queue_packets",
                                                 "comment"};
const std::vector<std::string> kLinkKeys = {
    "a", "b", "delay_ms", "rate_mbps", "loss", "queue_packets", "comment"};
const std::vector<std::string> kCommonNodeKeys = {"name", "kind", "families", "comment"};
const std::vector<std::string> kSiteKeys = {"site",     "uplink",     "link",
                                            "lan_link", "cgnat_link", "nat"};
const std::vector<std::string> kNatKeys = {"outside", "nat", "ipv6_firewall", "lan"};
const std::vector<std::string> kGroupKeys = {"name", "count",    "site",       "uplink", "families",
                                             "link", "lan_link", "cgnat_link", "nat",    "comment"};

std::vector<std::string> concat(const std::vector<std::string>& a,
                                const std::vector<std::string>& b) {
  std::vector<std::string> out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::string index_where(const std::string& array, size_t i) {
  return array + "[" + std::to_string(i) + "]";
}

bool is_cgnat_preset(const std::string& preset) {
  return preset.rfind("cgnat", 0) == 0;
}

// The sites a host may name: "public", every NAT preset, and "double-nat".
std::vector<std::string> site_names() {
  std::vector<std::string> names = {"public"};
  for (const std::string& p : nat::nat_preset_names()) names.push_back(p);
  names.push_back("double-nat");
  return names;
}

struct SiteSpec {
  std::string site;
  std::string uplink;
  LinkParams link;
  LinkParams lan_link;
  LinkParams cgnat_link;
  // The generated NATs' behaviour, built once per site or group: the innermost NAT's preset
  // with the file's "nat" overrides, and for "double-nat" the outer CGNAT's.
  nat::NatConfig inner_nat;
  nat::NatConfig outer_nat;
};

struct PendingLink {
  int a = -1;
  int b = -1;  // -1: resolve `b_name`
  std::string b_name;
  LinkParams params;
  std::string where;  // without the source
};

struct PendingOutside {
  int nat = -1;
  std::string outside;
  std::string where;  // the "outside" key's path, without the source
};

class Parser {
 public:
  explicit Parser(std::string_view source) { s_.source = std::string(source); }
  Result<LoadState> run(const json& doc);

 private:
  std::string at(const std::string& where) const { return s_.source + ": " + where; }
  Status parse_link_params(const json& obj, const std::string& where, LinkParams& p) const;
  Result<LinkParams> link_object(const json& parent, const char* key, const std::string& where,
                                 LinkParams base) const;
  Result<std::vector<Family>> parse_families(const json& obj, const std::string& where,
                                             std::vector<Family> fallback) const;
  Result<nat::NatConfig> nat_from_json(const json& obj, const std::string& where) const;
  Result<SiteSpec> parse_site(const json& obj, const std::string& where) const;
  Status parse_node(const json& n, size_t i);
  Status parse_nat(const json& n, const std::string& where, Node node);
  Status parse_group(const json& g, size_t i);
  Status expand_site(Node host, const SiteSpec& site, const std::string& where);
  Status check_capacity(size_t more, const std::string& where) const;
  int add_node(Node node, std::string where, LanStyle style, bool site_host);
  Status index_names();
  Result<int> resolve(const std::string& name, const std::string& where) const;
  Status add_link(int a, int b, const LinkParams& params, const std::string& where);
  Status parse_links(const json& links);
  Status resolve_generated();
  Status resolve_outsides();

  LoadState s_;
  LinkParams defaults_;
  std::vector<PendingLink> generated_;
  std::vector<PendingOutside> outsides_;
  std::unordered_map<std::string, int> index_;      // lookups only; never iterated
  std::unordered_map<uint64_t, int> link_of_pair_;  // (min, max) node pair -> link
};

Status Parser::parse_link_params(const json& obj, const std::string& where, LinkParams& p) const {
  auto delay = optional_number(obj, "delay_ms", at(where), 0, kMaxDelayMs);
  if (!delay) return delay.error();
  if (*delay) p.delay = Duration::nanoseconds(std::llround(**delay * 1e6));
  auto rate = optional_number(obj, "rate_mbps", at(where), kMinRateMbps, kMaxRateMbps);
  if (!rate) return rate.error();
  if (*rate) p.rate_bps = static_cast<uint64_t>(std::llround(**rate * 1e6));
  auto loss = optional_number(obj, "loss", at(where), 0, 1);
  if (!loss) return loss.error();
  if (*loss) {
    if (**loss >= 1) {
      return error_at(at(where + ".loss"),
                      "must be below 1 (a loss of 1 drops every packet; "
                      "use a link-down event to cut a link)");
    }
    p.loss = **loss;
  }
  auto queue = optional_integer(obj, "queue_packets", at(where), 1, kMaxQueuePackets);
  if (!queue) return queue.error();
  if (*queue) p.queue_packets = static_cast<uint32_t>(**queue);
  return Status::success();
}

Result<LinkParams> Parser::link_object(const json& parent, const char* key,
                                       const std::string& where, LinkParams base) const {
  auto it = parent.find(key);
  if (it == parent.end()) return base;
  std::string w = where + "." + key;
  if (!it->is_object()) {
    return error_at(at(w),
                    std::string("expected an object of link parameters, got ") + type_name(*it));
  }
  if (Status st = check_keys(*it, at(w), kLinkParamKeys); !st) return st.error();
  if (Status st = parse_link_params(*it, w, base); !st) return st.error();
  return base;
}

Result<std::vector<Family>> Parser::parse_families(const json& obj, const std::string& where,
                                                   std::vector<Family> fallback) const {
  auto it = obj.find("families");
  if (it == obj.end()) return fallback;
  std::string w = where + ".families";
  if (!it->is_array() || it->empty()) {
    return error_at(at(w), "expected a non-empty array such as [\"ipv4\", \"ipv6\"]");
  }
  bool v4 = false, v6 = false;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& f = (*it)[i];
    std::string fw = at(index_where(w, i));
    if (!f.is_string()) return error_at(fw, std::string("expected a string, got ") + type_name(f));
    auto fam = parse_family(f.get<std::string>());
    if (!fam) {
      return error_at(fw, "unknown family " + in_quotes(f.get<std::string>()) +
                              suggestion(f.get<std::string>(), {"ipv4", "ipv6"}) +
                              "; use \"ipv4\" or \"ipv6\"");
    }
    bool& seen = *fam == Family::ipv4 ? v4 : v6;
    if (seen) return error_at(fw, std::string(to_string(*fam)) + " is listed twice");
    seen = true;
  }
  std::vector<Family> out;  // ipv4 first, as Node::families promises
  if (v4) out.push_back(Family::ipv4);
  if (v6) out.push_back(Family::ipv6);
  return out;
}

Result<nat::NatConfig> Parser::nat_from_json(const json& obj, const std::string& where) const {
  if (!obj.is_object()) {
    return error_at(at(where), std::string("expected an object such as {\"preset\": "
                                           "\"port-restricted-cone\"}, got ") +
                                   type_name(obj));
  }
  if (obj.contains("external_addresses")) {
    return error_at(at(where + ".external_addresses"),
                    "a NAT's external address is assigned by the loader; remove this key");
  }
  auto cfg = nat::nat_config_from_json(obj);
  if (!cfg) return error_at(at(where), cfg.error().message);
  return cfg;
}

Result<SiteSpec> Parser::parse_site(const json& obj, const std::string& where) const {
  SiteSpec spec;
  auto site = optional_string(obj, "site", at(where));
  if (!site) return site.error();
  spec.site = site->value_or("public");
  std::vector<std::string> sites = site_names();
  if (std::find(sites.begin(), sites.end(), spec.site) == sites.end()) {
    std::string hint = suggestion(spec.site, sites);
    if (hint.empty()) {
      hint = " (one of:";
      for (const std::string& s : sites) hint += " " + s;
      hint += ")";
    }
    return error_at(at(where + ".site"), "unknown site " + in_quotes(spec.site) + hint);
  }
  auto uplink = required_string(obj, "uplink", at(where));
  if (!uplink) {
    return error_at(at(where),
                    "a host with a site needs \"uplink\": the node its access link "
                    "attaches to");
  }
  spec.uplink = *uplink;
  auto link = link_object(obj, "link", where, defaults_);
  if (!link) return link.error();
  spec.link = *link;
  LinkParams lan = defaults_;
  lan.delay = kDefaultLanDelay;
  auto lan_link = link_object(obj, "lan_link", where, lan);
  if (!lan_link) return lan_link.error();
  spec.lan_link = *lan_link;
  auto cgnat_link = link_object(obj, "cgnat_link", where, lan);
  if (!cgnat_link) return cgnat_link.error();
  spec.cgnat_link = *cgnat_link;
  if (spec.site == "public") {
    for (const char* k : {"lan_link", "cgnat_link", "nat"}) {
      if (obj.contains(k)) {
        return error_at(at(where + "." + k), "a \"public\" site has no NAT; remove this key");
      }
    }
  }
  if (spec.site != "double-nat" && obj.contains("cgnat_link")) {
    return error_at(at(where + ".cgnat_link"),
                    "only a \"double-nat\" site has a link between two NATs; remove this key");
  }
  if (spec.site == "public") return spec;
  json inner = {{"preset", spec.site == "double-nat" ? "port-restricted-cone" : spec.site}};
  if (auto it = obj.find("nat"); it != obj.end()) {
    if (!it->is_object()) {
      return error_at(at(where + ".nat"),
                      std::string("expected an object of NAT parameters, got ") + type_name(*it));
    }
    if (it->contains("preset")) {
      return error_at(at(where + ".nat.preset"),
                      "a site's NAT preset comes from \"site\"; choose the site instead, or "
                      "override single parameters here");
    }
    for (auto k = it->begin(); k != it->end(); ++k) inner[k.key()] = k.value();
  }
  auto inner_nat = nat_from_json(inner, where + ".nat");
  if (!inner_nat) return inner_nat.error();
  spec.inner_nat = std::move(*inner_nat);
  if (spec.site == "double-nat") {
    // RFC 6888: the carrier-grade NAT keeps endpoint-independent mapping and filtering that
    // depends on the address and port, like the home NAT inside it.
    auto outer_nat = nat::nat_preset("cgnat");
    if (!outer_nat) return error_at(at(where), outer_nat.error().message);
    spec.outer_nat = std::move(*outer_nat);
  }
  return spec;
}

Status Parser::check_capacity(size_t more, const std::string& where) const {
  if (s_.topology.nodes.size() + more > kMaxNodes) {
    return error_at(at(where), "the topology would have more than " + std::to_string(kMaxNodes) +
                                   " nodes; split it or lower \"count\"");
  }
  return Status::success();
}

int Parser::add_node(Node node, std::string where, LanStyle style, bool site_host) {
  s_.topology.nodes.push_back(std::move(node));
  s_.node_where.push_back(std::move(where));
  s_.lan_style.push_back(style);
  s_.site_host.push_back(site_host);
  return static_cast<int>(s_.topology.nodes.size() - 1);
}

Status Parser::expand_site(Node host, const SiteSpec& site, const std::string& where) {
  host.site = site.site;
  bool v6 = host.has(Family::ipv6);
  std::string host_name = host.name;
  std::string group = host.group;
  int h = add_node(std::move(host), where, LanStyle::home, true);
  std::string uplink_where = where + ".uplink";
  if (site.site == "public") {
    generated_.push_back({h, -1, site.uplink, site.link, uplink_where});
    return Status::success();
  }
  // A generated NAT forwards IPv6 exactly when the host behind it wants IPv6.
  auto make_nat = [&](const std::string& name, const nat::NatConfig& config) {
    Node n;
    n.name = name;
    n.kind = NodeKind::nat;
    n.families =
        v6 ? std::vector<Family>{Family::ipv4, Family::ipv6} : std::vector<Family>{Family::ipv4};
    n.site = site.site;
    n.group = group;
    n.nat = config;
    n.ipv6_firewall = v6;
    return n;
  };
  std::string nat_where =
      where + " (site " + in_quotes(site.site) + " of " + in_quotes(host_name) + ")";
  LanStyle inner_style = is_cgnat_preset(site.inner_nat.preset) ? LanStyle::cgnat : LanStyle::home;
  int n = add_node(make_nat(host_name + "-nat", site.inner_nat), nat_where, inner_style, false);
  generated_.push_back({h, n, "", site.lan_link, nat_where});
  if (site.site != "double-nat") {
    generated_.push_back({n, -1, site.uplink, site.link, uplink_where});
    outsides_.push_back({n, site.uplink, uplink_where});
    return Status::success();
  }
  int c =
      add_node(make_nat(host_name + "-cgnat", site.outer_nat), nat_where, LanStyle::cgnat, false);
  generated_.push_back({n, c, "", site.cgnat_link, nat_where});
  outsides_.push_back({n, s_.topology.nodes[static_cast<size_t>(c)].name, nat_where});
  generated_.push_back({c, -1, site.uplink, site.link, uplink_where});
  outsides_.push_back({c, site.uplink, uplink_where});
  return Status::success();
}

Status Parser::parse_node(const json& n, size_t i) {
  std::string where = index_where("nodes", i);
  if (!n.is_object()) {
    return error_at(at(where), std::string("expected an object, got ") + type_name(n));
  }
  auto name = required_string(n, "name", at(where));
  if (!name) return name.error();
  if (Status st = check_name(*name, at(where + ".name")); !st) return st;
  auto kind_text = optional_string(n, "kind", at(where));
  if (!kind_text) return kind_text.error();
  std::string kind = kind_text->value_or("host");
  Node node;
  node.name = *name;
  if (kind == "router" || kind == "host") {
    node.kind = kind == "router" ? NodeKind::router : NodeKind::host;
    bool has_site = kind == "host" && (n.contains("site") || n.contains("uplink"));
    std::vector<std::string> allowed =
        kind == "host" ? concat(kCommonNodeKeys, kSiteKeys) : kCommonNodeKeys;
    std::vector<std::string> other = kind == "host" ? kNatKeys : concat(kSiteKeys, kNatKeys);
    if (Status st = check_keys(n, at(where), allowed, other, "does not apply to a " + kind); !st) {
      return st;
    }
    if (!has_site) {
      for (const char* k : {"link", "lan_link", "cgnat_link", "nat"}) {
        if (n.contains(k)) {
          return error_at(at(where + "." + k),
                          "only a host with a \"site\" and an \"uplink\" takes this key");
        }
      }
    }
    auto families = parse_families(n, where, {Family::ipv4});
    if (!families) return families.error();
    node.families = std::move(*families);
    if (Status st = check_capacity(3, where); !st) return st;
    if (has_site) {
      auto site = parse_site(n, where);
      if (!site) return site.error();
      return expand_site(std::move(node), *site, where);
    }
    add_node(std::move(node), where, LanStyle::home, false);
    return Status::success();
  }
  if (kind != "nat") {
    return error_at(at(where + ".kind"), "unknown kind " + in_quotes(kind) +
                                             suggestion(kind, {"host", "router", "nat"}) +
                                             "; use \"host\", \"router\" or \"nat\"");
  }
  node.kind = NodeKind::nat;
  return parse_nat(n, where, std::move(node));
}

Status Parser::parse_nat(const json& n, const std::string& where, Node node) {
  const std::string name = node.name;
  if (Status st = check_keys(n, at(where), concat(kCommonNodeKeys, kNatKeys), kSiteKeys,
                             "does not apply to a nat (sites are for hosts)");
      !st) {
    return st;
  }
  auto outside = required_string(n, "outside", at(where));
  if (!outside) {
    return error_at(at(where), "NAT " + in_quotes(name) +
                                   " needs \"outside\": the neighbour on its outside link");
  }
  auto nat_it = n.find("nat");
  if (nat_it == n.end()) {
    return error_at(at(where), "NAT " + in_quotes(name) +
                                   " needs \"nat\", e.g. {\"preset\": \"port-restricted-cone\"}");
  }
  auto config = nat_from_json(*nat_it, where + ".nat");
  if (!config) return config.error();
  node.nat = std::move(*config);
  if (auto fw = n.find("ipv6_firewall"); fw != n.end()) {
    if (fw->is_object()) {
      auto fw_config = nat::firewall_config_from_json(*fw);
      if (!fw_config) return error_at(at(where + ".ipv6_firewall"), fw_config.error().message);
      node.ipv6_firewall = true;
      node.firewall = *fw_config;
    } else if (fw->is_boolean()) {
      node.ipv6_firewall = fw->get<bool>();
    } else {
      return error_at(at(where + ".ipv6_firewall"),
                      std::string("expected true, false or an object of firewall timeouts, got ") +
                          type_name(*fw));
    }
  }
  auto families =
      parse_families(n, where,
                     node.ipv6_firewall ? std::vector<Family>{Family::ipv4, Family::ipv6}
                                        : std::vector<Family>{Family::ipv4});
  if (!families) return families.error();
  node.families = std::move(*families);
  if (!node.has(Family::ipv4)) {
    return error_at(at(where + ".families"), "a NAT translates IPv4, so it needs \"ipv4\"");
  }
  if (node.has(Family::ipv6) && !node.ipv6_firewall) {
    return error_at(at(where + ".families"),
                    "a NAT carries IPv6 only through its firewall: add \"ipv6_firewall\": true, "
                    "or drop \"ipv6\"");
  }
  if (node.ipv6_firewall && !node.has(Family::ipv6)) {
    return error_at(at(where + ".ipv6_firewall"), "needs \"ipv6\" in \"families\"");
  }
  auto lan = optional_string(n, "lan", at(where));
  if (!lan) return lan.error();
  LanStyle style = is_cgnat_preset(node.nat->preset) ? LanStyle::cgnat : LanStyle::home;
  if (*lan) {
    if (**lan != "home" && **lan != "cgnat") {
      return error_at(at(where + ".lan"), "unknown LAN style " + in_quotes(**lan) +
                                              suggestion(**lan, {"home", "cgnat"}) +
                                              "; use \"home\" (192.168.N.0/24) or \"cgnat\" "
                                              "(100.64.0.0/10)");
    }
    style = **lan == "cgnat" ? LanStyle::cgnat : LanStyle::home;
  }
  if (Status st = check_capacity(1, where); !st) return st;
  int index = add_node(std::move(node), where, style, false);
  outsides_.push_back({index, *outside, where + ".outside"});
  return Status::success();
}

Status Parser::parse_group(const json& g, size_t i) {
  std::string where = index_where("groups", i);
  if (!g.is_object()) {
    return error_at(at(where), std::string("expected an object, got ") + type_name(g));
  }
  if (Status st = check_keys(g, at(where), kGroupKeys); !st) return st;
  auto name = required_string(g, "name", at(where));
  if (!name) return name.error();
  if (Status st = check_name(*name, at(where + ".name")); !st) return st;
  if (!g.contains("site")) {
    return error_at(at(where), "group " + in_quotes(*name) +
                                   " needs \"site\" (\"public\", a NAT preset or \"double-nat\")");
  }
  if (!g.contains("count"))
    return error_at(at(where), "group " + in_quotes(*name) + " needs \"count\"");
  auto count = optional_integer(g, "count", at(where), 1, kMaxGroupCount);
  if (!count) return count.error();
  auto families = parse_families(g, where, {Family::ipv4});
  if (!families) return families.error();
  auto site = parse_site(g, where);
  if (!site) return site.error();
  size_t per_member = site->site == "public" ? 1 : site->site == "double-nat" ? 3 : 2;
  if (Status st = check_capacity(static_cast<size_t>(**count) * per_member, where); !st) {
    return st;
  }
  for (int64_t k = 1; k <= **count; ++k) {
    Node host;
    host.name = *name + "-" + std::to_string(k);
    host.kind = NodeKind::host;
    host.families = *families;
    host.group = *name;
    if (Status st = expand_site(std::move(host), *site, where + " member " + std::to_string(k));
        !st) {
      return st;
    }
  }
  return Status::success();
}

Status Parser::index_names() {
  index_.reserve(s_.topology.nodes.size());
  for (size_t i = 0; i < s_.topology.nodes.size(); ++i) {
    auto [it, inserted] = index_.emplace(s_.topology.nodes[i].name, static_cast<int>(i));
    if (!inserted) {
      return error_at(s_.where(static_cast<int>(i)),
                      "duplicate node name " + in_quotes(s_.topology.nodes[i].name) +
                          " (already used by " + s_.node_where[static_cast<size_t>(it->second)] +
                          ")");
    }
  }
  return Status::success();
}

Result<int> Parser::resolve(const std::string& name, const std::string& where) const {
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  std::vector<std::string> names;  // only on this error path: a suggestion needs them all
  names.reserve(s_.topology.nodes.size());
  for (const Node& n : s_.topology.nodes) names.push_back(n.name);
  return error_at(at(where), "unknown node " + in_quotes(name) + suggestion(name, names));
}

Status Parser::add_link(int a, int b, const LinkParams& params, const std::string& where) {
  const std::string& an = s_.node(a).name;
  const std::string& bn = s_.node(b).name;
  if (a == b) return error_at(at(where), "link from " + in_quotes(an) + " to itself");
  uint64_t key =
      (static_cast<uint64_t>(std::min(a, b)) << 32) | static_cast<uint32_t>(std::max(a, b));
  int index = static_cast<int>(s_.topology.links.size());
  auto [it, inserted] = link_of_pair_.emplace(key, index);
  if (!inserted) {
    return error_at(at(where), "second link between " + in_quotes(an) + " and " + in_quotes(bn) +
                                   " (the first is " +
                                   s_.link_where[static_cast<size_t>(it->second)] + ")");
  }
  s_.topology.links.push_back(Link{a, b, params});
  s_.link_where.push_back(where);
  s_.node(a).links.push_back(index);
  s_.node(b).links.push_back(index);
  return Status::success();
}

Status Parser::parse_links(const json& links) {
  for (size_t i = 0; i < links.size(); ++i) {
    const json& l = links[i];
    std::string where = index_where("links", i);
    if (!l.is_object()) {
      return error_at(at(where), std::string("expected an object, got ") + type_name(l));
    }
    if (Status st = check_keys(l, at(where), kLinkKeys); !st) return st;
    int ends[2];
    for (int e = 0; e < 2; ++e) {
      const char* key = e == 0 ? "a" : "b";
      auto name = required_string(l, key, at(where));
      if (!name) return name.error();
      auto node = resolve(*name, where);
      if (!node) return node.error();
      if (s_.site_host[static_cast<size_t>(*node)]) {
        return error_at(at(where), in_quotes(*name) +
                                       " is a site host: its only link comes from its "
                                       "\"uplink\"; attach other nodes to its NAT or uplink");
      }
      ends[e] = *node;
    }
    LinkParams params = defaults_;
    if (Status st = parse_link_params(l, where, params); !st) return st;
    if (Status st = add_link(ends[0], ends[1], params, where); !st) return st;
  }
  return Status::success();
}

Status Parser::resolve_generated() {
  for (const PendingLink& g : generated_) {
    int b = g.b;
    if (b < 0) {
      auto node = resolve(g.b_name, g.where);
      if (!node) return node.error();
      if (s_.site_host[static_cast<size_t>(*node)]) {
        return error_at(at(g.where), in_quotes(g.b_name) +
                                         " is a site host and cannot be an uplink; use a router "
                                         "or a NAT");
      }
      b = *node;
    }
    if (Status st = add_link(g.a, b, g.params, g.where); !st) return st;
  }
  return Status::success();
}

Status Parser::resolve_outsides() {
  for (const PendingOutside& o : outsides_) {
    auto peer = resolve(o.outside, o.where);
    if (!peer) return peer.error();
    Node& nat = s_.node(o.nat);
    if (*peer == o.nat) return error_at(at(o.where), "a NAT cannot be its own outside");
    for (int l : nat.links) {
      if (s_.topology.peer(l, o.nat) == *peer) nat.outside_link = l;
    }
    if (nat.outside_link < 0) {
      return error_at(at(o.where), "NAT " + in_quotes(nat.name) + " names " + in_quotes(o.outside) +
                                       " as its outside, but they are not linked (add {\"a\": " +
                                       in_quotes(nat.name) + ", \"b\": " + in_quotes(o.outside) +
                                       "} to \"links\")");
    }
  }
  return Status::success();
}

Result<LoadState> Parser::run(const json& doc) {
  if (!doc.is_object()) {
    return error_at(s_.source,
                    std::string("expected a JSON object at the top level, got ") + type_name(doc));
  }
  if (Status st = check_keys(doc, s_.source, kTopKeys); !st) return st.error();
  auto name = optional_string(doc, "name", s_.source);
  if (!name) return name.error();
  s_.topology.name = name->value_or("");
  if (auto it = doc.find("link_defaults"); it != doc.end()) {
    if (!it->is_object()) {
      return error_at(at("link_defaults"),
                      std::string("expected an object of link parameters, got ") + type_name(*it));
    }
    if (Status st = check_keys(*it, at("link_defaults"), kLinkParamKeys); !st) return st.error();
    if (Status st = parse_link_params(*it, "link_defaults", defaults_); !st) return st.error();
  }
  static const json kEmpty = json::array();
  const json* arrays[3] = {&kEmpty, &kEmpty, &kEmpty};
  const char* array_keys[3] = {"nodes", "links", "groups"};
  for (int k = 0; k < 3; ++k) {
    auto it = doc.find(array_keys[k]);
    if (it == doc.end()) continue;
    if (!it->is_array()) {
      return error_at(at(array_keys[k]), std::string("expected an array, got ") + type_name(*it));
    }
    arrays[k] = &*it;
  }
  for (size_t i = 0; i < arrays[0]->size(); ++i) {
    if (Status st = parse_node((*arrays[0])[i], i); !st) return st.error();
  }
  for (size_t i = 0; i < arrays[2]->size(); ++i) {
    if (Status st = parse_group((*arrays[2])[i], i); !st) return st.error();
  }
  if (s_.topology.nodes.empty()) {
    return error_at(s_.source, "no nodes: add \"nodes\" (or \"groups\")");
  }
  if (Status st = index_names(); !st) return st.error();
  if (Status st = parse_links(*arrays[1]); !st) return st.error();
  if (Status st = resolve_generated(); !st) return st.error();
  if (Status st = resolve_outsides(); !st) return st.error();
  return std::move(s_);
}

}  // namespace

Result<LoadState> parse_structure(const json& doc, std::string_view source) {
  return Parser(source).run(doc);
}

}  // namespace warren::topo::detail
