#include "nodes/control/policy.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "nodes/common/json_checks.h"
#include "nodes/common/json_locator.h"
#include "nodes/control/registry_rules.h"

namespace warren::control {
namespace {

using json_checks::suggestion;
using json_checks::type_name;
using nlohmann::json;

constexpr std::string_view kGroupPrefix = "group:";
constexpr std::string_view kTagPrefix = "tag:";
constexpr std::string_view kAutogroupPrefix = "autogroup:";

const char* const kAllowEverything =
    R"({"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]})";

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// A place in the document: its JSON pointer (to find the line) and a readable path for the
// message ("acls[2].dst[0]").
struct Where {
  std::string pointer;
  std::string path;

  Where key(const std::string& k) const {
    bool plain = !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
    std::string p = plain ? (path.empty() ? k : path + "." + k) : path + "[" + printable(k) + "]";
    return {pointer + "/" + json_pointer_token(k), p};
  }
  Where index(size_t i) const {
    return {pointer + "/" + std::to_string(i), path + "[" + std::to_string(i) + "]"};
  }
};

struct ProtocolName {
  const char* name;
  uint8_t numbers[2];  // 0 = none
};
constexpr ProtocolName kProtocolNames[] = {
    {"tcp", {6, 0}},        {"udp", {17, 0}},   {"icmp", {1, 58}},
    {"ipv6-icmp", {58, 0}}, {"sctp", {132, 0}}, {"gre", {47, 0}},
    {"esp", {50, 0}},       {"ah", {51, 0}},    {"igmp", {2, 0}},
};

bool parse_number(std::string_view s, uint32_t max, uint32_t& out) {
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s[0] == '0')) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

class PolicyParser {
 public:
  explicit PolicyParser(const JsonLocator& locator) : locator_(locator) {}

  Result<Policy> parse(const json& doc) {
    Where root;
    if (!doc.is_object()) {
      return fail(root, std::string("a policy is a JSON object ({...}), got ") + type_name(doc));
    }
    if (Status st = check_top_keys(doc); !st.ok()) return st.error();
    Policy policy;
    policy.allow_all = false;
    // Definitions before uses, whatever order the file has them in.
    if (auto it = doc.find("groups"); it != doc.end()) {
      if (Status st = parse_groups(*it, root.key("groups"), policy); !st.ok()) return st.error();
    }
    if (auto it = doc.find("hosts"); it != doc.end()) {
      if (Status st = parse_hosts(*it, root.key("hosts"), policy); !st.ok()) return st.error();
    }
    if (auto it = doc.find("tagOwners"); it != doc.end()) {
      if (Status st = parse_tag_owners(*it, root.key("tagOwners"), policy); !st.ok()) {
        return st.error();
      }
    }
    if (auto it = doc.find("acls"); it != doc.end()) {
      if (Status st = parse_acls(*it, root.key("acls"), policy); !st.ok()) return st.error();
    }
    return policy;
  }

 private:
  // For an error about a value: the line where the value starts.
  Error fail(const Where& where, const std::string& message) const {
    auto at = locator_.value_position(where.pointer);
    int line_number = at ? at->line : locator_.line_of(where.pointer);
    std::string line = "line " + std::to_string(line_number) + ": ";
    return make_error(line + (where.path.empty() ? "" : where.path + ": ") + message);
  }
  // For an error about a key itself (unknown, unsupported): the key's line, no path repeat.
  Error fail_key(const Where& where, const std::string& message) const {
    return make_error("line " + std::to_string(locator_.line_of(where.pointer)) + ": " + message);
  }

