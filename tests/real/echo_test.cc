// The same test bodies on every backend: the in-memory network (IPv4 and IPv6 hosts) and real
// loopback sockets (127.0.0.1 and ::1). A protocol written against Env that passes here behaves
// the same in unit tests and on a real host.
#include "tests/support/echo.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "nodes/real/real_loop.h"
#include "nodes/real/system_rng.h"
#include "tests/support/memory_network.h"

namespace warren {
namespace {

using ::testing::HasSubstr;

// Long enough for a loaded CI machine, short enough that a broken backend fails instead of
// hanging. Manual time in the memory backend, wall time in the real one.
constexpr Duration kTimeout = Duration::seconds(10);

template <Family F>
class MemoryBackend {
 public:
  static constexpr Family kFamily = F;
  MemoryBackend()
      : server_host_(world_.add_host("server", {IpAddress::parse("192.0.2.1").value(),
                                                IpAddress::parse("2001:db8::1").value()})),
        client_host_(world_.add_host("client", {IpAddress::parse("192.0.2.2").value(),
                                                IpAddress::parse("2001:db8::2").value()})) {}

  bool available(Family) const { return true; }
  IpAddress server_address(Family f) const { return pick(server_host_, f); }
  IpAddress client_address(Family f) const { return pick(client_host_, f); }
  Env server_env() { return Env{world_.clock(), server_host_, rng_, Logger()}; }
  Env client_env() { return Env{world_.clock(), client_host_, rng_, Logger()}; }
  Clock& clock() { return world_.clock(); }
  bool run_until(const std::function<bool()>& done, Duration timeout) {
    return world_.run_until(done, timeout);
  }
  void run_for(Duration d) { world_.run_for(d); }

 private:
  static IpAddress pick(const MemoryHost& host, Family f) {
    for (const IpAddress& a : host.addresses()) {
      if (a.family() == f) return a;
    }
    return IpAddress::any(f);
  }
  MemoryWorld world_;
  MemoryHost& server_host_;
  MemoryHost& client_host_;
  SeededRng rng_{1, "echo-test"};
};

template <Family F>
class RealBackend {
 public:
  static constexpr Family kFamily = F;
  // Whether this machine can bind the loopback address of `f` (containers may lack ::1).
  bool available(Family f) {
    return loop_.network().open_udp(Endpoint(IpAddress::loopback(f), 0)).ok();
  }
  IpAddress server_address(Family f) const { return IpAddress::loopback(f); }
  IpAddress client_address(Family f) const { return IpAddress::loopback(f); }
  Env server_env() { return Env{loop_.clock(), loop_.network(), rng_, Logger()}; }
  Env client_env() { return server_env(); }
  Clock& clock() { return loop_.clock(); }
  bool run_until(const std::function<bool()>& done, Duration timeout) {
    return loop_.run_until(done, timeout);
  }
  void run_for(Duration d) { loop_.run_for(d); }

 private:
  RealLoop loop_;
  SystemRng rng_;
};

template <typename Backend>
class EchoTest : public ::testing::Test {
 protected:
  static constexpr Family kFamily = Backend::kFamily;

  void SetUp() override {
    if (!backend_.available(kFamily)) {
      GTEST_SKIP() << "cannot bind " << IpAddress::loopback(kFamily).to_string() << " here";
    }
  }

  IpAddress server_address() const { return backend_.server_address(kFamily); }
  IpAddress client_address() const { return backend_.client_address(kFamily); }
  bool run_until(const std::function<bool()>& done) { return backend_.run_until(done, kTimeout); }

  // A port on the server address where nobody listens.
  uint16_t closed_port() {
    Env env = backend_.server_env();
    auto listener = env.network.listen(Endpoint(server_address(), 0));
    EXPECT_TRUE(listener.ok()) << listener.error().message;
    return (*listener)->local_endpoint().port;  // closed again when `listener` goes
  }

  Backend backend_;
};

using Backends = ::testing::Types<MemoryBackend<Family::ipv4>, MemoryBackend<Family::ipv6>,
                                  RealBackend<Family::ipv4>, RealBackend<Family::ipv6>>;

class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int i) {
    static const char* const kNames[] = {"MemoryIpv4", "MemoryIpv6", "RealIpv4", "RealIpv6"};
    return kNames[i];
  }
};

TYPED_TEST_SUITE(EchoTest, Backends, BackendNames);

