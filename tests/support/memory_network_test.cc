#include "tests/support/memory_network.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warren {
namespace {

using ::testing::HasSubstr;

IpAddress ip(const char* text) {
  return IpAddress::parse(text).value();
}
Endpoint ep(const char* text) {
  return Endpoint::parse(text).value();
}

struct Received {
  Endpoint from;
  Endpoint local;
  std::string payload;
  Timestamp when;
};

class MemoryNetworkTest : public ::testing::Test {
 protected:
  MemoryWorld world{Duration::milliseconds(10)};
  MemoryHost& a = world.add_host("a", {ip("192.0.2.1"), ip("2001:db8::1")});
  MemoryHost& b = world.add_host("b", {ip("198.51.100.2"), ip("192.0.2.2")});

  std::unique_ptr<UdpSocket> bind_recording(MemoryHost& host, const Endpoint& at,
                                            std::vector<Received>& into) {
    auto socket = host.open_udp(at);
    EXPECT_TRUE(socket.ok()) << socket.error().message;
    (*socket)->set_receive_handler(
        [&into, this](const Endpoint& from, const Endpoint& local, ByteView payload) {
          into.push_back({from, local, std::string(payload.as_string()), world.clock().now()});
        });
    return std::move(*socket);
  }
};

TEST_F(MemoryNetworkTest, EphemeralPortsCountUpFrom49152PerHost) {
  auto s1 = a.open_udp(ep("0.0.0.0:0"));
  auto s2 = a.open_udp(ep("192.0.2.1:0"));
  auto s3 = b.open_udp(ep("0.0.0.0:0"));
  ASSERT_TRUE(s1.ok() && s2.ok() && s3.ok());
  EXPECT_EQ((*s1)->local_endpoint(), ep("0.0.0.0:49152"));
  EXPECT_EQ((*s2)->local_endpoint(), ep("192.0.2.1:49153"));
  EXPECT_EQ((*s3)->local_endpoint(), ep("0.0.0.0:49152"));
  // A port taken explicitly is skipped.
  auto taken = a.open_udp(ep("0.0.0.0:49154"));
  ASSERT_TRUE(taken.ok());
  auto s4 = a.open_udp(ep("0.0.0.0:0"));
  EXPECT_EQ((*s4)->local_endpoint().port, 49155);
}

TEST_F(MemoryNetworkTest, BindErrorsNameTheAddressAndTheReason) {
  auto foreign = a.open_udp(ep("198.51.100.2:1000"));
  ASSERT_FALSE(foreign.ok());
  EXPECT_THAT(foreign.error().message, HasSubstr("198.51.100.2:1000"));
  EXPECT_THAT(foreign.error().message, HasSubstr("Cannot assign requested address"));

  auto no_v6 = b.open_udp(ep("[::]:0"));
  ASSERT_FALSE(no_v6.ok());
  EXPECT_THAT(no_v6.error().message, HasSubstr("has no ipv6 address"));

  auto first = a.open_udp(ep("0.0.0.0:3478"));
  ASSERT_TRUE(first.ok());
  auto concrete = a.open_udp(ep("192.0.2.1:3478"));
  ASSERT_FALSE(concrete.ok());
  EXPECT_EQ(concrete.error().message, "cannot bind 192.0.2.1:3478: Address already in use");
  // IPv6 sockets are v6-only, so the same port is free in the other family.
  EXPECT_TRUE(a.open_udp(ep("[::]:3478")).ok());
}

TEST_F(MemoryNetworkTest, ConcreteBindsOfDifferentAddressesCoexistButBlockTheWildcard) {
  auto one = b.open_udp(ep("192.0.2.2:53"));
  auto two = b.open_udp(ep("198.51.100.2:53"));
  EXPECT_TRUE(one.ok());
  EXPECT_TRUE(two.ok());
  EXPECT_FALSE(b.open_udp(ep("0.0.0.0:53")).ok());
}

TEST_F(MemoryNetworkTest, UdpArrivesAfterTheLatencyWithConcreteEndpoints) {
  std::vector<Received> at_b;
  auto server = bind_recording(b, ep("0.0.0.0:7"), at_b);
  auto client = a.open_udp(ep("0.0.0.0:0"));
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->send_to(ep("198.51.100.2:7"), ByteView(std::string_view("hi"))).ok());
  world.run_for(Duration::milliseconds(9));
  EXPECT_TRUE(at_b.empty());
  world.run_for(Duration::milliseconds(1));
  ASSERT_EQ(at_b.size(), 1u);
  EXPECT_EQ(at_b[0].from, ep("192.0.2.1:49152"));  // the host's lowest IPv4 address
  EXPECT_EQ(at_b[0].local, ep("198.51.100.2:7"));  // concrete although bound to 0.0.0.0
  EXPECT_EQ(at_b[0].payload, "hi");
  EXPECT_EQ(world.counters().udp_delivered, 1u);
}

