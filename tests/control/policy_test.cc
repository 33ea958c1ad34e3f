#include "nodes/control/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warren::control {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Prefix P(const char* text) {
  return *Prefix::parse(text);
}

const char* const kGood = R"({
  // HuJSON: comments and trailing commas, as in Tailscale policy files.
  "groups": {
    "group:eng": ["alice", "bob@", "alice"],
    "group:ops": [],
  },
  "tagOwners": {"tag:server": ["group:eng"], "tag:ci": ["carol", "tag:server"]},
  "hosts": {"db": "100.64.0.10", "lan": "192.168.1.0/24", "v6lan": "fd00:1::/64"},
  "acls": [
    {"action": "accept", "src": ["group:eng", "tag:ci", "dave", "100.64.0.0/10"],
     "dst": ["tag:server:22,443", "db:*", "lan:80-90", "[fd7a:115c:a1e0::1]:22"],
     "proto": "tcp"},
    /* everyone may use the exit nodes and ping */
    {"action": "accept", "#note": "kept out of the way", "src": ["*"],
     "dst": ["autogroup:internet:*", "*:*"], "proto": ["icmp", 47]},
    {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:tagged:8080",
     "fd00:1::/64:53", "[fd00:1::5]/128:54", "v6lan:55", "10.0.0.1:1-2"]},
  ],
})";

TEST(ParsePolicy, ReadsAGoodPolicy) {
  auto p = parse_policy(kGood);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_FALSE(p->allow_all);
  EXPECT_EQ(p->text, kGood);
  EXPECT_EQ(p->groups.at("group:eng"), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_TRUE(p->groups.at("group:ops").empty());
  EXPECT_EQ(p->tag_owners.at("tag:ci"), (std::vector<std::string>{"carol", "tag:server"}));
  EXPECT_EQ(p->hosts.at("db"), P("100.64.0.10/32"));
  EXPECT_EQ(p->hosts.at("v6lan"), P("fd00:1::/64"));
  ASSERT_EQ(p->rules.size(), 3u);

  const PolicyRule& r0 = p->rules[0];
  EXPECT_EQ(r0.line, 10);
  EXPECT_EQ(r0.src[2], "dave");
  ASSERT_EQ(r0.sources.size(), 4u);
  EXPECT_EQ(r0.sources[0].kind, SelectorKind::group);
  EXPECT_EQ(r0.sources[1].kind, SelectorKind::tag);
  EXPECT_EQ(r0.sources[2].kind, SelectorKind::user);
  EXPECT_EQ(r0.sources[2].name, "dave");
  EXPECT_EQ(r0.sources[3].kind, SelectorKind::prefix);
  EXPECT_EQ(r0.sources[3].prefix, P("100.64.0.0/10"));
  ASSERT_EQ(r0.destinations.size(), 4u);
  EXPECT_EQ(r0.destinations[0].selector.name, "tag:server");
  EXPECT_EQ(r0.destinations[0].ports, (std::vector<PortRange>{{22, 22}, {443, 443}}));
  EXPECT_EQ(r0.destinations[1].selector.kind, SelectorKind::host);
  EXPECT_EQ(r0.destinations[1].selector.prefix, P("100.64.0.10/32"));
  EXPECT_EQ(r0.destinations[1].ports, (std::vector<PortRange>{PortRange{}}));
  EXPECT_EQ(r0.destinations[2].ports, (std::vector<PortRange>{{80, 90}}));
  EXPECT_EQ(r0.destinations[3].selector.prefix, P("fd7a:115c:a1e0::1/128"));
  EXPECT_EQ(r0.protocols, (std::vector<uint8_t>{kProtoTcp}));

  const PolicyRule& r1 = p->rules[1];
  EXPECT_EQ(r1.line, 14);
  EXPECT_EQ(r1.sources[0].kind, SelectorKind::any);
  EXPECT_EQ(r1.destinations[0].selector.kind, SelectorKind::autogroup_internet);
  EXPECT_EQ(r1.destinations[1].selector.kind, SelectorKind::any);
  EXPECT_EQ(r1.protocols, (std::vector<uint8_t>{kProtoIcmp, 47, kProtoIcmpV6}));

  const PolicyRule& r2 = p->rules[2];
  EXPECT_EQ(r2.sources[0].kind, SelectorKind::autogroup_member);
  EXPECT_EQ(r2.destinations[0].selector.kind, SelectorKind::autogroup_tagged);
  EXPECT_EQ(r2.destinations[1].selector.prefix, P("fd00:1::/64"));
  EXPECT_EQ(r2.destinations[2].selector.prefix, P("fd00:1::5/128"));
  EXPECT_EQ(r2.destinations[3].selector.kind, SelectorKind::host);
  EXPECT_EQ(r2.destinations[4].selector.prefix, P("10.0.0.1/32"));
  EXPECT_EQ(r2.destinations[4].ports, (std::vector<PortRange>{{1, 2}}));
  EXPECT_TRUE(r2.protocols.empty());
}

TEST(ParsePolicy, EmptyObjectDeniesEverything) {
  auto p = parse_policy("{}");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->allow_all);
  EXPECT_TRUE(p->rules.empty());
  EXPECT_TRUE(allow_all_policy().allow_all);
}

