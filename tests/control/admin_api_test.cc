#include "nodes/control/admin_api.h"

#include <map>
#include <optional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/control/registry_test_support.h"

namespace warren::control {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RegistryHarness;
using ::testing::StartsWith;

class FakeLive final : public NodeLiveSource {
 public:
  NodeLive live(NodeId id) const override {
    auto it = nodes.find(id);
    return it == nodes.end() ? NodeLive{} : it->second;
  }
  std::map<NodeId, NodeLive> nodes;
};

class AdminApiTest : public ::testing::Test {
 protected:
  json call(const json& request) {
    std::optional<json> reply;
    int replies = 0;
    api_.handle(request, [&](json r) {
      reply = std::move(r);
      ++replies;
    });
    h_.run();
    EXPECT_EQ(replies, 1);
    EXPECT_TRUE(reply.has_value());
    if (!reply) return json();
    reply->dump();  // every reply serialises
    return *reply;
  }
  json run(const std::string& command, json args = json::object()) {
    return call({{"command", command}, {"args", std::move(args)}});
  }
  json ok(const std::string& command, json args = json::object()) {
    json reply = run(command, std::move(args));
    EXPECT_EQ(reply["ok"], true) << reply.dump();
    return reply["result"];
  }
  std::string error(const std::string& command, json args = json::object()) {
    json reply = run(command, std::move(args));
    EXPECT_EQ(reply["ok"], false) << reply.dump();
    return reply.value("error", "");
  }

  RegistryHarness h_;
  FakeLive live_;
  AdminApi api_{h_.env(), h_.reg(), live_};
};

TEST_F(AdminApiTest, MalformedRequestsGetErrors) {
  EXPECT_THAT(call(json::array()).value("error", ""), HasSubstr("a request is a JSON object"));
  EXPECT_THAT(call({{"args", json::object()}}).value("error", ""),
              HasSubstr("missing \"command\""));
  EXPECT_THAT(call({{"command", 5}}).value("error", ""), HasSubstr("expected a string"));
  EXPECT_THAT(call({{"command", "users.list"}, {"extra", 1}}).value("error", ""),
              HasSubstr("unknown argument \"extra\""));
  EXPECT_THAT(call({{"command", "users.list"}, {"args", json::array()}}).value("error", ""),
              HasSubstr("\"args\" must be an object"));
  // "args" may be left out for commands without any.
  EXPECT_EQ(call({{"command", "users.list"}})["ok"], true);
}

TEST_F(AdminApiTest, UnknownCommandsListTheCommands) {
  std::string e = error("users.lst");
  EXPECT_THAT(e, HasSubstr("unknown command \"users.lst\" (did you mean \"users.list\"?)"));
  EXPECT_THAT(e, HasSubstr("commands: users.create users.list"));
  EXPECT_THAT(e, HasSubstr("policy.set"));
}

TEST_F(AdminApiTest, UnknownArgsListTheAcceptedOnes) {
  std::string e = error("keys.create", {{"user", "alice"}, {"reusabel", true}});
  EXPECT_THAT(e, HasSubstr("keys.create: unknown argument \"reusabel\" (did you mean "
                           "\"reusable\"?); accepted: user, reusable, ephemeral, expiration_s, "
                           "tags"));
  EXPECT_THAT(error("users.list", {{"x", 1}}), HasSubstr("it takes no arguments"));
}

TEST_F(AdminApiTest, Users) {
  json alice = ok("users.create", {{"name", "alice"}});
  EXPECT_EQ(alice["id"], 1);
  EXPECT_EQ(alice["name"], "alice");
  EXPECT_EQ(alice["created"], kSimulatedUnixEpochNs / 1000000000);
  EXPECT_THAT(error("users.create", {{"name", "alice"}}), HasSubstr("already exists"));
  EXPECT_THAT(error("users.create", json::object()), HasSubstr("users.create: missing \"name\""));
  EXPECT_THAT(error("users.create", {{"name", 3}}),
              HasSubstr("users.create.name: expected a string"));
  ok("users.create", {{"name", "bob"}});
  json list = ok("users.list");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1]["name"], "bob");
  EXPECT_EQ(ok("users.delete", {{"name", "bob"}})["deleted"], "bob");
  EXPECT_EQ(ok("users.list").size(), 1u);
}