TEST_F(MemoryNetworkTest, SendingToAHostOwnAddressUsesItAsTheSource) {
  std::vector<Received> got;
  auto server = bind_recording(b, ep("0.0.0.0:9"), got);
  auto client = b.open_udp(ep("0.0.0.0:0"));
  ASSERT_TRUE((*client)->send_to(ep("192.0.2.2:9"), ByteView(std::string_view("x"))).ok());
  ASSERT_TRUE((*client)->send_to(ep("127.0.0.1:9"), ByteView(std::string_view("y"))).ok());
  world.run_for(Duration::milliseconds(10));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].from.address, ip("192.0.2.2"));
  EXPECT_EQ(got[1].from.address, ip("127.0.0.1"));
  EXPECT_EQ(got[1].local, ep("127.0.0.1:9"));
}

TEST_F(MemoryNetworkTest, FamilyMismatchIsAnErrorAndLoopbackStaysOnTheHost) {
  auto v4 = a.open_udp(ep("0.0.0.0:0"));
  Status mismatch = (*v4)->send_to(ep("[2001:db8::1]:9"), ByteView(std::string_view("x")));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(mismatch.error().message, HasSubstr("address families differ"));

  std::vector<Received> at_b;
  auto on_b = bind_recording(b, ep("0.0.0.0:5000"), at_b);
  auto lo = a.open_udp(ep("127.0.0.1:0"));
  EXPECT_FALSE((*lo)->send_to(ep("198.51.100.2:5000"), ByteView(std::string_view("x"))).ok());
}

TEST_F(MemoryNetworkTest, FilterDropsAndCounts) {
  std::vector<Received> got;
  auto server = bind_recording(b, ep("0.0.0.0:7"), got);
  auto client = a.open_udp(ep("0.0.0.0:0"));
  world.set_udp_filter([](const Endpoint&, const Endpoint&, ByteView payload) {
    return payload.as_string() == "drop me";
  });
  ASSERT_TRUE((*client)->send_to(ep("192.0.2.2:7"), ByteView(std::string_view("drop me"))).ok());
  ASSERT_TRUE((*client)->send_to(ep("192.0.2.2:7"), ByteView(std::string_view("keep"))).ok());
  ASSERT_TRUE((*client)->send_to(ep("192.0.2.2:8"), ByteView(std::string_view("nobody"))).ok());
  world.run_for(Duration::milliseconds(20));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "keep");
  EXPECT_EQ(world.counters().udp_sent, 3u);
  EXPECT_EQ(world.counters().udp_filtered, 1u);
  EXPECT_EQ(world.counters().udp_unreachable, 1u);
}

TEST_F(MemoryNetworkTest, DatagramsBeforeAHandlerIsSetAreDropped) {
  auto server = b.open_udp(ep("0.0.0.0:7"));
  auto client = a.open_udp(ep("0.0.0.0:0"));
  ASSERT_TRUE((*client)->send_to(ep("192.0.2.2:7"), ByteView(std::string_view("early"))).ok());
  world.run_for(Duration::milliseconds(20));
  int calls = 0;
  (*server)->set_receive_handler([&](const Endpoint&, const Endpoint&, ByteView) { ++calls; });
  world.run_for(Duration::milliseconds(20));
  EXPECT_EQ(calls, 0);
}

TEST_F(MemoryNetworkTest, ConnectToAnUnknownAddressFailsWithNoRoute) {
  auto stream = a.connect(ep("203.0.113.9:80"));
  std::optional<Status> closed;
  stream->set_handlers({nullptr, nullptr, [&](const Status& s) { closed = s; }});
  ASSERT_TRUE(world.run_until([&] { return closed.has_value(); }, Duration::seconds(1)));
  ASSERT_FALSE(closed->ok());
  EXPECT_THAT(closed->error().message, HasSubstr("203.0.113.9:80"));
  EXPECT_THAT(closed->error().message, HasSubstr("No route to host"));
}

TEST_F(MemoryNetworkTest, ConnectionsWaitInTheBacklogAndDataWaitsForHandlers) {
  auto listener = b.listen(ep("0.0.0.0:80"));
  ASSERT_TRUE(listener.ok());
  auto client = a.connect(ep("192.0.2.2:80"));
  ASSERT_TRUE(client->write(ByteView(std::string_view("hello"))).ok());
  EXPECT_EQ(client->pending_write_bytes(), 5u);
  EXPECT_FALSE(client->connected());
  bool client_connected = false;
  client->set_handlers({[&] { client_connected = true; }, nullptr, nullptr});
  world.run_for(Duration::milliseconds(100));
  EXPECT_TRUE(client_connected);
  EXPECT_EQ(client->pending_write_bytes(), 0u);
  EXPECT_EQ(client->local_endpoint(), ep("192.0.2.1:49152"));

  std::unique_ptr<Stream> accepted;
  (*listener)->set_accept_handler([&](std::unique_ptr<Stream> s) { accepted = std::move(s); });
  ASSERT_TRUE(world.run_until([&] { return accepted != nullptr; }, Duration::seconds(1)));
  EXPECT_EQ(accepted->remote_endpoint(), ep("192.0.2.1:49152"));
  EXPECT_EQ(accepted->local_endpoint(), ep("192.0.2.2:80"));
  std::string got;
  accepted->set_handlers(
      {nullptr, [&](ByteView d) { got += std::string(d.as_string()); }, nullptr});
  ASSERT_TRUE(world.run_until([&] { return got == "hello"; }, Duration::seconds(1)));
}