  Status check_top_keys(const json& doc) {
    static const std::vector<std::string> kAllowed = {"groups", "tagOwners", "hosts", "acls"};
    struct Unsupported {
      const char* key;
      const char* advice;
    };
    static const Unsupported kUnsupported[] = {
        {"autoApprovers", "approve routes with `warren control routes approve NODE PREFIX`"},
        {"ssh", "warren has no SSH server; remove this section"},
        {"sshTests", "warren has no SSH server; remove this section"},
        {"tests", "remove this section"},
        {"grants", "write \"acls\" rules instead"},
        {"nodeAttrs", "remove this section"},
        {"derpMap", "relays are configured in the control server's config file"},
        {"postures", "remove this section"},
    };
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const std::string& key = it.key();
      if (std::find(kAllowed.begin(), kAllowed.end(), key) != kAllowed.end()) continue;
      Where w = Where{}.key(key);
      for (const Unsupported& u : kUnsupported) {
        if (key == u.key) {
          return fail_key(w, printable(key) + " is not supported by warren; " + u.advice);
        }
      }
      return fail_key(w, "unknown key " + printable(key) + suggestion(key, kAllowed) +
                             " (a policy has \"groups\", \"tagOwners\", \"hosts\" and \"acls\")");
    }
    return Status::success();
  }

  // "alice" or "alice@" -> "alice"; errors say how to write it.
  Result<std::string> parse_user(const std::string& text, const Where& w) const {
    std::string name = text;
    if (!name.empty() && name.back() == '@') name.pop_back();
    if (name.find('@') != std::string::npos) {
      return fail(w, printable(text) + ": warren user names have no domain; write " +
                         printable(name.substr(0, name.find('@'))) + " or " +
                         printable(name.substr(0, name.find('@')) + "@"));
    }
    if (Status st = check_user_name(name); !st.ok()) return fail(w, st.error().message);
    return name;
  }

  Status parse_groups(const json& v, const Where& w, Policy& policy) {
    if (!v.is_object()) return fail(w, std::string("expected an object, got ") + type_name(v));
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& name = it.key();
      Where gw = w.key(name);
      if (!starts_with(name, kGroupPrefix) || name.size() == kGroupPrefix.size()) {
        return fail_key(
            gw, "group names start with \"group:\" (e.g. \"group:eng\"), got " + printable(name));
      }
      if (Status st = check_user_name(name.substr(kGroupPrefix.size())); !st.ok()) {
        return fail_key(gw, "invalid group name " + printable(name) +
                                ": after \"group:\" use a-z, 0-9, '.', '_' and '-'");
      }
      if (!it->is_array()) {
        return fail(gw, std::string("a group is a list of users, got ") + type_name(*it));
      }
      std::vector<std::string> members;
      for (size_t i = 0; i < it->size(); ++i) {
        const json& m = (*it)[i];
        Where mw = gw.index(i);
        if (!m.is_string()) {
          return fail(mw, std::string("expected a user name, got ") + type_name(m));
        }
        const std::string& s = m.get_ref<const std::string&>();
        if (starts_with(s, kGroupPrefix)) {
          return fail(mw, "groups cannot contain groups (" + printable(s) +
                              "); list its users here instead");
        }
        if (starts_with(s, kTagPrefix) || starts_with(s, kAutogroupPrefix) || s == "*") {
          return fail(mw, "groups hold users only, got " + printable(s));
        }
        auto user = parse_user(s, mw);
        if (!user) return user.error();
        if (std::find(members.begin(), members.end(), *user) == members.end()) {
          members.push_back(*user);
        }
      }
      policy.groups[name] = std::move(members);
    }
    return Status::success();
  }

  Status parse_hosts(const json& v, const Where& w, Policy& policy) {
    if (!v.is_object()) return fail(w, std::string("expected an object, got ") + type_name(v));
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& name = it.key();
      Where hw = w.key(name);
      bool looks_like_address = IpAddress::parse(name).ok() || name.find('/') != std::string::npos;
      if (name == "*" || name.find(':') != std::string::npos || looks_like_address ||
          !check_user_name(name).ok()) {
        return fail_key(hw, "invalid host alias " + printable(name) +
                                ": aliases are 1-63 characters of a-z, 0-9, '.', '_' and '-' "
                                "(not an address, no ':' or '@')");
      }
      if (!it->is_string()) {
        return fail(hw, std::string("expected an IP address or prefix, got ") + type_name(*it));
      }
      auto prefix = parse_prefix_text(it->get_ref<const std::string&>(), hw);
      if (!prefix) return prefix.error();
      policy.hosts[name] = *prefix;
    }
    return Status::success();
  }

  // "100.64.0.1" (as /32), "fd7a::1" (as /128) or "10.0.0.0/8".
  Result<Prefix> parse_prefix_text(const std::string& s, const Where& w) const {
    if (s.find('/') == std::string::npos) {
      auto addr = IpAddress::parse(s);
      if (!addr) return fail(w, addr.error().message);
      return Prefix::containing(*addr, addr->is_v4() ? 32 : 128);
    }
    auto p = Prefix::parse(s);
    if (!p) return fail(w, p.error().message);
    return *p;
  }

  Status parse_tag_owners(const json& v, const Where& w, Policy& policy) {
    if (!v.is_object()) return fail(w, std::string("expected an object, got ") + type_name(v));
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (Status st = check_tag(it.key()); !st.ok()) {
        return fail_key(w.key(it.key()), st.error().message);
      }
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
      Where tw = w.key(it.key());
      if (!it->is_array()) {
        return fail(tw, std::string("expected a list of owners, got ") + type_name(*it));
      }
      std::vector<std::string> owners;
      for (size_t i = 0; i < it->size(); ++i) {
        const json& o = (*it)[i];
        Where ow = tw.index(i);
        if (!o.is_string()) return fail(ow, std::string("expected an owner, got ") + type_name(o));
        const std::string& s = o.get_ref<const std::string&>();
        if (starts_with(s, kGroupPrefix)) {
          if (!policy.groups.count(s)) {
            return fail(ow, "group " + printable(s) + " is not defined in \"groups\"" +
                                suggestion(s, keys_of(policy.groups)));
          }
          owners.push_back(s);
        } else if (starts_with(s, kTagPrefix)) {
          if (!v.contains(s)) {
            return fail(ow, "tag " + printable(s) + " is not declared in \"tagOwners\"" +
                                suggestion(s, keys_of_json(v)));
          }
          owners.push_back(s);
        } else {
          auto user = parse_user(s, ow);
          if (!user) return user.error();
          owners.push_back(*user);
        }
      }
      policy.tag_owners[it.key()] = std::move(owners);
    }
    return Status::success();
  }

  template <typename Map>
  static std::vector<std::string> keys_of(const Map& m) {
    std::vector<std::string> out;
    for (const auto& [k, _] : m) out.push_back(k);
    return out;
  }
  static std::vector<std::string> keys_of_json(const json& obj) {
    std::vector<std::string> out;
    for (auto it = obj.begin(); it != obj.end(); ++it) out.push_back(it.key());
    return out;
  }

  Status parse_acls(const json& v, const Where& w, Policy& policy) {
    if (!v.is_array()) return fail(w, std::string("expected a list of rules, got ") + type_name(v));
    if (v.size() > kMaxPolicyRules) {
      return fail(w, std::to_string(v.size()) + " rules; at most " +
                         std::to_string(kMaxPolicyRules) + " are supported");
    }
    for (size_t i = 0; i < v.size(); ++i) {
      auto rule = parse_rule(v[i], w.index(i), policy);
      if (!rule) return rule.error();
      policy.rules.push_back(std::move(*rule));
    }
    return Status::success();
  }

  Result<PolicyRule> parse_rule(const json& v, const Where& w, const Policy& policy) {
    if (!v.is_object()) return fail(w, std::string("expected a rule object, got ") + type_name(v));
    static const std::vector<std::string> kAllowed = {"action", "src", "dst", "proto"};
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& key = it.key();
      if (starts_with(key, "#")) continue;  // notes (headscale-admin writes these)
      if (std::find(kAllowed.begin(), kAllowed.end(), key) != kAllowed.end()) continue;
      Where kw = w.key(key);
      if (key == "users" || key == "ports") {
        return fail_key(kw, printable(key) + " is the old name of " +
                                (key == "users" ? "\"src\"" : "\"dst\"") + "; rename it");
      }
      return fail_key(kw, "unknown key " + printable(key) + " in " + w.path +
                              suggestion(key, kAllowed) +
                              " (a rule has \"action\", \"src\", \"dst\" and optional \"proto\")");
    }
    PolicyRule rule;
    rule.line = locator_.line_of(w.pointer);

    auto action = v.find("action");
    if (action == v.end()) return fail(w, "missing \"action\": \"accept\"");
    if (!action->is_string() || action->get_ref<const std::string&>() != "accept") {
      std::string got = action->is_string() ? printable(action->get<std::string>())
                                            : std::string(type_name(*action));
      return fail(w.key("action"),
                  "the only action is \"accept\" (rules list what is allowed; "
                  "everything else is denied), got " +
                      got);
    }

    auto src = v.find("src");
    if (src == v.end()) return fail(w, "missing \"src\" (who may connect, e.g. [\"group:eng\"])");
    Where sw = w.key("src");
    if (!src->is_array() || src->empty()) {
      return fail(sw, "expected a non-empty list of sources, got " +
                          std::string(src->is_array() ? "an empty list" : type_name(*src)));
    }
    for (size_t i = 0; i < src->size(); ++i) {
      Where ew = sw.index(i);
      const json& s = (*src)[i];
      if (!s.is_string()) return fail(ew, std::string("expected a string, got ") + type_name(s));
      auto sel = parse_selector(s.get<std::string>(), /*destination=*/false, ew, policy);
      if (!sel) return sel.error();
      rule.src.push_back(s.get<std::string>());
      rule.sources.push_back(std::move(*sel));
    }

    auto dst = v.find("dst");
    if (dst == v.end())
      return fail(w, "missing \"dst\" (what they may reach, e.g. [\"tag:server:22\"])");
    Where dw = w.key("dst");
    if (!dst->is_array() || dst->empty()) {
      return fail(dw, "expected a non-empty list of destinations, got " +
                          std::string(dst->is_array() ? "an empty list" : type_name(*dst)));
    }
    for (size_t i = 0; i < dst->size(); ++i) {
      Where ew = dw.index(i);
      const json& d = (*dst)[i];
      if (!d.is_string()) return fail(ew, std::string("expected a string, got ") + type_name(d));
      auto dest = parse_destination(d.get<std::string>(), ew, policy);
      if (!dest) return dest.error();
      rule.dst.push_back(d.get<std::string>());
      rule.destinations.push_back(std::move(*dest));
    }

    if (auto proto = v.find("proto"); proto != v.end()) {
      auto protocols = parse_protocols(*proto, w.key("proto"), rule);
      if (!protocols) return protocols.error();
      rule.protocols = std::move(*protocols);
    }
    return rule;
  }

  Result<std::vector<uint8_t>> parse_protocols(const json& v, const Where& w,
                                               const PolicyRule& rule) const {
    std::vector<uint8_t> out;
    std::vector<std::string> names_without_ports;
    auto add_one = [&](const json& p, const Where& pw) -> Status {
      std::string text;
      if (p.is_number_unsigned() || p.is_number_integer()) {
        text = std::to_string(p.get<int64_t>());
      } else if (p.is_string()) {
        text = p.get<std::string>();
        std::transform(text.begin(), text.end(), text.begin(),
                       [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; });
      } else {
        return fail(pw, std::string("expected a protocol name or number, got ") + type_name(p));
      }
      if (text == "*") {
        return fail(pw,
                    "\"*\" is not a protocol; leave \"proto\" out for tcp, udp and icmp, or "
                    "list the protocols");
      }
      for (const ProtocolName& n : kProtocolNames) {
        if (text != n.name) continue;
        for (uint8_t number : n.numbers) {
          if (number) out.push_back(number);
        }
        if (text != "tcp" && text != "udp" && text != "sctp") names_without_ports.push_back(text);
        return Status::success();
      }
      uint32_t number = 0;
      if (!parse_number(text, 255, number) || number == 0) {
        std::vector<std::string> names;
        for (const ProtocolName& n : kProtocolNames) names.push_back(n.name);
        return fail(pw, printable(text) +
                            " is not a protocol (a name such as tcp, udp, icmp, "
                            "sctp, or a number 1-255)" +
                            suggestion(text, names));
      }
      out.push_back(static_cast<uint8_t>(number));
      if (number != kProtoTcp && number != kProtoUdp && number != kProtoSctp) {
        names_without_ports.push_back(text);
      }
      return Status::success();
    };
    if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) {
        if (Status st = add_one(v[i], w.index(i)); !st.ok()) return st.error();
      }
    } else if (Status st = add_one(v, w); !st.ok()) {
      return st.error();
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    if (!names_without_ports.empty()) {
      for (const PolicyDestination& d : rule.destinations) {
        bool all_ports = d.ports.size() == 1 && d.ports[0] == PortRange{};
        if (!all_ports) {
          return fail(w, "protocol " + printable(names_without_ports.front()) +
                             " has no ports, so every destination needs \":*\"; split the rule "
                             "to give tcp/udp ports");
        }
      }
    }
    return out;
  }

  // "tag:server:22,443", "db:*", "[fd7a::1]:22", "10.0.0.0/8:80-90", "autogroup:internet:*".
  Result<PolicyDestination> parse_destination(const std::string& text, const Where& w,
                                              const Policy& policy) const {
    std::string alias;
    std::string ports;
    if (starts_with(text, "[")) {
      size_t close = text.find(']');
      auto addr = close == std::string::npos ? Result<IpAddress>(make_error(""))
                                             : IpAddress::parse(text.substr(1, close - 1));
      if (!addr || !addr->is_v6()) {
        return fail(w, printable(text) +
                           ": brackets are only for IPv6 addresses, as in "
                           "\"[fd7a:115c:a1e0::1]:22\"");
      }
      std::string rest = text.substr(close + 1);
      size_t colon = rest.rfind(':');
      if (colon == std::string::npos) {
        return fail(w, printable(text) + " needs ports: add \":*\" for all ports, or e.g. \":22\"");
      }
      alias = text.substr(1, close - 1) + rest.substr(0, colon);
      ports = rest.substr(colon + 1);
    } else {
      if (IpAddress::parse(text).ok() || Prefix::parse(text).ok()) {
        std::string shown = text.find(':') != std::string::npos ? "[" + text + "]" : text;
        if (size_t slash = text.find('/'); slash != std::string::npos && shown[0] == '[') {
          shown = "[" + text.substr(0, slash) + "]" + text.substr(slash);
        }
        return fail(w, printable(text) + " needs ports: write " + printable(shown + ":*") +
                           " for all ports, or e.g. " + printable(shown + ":22"));
      }
      size_t colon = text.rfind(':');
      bool ports_like = colon != std::string::npos &&
                        text.find_first_not_of("0123456789,-*", colon + 1) == std::string::npos;
      if (!ports_like) {
        return fail(w, printable(text) + " needs ports: write " + printable(text + ":*") +
                           " for all ports, or e.g. " + printable(text + ":22"));
      }
      alias = text.substr(0, colon);
      ports = text.substr(colon + 1);
    }
    PolicyDestination dest;
    auto ranges = parse_port_list(ports, text, w);
    if (!ranges) return ranges.error();
    dest.ports = std::move(*ranges);
    auto sel = parse_selector(alias, /*destination=*/true, w, policy);
    if (!sel) return sel.error();
    dest.selector = std::move(*sel);
    return dest;
  }

  Result<std::vector<PortRange>> parse_port_list(const std::string& ports, const std::string& text,
                                                 const Where& w) const {
    if (ports == "*") return std::vector<PortRange>{PortRange{}};
    std::vector<PortRange> out;
    auto bad = [&](const std::string& why) {
      return fail(w, printable(text) + ": bad ports " + printable(ports) + ": " + why +
                         " (write \"*\", \"22\", \"80,443\" or \"8000-8100\")");
    };
    size_t start = 0;
    for (;;) {
      size_t comma = ports.find(',', start);
      std::string part =
          ports.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (part.empty()) return bad("empty entry");
      size_t dash = part.find('-');
      uint32_t first = 0;
      uint32_t last = 0;
      if (dash == std::string::npos) {
        if (!parse_number(part, 65535, first)) return bad(printable(part) + " is not a port");
        if (first == 0) return bad("port 0 is not a port; use \"*\" for all ports");
        last = first;
      } else {
        if (!parse_number(part.substr(0, dash), 65535, first) ||
            !parse_number(part.substr(dash + 1), 65535, last)) {
          return bad(printable(part) + " is not a range N-M of ports 0-65535");
        }
        if (first > last) return bad(printable(part) + " ends before it starts");
      }
      out.push_back(PortRange{static_cast<uint16_t>(first), static_cast<uint16_t>(last)});
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }

  Result<Selector> parse_selector(const std::string& text, bool destination, const Where& w,
                                  const Policy& policy) const {
    Selector sel;
    if (text == "*") return sel;
    if (starts_with(text, kGroupPrefix)) {
      if (!policy.groups.count(text)) {
        return fail(w, "group " + printable(text) + " is not defined in \"groups\"" +
                           suggestion(text, keys_of(policy.groups)));
      }
      sel.kind = SelectorKind::group;
      sel.name = text;
      return sel;
    }
    if (starts_with(text, kTagPrefix)) {
      if (Status st = check_tag(text); !st.ok()) return fail(w, st.error().message);
      if (!policy.tag_owners.count(text)) {
        return fail(w, "tag " + printable(text) + " is not declared in \"tagOwners\"" +
                           suggestion(text, keys_of(policy.tag_owners)) +
                           "; add it there with its owners (an empty list is fine)");
      }
      sel.kind = SelectorKind::tag;
      sel.name = text;
      return sel;
    }
    if (starts_with(text, kAutogroupPrefix)) return parse_autogroup(text, destination, w);
    bool address_like = text.find('/') != std::string::npos || IpAddress::parse(text).ok();
    if (address_like) {
      auto p = parse_prefix_text(text, w);
      if (!p) return p.error();
      sel.kind = SelectorKind::prefix;
      sel.prefix = *p;
      return sel;
    }
    if (text.find('@') == std::string::npos) {
      if (auto host = policy.hosts.find(text); host != policy.hosts.end()) {
        sel.kind = SelectorKind::host;
        sel.name = text;
        sel.prefix = host->second;
        return sel;
      }
      if (!check_user_name(text).ok()) {
        std::vector<std::string> names = keys_of(policy.hosts);
        for (const auto& [g, _] : policy.groups) names.push_back(g);
        for (const auto& [t, _] : policy.tag_owners) names.push_back(t);
        return fail(w, printable(text) +
                           " is neither a host defined in \"hosts\" nor a user "
                           "name (expected \"*\", a user, \"group:x\", \"tag:x\", "
                           "a host, an IP or prefix, or an autogroup)" +
                           suggestion(text, names));
      }
    }
    auto user = parse_user(text, w);
    if (!user) return user.error();
    sel.kind = SelectorKind::user;
    sel.name = *user;
    return sel;
  }

  Result<Selector> parse_autogroup(const std::string& text, bool destination,
                                   const Where& w) const {
    Selector sel;
    if (text == "autogroup:member") {
      sel.kind = SelectorKind::autogroup_member;
    } else if (text == "autogroup:tagged") {
      sel.kind = SelectorKind::autogroup_tagged;
    } else if (text == "autogroup:internet") {
      if (!destination) {
        return fail(w, "autogroup:internet is only a destination (traffic through exit nodes)");
      }
      sel.kind = SelectorKind::autogroup_internet;
    } else if (text == "autogroup:self") {
      return fail(w, "autogroup:self is not supported; name the users (or a group) instead");
    } else {
      return fail(
          w, "unknown autogroup " + printable(text) +
                 suggestion(text, {"autogroup:member", "autogroup:tagged", "autogroup:internet"}) +
                 " (warren has autogroup:member, autogroup:tagged and "
                 "autogroup:internet)");
    }
    sel.name = text;
    return sel;
  }

  const JsonLocator& locator_;
};