TEST_F(AdminApiTest, KeysShowTheSecretOnlyOnCreation) {
  ok("users.create", {{"name", "alice"}});
  json key =
      ok("keys.create",
         {{"user", "alice"}, {"reusable", true}, {"expiration_s", 3600}, {"tags", {"tag:web"}}});
  std::string text = key["key"];
  EXPECT_THAT(text, StartsWith("wk-"));
  EXPECT_EQ(key["prefix"], text.substr(0, 15));
  EXPECT_EQ(key["user"], "alice");
  EXPECT_EQ(key["reusable"], true);
  EXPECT_EQ(key["ephemeral"], false);
  EXPECT_EQ(key["used"], false);
  EXPECT_EQ(key["revoked"], false);
  EXPECT_EQ(key["expiration"], kSimulatedUnixEpochNs / 1000000000 + 3600);
  EXPECT_EQ(key["tags"], json({"tag:web"}));
  json list = ok("keys.list");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_FALSE(list[0].contains("key"));
  EXPECT_THAT(list.dump(), Not(HasSubstr(text.substr(16))));

  json never = ok("keys.create", {{"user", "alice"}});
  EXPECT_TRUE(never["expiration"].is_null());

  json expired = ok("keys.expire", {{"key", key["prefix"]}});
  EXPECT_EQ(expired["revoked"], true);
  EXPECT_EQ(expired["id"], 1);
  EXPECT_THAT(error("keys.expire", {{"key", "wk-ffffffffffff"}}), HasSubstr("unknown auth key"));
}

TEST_F(AdminApiTest, KeyArgsAreChecked) {
  ok("users.create", {{"name", "alice"}});
  EXPECT_THAT(error("keys.create", {{"user", "alice"}, {"expiration_s", -5}}),
              HasSubstr("keys.create.expiration_s: value -5 is out of range"));
  EXPECT_THAT(error("keys.create", {{"user", "alice"}, {"expiration_s", 1.5}}),
              HasSubstr("expected an integer"));
  EXPECT_THAT(error("keys.create", {{"user", "alice"}, {"reusable", "yes"}}),
              HasSubstr("keys.create.reusable: expected true or false"));
  EXPECT_THAT(error("keys.create", {{"user", "alice"}, {"tags", "tag:a"}}),
              HasSubstr("keys.create.tags: expected an array of strings"));
  EXPECT_THAT(error("keys.create", {{"user", "alice"}, {"tags", {1}}}),
              HasSubstr("keys.create.tags[0]: expected a string"));
  EXPECT_THAT(error("keys.create", {{"user", "alice"}, {"tags", {"web"}}}),
              HasSubstr("invalid tag \"web\""));
  EXPECT_THAT(error("keys.create", {{"user", "zed"}}), HasSubstr("unknown user \"zed\""));
}

TEST_F(AdminApiTest, NodesListShowsRegistryAndLiveFacts) {
  std::string key = h_.alice_key();
  ASSERT_TRUE(h_.register_node(1, key, "laptop").ok());
  ASSERT_TRUE(h_.register_node(2, key, "desktop").ok());
  NodeLive live;
  live.online = true;
  live.endpoints = {*Endpoint::parse("198.51.100.7:41641"),
                    *Endpoint::parse("[2001:db8::7]:41641")};
  live.home_relay = 3;
  live_.nodes[1] = live;
  json nodes = ok("nodes.list");
  ASSERT_EQ(nodes.size(), 2u);
  json n = nodes[0];
  EXPECT_EQ(n["id"], 1);
  EXPECT_EQ(n["name"], "laptop");
  EXPECT_EQ(n["hostname"], "laptop");
  EXPECT_EQ(n["user"], "alice");
  EXPECT_EQ(n["tags"], json::array());
  EXPECT_EQ(n["ipv4"], "100.64.0.1");
  EXPECT_EQ(n["ipv6"], "fd7a:115c:a1e0::1");
  EXPECT_EQ(n["node_key"], to_base64(testing::node_key(1)));
  EXPECT_EQ(n["machine_key"], to_base64(testing::machine_key(1)));
  EXPECT_EQ(n["online"], true);
  EXPECT_TRUE(n["last_seen"].is_null());
  EXPECT_TRUE(n["expiry"].is_null());
  EXPECT_EQ(n["expired"], false);
  EXPECT_EQ(n["ephemeral"], false);
  EXPECT_EQ(n["endpoints"], json({"198.51.100.7:41641", "[2001:db8::7]:41641"}));
  EXPECT_EQ(n["home_relay"], 3);
  EXPECT_EQ(nodes[1]["online"], false);
  EXPECT_EQ(nodes[1]["endpoints"], json::array());
}

