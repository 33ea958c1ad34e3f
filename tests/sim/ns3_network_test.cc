// The ns-3 Network backend against the contracts of nodes/net: binding rules, concrete local
// addresses, handler timing and lifetime, stream events held until handlers are set, close.
#include "sim/ns3_network.h"

#include <gtest/gtest.h>

#include "tests/sim/sim_test_util.h"

namespace warren::sim::testing {
namespace {

// b (10.0.0.2, 2001:db8::2) -- a (10.0.0.1, 2001:db8::1) -- c (10.0.0.3, IPv4 only)
TopoSketch PairSketch() {
  TopoSketch t("pair");
  int a = t.Host("a", "10.0.0.1", "2001:db8::1");
  int b = t.Host("b", "10.0.0.2", "2001:db8::2");
  int c = t.Host("c", "10.0.0.3");
  int l_ab = t.Link(a, b);
  int l_ac = t.Link(a, c);
  t.Route(a, "10.0.0.2/32", l_ab);
  t.Route(a, "2001:db8::2/128", l_ab);
  t.Route(a, "10.0.0.3/32", l_ac);
  t.Route(b, "0.0.0.0/0", l_ab);
  t.Route(b, "::/0", l_ab);
  t.Route(c, "0.0.0.0/0", l_ac);
  return t;
}

// Everything a stream reported, in order.
struct StreamLog {
  std::vector<std::string> events;  // "connected", "data:<bytes>", "closed:ok"/"closed:error"
  Bytes data;
  std::string error;

  Stream::Handlers Handlers() {
    Stream::Handlers h;
    h.on_connected = [this] { events.push_back("connected"); };
    h.on_data = [this](ByteView d) {
      events.push_back("data:" + std::string(d.as_string()));
      data.insert(data.end(), d.begin(), d.end());
    };
    h.on_closed = [this](const Status& s) {
      events.push_back(s.ok() ? "closed:ok" : "closed:error");
      if (!s.ok()) error = s.error().message;
    };
    return h;
  }
};

class Ns3NetworkTest : public SimTest {
 protected:
  void SetUp() override {
    net_ = Build(PairSketch());
    ASSERT_NE(net_, nullptr);
    a_ = std::make_unique<Ns3Network>(net_->GetNode("a"));
    b_ = std::make_unique<Ns3Network>(net_->GetNode("b"));
    c_ = std::make_unique<Ns3Network>(net_->GetNode("c"));
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    c_.reset();
    SimTest::TearDown();
  }
  std::unique_ptr<UdpSocket> Udp(Ns3Network& n, const std::string& bind) {
    auto s = n.open_udp(Ep(bind));
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    return s.ok() ? std::move(s.value()) : nullptr;
  }

  std::unique_ptr<SimNetwork> net_;
  std::unique_ptr<Ns3Network> a_, b_, c_;
};

TEST_F(Ns3NetworkTest, LocalAddressesAreGlobalSortedAndUnique) {
  // `a` carries its two addresses on two interfaces; loopback and link-local are left out.
  EXPECT_EQ(a_->local_addresses(),
            (std::vector<IpAddress>{IpAddress::parse("10.0.0.1").value(),
                                    IpAddress::parse("2001:db8::1").value()}));
  EXPECT_EQ(c_->local_addresses(), (std::vector<IpAddress>{IpAddress::parse("10.0.0.3").value()}));
}

TEST_F(Ns3NetworkTest, BindRulesAreThoseOfARealHost) {
  auto foreign = b_->open_udp(Ep("10.0.0.9:5000"));
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("not on this host"), std::string::npos);

