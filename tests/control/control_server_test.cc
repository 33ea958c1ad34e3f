#include "nodes/control/control_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nodes/control/admin_session.h"
#include "tests/control/control_world.h"

namespace warren::control {
namespace {

using ::testing::HasSubstr;

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cw.start_server().ok()); }
  ControlWorld cw;
};

TEST_F(ControlServerTest, ListensWhereConfiguredAndPublishesItsKey) {
  EXPECT_EQ(cw.server().listen_endpoint(), cw.server_endpoint());
  EXPECT_EQ(cw.server().public_key(), public_key(cw.server_key()));
}

TEST_F(ControlServerTest, PortZeroIsResolvedToTheBoundPort) {
  cw.stop_server();
  ControlServerOptions options = cw.default_options();
  options.listen.port = 0;
  ASSERT_TRUE(cw.start_server(options).ok());
  EXPECT_NE(cw.server().listen_endpoint().port, 0);
}

TEST_F(ControlServerTest, StartFailsWithAClearErrorWhenThePortIsTaken) {
  ControlWorld other;
  // Same host and port twice: the second server cannot bind.
  auto taken =
      other.world().host_with_address(IpAddress::v4(10, 0, 0, 1))->listen(other.server_endpoint());
  ASSERT_TRUE(taken.ok());
  Status started = other.start_server();
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.error().message, HasSubstr("10.0.0.1:8080"));
}

TEST_F(ControlServerTest, AdminRequestGetsOneReplyLineThenTheConnectionCloses) {
  nlohmann::json reply = cw.admin("users.create", {{"name", "alice"}});
  ASSERT_EQ(reply.value("ok", false), true) << reply.dump();
  nlohmann::json list = cw.admin("users.list");
  ASSERT_EQ(list.value("ok", false), true) << list.dump();
  EXPECT_THAT(list["result"].dump(), HasSubstr("alice"));
}

TEST_F(ControlServerTest, AdminReplyComesOnlyAfterTheChangeIsDurable) {
  const uint64_t commits_before = cw.store_data().commits;
  nlohmann::json reply = cw.admin("users.create", {{"name", "bob"}});
  ASSERT_EQ(reply.value("ok", false), true) << reply.dump();
  EXPECT_GT(cw.store_data().commits, commits_before);
}

TEST_F(ControlServerTest, MalformedAdminLineGetsAnErrorReply) {
  const std::string reply = cw.admin_raw("this is not json\n");
  nlohmann::json parsed = nlohmann::json::parse(reply, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << reply;
  EXPECT_EQ(parsed.value("ok", true), false);
  EXPECT_THAT(parsed.value("error", ""), HasSubstr("malformed admin request"));
}

TEST_F(ControlServerTest, AdminRequestThatIsNotAnObjectGetsAnErrorReply) {
  nlohmann::json parsed = nlohmann::json::parse(cw.admin_raw("[1, 2]\n"), nullptr, false);
  ASSERT_FALSE(parsed.is_discarded());
  EXPECT_EQ(parsed.value("ok", true), false);
}

TEST_F(ControlServerTest, OversizedAdminRequestIsRefusedWithoutReadingItAll) {
  const std::string huge(kMaxAdminMessageBytes + 10, 'x');
  nlohmann::json parsed = nlohmann::json::parse(cw.admin_raw(huge), nullptr, false);
  ASSERT_FALSE(parsed.is_discarded());
  EXPECT_EQ(parsed.value("ok", true), false);
  EXPECT_THAT(parsed.value("error", ""), HasSubstr("longer than"));
}

TEST_F(ControlServerTest, SilentAdminConnectionIsClosedAfterTheTimeout) {
  // No newline ever comes: the server gives up rather than holding the slot.
  const Timestamp start = cw.clock().now();
  const std::string reply = cw.admin_raw("{\"command\": \"users.list\"");
  EXPECT_EQ(reply, "");
  EXPECT_GE(cw.clock().now() - start, kAdminRequestTimeout);
}

TEST_F(ControlServerTest, StopClosesChannelsAndStopsListening) {
  const std::string key = cw.create_key("alice", /*reusable=*/true);
  TestClient& a = cw.add_client("a", key);
  ASSERT_TRUE(cw.connect(a));
  EXPECT_EQ(cw.server().core().session_count(), 1u);
  cw.server().stop();
  ASSERT_TRUE(cw.run_until([&] { return !a.record.errors.empty(); }));
  EXPECT_EQ(a.record.errors.front().kind, ControlClientError::Kind::connection);
  EXPECT_TRUE(a.record.errors.front().will_retry);
  EXPECT_EQ(cw.server().core().session_count(), 0u);
  // Nothing listens any more: the retries fail too.
  cw.run_for(Duration::seconds(5));
  EXPECT_FALSE(a.client->streaming());
}

TEST_F(ControlServerTest, ChannelClosedByThePeerEndsItsSession) {
  const std::string key = cw.create_key();
  TestClient& a = cw.add_client("a", key);
  ASSERT_TRUE(cw.connect(a));
  EXPECT_EQ(cw.server().core().session_count(), 1u);
  a.client->stop();
  ASSERT_TRUE(cw.run_until([&] { return cw.server().core().session_count() == 0; }));
}

TEST_F(ControlServerTest, PlainHttpOtherThanKeyAndUpgradeIsRefused) {
  auto stream =
      cw.world().host_with_address(IpAddress::v4(10, 0, 0, 2))->connect(cw.server_endpoint());
  std::string received;
  bool closed = false;
  Stream::Handlers handlers;
  handlers.on_data = [&](ByteView d) { received.append(d.as_string()); };
  handlers.on_closed = [&](const Status&) { closed = true; };
  stream->set_handlers(std::move(handlers));
  const std::string request = "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(stream->write(ByteView(std::string_view(request))).ok());
  ASSERT_TRUE(cw.run_until([&] { return closed; }));
  EXPECT_THAT(received, HasSubstr("HTTP/1.1 4"));
  EXPECT_EQ(cw.server().core().session_count(), 0u);
}

TEST_F(ControlServerTest, RestartKeepsNodesAndTheirAddresses) {
  const std::string key = cw.create_key();
  TestClient& a = cw.add_client("a", key);
  ASSERT_TRUE(cw.connect(a));
  const PeerNode first = a.record.registrations.front();
  cw.stop_server();
  ASSERT_TRUE(cw.start_server().ok());
  // The client reconnects by itself and registers again without the (spent) key.
  ASSERT_TRUE(
      cw.run_until([&] { return a.record.registrations.size() == 2; }, Duration::seconds(120)))
      << cw.log().text();
  const PeerNode& second = a.record.registrations.back();
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ(second.ipv4, first.ipv4);
  EXPECT_EQ(second.ipv6, first.ipv6);
  EXPECT_FALSE(a.fatal_error());
}

TEST_F(ControlServerTest, DeletedNodeDisappearsFromItsPeersMaps) {
  const std::string key = cw.create_key("alice", /*reusable=*/true);
  TestClient& a = cw.add_client("a", key);
  TestClient& b = cw.add_client("b", key);
  ASSERT_TRUE(cw.connect(a));
  ASSERT_TRUE(cw.connect(b));
  ASSERT_TRUE(cw.run_until([&] { return a.sees("b"); }));
  nlohmann::json deleted = cw.admin("nodes.delete", {{"node", "b"}});
  ASSERT_EQ(deleted.value("ok", false), true) << deleted.dump();
  ASSERT_TRUE(cw.run_until([&] { return !a.sees("b"); }, Duration::seconds(2)));
}

}  // namespace
}  // namespace warren::control
