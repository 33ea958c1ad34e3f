#include "nodes/control/policy_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warren::control {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Prefix P(const std::string& text) {
  return *Prefix::parse(text);
}

PolicySubject node(NodeId id, const std::string& user, std::vector<std::string> tags = {},
                   std::vector<std::string> routes = {}) {
  PolicySubject s;
  s.id = id;
  s.user = user;
  s.tags = std::move(tags);
  s.ipv4 = *IpAddress::parse("100.64.0." + std::to_string(id));
  s.ipv6 = *IpAddress::parse("fd7a:115c:a1e0::" + std::to_string(id));
  for (const std::string& r : routes) s.approved_routes.push_back(P(r));
  return s;
}

Prefix v4(NodeId id) {
  return P("100.64.0." + std::to_string(id) + "/32");
}
Prefix v6(NodeId id) {
  return P("fd7a:115c:a1e0::" + std::to_string(id) + "/128");
}

Policy policy(const std::string& text) {
  auto p = parse_policy(text);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? *p : Policy{};
}

std::vector<NodeId> peers(const PolicyIndex& index, NodeId id) {
  std::vector<NodeId> out;
  index.for_each_peer(id, [&](NodeId p) { out.push_back(p); });
  return out;
}

std::vector<NodeId> dependents(const PolicyIndex& index, const PolicySubject& s) {
  std::vector<NodeId> out;
  index.for_each_filter_dependent(s, [&](NodeId p) { out.push_back(p); });
  return out;
}

FilterDestination dest(const Prefix& p, PortRange ports = PortRange{}) {
  return {p, ports};
}

TEST(PolicyIndex, AllowAllShowsEveryoneAndAcceptsEverything) {
  PolicyIndex index;
  EXPECT_TRUE(index.policy().allow_all);
  index.upsert(node(3, "alice"));
  index.upsert(node(1, "bob", {"tag:x"}));
  index.upsert(node(2, "carol", {}, {"192.168.1.0/24", "0.0.0.0/0"}));
  EXPECT_EQ(index.size(), 3u);
  EXPECT_THAT(peers(index, 1), ElementsAre(2, 3));
  EXPECT_THAT(peers(index, 2), ElementsAre(1, 3));
  EXPECT_THAT(peers(index, 3), ElementsAre(1, 2));
  EXPECT_TRUE(index.sees(1, 3));
  EXPECT_FALSE(index.sees(1, 1));

  FilterRule expected;
  expected.any_source = true;
  expected.destinations = {dest(P("0.0.0.0/0")), dest(v4(2)), dest(P("192.168.1.0/24")),
                           dest(v6(2))};
  EXPECT_THAT(index.filter_for(2), ElementsAre(expected));
  EXPECT_THAT(dependents(index, node(2, "carol")), IsEmpty());
  EXPECT_THAT(index.filter_for(99), IsEmpty());
  EXPECT_THAT(peers(index, 99), IsEmpty());
}

const char* const kTeams = R"({
  "groups": {"group:eng": ["alice", "bob"]},
  "tagOwners": {"tag:server": ["group:eng"], "tag:db": []},
  "acls": [
    {"action": "accept", "src": ["group:eng"], "dst": ["tag:server:22,443"], "proto": "tcp"},
    {"action": "accept", "src": ["tag:server"], "dst": ["tag:db:5432"]}
  ]})";

TEST(PolicyIndex, UsersGroupsAndTagsDecideVisibility) {
  PolicyIndex index(policy(kTeams));
  index.upsert(node(1, "alice"));
  index.upsert(node(2, "bob"));
  index.upsert(node(3, "carol"));
  index.upsert(node(4, "alice", {"tag:server"}));  // tagged: owned by its tag, not alice
  index.upsert(node(5, "bob", {"tag:db"}));
  index.upsert(node(6, "dave", {"tag:server"}));

  EXPECT_THAT(peers(index, 1), ElementsAre(4, 6));
  EXPECT_THAT(peers(index, 2), ElementsAre(4, 6));
  EXPECT_THAT(peers(index, 3), IsEmpty());
  EXPECT_THAT(peers(index, 4), ElementsAre(1, 2, 5));  // symmetric: sources see it back
  EXPECT_THAT(peers(index, 5), ElementsAre(4, 6));
  EXPECT_THAT(peers(index, 6), ElementsAre(1, 2, 5));
  for (NodeId a = 1; a <= 6; ++a) {
    for (NodeId b = 1; b <= 6; ++b) {
      std::vector<NodeId> pa = peers(index, a);
      bool listed = std::find(pa.begin(), pa.end(), b) != pa.end();
      EXPECT_EQ(index.sees(a, b), listed) << a << " " << b;
      EXPECT_EQ(index.sees(a, b), index.sees(b, a)) << a << " " << b;
    }
  }
}

