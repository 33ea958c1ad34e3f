// The relay client against a small scripted relay (a ChannelAcceptor on the in-memory network
// and a manual clock): the handshake, refusals, reconnects, packets, queueing, rate limit,
// pings, the watchdog, mesh proofs and `restarting`.
#include "nodes/common/relay_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/common/secure_channel.h"
#include "tests/support/capture_log_sink.h"
#include "tests/support/memory_network.h"

namespace warren::relay {
namespace {

using ::testing::HasSubstr;

IpAddress ip(const char* text) {
  return IpAddress::parse(text).value();
}

// A Network that passes everything to a MemoryHost, except that while `hold` is set, bytes
// written to its outbound streams stay here (pending_write_bytes counts them): a stand-in for
// a TCP connection whose send buffer is full because the relay does not read.
class HoldingNetwork final : public Network {
 public:
  explicit HoldingNetwork(MemoryHost& host) : host_(host) {}

  Result<std::unique_ptr<UdpSocket>> open_udp(const Endpoint& bind) override {
    return host_.open_udp(bind);
  }
  Result<std::unique_ptr<StreamListener>> listen(const Endpoint& bind) override {
    return host_.listen(bind);
  }
  std::unique_ptr<Stream> connect(const Endpoint& remote) override {
    auto held = std::make_shared<Held>();
    held->inner = host_.connect(remote);
    streams_.push_back(held);
    return std::make_unique<HeldStream>(held, hold_);
  }
  std::vector<IpAddress> local_addresses() const override { return host_.local_addresses(); }

  void hold() { *hold_ = true; }
  // Hands every held byte to the network, in order.
  void release() {
    *hold_ = false;
    for (const auto& weak : streams_) {
      if (auto held = weak.lock(); held && !held->bytes.empty()) {
        (void)held->inner->write(held->bytes);
        held->bytes.clear();
      }
    }
  }

 private:
  struct Held {
    std::unique_ptr<Stream> inner;
    Bytes bytes;
  };
  class HeldStream final : public Stream {
   public:
    HeldStream(std::shared_ptr<Held> held, std::shared_ptr<bool> hold)
        : held_(std::move(held)), hold_(std::move(hold)) {}
    void set_handlers(Handlers handlers) override {
      held_->inner->set_handlers(std::move(handlers));
    }
    Status write(ByteView data) override {
      if (*hold_ && held_->inner->connected()) {
        held_->bytes.insert(held_->bytes.end(), data.begin(), data.end());
        return Status::success();
      }
      return held_->inner->write(data);
    }
    size_t pending_write_bytes() const override {
      return held_->inner->pending_write_bytes() + held_->bytes.size();
    }
    void close() override { held_->inner->close(); }
    bool connected() const override { return held_->inner->connected(); }
    Endpoint local_endpoint() const override { return held_->inner->local_endpoint(); }
    Endpoint remote_endpoint() const override { return held_->inner->remote_endpoint(); }

   private:
    std::shared_ptr<Held> held_;
    std::shared_ptr<bool> hold_;
  };

  MemoryHost& host_;
  std::shared_ptr<bool> hold_ = std::make_shared<bool>(false);
  std::vector<std::weak_ptr<Held>> streams_;
};

// A scripted relay: answers client_hello as told and records every frame it receives.
class FakeRelay {
 public:
  struct Session {
    std::unique_ptr<SecureChannel> channel;
    std::vector<Bytes> frames;  // as received
    Timestamp accepted;
    bool closed = false;

    template <typename T>
    std::vector<T> all() const {
      std::vector<T> out;
      for (const Bytes& f : frames) {
        auto d = decode_relay_frame(f);
        if (d.ok() && std::holds_alternative<T>(*d)) out.push_back(std::get<T>(*d));
      }
      return out;
    }
  };

  enum class HelloReply { server_hello, refuse, silent };

  FakeRelay(MemoryWorld& world, MemoryHost& host, Endpoint at, uint64_t seed)
      : world_(world),
        rng_(seed, "fake-relay"),
        env_{world.clock(), host, rng_, Logger()},
        key_(generate_private_key(rng_)) {
    ChannelOptions options;
    options.protocol = kRelayChannelProtocol;
    options.path = kRelayChannelPath;
    options.max_message_bytes = kMaxRelayFrameBytes;
    acceptor_ = std::make_unique<ChannelAcceptor>(env_, key_, options);
    acceptor_->set_channel_handler([this](std::unique_ptr<SecureChannel> channel) {
      auto session = std::make_unique<Session>();
      session->channel = std::move(channel);
      session->accepted = world_.clock().now();
      Session* s = session.get();
      sessions.push_back(std::move(session));
      SecureChannel::Handlers h;
      h.on_message = [this, s](ByteView m) { on_frame(*s, m); };
      h.on_closed = [s](const Status&) { s->closed = true; };
      s->channel->set_handlers(std::move(h));
    });
    listener_ = std::move(host.listen(at).value());
    listener_->set_accept_handler(
        [this](std::unique_ptr<Stream> stream) { acceptor_->accept(std::move(stream)); });
  }