// nlohmann's message without its "[json.exception...] parse error at line L, column C: " head
// (we give our own line and column, counted in characters).
std::string syntax_reason(const std::string& what) {
  size_t column = what.find("column ");
  if (column != std::string::npos) {
    size_t colon = what.find(": ", column);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

}  // namespace

Policy allow_all_policy() {
  return Policy{};
}

Result<Policy> parse_policy(std::string_view text) {
  if (text.size() > kMaxPolicyBytes) {
    return make_error("line 1: the policy is " + std::to_string(text.size()) + " bytes; at most " +
                      std::to_string(kMaxPolicyBytes) + " are accepted");
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return make_error(std::string("line 1: the policy is empty; write {} to deny everything, or ") +
                      kAllowEverything + " to allow everything");
  }
  std::string standard = hujson_to_json(text);
  JsonLocator locator(standard);
  if (locator.too_deep()) {
    TextPosition at = locator.too_deep_at();
    return make_error("line " + std::to_string(at.line) + ", column " + std::to_string(at.column) +
                      ": nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  json doc;
  try {
    doc = json::parse(standard);
  } catch (const json::parse_error& e) {
    TextPosition at = position_of_offset(standard, e.byte > 0 ? e.byte - 1 : 0);
    return make_error("line " + std::to_string(at.line) + ", column " + std::to_string(at.column) +
                      ": " + syntax_reason(e.what()));
  } catch (const json::exception& e) {
    return make_error(std::string("line 1: not valid JSON: ") + e.what());
  }
  if (const auto& dup = locator.first_duplicate()) {
    return make_error("line " + std::to_string(dup->second.line) + ": duplicate key " +
                      printable(dup->key) + " (first on line " + std::to_string(dup->first.line) +
                      "); merge the two");
  }
  auto policy = PolicyParser(locator).parse(doc);
  if (!policy) return policy.error();
  policy->text = std::string(text);
  return policy;
}

}  // namespace warren::control