TEST(PolicyIndex, FiltersListSourcesAndOwnDestinations) {
  PolicyIndex index(policy(kTeams));
  index.upsert(node(1, "alice"));
  index.upsert(node(2, "bob"));
  index.upsert(node(3, "carol"));
  index.upsert(node(4, "alice", {"tag:server"}));
  index.upsert(node(5, "bob", {"tag:db"}));

  FilterRule ssh;
  ssh.sources = {v4(1), v4(2), v6(1), v6(2)};
  ssh.destinations = {dest(v4(4), {22, 22}), dest(v4(4), {443, 443}), dest(v6(4), {22, 22}),
                      dest(v6(4), {443, 443})};
  ssh.protocols = {kProtoTcp};
  EXPECT_THAT(index.filter_for(4), ElementsAre(ssh));

  FilterRule db;
  db.sources = {v4(4), v6(4)};
  db.destinations = {dest(v4(5), {5432, 5432}), dest(v6(5), {5432, 5432})};
  EXPECT_THAT(index.filter_for(5), ElementsAre(db));
  EXPECT_THAT(index.filter_for(1), IsEmpty());  // nobody may reach alice's laptop
}

TEST(PolicyIndex, FilterDependentsAreTheDestinationsOfRulesNamingTheSubject) {
  PolicyIndex index(policy(kTeams));
  index.upsert(node(1, "alice"));
  index.upsert(node(3, "carol"));
  index.upsert(node(4, "alice", {"tag:server"}));
  index.upsert(node(5, "bob", {"tag:db"}));
  index.upsert(node(6, "dave", {"tag:server"}));

  EXPECT_THAT(dependents(index, node(1, "alice")), ElementsAre(4, 6));
  // Works for a node not yet in the index (bob registers): the servers list its addresses.
  EXPECT_THAT(dependents(index, node(2, "bob")), ElementsAre(4, 6));
  EXPECT_THAT(dependents(index, node(3, "carol")), IsEmpty());
  EXPECT_THAT(dependents(index, node(4, "alice", {"tag:server"})), ElementsAre(5));
  EXPECT_THAT(dependents(index, node(6, "dave", {"tag:server"})), ElementsAre(5));
  EXPECT_THAT(dependents(index, node(5, "bob", {"tag:db"})), IsEmpty());

  // "*" as a source lists nobody, so nobody depends on anybody.
  index.set_policy(policy(R"({"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]})"));
  EXPECT_THAT(dependents(index, node(1, "alice")), IsEmpty());
  EXPECT_TRUE(index.filter_for(4)[0].any_source);
}

TEST(PolicyIndex, UpsertMovesANodeBetweenClassesAndRemoveForgetsIt) {
  PolicyIndex index(policy(kTeams));
  index.upsert(node(1, "alice"));
  index.upsert(node(2, "carol"));
  index.upsert(node(3, "carol", {"tag:server"}));
  EXPECT_THAT(peers(index, 1), ElementsAre(3));
  EXPECT_THAT(peers(index, 2), IsEmpty());

  // carol's laptop becomes a server; the server loses its tag.
  index.upsert(node(2, "carol", {"tag:server"}));
  index.upsert(node(3, "carol"));
  EXPECT_EQ(index.size(), 3u);
  EXPECT_THAT(peers(index, 1), ElementsAre(2));
  EXPECT_THAT(peers(index, 2), ElementsAre(1));
  EXPECT_THAT(peers(index, 3), IsEmpty());
  ASSERT_NE(index.subject(2), nullptr);
  EXPECT_EQ(index.subject(2)->tags, std::vector<std::string>{"tag:server"});

  index.remove(2);
  index.remove(42);  // unknown: no-op
  EXPECT_FALSE(index.contains(2));
  EXPECT_EQ(index.subject(2), nullptr);
  EXPECT_THAT(peers(index, 1), IsEmpty());
  EXPECT_FALSE(index.sees(1, 2));
  EXPECT_THAT(index.filter_for(2), IsEmpty());
}