TEST_F(MemoryNetworkTest, DestroyingAListenerResetsConnectionsNotYetAccepted) {
  auto listener = b.listen(ep("192.0.2.2:80"));
  ASSERT_TRUE(listener.ok());
  auto client = a.connect(ep("192.0.2.2:80"));
  std::optional<Status> closed;
  client->set_handlers({nullptr, nullptr, [&](const Status& s) { closed = s; }});
  world.run_for(Duration::milliseconds(30));
  listener->reset();
  ASSERT_TRUE(world.run_until([&] { return closed.has_value(); }, Duration::seconds(1)));
  ASSERT_FALSE(closed->ok());
  EXPECT_THAT(closed->error().message, HasSubstr("reset"));
}

TEST_F(MemoryNetworkTest, SegmentsKeepTheirOrderWhenTheLatencyShrinks) {
  auto listener = b.listen(ep("192.0.2.2:80"));
  std::unique_ptr<Stream> accepted;
  std::string got;
  (*listener)->set_accept_handler([&](std::unique_ptr<Stream> s) {
    accepted = std::move(s);
    accepted->set_handlers(
        {nullptr, [&](ByteView d) { got += std::string(d.as_string()); }, nullptr});
  });
  auto client = a.connect(ep("192.0.2.2:80"));
  client->set_handlers({});
  ASSERT_TRUE(world.run_until([&] { return client->connected(); }, Duration::seconds(1)));
  world.set_latency(Duration::milliseconds(100));
  ASSERT_TRUE(client->write(ByteView(std::string_view("first,"))).ok());
  world.set_latency(Duration::milliseconds(1));
  ASSERT_TRUE(client->write(ByteView(std::string_view("second"))).ok());
  ASSERT_TRUE(world.run_until([&] { return got.size() == 12; }, Duration::seconds(1)));
  EXPECT_EQ(got, "first,second");
}

TEST_F(MemoryNetworkTest, CloseWhileConnectingStillDeliversTheQueuedBytes) {
  auto listener = b.listen(ep("192.0.2.2:80"));
  std::unique_ptr<Stream> accepted;
  std::string got;
  std::optional<Status> closed;
  (*listener)->set_accept_handler([&](std::unique_ptr<Stream> s) {
    accepted = std::move(s);
    accepted->set_handlers({nullptr, [&](ByteView d) { got += std::string(d.as_string()); },
                            [&](const Status& reason) { closed = reason; }});
  });
  auto client = a.connect(ep("192.0.2.2:80"));
  ASSERT_TRUE(client->write(ByteView(std::string_view("last words"))).ok());
  client->close();
  client.reset();  // destroying after close() does not abort the flush
  ASSERT_TRUE(world.run_until([&] { return closed.has_value(); }, Duration::seconds(1)));
  EXPECT_EQ(got, "last words");
  EXPECT_TRUE(closed->ok());
}

TEST_F(MemoryNetworkTest, SameCallsGiveTheSameTimeline) {
  auto run = [] {
    MemoryWorld w(Duration::milliseconds(3));
    MemoryHost& x = w.add_host("x", {ip("192.0.2.1")});
    MemoryHost& y = w.add_host("y", {ip("192.0.2.2")});
    std::vector<std::string> log;
    auto server = y.open_udp(ep("0.0.0.0:7")).value();
    server->set_receive_handler([&](const Endpoint& from, const Endpoint&, ByteView p) {
      log.push_back(std::to_string(w.clock().now().ns()) + " " + from.to_string() + " " +
                    std::string(p.as_string()));
    });
    std::vector<std::unique_ptr<UdpSocket>> clients;
    for (int i = 0; i < 5; ++i) {
      clients.push_back(x.open_udp(ep("0.0.0.0:0")).value());
      w.clock().schedule_after(Duration::milliseconds(i % 2), [&clients, i] {
        (void)clients[i]->send_to(ep("192.0.2.2:7"), ByteView(std::string_view("p")));
      });
    }
    w.run_for(Duration::milliseconds(50));
    return log;
  };
  std::vector<std::string> first = run();
  EXPECT_EQ(first.size(), 5u);
  EXPECT_EQ(first, run());
}

}  // namespace
}  // namespace warren