  auto first = Udp(*b_, "0.0.0.0:5000");
  auto again = b_->open_udp(Ep("0.0.0.0:5000"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("address in use"), std::string::npos);
  // IPv4 and IPv6 ports are separate, as on a dual-stack OS with v6-only sockets.
  EXPECT_TRUE(b_->open_udp(Ep("[::]:5000")).ok());

  auto no_v6 = c_->open_udp(Ep("[::]:5000"));
  ASSERT_FALSE(no_v6.ok());
  EXPECT_NE(no_v6.error().message.find("no ipv6 stack"), std::string::npos);
  EXPECT_FALSE(c_->listen(Ep("[::]:80")).ok());

  auto specific = Udp(*b_, "10.0.0.2:0");
  ASSERT_NE(specific, nullptr);
  EXPECT_EQ(specific->local_endpoint().address, IpAddress::parse("10.0.0.2").value());
  EXPECT_NE(specific->local_endpoint().port, 0) << "port 0 picks a free port";
  auto loopback = Udp(*b_, "127.0.0.1:6000");
  EXPECT_NE(loopback, nullptr);

  auto listener = b_->listen(Ep("0.0.0.0:7000"));
  ASSERT_TRUE(listener.ok());
  auto listener_again = b_->listen(Ep("0.0.0.0:7000"));
  EXPECT_FALSE(listener_again.ok());
}

TEST_F(Ns3NetworkTest, WildcardBindsReportTheConcreteLocalAddress) {
  std::vector<std::pair<Endpoint, Endpoint>> got4, got6;  // (from, local)
  auto recv4 = Udp(*b_, "0.0.0.0:5000");
  auto recv6 = Udp(*b_, "[::]:5000");
  recv4->set_receive_handler([&](const Endpoint& from, const Endpoint& local, ByteView) {
    got4.emplace_back(from, local);
  });
  recv6->set_receive_handler([&](const Endpoint& from, const Endpoint& local, ByteView) {
    got6.emplace_back(from, local);
  });
  auto send4 = Udp(*a_, "0.0.0.0:4000");
  auto send6 = Udp(*a_, "[::]:4000");
  At(net_->GetNode("a"), 1.0, [&] {
    EXPECT_TRUE(send4->send_to(Ep("10.0.0.2:5000"), ByteView(std::string_view("x"))).ok());
    EXPECT_TRUE(send6->send_to(Ep("[2001:db8::2]:5000"), ByteView(std::string_view("y"))).ok());
  });
  RunUntil(2.0);
  ASSERT_EQ(got4.size(), 1u) << "IPv6 sockets never see IPv4 traffic and vice versa";
  ASSERT_EQ(got6.size(), 1u);
  EXPECT_EQ(got4[0].first, Ep("10.0.0.1:4000"));
  EXPECT_EQ(got4[0].second, Ep("10.0.0.2:5000"));
  EXPECT_EQ(got6[0].first, Ep("[2001:db8::1]:4000"));
  EXPECT_EQ(got6[0].second, Ep("[2001:db8::2]:5000"));
}

TEST_F(Ns3NetworkTest, SendErrorsAreValues) {
  auto s = Udp(*a_, "0.0.0.0:4000");
  Status mismatch = s->send_to(Ep("[2001:db8::2]:5000"), ByteView(std::string_view("x")));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("family"), std::string::npos);
  At(net_->GetNode("a"), 1.0, [&] {
    Status no_route = s->send_to(Ep("192.0.2.99:5000"), ByteView(std::string_view("x")));
    ASSERT_FALSE(no_route.ok());
    EXPECT_NE(no_route.error().message.find("no route"), std::string::npos);
  });
  RunUntil(2.0);
}

TEST_F(Ns3NetworkTest, HandlerTimingAndSelfDestruction) {
  auto recv = Udp(*b_, "0.0.0.0:5000");
  auto send = Udp(*a_, "0.0.0.0:4000");
  std::vector<std::string> got;
  auto send_at = [&](double t, const std::string& payload) {
    At(net_->GetNode("a"), t, [&send, payload] {
      EXPECT_TRUE(send->send_to(Ep("10.0.0.2:5000"), ByteView(payload)).ok());
    });
  };
  send_at(1.0, "before-handler");  // dropped: no handler yet
  At(net_->GetNode("b"), 1.5, [&] {
    recv->set_receive_handler([&](const Endpoint&, const Endpoint&, ByteView payload) {
      got.emplace_back(payload.as_string());
      recv.reset();  // the handler may destroy its socket
    });
  });
  send_at(2.0, "first");
  send_at(2.0, "second");  // arrives after the socket is gone
  send_at(3.0, "third");
  RunUntil(4.0);
  EXPECT_EQ(got, std::vector<std::string>{"first"});
}

TEST_F(Ns3NetworkTest, StreamRoundTripAndEndpoints) {
  auto listener = b_->listen(Ep("0.0.0.0:7000"));
  ASSERT_TRUE(listener.ok());
  std::unique_ptr<Stream> accepted;
  StreamLog server, client;
  (*listener)->set_accept_handler([&](std::unique_ptr<Stream> s) {
    accepted = std::move(s);
    accepted->set_handlers(server.Handlers());
  });
  std::unique_ptr<Stream> stream;
  At(net_->GetNode("a"), 1.0, [&] {
    stream = a_->connect(Ep("10.0.0.2:7000"));
    stream->set_handlers(client.Handlers());
    EXPECT_TRUE(stream->write(ByteView(std::string_view("hello"))).ok());  // while connecting
    EXPECT_FALSE(stream->connected());
  });
  At(net_->GetNode("b"), 2.0,
     [&] { EXPECT_TRUE(accepted->write(ByteView(std::string_view("world"))).ok()); });
  RunUntil(3.0);
  EXPECT_EQ(client.events, (std::vector<std::string>{"connected", "data:world"}));
  EXPECT_EQ(server.events, (std::vector<std::string>{"data:hello"}));
  ASSERT_TRUE(stream->connected());
  EXPECT_EQ(stream->local_endpoint().address, IpAddress::parse("10.0.0.1").value());
  EXPECT_EQ(stream->remote_endpoint(), Ep("10.0.0.2:7000"));
  EXPECT_EQ(accepted->remote_endpoint(), stream->local_endpoint());
  EXPECT_EQ(accepted->local_endpoint(), Ep("10.0.0.2:7000"));
}

TEST_F(Ns3NetworkTest, FailedConnectionsCloseWithAnError) {
  StreamLog refused, no_stack, no_route;
  std::unique_ptr<Stream> s1, s2, s3;
  At(net_->GetNode("a"), 1.0, [&] {
    s1 = a_->connect(Ep("10.0.0.2:9"));  // nobody listens
    s1->set_handlers(refused.Handlers());
    s3 = a_->connect(Ep("192.0.2.99:80"));  // a has no route there
    s3->set_handlers(no_route.Handlers());
  });
  At(net_->GetNode("c"), 1.0, [&] {
    s2 = c_->connect(Ep("[2001:db8::2]:80"));
    s2->set_handlers(no_stack.Handlers());
  });
  RunUntil(2.0);
  EXPECT_EQ(refused.events, std::vector<std::string>{"closed:error"});
  EXPECT_EQ(no_stack.events, std::vector<std::string>{"closed:error"});
  EXPECT_NE(no_stack.error.find("no ipv6 stack"), std::string::npos);
  EXPECT_EQ(no_route.events, std::vector<std::string>{"closed:error"});
  EXPECT_NE(no_route.error.find("no route"), std::string::npos);
  EXPECT_FALSE(s1->write(ByteView(std::string_view("x"))).ok());
}

TEST_F(Ns3NetworkTest, StreamEventsAreHeldUntilHandlersAreSet) {
  auto listener = b_->listen(Ep("0.0.0.0:7000"));
  ASSERT_TRUE(listener.ok());
  std::unique_ptr<Stream> accepted;
  StreamLog server, client;
  // No accept handler until t=1.8: the connection waits in the backlog.
  At(net_->GetNode("b"), 1.8, [&] {
    (*listener)->set_accept_handler([&](std::unique_ptr<Stream> s) { accepted = std::move(s); });
  });
  std::unique_ptr<Stream> stream;
  At(net_->GetNode("a"), 1.0, [&] {
    stream = a_->connect(Ep("10.0.0.2:7000"));
    EXPECT_TRUE(stream->write(ByteView(std::string_view("hello"))).ok());
  });
  At(net_->GetNode("a"), 1.5, [&] { stream->set_handlers(client.Handlers()); });
  At(net_->GetNode("a"), 1.6, [&] { stream->close(); });  // flushes "hello", then FIN
  At(net_->GetNode("b"), 2.0, [&] {
    ASSERT_NE(accepted, nullptr);
    accepted->set_handlers(server.Handlers());
  });
  RunUntil(3.0);
  EXPECT_EQ(client.events, std::vector<std::string>{"connected"});
  EXPECT_EQ(server.events, (std::vector<std::string>{"data:hello", "closed:ok"}));
}

TEST_F(Ns3NetworkTest, CloseFlushesQueuedBytesAfterTheStreamIsGone) {
  auto listener = b_->listen(Ep("0.0.0.0:7000"));
  ASSERT_TRUE(listener.ok());
  std::unique_ptr<Stream> accepted;
  StreamLog server;
  (*listener)->set_accept_handler([&](std::unique_ptr<Stream> s) {
    accepted = std::move(s);
    accepted->set_handlers(server.Handlers());
  });
  const Bytes payload(300 * 1000, 0x5a);
  size_t pending_after_write = 0;
  At(net_->GetNode("a"), 1.0, [&] {
    auto stream = a_->connect(Ep("10.0.0.2:7000"));
    EXPECT_TRUE(stream->write(payload).ok());
    pending_after_write = stream->pending_write_bytes();
    stream->close();
    EXPECT_FALSE(stream->write(payload).ok()) << "writes after close fail";
  });  // the Stream is destroyed here, mid-flush
  RunUntil(3.0);
  EXPECT_EQ(pending_after_write, payload.size()) << "nothing sent while connecting";
  EXPECT_EQ(server.data.size(), payload.size());
  ASSERT_FALSE(server.events.empty());
  EXPECT_EQ(server.events.back(), "closed:ok");
}

TEST_F(Ns3NetworkTest, HandlerMayDestroyTheStream) {
  auto listener = b_->listen(Ep("0.0.0.0:7000"));
  ASSERT_TRUE(listener.ok());
  std::unique_ptr<Stream> accepted;
  int data_calls = 0;
  (*listener)->set_accept_handler([&](std::unique_ptr<Stream> s) {
    accepted = std::move(s);
    Stream::Handlers h;
    h.on_data = [&](ByteView) {
      ++data_calls;
      accepted.reset();
    };
    h.on_closed = [&](const Status&) { ADD_FAILURE() << "no handler after destruction"; };
    accepted->set_handlers(std::move(h));
  });
  std::unique_ptr<Stream> stream;
  StreamLog client;
  At(net_->GetNode("a"), 1.0, [&] {
    stream = a_->connect(Ep("10.0.0.2:7000"));
    stream->set_handlers(client.Handlers());
    EXPECT_TRUE(stream->write(Bytes(200 * 1000, 1)).ok());
  });
  RunUntil(3.0);
  EXPECT_EQ(data_calls, 1);
  EXPECT_EQ(accepted, nullptr);
  ASSERT_FALSE(client.events.empty());
  EXPECT_EQ(client.events.front(), "connected");
  EXPECT_EQ(client.events.back().rfind("closed:", 0), 0u) << "the peer learns it is gone";
}

TEST_F(Ns3NetworkTest, DestroyingTheListenerKeepsAcceptedStreams) {
  auto listener = b_->listen(Ep("0.0.0.0:7000"));
  ASSERT_TRUE(listener.ok());
  std::unique_ptr<Stream> accepted;
  StreamLog server;
  (*listener)->set_accept_handler([&](std::unique_ptr<Stream> s) {
    accepted = std::move(s);
    accepted->set_handlers(server.Handlers());
  });
  std::unique_ptr<Stream> stream, late;
  StreamLog late_log;
  At(net_->GetNode("a"), 1.0, [&] { stream = a_->connect(Ep("10.0.0.2:7000")); });
  At(net_->GetNode("b"), 1.5, [&] { listener.value().reset(); });
  At(net_->GetNode("a"), 2.0, [&] {
    EXPECT_TRUE(stream->write(ByteView(std::string_view("still here"))).ok());
    late = a_->connect(Ep("10.0.0.2:7000"));
    late->set_handlers(late_log.Handlers());
  });
  RunUntil(3.0);
  EXPECT_EQ(server.events, std::vector<std::string>{"data:still here"});
  EXPECT_EQ(late_log.events, std::vector<std::string>{"closed:error"});
}

}  // namespace
}  // namespace warren::sim::testing