TYPED_TEST(EchoTest, UdpEchoComesBackWithConcreteEndpoints) {
  EchoServer server(this->backend_.server_env());
  EchoClient client(this->backend_.client_env());
  ASSERT_TRUE(server.start_udp(Endpoint(IpAddress::any(this->kFamily), 0)).ok());
  const uint16_t port = server.udp_endpoint().port;
  ASSERT_NE(port, 0);
  EXPECT_TRUE(server.udp_endpoint().address.is_unspecified());
  ASSERT_TRUE(client.open_udp(Endpoint(this->client_address(), 0)).ok());
  const Endpoint target(this->server_address(), port);

  const std::vector<Bytes> payloads = {Bytes(), Bytes{1, 2, 3}, Bytes(1200, 0xab),
                                       Bytes(8000, 0x5c)};
  // One at a time: UDP may reorder, and this test is about endpoints, not ordering.
  for (size_t i = 0; i < payloads.size(); ++i) {
    ASSERT_TRUE(client.send(target, payloads[i]).ok());
    ASSERT_TRUE(this->run_until([&] { return client.reply_count() == i + 1; }))
        << "no echo of a " << payloads[i].size() << "-byte datagram";
  }
  ASSERT_EQ(client.replies().size(), payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) {
    EXPECT_EQ(client.replies()[i].payload, payloads[i]);
    EXPECT_EQ(client.replies()[i].from, target);  // the reply comes from where we sent
    EXPECT_EQ(client.replies()[i].local, client.udp_endpoint());
  }
  // The server's socket is bound to the wildcard, yet it learns the concrete local address.
  EXPECT_EQ(server.stats().last_local, target);
  EXPECT_EQ(server.stats().last_from, client.udp_endpoint());
}

TYPED_TEST(EchoTest, DatagramsToADestroyedSocketRunNoHandler) {
  Env server_env = this->backend_.server_env();
  Env client_env = this->backend_.client_env();
  auto receiver = server_env.network.open_udp(Endpoint(this->server_address(), 0));
  auto sender = client_env.network.open_udp(Endpoint(this->client_address(), 0));
  ASSERT_TRUE(receiver.ok() && sender.ok());
  std::unique_ptr<UdpSocket> socket = std::move(*receiver);
  int calls = 0;
  socket->set_receive_handler([&](const Endpoint&, const Endpoint&, ByteView) {
    ++calls;
    socket.reset();  // destroying the socket inside its own handler is allowed
  });
  const Endpoint target = socket->local_endpoint();
  ASSERT_TRUE((*sender)->send_to(target, Bytes{1}).ok());
  ASSERT_TRUE((*sender)->send_to(target, Bytes{2}).ok());
  ASSERT_TRUE(this->run_until([&] { return calls > 0; }));
  this->backend_.run_for(Duration::milliseconds(50));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(socket, nullptr);
}

TYPED_TEST(EchoTest, StreamEchoesAMebibyteWrittenInChunks) {
  EchoServer server(this->backend_.server_env());
  EchoClient client(this->backend_.client_env());
  ASSERT_TRUE(server.start_tcp(Endpoint(this->server_address(), 0)).ok());
  client.connect(server.tcp_endpoint());

  constexpr size_t kTotal = size_t{1} << 20;
  constexpr size_t kChunk = 16384 + 7;  // not a divisor of kTotal, so the last chunk is short
  Bytes sent(kTotal);
  for (size_t i = 0; i < kTotal; ++i) sent[i] = static_cast<uint8_t>((i * 131 + i / 4096) & 0xff);
  for (size_t off = 0; off < kTotal; off += kChunk) {
    ASSERT_TRUE(client.write(ByteView(sent).sub(off, kChunk)).ok());
  }
  // Written while still connecting: all of it is queued.
  EXPECT_EQ(client.stream()->pending_write_bytes(), kTotal);

  ASSERT_TRUE(this->run_until([&] { return client.received().size() >= kTotal; }))
      << "received " << client.received().size() << " of " << kTotal << " bytes";
  EXPECT_TRUE(client.connected());
  EXPECT_TRUE(client.stream()->connected());
  EXPECT_EQ(client.stream()->pending_write_bytes(), 0u);
  EXPECT_TRUE(client.received() == sent) << "the echo differs from what was sent";
  EXPECT_EQ(server.stats().stream_bytes, kTotal);
  EXPECT_EQ(client.stream()->remote_endpoint(), server.tcp_endpoint());
  EXPECT_EQ(client.stream()->local_endpoint().address, this->client_address());
  EXPECT_FALSE(client.closed().has_value());
}