  PublicKey public_key() const { return warren::public_key(key_); }
  Session& last() { return *sessions.back(); }
  void send(Session& s, const RelayFrame& frame) {
    ASSERT_TRUE(s.channel->send(encode_relay_frame(frame)).ok());
  }

  // Script.
  HelloReply hello_reply = HelloReply::server_hello;
  RefusalReason refusal = RefusalReason::not_ready;
  uint32_t rate_bytes_per_s = 0;
  uint32_t burst_bytes = 0;
  std::optional<MeshKey> mesh_key;  // answer a mesh hello with a proof under this key
  bool answer_pings = true;
  bool send_proof = true;

  std::vector<std::unique_ptr<Session>> sessions;

 private:
  void on_frame(Session& s, ByteView message) {
    s.frames.push_back(message.to_bytes());
    auto frame = decode_relay_frame(message);
    ASSERT_TRUE(frame.ok()) << frame.error().message;
    if (std::holds_alternative<ClientHello>(*frame)) {
      const auto& hello = std::get<ClientHello>(*frame);
      if (hello_reply == HelloReply::refuse) {
        send(s, Refused{refusal, "scripted refusal"});
        s.channel->close();
        s.closed = true;
      } else if (hello_reply == HelloReply::server_hello) {
        ServerHello reply{kRelayProtocolVersion, rate_bytes_per_s, burst_bytes, std::nullopt};
        if (hello.mesh_proof && mesh_key && send_proof) {
          reply.mesh_proof =
              mesh_server_proof(*mesh_key, s.channel->peer_static_key(), public_key());
        }
        send(s, reply);
      }
    } else if (std::holds_alternative<Ping>(*frame) && answer_pings) {
      send(s, Pong{std::get<Ping>(*frame).data});
    }
  }

  MemoryWorld& world_;
  SeededRng rng_;
  Env env_;
  PrivateKey key_;
  std::unique_ptr<ChannelAcceptor> acceptor_;
  std::unique_ptr<StreamListener> listener_;
};

class RelayClientTest : public ::testing::Test {
 protected:
  RelayClientTest() {
    options_.server = relay_ep_;
    options_.host = "relay.test";
    options_.key = client_key_;
    options_.server_key = relay_.public_key();
  }

  std::unique_ptr<RelayClient> make_client() {
    RelayClient::Callbacks cb;
    cb.on_server_key = [this](const PublicKey& k) { fetched_keys_.push_back(k); };
    cb.on_connected = [this](const ServerHello& h) { hellos_.push_back(h); };
    cb.on_packet = [this](const PublicKey& src, ByteView p) {
      packets_.emplace_back(src, p.to_bytes());
    };
    cb.on_peer_present = [this](const PeerPresent& p) { present_.push_back(p); };
    cb.on_peer_gone = [this](const PeerGone& g) { gone_.push_back(g); };
    cb.on_health = [this](const std::string& t) { health_.push_back(t); };
    cb.on_pong = [this](const PingData& d, Duration rtt) { pongs_.emplace_back(d, rtt); };
    cb.on_error = [this](const RelayClientError& e) {
      errors_.push_back(e);
      error_times_.push_back(world_.clock().now());
    };
    return std::make_unique<RelayClient>(client_env_, options_, std::move(cb));
  }

  // Starts a client and runs until it is connected.
  std::unique_ptr<RelayClient> connected_client() {
    auto client = make_client();
    client->start();
    EXPECT_TRUE(world_.run_until([&] { return client->connected(); }, Duration::seconds(30)))
        << log_.text();
    return client;
  }

  bool run_until(const std::function<bool()>& done, Duration timeout = Duration::seconds(30)) {
    return world_.run_until(done, timeout);
  }

  PublicKey client_public() const { return public_key(client_key_); }

  MemoryWorld world_{Duration::milliseconds(1)};
  MemoryHost& relay_host_ = world_.add_host("relay", {ip("192.0.2.1")});
  MemoryHost& client_host_ = world_.add_host("client", {ip("198.51.100.2")});
  HoldingNetwork client_net_{client_host_};
  Endpoint relay_ep_{ip("192.0.2.1"), 443};
  FakeRelay relay_{world_, relay_host_, relay_ep_, 1};
  SeededRng rng_{2, "relay-client-test"};
  CaptureLogSink log_;
  Env client_env_{world_.clock(), client_net_, rng_,
                  Logger(&log_, &world_.clock(), "relay-client", LogLevel::debug)};
  PrivateKey client_key_ = generate_private_key(rng_);
  RelayClientOptions options_;