TEST(PolicyIndex, HostsAndSubnetRoutes) {
  PolicyIndex index(policy(R"({
    "hosts": {"lan": "192.168.1.0/24", "db": "100.64.0.3"},
    "acls": [{"action": "accept", "src": ["alice"], "dst": ["lan:80", "db:5432"]}]})"));
  index.upsert(node(1, "alice"));
  index.upsert(node(2, "router", {}, {"192.168.1.128/25", "10.0.0.0/8"}));  // inside lan
  index.upsert(node(3, "bob"));                                             // is db
  index.upsert(node(4, "router", {}, {"192.168.0.0/16"}));                  // contains lan
  index.upsert(node(5, "carol", {}, {"172.16.0.0/12"}));                    // unrelated

  EXPECT_THAT(peers(index, 1), ElementsAre(2, 3, 4));
  EXPECT_THAT(peers(index, 2), ElementsAre(1));
  EXPECT_THAT(peers(index, 5), IsEmpty());

  FilterRule to_lan;
  to_lan.sources = {v4(1), v6(1)};
  to_lan.destinations = {dest(P("192.168.1.128/25"), {80, 80})};
  EXPECT_THAT(index.filter_for(2), ElementsAre(to_lan));
  to_lan.destinations = {dest(P("192.168.1.0/24"), {80, 80})};  // the overlap: the lan itself
  EXPECT_THAT(index.filter_for(4), ElementsAre(to_lan));
  FilterRule to_db;
  to_db.sources = {v4(1), v6(1)};
  to_db.destinations = {dest(v4(3), {5432, 5432})};  // only the address the host names
  EXPECT_THAT(index.filter_for(3), ElementsAre(to_db));

  // A route change moves the router in and out of the host's reach.
  index.upsert(node(2, "router"));
  EXPECT_THAT(peers(index, 1), ElementsAre(3, 4));
  EXPECT_THAT(index.filter_for(2), IsEmpty());
}

TEST(PolicyIndex, LiteralSourcesAreKeptAsWrittenAndNameTheirNodesAndRouters) {
  PolicyIndex index(policy(R"({"tagOwners": {"tag:web": []},
    "acls": [{"action": "accept", "src": ["100.64.0.0/30", "192.168.5.0/24"],
              "dst": ["tag:web:443"]}]})"));
  index.upsert(node(1, "alice"));                        // 100.64.0.1: inside the /30
  index.upsert(node(2, "bob", {}, {"192.168.5.0/24"}));  // routes the LAN source
  index.upsert(node(7, "carol"));                        // outside both
  index.upsert(node(9, "ops", {"tag:web"}));
  EXPECT_THAT(peers(index, 9), ElementsAre(1, 2));
  EXPECT_THAT(peers(index, 1), ElementsAre(9));
  EXPECT_THAT(peers(index, 7), IsEmpty());
  FilterRule web;
  web.sources = {P("100.64.0.0/30"), P("192.168.5.0/24")};
  web.destinations = {dest(v4(9), {443, 443}), dest(v6(9), {443, 443})};
  EXPECT_THAT(index.filter_for(9), ElementsAre(web));
  // Literal sources do not change when nodes do.
  EXPECT_THAT(dependents(index, node(1, "alice")), IsEmpty());
}

TEST(PolicyIndex, ExitNodesServeAutogroupInternet) {
  PolicyIndex index(policy(R"({"groups": {"group:travel": ["alice"]},
    "acls": [{"action": "accept", "src": ["group:travel"], "dst": ["autogroup:internet:*"]},
             {"action": "accept", "src": ["bob"], "dst": ["0.0.0.0/0:*"]}]})"));
  index.upsert(node(1, "alice"));
  index.upsert(node(2, "exit", {}, {"0.0.0.0/0", "::/0", "10.9.0.0/16"}));
  index.upsert(node(3, "carol", {}, {"10.9.0.0/16"}));  // a subnet router, not an exit node
  index.upsert(node(4, "bob"));

  EXPECT_THAT(peers(index, 1), ElementsAre(2, 4));  // bob's rule names alice's v4 address
  FilterRule internet;
  internet.sources = {v4(1), v6(1)};
  internet.destinations = {dest(P("0.0.0.0/0")), dest(P("::/0"))};
  // Rule 2's literal 0.0.0.0/0 reaches every IPv4 address and subnet route, not exit routes.
  FilterRule bobs;
  bobs.sources = {v4(4), v6(4)};
  bobs.destinations = {dest(P("10.9.0.0/16")), dest(v4(2))};
  EXPECT_THAT(index.filter_for(2), ElementsAre(internet, bobs));
  EXPECT_THAT(peers(index, 4), ElementsAre(1, 2, 3));
}