TYPED_TEST(EchoTest, ConnectingToAClosedPortFails) {
  EchoClient client(this->backend_.client_env());
  const Endpoint target(this->server_address(), this->closed_port());
  client.connect(target);
  ASSERT_TRUE(this->run_until([&] { return client.closed().has_value(); }));
  ASSERT_FALSE(client.closed()->ok());
  EXPECT_THAT(client.closed()->error().message, HasSubstr(target.to_string()));
  EXPECT_THAT(client.closed()->error().message, HasSubstr("refused"));
  EXPECT_FALSE(client.connected());
  EXPECT_FALSE(client.stream()->write(Bytes{1}).ok());
}

TYPED_TEST(EchoTest, PeerCloseIsACleanCloseOnBothSides) {
  EchoServer server(this->backend_.server_env());
  ASSERT_TRUE(server.start_tcp(Endpoint(IpAddress::any(this->kFamily), 0)).ok());
  const Endpoint target(this->server_address(), server.tcp_endpoint().port);

  // The server closes: the client sees on_closed(ok) after the echo.
  EchoClient first(this->backend_.client_env());
  first.connect(target);
  ASSERT_TRUE(first.write(ByteView(std::string_view("hello"))).ok());
  ASSERT_TRUE(this->run_until([&] { return first.received().size() == 5; }));
  server.close_streams();
  ASSERT_TRUE(this->run_until([&] { return first.closed().has_value(); }));
  EXPECT_TRUE(first.closed()->ok()) << first.closed()->error().message;
  EXPECT_FALSE(first.stream()->write(Bytes{1}).ok());

  // The client closes right after writing: the server still gets every byte, then a clean
  // EOF; the client hears nothing more, not even the echo.
  EchoClient second(this->backend_.client_env());
  second.connect(target);
  const Bytes payload(65536, 0x42);
  ASSERT_TRUE(second.write(payload).ok());
  second.close();
  ASSERT_TRUE(this->run_until([&] { return server.stats().streams_closed_ok == 1; }));
  EXPECT_EQ(server.stats().stream_bytes, 5 + payload.size());
  EXPECT_EQ(server.open_streams(), 0u);
  this->backend_.run_for(Duration::milliseconds(50));
  EXPECT_TRUE(second.received().empty());
  EXPECT_FALSE(second.closed().has_value());
  EXPECT_FALSE(second.write(Bytes{1}).ok());
}

TYPED_TEST(EchoTest, DestroyingAfterCloseStillFlushes) {
  EchoServer server(this->backend_.server_env());
  ASSERT_TRUE(server.start_tcp(Endpoint(this->server_address(), 0)).ok());
  EchoClient client(this->backend_.client_env());
  client.connect(server.tcp_endpoint());
  const Bytes payload(200000, 0x17);
  ASSERT_TRUE(client.write(payload).ok());
  client.close();
  client.abort();  // destroys the stream; a closed stream finishes its flush on its own
  ASSERT_TRUE(this->run_until([&] { return server.stats().streams_closed_ok == 1; }));
  EXPECT_EQ(server.stats().stream_bytes, payload.size());
  EXPECT_EQ(server.stats().streams_closed_error, 0u);
}

TYPED_TEST(EchoTest, DestroyingWithoutCloseResetsThePeer) {
  EchoServer server(this->backend_.server_env());
  ASSERT_TRUE(server.start_tcp(Endpoint(this->server_address(), 0)).ok());
  EchoClient client(this->backend_.client_env());
  client.connect(server.tcp_endpoint());
  ASSERT_TRUE(client.write(ByteView(std::string_view("x"))).ok());
  ASSERT_TRUE(this->run_until([&] { return client.received().size() == 1; }));
  client.abort();
  ASSERT_TRUE(this->run_until([&] { return server.stats().streams_closed_error == 1; }));
  EXPECT_EQ(server.stats().streams_closed_ok, 0u);
  EXPECT_EQ(server.open_streams(), 0u);
}

TYPED_TEST(EchoTest, DestroyingAStreamInsideItsOwnDataHandlerIsSafe) {
  EchoServer server(this->backend_.server_env());
  ASSERT_TRUE(server.start_tcp(Endpoint(this->server_address(), 0)).ok());
  EchoClient client(this->backend_.client_env());
  int data_calls = 0;
  client.on_data_hook = [&] {
    ++data_calls;
    client.abort();  // the stream is destroyed while its on_data runs
  };
  client.connect(server.tcp_endpoint());
  // Two writes that the server echoes separately; only the first echo may reach a handler.
  ASSERT_TRUE(client.write(ByteView(std::string_view("ping"))).ok());
  ASSERT_TRUE(this->run_until([&] { return server.stats().stream_bytes >= 4; }));
  ASSERT_TRUE(client.write(ByteView(std::string_view("pong"))).ok());
  ASSERT_TRUE(this->run_until([&] { return client.stream() == nullptr; }));
  ASSERT_TRUE(this->run_until([&] { return server.stats().streams_closed_error == 1; }));
  this->backend_.run_for(Duration::milliseconds(50));
  EXPECT_EQ(data_calls, 1);
  EXPECT_FALSE(client.closed().has_value());
  EXPECT_EQ(std::string(ByteView(client.received()).as_string()), "ping");
}

