// The ACL policy: who may reach whom. JSON (or HuJSON: // and /* */ comments, trailing commas)
// in the shape headscale and Tailscale operators know:
//
//   {"groups":    {"group:eng": ["alice", "bob@"]},
//    "tagOwners": {"tag:server": ["group:eng"]},
//    "hosts":     {"db": "100.64.0.10/32", "lan": "192.168.1.0/24"},
//    "acls": [{"action": "accept", "src": ["group:eng", "tag:ci", "alice", "*"],
//              "dst": ["tag:server:22,443", "db:*", "lan:80-90", "*:*", "autogroup:internet:*"],
//              "proto": "tcp"}]}
//
// Selectors: "*", a user ("alice" or "alice@"), "group:x", "tag:x", a host alias, a literal IP or
// prefix, "autogroup:member" (untagged nodes), "autogroup:tagged"; dst adds ":PORTS" (PORTS =
// "*" or a comma list of N or N-M; IPv6 literals may be bracketed: "[fd7a::1]:22") and
// "autogroup:internet" (exit nodes). A bare word is a host alias when "hosts" defines it, else a
// user. "proto" is optional: a name (tcp, udp, icmp = ICMPv4 and ICMPv6, ipv6-icmp, sctp, gre,
// esp, ah, igmp), a number 1-255, or a list of them; specific ports need tcp, udp or sctp.
// Rule keys starting with "#" are ignored (headscale-admin keeps notes there).
//
// User names and tags follow registry_rules.h (check_user_name, check_tag).
//
// Errors: unknown keys (with "did you mean"), duplicate keys, undefined groups/tags/hosts, nested
// groups, tags used in acls but not declared in tagOwners, bad ports/prefixes/protocols and
// non-"accept" actions. Each error names the line and the reason. "{}" or "acls": [] is valid and
// denies everything.
//
// No policy set means allow all (every node sees every node, filter accepts everything), like
// headscale without a policy file.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "nodes/common/packet_filter.h"
#include "nodes/net/prefix.h"
#include "nodes/net/result.h"

namespace warren::control {

// A policy file larger than this is a mistake (and would not fit an admin message).
constexpr size_t kMaxPolicyBytes = 1 << 20;
// Each rule costs the index a bit per identity class; thousands of rules is already far more
// than a hand-written policy has.
constexpr size_t kMaxPolicyRules = 4096;

enum class SelectorKind {
  any,                 // "*"
  user,                // name = user name without '@'
  group,               // name = "group:x"
  tag,                 // name = "tag:x"
  host,                // name = alias, prefix = its value
  prefix,              // literal IP (as /32 or /128) or prefix
  autogroup_member,    // untagged nodes
  autogroup_tagged,    // tagged nodes
  autogroup_internet,  // exit nodes' approved exit routes (dst only)
};

struct Selector {
  SelectorKind kind = SelectorKind::any;
  std::string name;
  Prefix prefix;
};

struct PolicyDestination {
  Selector selector;
  std::vector<PortRange> ports;  // never empty; {0-65535} for "*"
};

struct PolicyRule {
  std::vector<std::string> src;                 // selectors as written (validated)
  std::vector<std::string> dst;                 // "selector:ports" as written (validated)
  std::vector<Selector> sources;                // parsed src, same order
  std::vector<PolicyDestination> destinations;  // parsed dst, same order
  std::vector<uint8_t> protocols;               // sorted, unique; empty = tcp, udp, icmp
  int line = 0;                                 // 1-based line of the rule in the source text
};

struct Policy {
  bool allow_all = true;                                       // true only for "no policy"
  std::map<std::string, std::vector<std::string>> groups;      // "group:x" -> user names (no '@')
  std::map<std::string, std::vector<std::string>> tag_owners;  // "tag:x" -> users/groups/tags
  std::map<std::string, Prefix> hosts;
  std::vector<PolicyRule> rules;
  std::string text;  // the source, verbatim (what `policy get` prints)
};

Policy allow_all_policy();
// Errors read "line L: <reason>" (L is 1-based), or "line L, column C: <reason>" for syntax errors.
Result<Policy> parse_policy(std::string_view text);

}  // namespace warren::control