TEST_F(AdminApiTest, NodeCommandsTakeIdsOrNames) {
  std::string key = h_.alice_key();
  ASSERT_TRUE(h_.register_node(1, key, "laptop").ok());
  ASSERT_TRUE(h_.register_node(2, key, "desktop").ok());
  json renamed = ok("nodes.rename", {{"node", "laptop"}, {"name", "work"}});
  EXPECT_EQ(renamed["name"], "work");
  EXPECT_EQ(renamed["id"], 1);
  EXPECT_THAT(error("nodes.rename", {{"node", 1}, {"name", "desktop"}}),
              HasSubstr("already used by node 2 (desktop)"));
  json expired = ok("nodes.expire", {{"node", 2}});
  EXPECT_EQ(expired["expired"], true);
  EXPECT_EQ(expired["expiry"], kSimulatedUnixEpochNs / 1000000000);
  json deleted = ok("nodes.delete", {{"node", "1"}});
  EXPECT_EQ(deleted["deleted"], json({{"id", 1}, {"name", "work"}}));
  EXPECT_EQ(ok("nodes.list").size(), 1u);
  EXPECT_THAT(error("nodes.delete", {{"node", "work"}}), HasSubstr("unknown node \"work\""));
  EXPECT_THAT(error("nodes.delete", json::object()), HasSubstr("missing \"node\""));
  EXPECT_THAT(error("nodes.delete", {{"node", true}}), HasSubstr("expected a node id or name"));
}

TEST_F(AdminApiTest, Routes) {
  std::string key = h_.alice_key();
  ASSERT_TRUE(
      h_.register_node(1, key, "router", {*Prefix::parse("10.0.0.0/24"), *Prefix::parse("::/0")})
          .ok());
  json routes = ok("routes.list");
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0], json({{"node", "router"},
                             {"node_id", 1},
                             {"prefix", "10.0.0.0/24"},
                             {"advertised", true},
                             {"approved", false},
                             {"exit", false}}));
  EXPECT_EQ(routes[1]["exit"], true);
  json approved = ok("routes.approve", {{"node", "router"}, {"prefixes", {"::/0"}}});
  ASSERT_EQ(approved.size(), 2u);
  EXPECT_EQ(approved[1]["approved"], true);
  EXPECT_EQ(approved[0]["approved"], false);
  EXPECT_THAT(error("routes.approve", {{"node", "router"}, {"prefixes", {"192.168.1.0/24"}}}),
              HasSubstr("does not advertise 192.168.1.0/24"));
  EXPECT_THAT(error("routes.approve", {{"node", "router"}, {"prefixes", {"10.0.0.1/24"}}}),
              HasSubstr("routes.approve.prefixes[0]: 10.0.0.1/24 has host bits set"));
  EXPECT_THAT(error("routes.approve", {{"node", "router"}}), HasSubstr("missing \"prefixes\""));
  json none = ok("routes.approve", {{"node", 1}, {"prefixes", json::array()}});
  EXPECT_EQ(none[1]["approved"], false);
}

TEST_F(AdminApiTest, Policy) {
  EXPECT_TRUE(ok("policy.get")["policy"].is_null());
  const std::string text =
      "{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"]}]}";
  EXPECT_EQ(ok("policy.set", {{"policy", text}})["rules"], 1);
  EXPECT_EQ(ok("policy.get")["policy"], text);
  std::string e = error("policy.set", {{"policy", "{\n  \"acls\": 5\n}"}});
  EXPECT_THAT(e, HasSubstr("policy rejected, the old one stays in force: line 2"));
  EXPECT_EQ(ok("policy.get")["policy"], text);
}

TEST_F(AdminApiTest, ChangesAreRepliedToAfterTheCommit) {
  uint64_t commits = h_.data().commits;
  bool replied = false;
  api_.handle({{"command", "users.create"}, {"args", {{"name", "alice"}}}}, [&](json r) {
    EXPECT_EQ(r["ok"], true);
    EXPECT_GT(h_.data().commits, commits);
    replied = true;
  });
  EXPECT_FALSE(replied);
  h_.run();
  EXPECT_TRUE(replied);
}

TEST_F(AdminApiTest, FailedCommitsAreReportedAsErrors) {
  h_.data().fail_next_commits = 1;
  EXPECT_THAT(error("users.create", {{"name", "alice"}}), HasSubstr("could not store the change"));
  EXPECT_EQ(ok("users.list").size(), 0u);
}

TEST_F(AdminApiTest, InvalidUtf8NeverBreaksAReply) {
  json request = {{"command", "users.create"}, {"args", {{"name", std::string("a\xff")}}}};
  json reply = call(request);
  EXPECT_EQ(reply["ok"], false);
  EXPECT_THAT(reply["error"].get<std::string>(), HasSubstr("\\xff"));
  json bad_command = call({{"command", std::string("\xc3\x28")}});
  EXPECT_EQ(bad_command["ok"], false);
}

}  // namespace
}  // namespace warren::control