TYPED_TEST(EchoTest, TwoBindsOfOnePortFail) {
  Env env = this->backend_.server_env();
  auto first = env.network.open_udp(Endpoint(this->server_address(), 0));
  ASSERT_TRUE(first.ok()) << first.error().message;
  const Endpoint taken = (*first)->local_endpoint();
  auto second = env.network.open_udp(taken);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message,
            "cannot bind " + taken.to_string() + ": Address already in use");
  auto wildcard = env.network.open_udp(Endpoint(IpAddress::any(this->kFamily), taken.port));
  EXPECT_FALSE(wildcard.ok());

  auto listener = env.network.listen(Endpoint(this->server_address(), 0));
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  const Endpoint listening = (*listener)->local_endpoint();
  auto again = env.network.listen(listening);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message,
            "cannot listen on " + listening.to_string() + ": Address already in use");
}

TYPED_TEST(EchoTest, Ipv6SocketsNeverSeeIpv4) {
  const Family v6 = Family::ipv6, v4 = Family::ipv4;
  if (!this->backend_.available(v6) || !this->backend_.available(v4)) {
    GTEST_SKIP() << "needs both families";
  }
  Env env = this->backend_.server_env();
  auto six = env.network.open_udp(Endpoint(IpAddress::any(v6), 0));
  ASSERT_TRUE(six.ok()) << six.error().message;
  const uint16_t port = (*six)->local_endpoint().port;
  // v6-only: the IPv4 port is still free.
  auto four = env.network.open_udp(Endpoint(IpAddress::any(v4), port));
  ASSERT_TRUE(four.ok()) << four.error().message;
  int on_six = 0, on_four = 0;
  (*six)->set_receive_handler([&](const Endpoint&, const Endpoint&, ByteView) { ++on_six; });
  (*four)->set_receive_handler([&](const Endpoint&, const Endpoint&, ByteView) { ++on_four; });
  Env client_env = this->backend_.client_env();
  auto sender = client_env.network.open_udp(Endpoint(IpAddress::any(v4), 0));
  ASSERT_TRUE(sender.ok());
  ASSERT_TRUE((*sender)->send_to(Endpoint(this->backend_.server_address(v4), port), Bytes{7}).ok());
  Status mismatch = (*sender)->send_to(Endpoint(this->backend_.server_address(v6), port), Bytes{7});
  EXPECT_FALSE(mismatch.ok());
  ASSERT_TRUE(this->run_until([&] { return on_four == 1; }));
  this->backend_.run_for(Duration::milliseconds(20));
  EXPECT_EQ(on_six, 0);
}

TYPED_TEST(EchoTest, TimersRunInDeadlineThenSchedulingOrder) {
  Clock& clock = this->backend_.clock();
  std::vector<std::string> order;
  std::vector<bool> on_time;
  auto record = [&](std::string name, Timestamp deadline) {
    return [&order, &on_time, &clock, name, deadline] {
      order.push_back(name);
      on_time.push_back(clock.now() >= deadline);
    };
  };
  const Timestamp base = clock.now() + Duration::milliseconds(20);
  const Timestamp later = base + Duration::milliseconds(10);
  clock.schedule_at(later, record("c", later));
  clock.schedule_at(base, record("a", base));
  TimerId cancelled = clock.schedule_at(base, record("x", base));
  clock.schedule_at(later, record("d", later));
  clock.schedule_at(base, record("b", base));
  clock.cancel(cancelled);

  Timer timer(clock);
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks < 3) timer.arm_after(Duration::milliseconds(1), tick);
  };
  timer.arm_after(Duration::milliseconds(1), tick);
  {
    Timer doomed(clock);
    doomed.arm_after(Duration::milliseconds(1), [&] { order.push_back("doomed"); });
  }

  ASSERT_TRUE(this->run_until([&] { return order.size() >= 4 && ticks == 3; }));
  this->backend_.run_for(Duration::milliseconds(5));
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(on_time, (std::vector<bool>(4, true)));
  EXPECT_EQ(ticks, 3);
  EXPECT_FALSE(timer.armed());
}

}  // namespace
}  // namespace warren