  std::vector<PublicKey> fetched_keys_;
  std::vector<ServerHello> hellos_;
  std::vector<std::pair<PublicKey, Bytes>> packets_;
  std::vector<PeerPresent> present_;
  std::vector<PeerGone> gone_;
  std::vector<std::string> health_;
  std::vector<std::pair<PingData, Duration>> pongs_;
  std::vector<RelayClientError> errors_;
  std::vector<Timestamp> error_times_;
};

PublicKey key_of(uint8_t fill) {
  PublicKey k;
  k.bytes.fill(fill);
  return k;
}

MeshKey mesh_key_of(uint8_t fill) {
  Key32 k;
  k.fill(fill);
  return MeshKey(k);
}

Bytes numbered_packet(uint32_t n, size_t size) {
  Bytes p(size, 0xab);
  store_be32(p.data(), n);
  return p;
}

TEST_F(RelayClientTest, ConnectsWithTheNodeKeyAndSendsHello) {
  options_.preferred = true;
  relay_.rate_bytes_per_s = 5000000;
  relay_.burst_bytes = 2000000;
  auto client = connected_client();
  ASSERT_EQ(relay_.sessions.size(), 1u);
  FakeRelay::Session& s = relay_.last();
  // The Noise handshake proved the node key.
  EXPECT_EQ(s.channel->peer_static_key(), client_public());
  ASSERT_FALSE(s.frames.empty());
  auto hello = decode_relay_frame(s.frames[0]);
  ASSERT_TRUE(hello.ok());
  ASSERT_TRUE(std::holds_alternative<ClientHello>(*hello));
  EXPECT_TRUE(std::get<ClientHello>(*hello).preferred);
  EXPECT_FALSE(std::get<ClientHello>(*hello).mesh_proof);
  ASSERT_EQ(hellos_.size(), 1u);
  EXPECT_EQ(hellos_[0].rate_bytes_per_s, 5000000u);
  EXPECT_EQ(client->counters().connects, 1u);
  EXPECT_EQ(client->counters().connected, 1u);
  EXPECT_TRUE(errors_.empty());
  EXPECT_TRUE(fetched_keys_.empty());
}

TEST_F(RelayClientTest, NotePreferredIsSentAndRemembered) {
  auto client = connected_client();
  client->note_preferred(true);
  run_until([&] { return !relay_.last().all<NotePreferred>().empty(); });
  ASSERT_EQ(relay_.last().all<NotePreferred>().size(), 1u);
  EXPECT_TRUE(relay_.last().all<NotePreferred>()[0].preferred);
}

TEST_F(RelayClientTest, PinnedKeyMismatchIsFatal) {
  options_.server_key = key_of(9);
  auto client = make_client();
  client->start();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_EQ(errors_[0].kind, RelayClientError::Kind::server_key_mismatch);
  EXPECT_FALSE(errors_[0].will_retry);
  EXPECT_THAT(errors_[0].message, HasSubstr(to_base64(relay_.public_key())));
  world_.run_for(Duration::seconds(300));
  EXPECT_EQ(errors_.size(), 1u);
  EXPECT_EQ(client->counters().connects, 1u);
  EXPECT_TRUE(relay_.sessions.empty());
}

TEST_F(RelayClientTest, FetchesTheKeyWhenNoneIsPinned) {
  options_.server_key.reset();
  auto client = connected_client();
  ASSERT_EQ(fetched_keys_.size(), 1u);
  EXPECT_EQ(fetched_keys_[0], relay_.public_key());
  ASSERT_TRUE(client->server_key());
  EXPECT_EQ(*client->server_key(), relay_.public_key());
}

TEST_F(RelayClientTest, AFetchedKeyIsTrustedOnFirstUseOnly) {
  // A relay on another port that we can replace by one with a new key.
  const Endpoint other(ip("192.0.2.1"), 8443);
  auto first = std::make_unique<FakeRelay>(world_, relay_host_, other, 11);
  options_.server = other;
  options_.server_key.reset();
  auto client = connected_client();
  ASSERT_EQ(fetched_keys_.size(), 1u);
  EXPECT_EQ(fetched_keys_[0], first->public_key());

  // The relay restarts with another key: the next attempt fails its handshake against the
  // key we fetched, so we fetch again rather than call it a mismatch.
  first.reset();
  FakeRelay second(world_, relay_host_, other, 12);
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  ASSERT_TRUE(run_until([&] { return client->connected(); }, Duration::seconds(120)));
  EXPECT_EQ(errors_.size(), 2u);  // the lost connection, then the failed handshake
  ASSERT_EQ(fetched_keys_.size(), 2u);
  EXPECT_EQ(fetched_keys_[1], second.public_key());
  EXPECT_EQ(*client->server_key(), second.public_key());
  for (const auto& e : errors_) EXPECT_TRUE(e.will_retry) << e.message;
}

TEST_F(RelayClientTest, RefusedRemovedKeyIsFatal) {
  relay_.hello_reply = FakeRelay::HelloReply::refuse;
  relay_.refusal = RefusalReason::removed_key;
  auto client = make_client();
  client->start();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_EQ(errors_[0].kind, RelayClientError::Kind::refused);
  ASSERT_TRUE(errors_[0].refusal);
  EXPECT_EQ(*errors_[0].refusal, RefusalReason::removed_key);
  EXPECT_FALSE(errors_[0].will_retry);
  EXPECT_THAT(errors_[0].message, HasSubstr("removed_key"));
  EXPECT_THAT(errors_[0].message, HasSubstr("scripted refusal"));
  world_.run_for(Duration::seconds(300));
  EXPECT_EQ(client->counters().connects, 1u);
  EXPECT_FALSE(client->connected());

  // start() after a fatal error tries again.
  relay_.hello_reply = FakeRelay::HelloReply::server_hello;
  client->start();
  EXPECT_TRUE(run_until([&] { return client->connected(); }));
}

// A relay may hear of a just-registered node late: unknown_key is retried, at the slowest pace.
TEST_F(RelayClientTest, RefusedUnknownKeyRetriesAtTheMaximumBackoff) {
  relay_.hello_reply = FakeRelay::HelloReply::refuse;
  relay_.refusal = RefusalReason::unknown_key;
  options_.backoff_initial = Duration::seconds(1);
  options_.backoff_max = Duration::seconds(8);
  auto client = make_client();
  client->start();
  ASSERT_TRUE(run_until([&] { return errors_.size() >= 3; }, Duration::seconds(60)));
  for (const auto& e : errors_) {
    EXPECT_TRUE(e.will_retry);
    EXPECT_EQ(*e.refusal, RefusalReason::unknown_key);
  }
  for (size_t i = 1; i < error_times_.size(); ++i) {
    EXPECT_GE(error_times_[i] - error_times_[i - 1], Duration::seconds(4));  // half of the max
  }
  // The relay learns the key: the next attempt gets in.
  relay_.hello_reply = FakeRelay::HelloReply::server_hello;
  EXPECT_TRUE(run_until([&] { return client->connected(); }, Duration::seconds(20)));
}

TEST_F(RelayClientTest, RefusedNotReadyRetriesWithBoundedBackoff) {
  relay_.hello_reply = FakeRelay::HelloReply::refuse;
  relay_.refusal = RefusalReason::not_ready;
  options_.backoff_initial = Duration::seconds(1);
  options_.backoff_max = Duration::seconds(8);
  auto client = make_client();
  client->start();
  ASSERT_TRUE(run_until([&] { return errors_.size() >= 7; }, Duration::seconds(120)));
  for (const auto& e : errors_) {
    EXPECT_EQ(e.kind, RelayClientError::Kind::refused);
    EXPECT_TRUE(e.will_retry);
    EXPECT_EQ(*e.refusal, RefusalReason::not_ready);
  }
  // Delays: [0.5, 1] s, [1, 2] s, [2, 4] s, then capped at [4, 8] s (plus a few ms of network).
  std::vector<Duration> gaps;
  for (size_t i = 1; i < error_times_.size(); ++i)
    gaps.push_back(error_times_[i] - error_times_[i - 1]);
  EXPECT_GE(gaps[0], Duration::milliseconds(500));
  EXPECT_LE(gaps[0], Duration::milliseconds(1100));
  EXPECT_GE(gaps[2], Duration::seconds(2));
  for (Duration g : gaps) EXPECT_LE(g, Duration::milliseconds(8100));
  EXPECT_GE(gaps[5], Duration::seconds(4));

  // Once the relay is ready, the next attempt gets in and the backoff starts over.
  relay_.hello_reply = FakeRelay::HelloReply::server_hello;
  ASSERT_TRUE(run_until([&] { return client->connected(); }));
  const size_t before = errors_.size();
  relay_.last().channel->close();
  ASSERT_TRUE(run_until([&] { return errors_.size() > before; }));
  const Timestamp dropped = world_.clock().now();
  ASSERT_TRUE(run_until([&] { return client->connected(); }));
  EXPECT_LE(world_.clock().now() - dropped, Duration::milliseconds(1100));
}

TEST_F(RelayClientTest, PacketsFlowBothWays) {
  auto client = connected_client();
  const Bytes out = {1, 2, 3, 4};
  EXPECT_TRUE(client->send_packet(key_of(7), out));
  ASSERT_TRUE(run_until([&] { return !relay_.last().all<SendPacket>().empty(); }));
  auto sent = relay_.last().all<SendPacket>();
  EXPECT_EQ(sent[0].dst, key_of(7));
  EXPECT_EQ(sent[0].packet.to_bytes(), out);  // a view into the recorded frame

  const Bytes in = {9, 8, 7};
  relay_.send(relay_.last(), RecvPacket{key_of(5), in});
  ASSERT_TRUE(run_until([&] { return !packets_.empty(); }));
  EXPECT_EQ(packets_[0].first, key_of(5));
  EXPECT_EQ(packets_[0].second, in);
  EXPECT_EQ(client->counters().packets_sent, 1u);
  EXPECT_EQ(client->counters().packets_received, 1u);
}

TEST_F(RelayClientTest, ForwardPacketCarriesBothKeys) {
  options_.mesh_key = mesh_key_of(3);
  relay_.mesh_key = mesh_key_of(3);
  auto client = connected_client();
  EXPECT_TRUE(client->forward_packet(key_of(1), key_of(2), Bytes{42}));
  ASSERT_TRUE(run_until([&] { return !relay_.last().all<ForwardPacket>().empty(); }));
  auto fwd = relay_.last().all<ForwardPacket>()[0];
  EXPECT_EQ(fwd.src, key_of(1));
  EXPECT_EQ(fwd.dst, key_of(2));
}

TEST_F(RelayClientTest, DropsAndCountsWhatCannotBeSent) {
  auto client = make_client();
  EXPECT_FALSE(client->send_packet(key_of(1), Bytes{1}));
  EXPECT_EQ(client->counters().dropped_not_connected, 1u);
  client->start();
  EXPECT_FALSE(client->send_packet(key_of(1), Bytes{1}));  // handshake still running
  EXPECT_EQ(client->counters().dropped_not_connected, 2u);
  ASSERT_TRUE(run_until([&] { return client->connected(); }));
  const Bytes too_big(kMaxRelayPacketBytes + 1, 0);
  EXPECT_FALSE(client->send_packet(key_of(1), too_big));
  EXPECT_EQ(client->counters().dropped_too_large, 1u);
  EXPECT_TRUE(client->send_packet(key_of(1), Bytes(kMaxRelayPacketBytes, 0)));
  client->stop();
  EXPECT_FALSE(client->send_packet(key_of(1), Bytes{1}));
  EXPECT_EQ(client->counters().dropped_not_connected, 3u);
  EXPECT_EQ(client->counters().packets_sent, 1u);
}

TEST_F(RelayClientTest, QueuesWhileTheChannelIsBackedUpAndDropsTheOldest) {
  auto client = connected_client();
  client_net_.hold();
  constexpr uint32_t kPackets = 100;
  constexpr size_t kSize = 10000;
  for (uint32_t i = 0; i < kPackets; ++i) {
    EXPECT_TRUE(client->send_packet(key_of(1), numbered_packet(i, kSize)));
  }
  const uint64_t direct = client->counters().packets_sent;
  // Roughly kMaxChannelBacklogBytes / kSize went straight into the channel.
  EXPECT_GE(direct, RelayClient::kMaxChannelBacklogBytes / (kSize + 100));
  EXPECT_LE(direct, RelayClient::kMaxChannelBacklogBytes / kSize + 2);
  EXPECT_EQ(client->counters().dropped_queue, kPackets - direct - RelayClient::kMaxQueuedFrames);

  // Still backed up: nothing moves.
  world_.run_for(Duration::milliseconds(50));
  EXPECT_EQ(client->counters().packets_sent, direct);

  client_net_.release();
  ASSERT_TRUE(run_until([&] {
    return relay_.last().all<SendPacket>().size() == direct + RelayClient::kMaxQueuedFrames;
  }));
  std::vector<uint32_t> seen;
  for (const Bytes& f : relay_.last().frames) {
    auto d = decode_relay_frame(f);
    if (d.ok() && std::holds_alternative<SendPacket>(*d)) {
      seen.push_back(load_be32(std::get<SendPacket>(*d).packet.data()));
    }
  }
  std::vector<uint32_t> expected;
  for (uint32_t i = 0; i < direct; ++i) expected.push_back(i);
  for (uint32_t i = kPackets - RelayClient::kMaxQueuedFrames; i < kPackets; ++i) {
    expected.push_back(i);
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(client->counters().packets_sent, direct + RelayClient::kMaxQueuedFrames);
}

TEST_F(RelayClientTest, QueuedFramesDieWithTheConnection) {
  auto client = connected_client();
  client_net_.hold();
  for (uint32_t i = 0; i < 40; ++i) (void)client->send_packet(key_of(1), numbered_packet(i, 10000));
  const uint64_t queued = 40 - client->counters().packets_sent;
  ASSERT_GT(queued, 0u);
  relay_.last().channel->close();
  client_net_.release();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_EQ(client->counters().dropped_not_connected, queued);
}

TEST_F(RelayClientTest, HonoursTheAdvertisedRateLimit) {
  relay_.rate_bytes_per_s = 1000;
  relay_.burst_bytes = 0;  // raised to one maximal packet (65536 bytes)
  auto client = connected_client();
  const Bytes packet(12000, 1);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(client->send_packet(key_of(1), packet)) << i;
  EXPECT_FALSE(client->send_packet(key_of(1), packet));
  EXPECT_EQ(client->counters().dropped_rate_limit, 1u);
  // 5536 bytes were left; 7 s bring 7000 more.
  world_.run_for(Duration::seconds(7));
  EXPECT_TRUE(client->send_packet(key_of(1), packet));
  EXPECT_FALSE(client->send_packet(key_of(1), packet));
  EXPECT_EQ(client->counters().dropped_rate_limit, 2u);
  EXPECT_EQ(client->counters().packets_sent, 6u);
}

TEST_F(RelayClientTest, NoRateLimitWhenTheRelayAdvertisesNone) {
  auto client = connected_client();
  const Bytes packet(kMaxRelayPacketBytes, 1);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(client->send_packet(key_of(1), packet));
    world_.run_for(Duration::milliseconds(10));
  }
  EXPECT_EQ(client->counters().dropped_rate_limit, 0u);
}

TEST_F(RelayClientTest, PingReportsTheRoundTripTime) {
  auto client = connected_client();
  const PingData data{1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(client->ping(data));
  ASSERT_TRUE(run_until([&] { return !pongs_.empty(); }));
  EXPECT_EQ(pongs_[0].first, data);
  // One network latency (1 ms) each way on the manual clock.
  EXPECT_EQ(pongs_[0].second, Duration::milliseconds(2));
  // A pong nobody asked for is ignored.
  relay_.send(relay_.last(), Pong{data});
  world_.run_for(Duration::milliseconds(10));
  EXPECT_EQ(pongs_.size(), 1u);
}

TEST_F(RelayClientTest, PingsInFlightAreBounded) {
  relay_.answer_pings = false;
  auto client = connected_client();
  for (size_t i = 0; i < RelayClient::kMaxPingsInFlight; ++i) {
    EXPECT_TRUE(client->ping(PingData{static_cast<uint8_t>(i)}));
  }
  EXPECT_FALSE(client->ping(PingData{99}));
  // Answering one frees its slot.
  relay_.send(relay_.last(), Pong{PingData{3}});
  ASSERT_TRUE(run_until([&] { return pongs_.size() == 1; }));
  EXPECT_TRUE(client->ping(PingData{99}));
  EXPECT_FALSE(client->ping(PingData{100}));
}

TEST_F(RelayClientTest, AnswersTheRelaysPings) {
  auto client = connected_client();
  const PingData data{8, 8, 8, 8, 1, 1, 1, 1};
  relay_.send(relay_.last(), Ping{data});
  ASSERT_TRUE(run_until([&] { return !relay_.last().all<Pong>().empty(); }));
  EXPECT_EQ(relay_.last().all<Pong>()[0].data, data);
  EXPECT_EQ(client->counters().pings_answered, 1u);
}

TEST_F(RelayClientTest, KeepalivesHealthPeersAndUnknownFramesAreDelivered) {
  auto client = connected_client();
  FakeRelay::Session& s = relay_.last();
  relay_.send(s, KeepAlive{});
  relay_.send(s, Health{"admission list is stale"});
  relay_.send(s, PeerGone{key_of(4), PeerGoneReason::not_here});
  relay_.send(s, UnknownFrame{0x7f});
  ASSERT_TRUE(run_until([&] { return client->counters().unknown_frames == 1; }));
  EXPECT_EQ(client->counters().keepalives, 1u);
  ASSERT_EQ(health_.size(), 1u);
  EXPECT_EQ(health_[0], "admission list is stale");
  ASSERT_EQ(gone_.size(), 1u);
  EXPECT_EQ(gone_[0].reason, PeerGoneReason::not_here);
  EXPECT_TRUE(client->connected());
  EXPECT_TRUE(errors_.empty());
}

TEST_F(RelayClientTest, MalformedFrameReconnects) {
  auto client = connected_client();
  ASSERT_TRUE(relay_.last().channel->send(Bytes{0x06, 0, 0, 0, 9}).ok());
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_EQ(errors_[0].kind, RelayClientError::Kind::protocol);
  EXPECT_TRUE(errors_[0].will_retry);
  EXPECT_THAT(errors_[0].message, HasSubstr("malformed"));
  EXPECT_TRUE(run_until([&] { return client->connected(); }));
  EXPECT_EQ(relay_.sessions.size(), 2u);
}

TEST_F(RelayClientTest, PacketBeforeServerHelloIsAProtocolError) {
  relay_.hello_reply = FakeRelay::HelloReply::silent;
  auto client = make_client();
  client->start();
  ASSERT_TRUE(
      run_until([&] { return relay_.sessions.size() == 1 && !relay_.last().frames.empty(); }));
  relay_.send(relay_.last(), RecvPacket{key_of(1), Bytes{1}});
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_EQ(errors_[0].kind, RelayClientError::Kind::protocol);
  EXPECT_THAT(errors_[0].message, HasSubstr("recv_packet before server_hello"));
  EXPECT_TRUE(packets_.empty());
}

TEST_F(RelayClientTest, NoServerHelloWithinTheHandshakeTimeoutRetries) {
  relay_.hello_reply = FakeRelay::HelloReply::silent;
  options_.handshake_timeout = Duration::seconds(5);
  auto client = make_client();
  client->start();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_EQ(errors_[0].kind, RelayClientError::Kind::connection);
  EXPECT_TRUE(errors_[0].will_retry);
  EXPECT_THAT(errors_[0].message, HasSubstr("no server_hello"));
  EXPECT_EQ(error_times_[0], Timestamp() + Duration::seconds(5));
}

TEST_F(RelayClientTest, WatchdogReconnectsAfterSilence) {
  options_.watchdog = Duration::seconds(10);
  auto client = connected_client();
  // Frames keep it alive...
  for (int i = 0; i < 6; ++i) {
    world_.run_for(Duration::seconds(5));
    relay_.send(relay_.last(), KeepAlive{});
  }
  const Timestamp last = world_.clock().now();
  world_.run_for(Duration::milliseconds(10));
  EXPECT_TRUE(errors_.empty());
  EXPECT_TRUE(client->connected());
  // ...silence does not.
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_EQ(errors_[0].kind, RelayClientError::Kind::watchdog);
  EXPECT_TRUE(errors_[0].will_retry);
  EXPECT_GE(error_times_[0] - last, Duration::seconds(10));
  EXPECT_LE(error_times_[0] - last, Duration::milliseconds(10100));
  EXPECT_TRUE(run_until([&] { return client->connected(); }));
  EXPECT_EQ(client->counters().connected, 2u);
}

TEST_F(RelayClientTest, MeshClientProvesTheMeshKeyAndChecksTheRelays) {
  options_.mesh_key = mesh_key_of(0x42);
  options_.watch_conns = true;
  relay_.mesh_key = mesh_key_of(0x42);
  auto client = connected_client();
  FakeRelay::Session& s = relay_.last();
  auto hello = s.all<ClientHello>();
  ASSERT_EQ(hello.size(), 1u);
  ASSERT_TRUE(hello[0].mesh_proof);
  EXPECT_EQ(*hello[0].mesh_proof,
            mesh_client_proof(mesh_key_of(0x42), client_public(), relay_.public_key()));
  ASSERT_TRUE(run_until([&] { return !s.all<WatchConns>().empty(); }));
  // watch_conns follows the hello at once.
  ASSERT_EQ(s.frames.size(), 2u);

  relay_.send(s, PeerPresent{key_of(8), Endpoint(ip("203.0.113.5"), 41641), 0});
  ASSERT_TRUE(run_until([&] { return !present_.empty(); }));
  EXPECT_EQ(present_[0].key, key_of(8));
  EXPECT_EQ(present_[0].endpoint, Endpoint(ip("203.0.113.5"), 41641));
}

TEST_F(RelayClientTest, WatchConnsIsOnlyForMeshLinks) {
  options_.watch_conns = true;
  auto client = connected_client();
  world_.run_for(Duration::milliseconds(10));
  EXPECT_TRUE(relay_.last().all<WatchConns>().empty());
}

TEST_F(RelayClientTest, WrongMeshProofIsFatal) {
  options_.mesh_key = mesh_key_of(0x42);
  relay_.mesh_key = mesh_key_of(0x43);
  auto client = make_client();
  client->start();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_EQ(errors_[0].kind, RelayClientError::Kind::bad_mesh_proof);
  EXPECT_FALSE(errors_[0].will_retry);
  EXPECT_THAT(errors_[0].message, HasSubstr("does not verify"));
  EXPECT_FALSE(client->connected());
  EXPECT_TRUE(hellos_.empty());
  world_.run_for(Duration::seconds(300));
  EXPECT_EQ(client->counters().connects, 1u);
}

TEST_F(RelayClientTest, MissingMeshProofIsFatal) {
  options_.mesh_key = mesh_key_of(0x42);
  relay_.mesh_key = mesh_key_of(0x42);
  relay_.send_proof = false;
  auto client = make_client();
  client->start();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_EQ(errors_[0].kind, RelayClientError::Kind::bad_mesh_proof);
  EXPECT_THAT(errors_[0].message, HasSubstr("no mesh proof"));
}

TEST_F(RelayClientTest, RestartingSetsTheReconnectDelay) {
  auto client = connected_client();
  relay_.send(relay_.last(), Restarting{7000, 0});
  relay_.last().channel->close();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  const Timestamp closed = error_times_[0];
  EXPECT_TRUE(errors_[0].will_retry);
  world_.run_for(Duration::milliseconds(6990));
  EXPECT_EQ(client->counters().connects, 1u);
  ASSERT_TRUE(run_until([&] { return client->connected(); }));
  EXPECT_EQ(relay_.sessions.size(), 2u);
  EXPECT_GE(relay_.last().accepted - closed, Duration::seconds(7));
  EXPECT_LE(relay_.last().accepted - closed, Duration::milliseconds(7100));
}

TEST_F(RelayClientTest, RestartingDelayIsCappedByBackoffMax) {
  options_.backoff_max = Duration::seconds(3);
  auto client = connected_client();
  relay_.send(relay_.last(), Restarting{0xffffffff, 0});
  relay_.last().channel->close();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  const Timestamp closed = error_times_[0];
  ASSERT_TRUE(run_until([&] { return client->connected(); }));
  EXPECT_LE(world_.clock().now() - closed, Duration::milliseconds(3100));
}

// A relay asking for no pause at all, for weeks, must not make us hammer it.
TEST_F(RelayClientTest, RestartingCannotAskForAReconnectStorm) {
  options_.backoff_max = Duration::seconds(8);
  auto client = connected_client();
  relay_.send(relay_.last(), Restarting{0, 0xffffffff});
  relay_.hello_reply = FakeRelay::HelloReply::refuse;
  relay_.refusal = RefusalReason::not_ready;
  relay_.last().channel->close();
  ASSERT_TRUE(run_until([&] { return errors_.size() >= 4; }, Duration::seconds(30)));
  for (size_t i = 1; i < error_times_.size(); ++i) {
    EXPECT_GE(error_times_[i] - error_times_[i - 1], Duration::milliseconds(100));
  }
  // Only the first attempt follows the relay's schedule; then the usual backoff grows.
  EXPECT_GE(error_times_[3] - error_times_[2], Duration::seconds(1));
}

TEST_F(RelayClientTest, CallbacksMayDestroyTheClient) {
  RelayClient::Callbacks cb;
  std::unique_ptr<RelayClient> self;
  cb.on_packet = [&](const PublicKey&, ByteView) { self.reset(); };
  cb.on_error = [&](const RelayClientError&) { self.reset(); };
  self = std::make_unique<RelayClient>(client_env_, options_, cb);
  self->start();
  ASSERT_TRUE(run_until([&] { return self->connected(); }));
  relay_.send(relay_.last(), RecvPacket{key_of(1), Bytes{1}});
  relay_.send(relay_.last(), RecvPacket{key_of(1), Bytes{2}});
  ASSERT_TRUE(run_until([&] { return self == nullptr; }));
  world_.run_for(Duration::seconds(60));

  relay_.hello_reply = FakeRelay::HelloReply::refuse;
  self = std::make_unique<RelayClient>(client_env_, options_, cb);
  self->start();
  ASSERT_TRUE(run_until([&] { return self == nullptr; }));
  world_.run_for(Duration::seconds(60));
}

TEST_F(RelayClientTest, StopClosesAndCancelsRetries) {
  auto client = connected_client();
  client->stop();
  EXPECT_FALSE(client->connected());
  ASSERT_TRUE(run_until([&] { return relay_.last().closed; }));
  world_.run_for(Duration::seconds(300));
  EXPECT_EQ(relay_.sessions.size(), 1u);
  EXPECT_TRUE(errors_.empty());
}

}  // namespace
}  // namespace warren::relay