TEST(ParsePolicy, AHostNameWinsOverAUserUnlessWrittenWithAt) {
  auto p = parse_policy(R"({"hosts": {"alice": "10.0.0.1"},
    "acls": [{"action": "accept", "src": ["alice", "alice@"], "dst": ["alice:*"]}]})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->rules[0].sources[0].kind, SelectorKind::host);
  EXPECT_EQ(p->rules[0].sources[1].kind, SelectorKind::user);
  EXPECT_EQ(p->rules[0].destinations[0].selector.kind, SelectorKind::host);
}

struct BadPolicy {
  const char* text;
  const char* error;  // expected prefix of the message
};

// One case per kind of error; each names its line.
const BadPolicy kBadPolicies[] = {
    {"", "line 1: the policy is empty"},
    {"{\n  \"acls\": [\n    {\"action\": \"accept\",,}\n  ]\n}",
     "line 3, column 25: syntax error while parsing object key - unexpected ','"},
    {"{\"acls\": [],\n \"acls\": []}", "line 2: duplicate key \"acls\" (first on line 1)"},
    {"[]", "line 1: a policy is a JSON object"},
    {"{\n\"acl\": []}", "line 2: unknown key \"acl\" (did you mean \"acls\"?)"},
    {"{\n\n\"autoApprovers\": {}}", "line 3: \"autoApprovers\" is not supported by warren"},
    {"{\"groups\": {\n\"eng\": []}}", "line 2: group names start with \"group:\""},
    {"{\"groups\": {\"group:a\": [\n\"group:b\"]}}",
     "line 2: groups[\"group:a\"][0]: groups cannot contain groups"},
    {"{\"groups\": {\"group:a\": \"alice\"}}",
     "line 1: groups[\"group:a\"]: a group is a list of users"},
    {"{\"groups\": {\"group:a\": [\n\n\"Alice\"]}}",
     "line 3: groups[\"group:a\"][0]: invalid user"},
    {"{\"groups\": {\"group:a\": [\"alice@example.com\"]}}",
     "line 1: groups[\"group:a\"][0]: \"alice@example.com\": warren user names have no domain"},
    {"{\"hosts\": {\n\"10.0.0.1\": \"10.0.0.1\"}}", "line 2: invalid host alias \"10.0.0.1\""},
    {"{\"hosts\": {\"db\":\n \"10.0.0.1/8\"}}", "line 2: hosts.db:"},
    {"{\"tagOwners\": {\n\"server\": []}}", "line 2: invalid tag \"server\""},
    {"{\"tagOwners\": {\"tag:a\": [\n\"group:nope\"]}}",
     "line 2: tagOwners[\"tag:a\"][0]: group \"group:nope\" is not defined in \"groups\""},
    {"{\"tagOwners\": {\"tag:a\": [\"tag:b\"]}}",
     "line 1: tagOwners[\"tag:a\"][0]: tag \"tag:b\" is not declared in \"tagOwners\""},
    {"{\"acls\": {}}", "line 1: acls: expected a list of rules"},
    {"{\"acls\": [\n 5]}", "line 2: acls[0]: expected a rule object"},
    {"{\"acls\": [\n{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"],\n \"prot\": "
     "\"tcp\"}]}",
     "line 3: unknown key \"prot\" in acls[0] (did you mean \"proto\"?)"},
    {"{\"acls\": [{\"action\": \"accept\", \"users\": [\"*\"], \"dst\": [\"*:*\"]}]}",
     "line 1: \"users\" is the old name of \"src\""},
    {"{\"acls\": [{\"src\": [\"*\"], \"dst\": [\"*:*\"]}]}", "line 1: acls[0]: missing \"action\""},
    {"{\"acls\": [{\"action\":\n \"deny\", \"src\": [\"*\"], \"dst\": [\"*:*\"]}]}",
     "line 2: acls[0].action: the only action is \"accept\""},
    {"{\"acls\": [{\"action\": \"accept\", \"dst\": [\"*:*\"]}]}",
     "line 1: acls[0]: missing \"src\""},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [], \"dst\": [\"*:*\"]}]}",
     "line 1: acls[0].src: expected a non-empty list of sources, got an empty list"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"]}]}",
     "line 1: acls[0]: missing \"dst\""},
    {"{\"groups\": {\"group:eng\": []}, \"acls\": [{\"action\": \"accept\",\n \"src\": [\n "
     "\"group:eg\"], \"dst\": [\"*:*\"]}]}",
     "line 3: acls[0].src[0]: group \"group:eg\" is not defined in \"groups\" (did you mean "
     "\"group:eng\"?)"},
    {"{\"tagOwners\": {\"tag:server\": []}, \"acls\": [{\"action\": \"accept\", \"src\": [\"*\"],"
     "\n\"dst\": [\n\"tag:servr:22\"]}]}",
     "line 3: acls[0].dst[0]: tag \"tag:servr\" is not declared in \"tagOwners\" (did you mean "
     "\"tag:server\"?)"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"Server\"], \"dst\": [\"*:*\"]}]}",
     "line 1: acls[0].src[0]: \"Server\" is neither a host defined in \"hosts\" nor a user"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"autogroup:internet\"], \"dst\": "
     "[\"*:*\"]}]}",
     "line 1: acls[0].src[0]: autogroup:internet is only a destination"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"autogroup:membr\"], \"dst\": [\"*:*\"]}]}",
     "line 1: acls[0].src[0]: unknown autogroup \"autogroup:membr\" (did you mean "
     "\"autogroup:member\"?)"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"autogroup:self:*\"]}]}",
     "line 1: acls[0].dst[0]: autogroup:self is not supported"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"10.0.0.1/33\"], \"dst\": [\"*:*\"]}]}",
     "line 1: acls[0].src[0]:"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"alice\"]}]}",
     "line 1: acls[0].dst[0]: \"alice\" needs ports: write \"alice:*\""},
    {"{\"tagOwners\": {\"tag:a\": []}, \"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], "
     "\"dst\": [\"tag:a\"]}]}",
     "line 1: acls[0].dst[0]: \"tag:a\" needs ports: write \"tag:a:*\""},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"fd7a::1\"]}]}",
     "line 1: acls[0].dst[0]: \"fd7a::1\" needs ports: write \"[fd7a::1]:*\""},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"[10.0.0.1]:22\"]}]}",
     "line 1: acls[0].dst[0]: \"[10.0.0.1]:22\": brackets are only for IPv6"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:0\"]}]}",
     "line 1: acls[0].dst[0]: \"*:0\": bad ports \"0\": port 0 is not a port"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:90-80\"]}]}",
     "line 1: acls[0].dst[0]: \"*:90-80\": bad ports \"90-80\": \"90-80\" ends before it starts"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:22,,23\"]}]}",
     "line 1: acls[0].dst[0]: \"*:22,,23\": bad ports \"22,,23\": empty entry"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:70000\"]}]}",
     "line 1: acls[0].dst[0]: \"*:70000\": bad ports \"70000\": \"70000\" is not a port"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"],\n\"proto\": "
     "\"tpc\"}]}",
     "line 2: acls[0].proto: \"tpc\" is not a protocol (a name such as tcp, udp, icmp, sctp, or a "
     "number 1-255) (did you mean \"tcp\"?)"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"], \"proto\": "
     "[\"tcp\", 300]}]}",
     "line 1: acls[0].proto[1]: \"300\" is not a protocol"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"], \"proto\": "
     "\"*\"}]}",
     "line 1: acls[0].proto: \"*\" is not a protocol"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:22\"], \"proto\": "
     "\"icmp\"}]}",
     "line 1: acls[0].proto: protocol \"icmp\" has no ports"},
    {"{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"]}]",
     "line 1, column"},
    {"{\"a\": /* never closed", "line 1, column"},
};

TEST(ParsePolicy, EveryErrorNamesItsLineAndReason) {
  for (const BadPolicy& c : kBadPolicies) {
    auto p = parse_policy(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_THAT(p.error().message, StartsWith(c.error)) << c.text;
  }
}

TEST(ParsePolicy, RejectsHugeAndDeepInput) {
  std::string deep = "{\"acls\": " + std::string(200, '[');
  auto p = parse_policy(deep);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().message, HasSubstr("nested deeper than"));

  std::string huge(kMaxPolicyBytes + 1, ' ');
  p = parse_policy(huge);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().message, HasSubstr("at most"));

  std::string many = "{\"acls\": [";
  for (size_t i = 0; i <= kMaxPolicyRules; ++i) {
    many += std::string(i ? "," : "") + R"({"action":"accept","src":["*"],"dst":["*:*"]})";
  }
  p = parse_policy(many + "]}");
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().message, HasSubstr("rules; at most"));
}

}  // namespace
}  // namespace warren::control