TEST(PolicyIndex, AutogroupsSplitMembersFromTaggedNodes) {
  PolicyIndex index(policy(R"({"tagOwners": {"tag:a": []},
    "acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:tagged:*"]}]})"));
  index.upsert(node(1, "alice"));
  index.upsert(node(2, "bob"));
  index.upsert(node(3, "alice", {"tag:a"}));
  EXPECT_THAT(peers(index, 1), ElementsAre(3));
  EXPECT_THAT(peers(index, 3), ElementsAre(1, 2));
  EXPECT_FALSE(index.sees(1, 2));
}

TEST(PolicyIndex, NodesNamedTwiceAreListedOnce) {
  PolicyIndex index(policy(R"({"acls": [
    {"action": "accept", "src": ["alice", "100.64.0.1"], "dst": ["bob:*", "100.64.0.3:22"]},
    {"action": "accept", "src": ["100.64.0.0/24"], "dst": ["carol:*"]}]})"));
  index.upsert(node(1, "alice"));
  index.upsert(node(2, "bob"));
  index.upsert(node(3, "bob"));
  index.upsert(node(4, "carol"));
  EXPECT_THAT(peers(index, 1), ElementsAre(2, 3, 4));
  EXPECT_THAT(peers(index, 3), ElementsAre(1, 4));
  EXPECT_THAT(peers(index, 4), ElementsAre(1, 2, 3));
  FilterRule to3;
  to3.sources = {v4(1), v6(1)};  // the literal duplicates alice's address: listed once
  to3.destinations = {dest(v4(3)), dest(v4(3), {22, 22}), dest(v6(3))};
  EXPECT_THAT(index.filter_for(3), ElementsAre(to3));
}

TEST(PolicyIndex, SetPolicyRecomputesEverything) {
  PolicyIndex index(policy("{}"));
  index.upsert(node(1, "alice"));
  index.upsert(node(2, "bob"));
  EXPECT_THAT(peers(index, 1), IsEmpty());
  EXPECT_THAT(index.filter_for(1), IsEmpty());
  index.set_policy(
      policy(R"({"acls": [{"action": "accept", "src": ["alice"], "dst": ["bob:*"]}]})"));
  EXPECT_THAT(peers(index, 1), ElementsAre(2));
  EXPECT_EQ(index.filter_for(2).size(), 1u);
  index.set_policy(allow_all_policy());
  EXPECT_THAT(peers(index, 2), ElementsAre(1));
}

TEST(PolicyIndex, EnumeratesInAscendingOrderWhicheverWayItMerges) {
  // Many small classes (one per user) make the index merge lists; a few big ones make it scan.
  PolicyIndex index(policy(R"({"groups": {"group:few": ["u1", "u2", "u3"]},
    "acls": [{"action": "accept", "src": ["group:few"], "dst": ["autogroup:member:*"]}]})"));
  std::vector<NodeId> expected_few;
  for (NodeId id = 200; id >= 1; --id) {
    std::string user = "u" + std::to_string(id % 40);
    index.upsert(node(id, user));
  }
  for (NodeId id = 1; id <= 200; ++id) {
    if (id % 40 >= 1 && id % 40 <= 3 && id != 1) expected_few.push_back(id);
  }
  std::vector<NodeId> all_but_1;
  for (NodeId id = 2; id <= 200; ++id) all_but_1.push_back(id);
  EXPECT_EQ(peers(index, 1), all_but_1);     // u1 is in the group: sees every member
  std::vector<NodeId> p5 = peers(index, 5);  // u5 sees the group's members only
  std::vector<NodeId> expected5;
  for (NodeId id : expected_few) expected5.push_back(id);
  expected5.insert(expected5.begin(), 1);
  EXPECT_EQ(p5, expected5);
  EXPECT_TRUE(std::is_sorted(p5.begin(), p5.end()));
}

}  // namespace
}  // namespace warren::control
