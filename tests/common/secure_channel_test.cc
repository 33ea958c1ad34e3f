#include "nodes/common/secure_channel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "nodes/common/channel_frame.h"
#include "nodes/common/channel_protocol.h"
#include "nodes/common/http_message.h"
#include "nodes/common/noise.h"
#include "tests/support/memory_network.h"

namespace warren {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

IpAddress ip(const char* text) {
  return IpAddress::parse(text).value();
}

// What one end of a channel saw.
struct Recorder {
  std::vector<std::string> messages;
  std::optional<Status> closed;
  int closed_calls = 0;

  SecureChannel::Handlers handlers() {
    SecureChannel::Handlers h;
    h.on_message = [this](ByteView m) { messages.emplace_back(m.as_string()); };
    h.on_closed = [this](const Status& s) {
      closed = s;
      ++closed_calls;
    };
    return h;
  }
};

// A plain TCP client that speaks bytes, for checking the server's HTTP answers.
struct RawClient {
  std::unique_ptr<Stream> stream;
  std::string received;
  std::optional<Status> closed;
};

class SecureChannelTest : public ::testing::Test {
 protected:
  SecureChannelTest() {
    listener_ = std::move(server_host_.listen(server_ep_).value());
    start_acceptor(ChannelOptions{});
    listener_->set_accept_handler([this](std::unique_ptr<Stream> stream) {
      if (acceptor_) acceptor_->accept(std::move(stream));
    });
  }

  void start_acceptor(ChannelOptions options) {
    acceptor_ = std::make_unique<ChannelAcceptor>(server_env_, server_key_, std::move(options));
    acceptor_->set_channel_handler([this](std::unique_ptr<SecureChannel> channel) {
      server_channels_.push_back(std::move(channel));
    });
  }

  PublicKey server_public() const { return public_key(server_key_); }

  Result<std::unique_ptr<SecureChannel>> open(ChannelOptions options = {},
                                              std::optional<PublicKey> pinned = std::nullopt) {
    std::optional<Result<std::unique_ptr<SecureChannel>>> result;
    auto pending = open_channel(
        client_env_, server_ep_, "control.test", client_key_, pinned.value_or(server_public()),
        [&result](Result<std::unique_ptr<SecureChannel>> r) { result.emplace(std::move(r)); },
        std::move(options));
    world_.run_until([&] { return result.has_value(); }, Duration::seconds(60));
    if (!result) return make_error("open_channel never reported");
    return std::move(*result);
  }

  Result<PublicKey> fetch(ChannelOptions options = {}) {
    std::optional<Result<PublicKey>> result;
    auto pending = fetch_server_key(
        client_env_, server_ep_, "control.test", [&result](Result<PublicKey> r) { result = r; },
        std::move(options));
    world_.run_until([&] { return result.has_value(); }, Duration::seconds(60));
    if (!result) return make_error("fetch_server_key never reported");
    return *result;
  }

  // A channel pair: client end returned, server end in server_channels_.back().
  std::unique_ptr<SecureChannel> connected_pair(ChannelOptions options = {}) {
    auto client = open(std::move(options));
    EXPECT_TRUE(client.ok()) << client.error().message;
    EXPECT_EQ(server_channels_.size(), 1u);
    return client.ok() ? std::move(*client) : nullptr;
  }

  std::unique_ptr<RawClient> raw_connect() {
    auto raw = std::make_unique<RawClient>();
    raw->stream = client_host_.connect(server_ep_);
    RawClient* r = raw.get();
    Stream::Handlers h;
    h.on_data = [r](ByteView d) { r->received += std::string(d.as_string()); };
    h.on_closed = [r](const Status& s) { r->closed = s; };
    raw->stream->set_handlers(std::move(h));
    return raw;
  }

  // Sends `request` and returns everything the server says before closing.
  std::string raw_exchange(const std::string& request) {
    auto raw = raw_connect();
    EXPECT_TRUE(raw->stream->write(ByteView(std::string_view(request))).ok());
    world_.run_until([&] { return raw->closed.has_value(); }, Duration::seconds(60));
    EXPECT_TRUE(raw->closed.has_value());
    return raw->received;
  }

  MemoryWorld world_{Duration::milliseconds(1)};
  MemoryHost& server_host_ = world_.add_host("server", {ip("192.0.2.1")});
  MemoryHost& client_host_ = world_.add_host("client", {ip("198.51.100.2")});
  SeededRng rng_{7, "secure-channel-test"};
  Env server_env_{world_.clock(), server_host_, rng_, Logger()};
  Env client_env_{world_.clock(), client_host_, rng_, Logger()};
  PrivateKey server_key_ = generate_private_key(rng_);
  PrivateKey client_key_ = generate_private_key(rng_);
  Endpoint server_ep_{ip("192.0.2.1"), 8080};
  std::unique_ptr<StreamListener> listener_;
  std::unique_ptr<ChannelAcceptor> acceptor_;
  std::vector<std::unique_ptr<SecureChannel>> server_channels_;
};

TEST_F(SecureChannelTest, FetchesTheServerKey) {
  auto key = fetch();
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(*key, server_public());
  EXPECT_EQ(acceptor_->public_key(), server_public());
  EXPECT_EQ(acceptor_->counters().key_requests, 1u);
}

TEST_F(SecureChannelTest, KeyFetchRefusesAServerOfAnotherProtocol) {
  ChannelOptions other;
  other.protocol = "warren-relay/1";
  auto key = fetch(other);
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.error().message,
              HasSubstr("speaks \"warren-control/1\", not \"warren-relay/1\""));
}

TEST_F(SecureChannelTest, HandshakeAuthenticatesBothEndsAndCarriesMessagesBothWays) {
  auto client = connected_pair();
  ASSERT_NE(client, nullptr);
  SecureChannel& server = *server_channels_[0];
  EXPECT_EQ(client->peer_static_key(), server_public());
  EXPECT_EQ(server.peer_static_key(), public_key(client_key_));
  EXPECT_EQ(client->remote_endpoint(), server_ep_);
  EXPECT_EQ(server.remote_endpoint().address, ip("198.51.100.2"));
  EXPECT_EQ(acceptor_->counters().handshakes_completed, 1u);

  Recorder at_client, at_server;
  client->set_handlers(at_client.handlers());
  server.set_handlers(at_server.handlers());

  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 9));
  ASSERT_TRUE(client->send(ByteView(std::string_view("hello"))).ok());
  ASSERT_TRUE(client->send(ByteView()).ok());
  ASSERT_TRUE(client->send(ByteView(std::string_view(big))).ok());
  ASSERT_TRUE(server.send(ByteView(std::string_view(big))).ok());
  ASSERT_TRUE(server.send(ByteView(std::string_view("world"))).ok());
  world_.run_until([&] { return at_server.messages.size() == 3 && at_client.messages.size() == 2; },
                   Duration::seconds(10));
  ASSERT_EQ(at_server.messages.size(), 3u);
  EXPECT_EQ(at_server.messages[0], "hello");
  EXPECT_EQ(at_server.messages[1], "");
  EXPECT_TRUE(at_server.messages[2] == big);
  ASSERT_EQ(at_client.messages.size(), 2u);
  EXPECT_TRUE(at_client.messages[0] == big);
  EXPECT_EQ(at_client.messages[1], "world");
  EXPECT_FALSE(at_client.closed.has_value());
  EXPECT_FALSE(at_server.closed.has_value());
}

TEST_F(SecureChannelTest, WrongPinnedKeyFailsWithAClearError) {
  const PublicKey other = public_key(generate_private_key(rng_));
  auto client = open({}, other);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(
      client.error().message,
      HasSubstr("the server's key does not match the pinned server key " + to_base64(other)));
  EXPECT_THAT(client.error().message, HasSubstr(to_base64(server_public())));  // what it holds
  EXPECT_EQ(acceptor_->counters().rejected_handshake, 1u);
  EXPECT_TRUE(server_channels_.empty());
}

TEST_F(SecureChannelTest, OversizedMessagesAreRefusedOnSend) {
  ChannelOptions small;
  small.max_message_bytes = 1000;
  auto client = connected_pair(small);
  ASSERT_NE(client, nullptr);
  Status s = client->send(Bytes(1001));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("exceeds the channel's limit of 1000 bytes"));
  // The channel stays usable.
  Recorder at_server;
  server_channels_[0]->set_handlers(at_server.handlers());
  ASSERT_TRUE(client->send(Bytes(1000, 1)).ok());
  world_.run_until([&] { return !at_server.messages.empty(); }, Duration::seconds(5));
  ASSERT_EQ(at_server.messages.size(), 1u);
  EXPECT_EQ(at_server.messages[0].size(), 1000u);
}

TEST_F(SecureChannelTest, OversizedMessagesAreRefusedOnReceiveAndBothEndsLearnWhy) {
  ChannelOptions small;
  small.max_message_bytes = 1000;
  start_acceptor(small);  // the server's limit is lower than the client's
  auto client = connected_pair();
  ASSERT_NE(client, nullptr);
  Recorder at_client, at_server;
  client->set_handlers(at_client.handlers());
  server_channels_[0]->set_handlers(at_server.handlers());
  ASSERT_TRUE(client->send(Bytes(5000, 2)).ok());
  world_.run_until([&] { return at_client.closed && at_server.closed; }, Duration::seconds(5));
  ASSERT_TRUE(at_server.closed && !at_server.closed->ok());
  EXPECT_THAT(at_server.closed->error().message, HasSubstr("receiver's limit is 1000 bytes"));
  EXPECT_TRUE(at_server.messages.empty());
  ASSERT_TRUE(at_client.closed && !at_client.closed->ok());
  EXPECT_THAT(at_client.closed->error().message,
              HasSubstr("peer closed the channel with an error"));
  EXPECT_THAT(at_client.closed->error().message, HasSubstr("limit is 1000"));
  EXPECT_EQ(at_client.closed_calls, 1);
  EXPECT_EQ(at_server.closed_calls, 1);
  EXPECT_FALSE(client->send(Bytes(1)).ok());
}

TEST_F(SecureChannelTest, GracefulCloseFlushesThenThePeerSeesACleanEnd) {
  auto client = connected_pair();
  ASSERT_NE(client, nullptr);
  Recorder at_client, at_server;
  client->set_handlers(at_client.handlers());
  server_channels_[0]->set_handlers(at_server.handlers());
  ASSERT_TRUE(client->send(Bytes(200000, 3)).ok());
  ASSERT_TRUE(client->send(ByteView(std::string_view("last"))).ok());
  client->close();
  client.reset();  // close, then drop: nothing is lost
  world_.run_until([&] { return at_server.closed.has_value(); }, Duration::seconds(5));
  ASSERT_EQ(at_server.messages.size(), 2u);
  EXPECT_EQ(at_server.messages[1], "last");
  ASSERT_TRUE(at_server.closed.has_value());
  EXPECT_TRUE(at_server.closed->ok()) << at_server.closed->error().message;
  EXPECT_EQ(at_client.closed_calls, 0);  // no handler after close()
}

TEST_F(SecureChannelTest, DestroyingAChannelAbortsAndThePeerSeesAnError) {
  auto client = connected_pair();
  ASSERT_NE(client, nullptr);
  Recorder at_server;
  server_channels_[0]->set_handlers(at_server.handlers());
  client.reset();
  world_.run_until([&] { return at_server.closed.has_value(); }, Duration::seconds(5));
  ASSERT_TRUE(at_server.closed.has_value());
  EXPECT_FALSE(at_server.closed->ok());
  EXPECT_EQ(at_server.closed_calls, 1);
}

TEST_F(SecureChannelTest, MessagesWaitForHandlers) {
  auto client = connected_pair();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send(ByteView(std::string_view("one"))).ok());
  ASSERT_TRUE(client->send(ByteView(std::string_view("two"))).ok());
  client->close();
  world_.run_for(Duration::seconds(1));
  Recorder at_server;
  server_channels_[0]->set_handlers(at_server.handlers());
  EXPECT_TRUE(at_server.messages.empty());  // never from inside set_handlers
  world_.run_for(Duration::milliseconds(1));
  EXPECT_EQ(at_server.messages, (std::vector<std::string>{"one", "two"}));
  ASSERT_TRUE(at_server.closed.has_value());
  EXPECT_TRUE(at_server.closed->ok());
}

TEST_F(SecureChannelTest, HandlersMayDestroyTheChannel) {
  auto client = connected_pair();
  ASSERT_NE(client, nullptr);
  int messages = 0;
  SecureChannel::Handlers h;
  h.on_message = [&](ByteView) {
    ++messages;
    server_channels_.clear();  // destroys the channel from inside its own callback
  };
  h.on_closed = [&](const Status&) { ADD_FAILURE() << "no callback after destruction"; };
  server_channels_[0]->set_handlers(std::move(h));
  ASSERT_TRUE(client->send(Bytes(10)).ok());
  ASSERT_TRUE(client->send(Bytes(10)).ok());  // same segment: must not be delivered
  Recorder at_client;
  client->set_handlers(at_client.handlers());
  world_.run_until([&] { return at_client.closed.has_value(); }, Duration::seconds(5));
  EXPECT_EQ(messages, 1);
  ASSERT_TRUE(at_client.closed.has_value());  // the server's destruction reset the stream
  EXPECT_FALSE(at_client.closed->ok());

  // The same from on_closed.
  auto again = open();
  ASSERT_TRUE(again.ok());
  bool closed_seen = false;
  SecureChannel::Handlers h2;
  h2.on_closed = [&](const Status&) {
    closed_seen = true;
    server_channels_.clear();
  };
  server_channels_[0]->set_handlers(std::move(h2));
  (*again)->close();
  world_.run_until([&] { return closed_seen; }, Duration::seconds(5));
  EXPECT_TRUE(closed_seen);
}

TEST_F(SecureChannelTest, ReadyCallbackMayDestroyThePendingAttempt) {
  std::unique_ptr<PendingChannel> pending;
  std::unique_ptr<SecureChannel> channel;
  pending = open_channel(client_env_, server_ep_, "control.test", client_key_, server_public(),
                         [&](Result<std::unique_ptr<SecureChannel>> r) {
                           ASSERT_TRUE(r.ok()) << r.error().message;
                           channel = std::move(*r);
                           pending.reset();
                         });
  world_.run_until([&] { return channel != nullptr; }, Duration::seconds(5));
  ASSERT_NE(channel, nullptr);
  EXPECT_EQ(pending, nullptr);
  Recorder at_server;
  ASSERT_EQ(server_channels_.size(), 1u);
  server_channels_[0]->set_handlers(at_server.handlers());
  ASSERT_TRUE(channel->send(ByteView(std::string_view("still works"))).ok());
  world_.run_until([&] { return !at_server.messages.empty(); }, Duration::seconds(5));
  EXPECT_EQ(at_server.messages, (std::vector<std::string>{"still works"}));
}

TEST_F(SecureChannelTest, DestroyingThePendingAttemptAbandonsIt) {
  bool called = false;
  auto pending = open_channel(client_env_, server_ep_, "control.test", client_key_, server_public(),
                              [&](Result<std::unique_ptr<SecureChannel>>) { called = true; });
  world_.run_for(Duration::microseconds(1500));  // mid-way: connected, request on its way
  pending.reset();
  world_.run_for(Duration::seconds(20));
  EXPECT_FALSE(called);
  auto key_pending = fetch_server_key(client_env_, server_ep_, "control.test",
                                      [&](Result<PublicKey>) { called = true; });
  key_pending.reset();
  world_.run_for(Duration::seconds(20));
  EXPECT_FALSE(called);
}

TEST_F(SecureChannelTest, DestroyingTheAcceptorMidHandshakeIsSafe) {
  std::optional<Result<std::unique_ptr<SecureChannel>>> result;
  auto pending =
      open_channel(client_env_, server_ep_, "control.test", client_key_, server_public(),
                   [&](Result<std::unique_ptr<SecureChannel>> r) { result.emplace(std::move(r)); });
  world_.run_for(Duration::microseconds(2500));  // the server has accepted, maybe read
  acceptor_.reset();
  world_.run_until([&] { return result.has_value(); }, Duration::seconds(20));
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->ok());
}

TEST_F(SecureChannelTest, ServerTimesOutSilentConnections) {
  auto raw = raw_connect();
  ASSERT_TRUE(raw->stream->write(ByteView(std::string_view("POST /control HTTP/1.1\r\n"))).ok());
  world_.run_for(Duration::seconds(9));
  EXPECT_FALSE(raw->closed.has_value());
  world_.run_for(Duration::seconds(2));
  ASSERT_TRUE(raw->closed.has_value());
  EXPECT_EQ(acceptor_->counters().timed_out, 1u);
}

TEST_F(SecureChannelTest, ClientTimesOutWhenTheServerNeverAnswers) {
  acceptor_.reset();
  std::vector<std::unique_ptr<Stream>> held;  // accepted, never answered
  listener_->set_accept_handler([&](std::unique_ptr<Stream> s) { held.push_back(std::move(s)); });
  ChannelOptions quick;
  quick.handshake_timeout = Duration::seconds(3);
  auto client = open(quick);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.error().message, HasSubstr("no answer from the server at 192.0.2.1:8080"));
  EXPECT_THAT(client.error().message, HasSubstr("within 3.000s"));
  EXPECT_THAT(client.error().message, HasSubstr("waiting for the HTTP answer"));
  auto key = fetch(quick);
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.error().message, HasSubstr("no answer"));
}

TEST_F(SecureChannelTest, ConnectFailuresSaySo) {
  listener_.reset();
  auto client = open();
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.error().message, HasSubstr("cannot reach the server at 192.0.2.1:8080"));
  EXPECT_THAT(client.error().message, HasSubstr("Connection refused"));
}

TEST_F(SecureChannelTest, ClientsReportTheServersRefusal) {
  ChannelOptions wrong_path;
  wrong_path.path = "/nope";
  auto a = open(wrong_path);
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.error().message, HasSubstr("answered 404 Not Found: no such endpoint"));

  ChannelOptions wrong_protocol;
  wrong_protocol.protocol = "warren-relay/1";
  auto b = open(wrong_protocol);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.error().message, HasSubstr("answered 426 Upgrade Required"));
  EXPECT_EQ(acceptor_->counters().rejected_http, 2u);
}

TEST_F(SecureChannelTest, GarbageGetsA400AndAClose) {
  const std::string answer = raw_exchange("HELLO THERE\r\n\r\n");
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(answer, HasSubstr("request line must be"));
  const std::string tls = raw_exchange(std::string("\x16\x03\x01\x00\xa5\x01\x00", 7));
  EXPECT_THAT(tls, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_EQ(acceptor_->counters().rejected_http, 2u);
}

TEST_F(SecureChannelTest, HttpErrorsNameTheFix) {
  EXPECT_THAT(raw_exchange("GET /other HTTP/1.1\r\nHost: x\r\n\r\n"),
              StartsWith("HTTP/1.1 404 Not Found\r\n"));
  const std::string wrong_method = raw_exchange("GET /control HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(wrong_method, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_THAT(wrong_method, HasSubstr("Allow: POST\r\n"));
  EXPECT_THAT(raw_exchange("POST /key HTTP/1.1\r\nHost: x\r\n\r\n"),
              StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
  const std::string no_upgrade = raw_exchange("POST /control HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(no_upgrade, StartsWith("HTTP/1.1 426 Upgrade Required\r\n"));
  EXPECT_THAT(no_upgrade, HasSubstr("Upgrade: warren-control/1\r\n"));
  const std::string upgrade =
      "POST /control HTTP/1.1\r\nHost: x\r\nUpgrade: warren-control/1\r\n"
      "Connection: Upgrade\r\n";
  EXPECT_THAT(raw_exchange(upgrade + "\r\n"), HasSubstr("exactly one X-Warren-Handshake"));
  EXPECT_THAT(raw_exchange(upgrade + "X-Warren-Handshake: %%%%\r\n\r\n"),
              StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(raw_exchange(upgrade + "Content-Length: 3\r\nX-Warren-Handshake: AAAA\r\n\r\nabc"),
              HasSubstr("takes no request body"));
  EXPECT_EQ(acceptor_->counters().rejected_http, 7u);
  EXPECT_EQ(acceptor_->counters().rejected_handshake, 0u);
  // A well-formed header with a bogus initiation is upgraded, then refused in an error frame.
  const std::string bogus =
      raw_exchange(upgrade + "X-Warren-Handshake: " + base64_encode(Bytes(96)) + "\r\n\r\n");
  EXPECT_THAT(bogus, StartsWith("HTTP/1.1 101 Switching Protocols\r\n"));
  EXPECT_THAT(bogus, HasSubstr("handshake failed"));
  EXPECT_EQ(acceptor_->counters().rejected_handshake, 1u);
}

TEST_F(SecureChannelTest, RequestsArrivingByteByByteAreServed) {
  auto raw = raw_connect();
  const std::string request = "GET /key HTTP/1.1\r\nHost: x\r\n\r\n";
  for (char c : request) {
    ASSERT_TRUE(raw->stream->write(ByteView(std::string_view(&c, 1))).ok());
    world_.run_for(Duration::milliseconds(1));
  }
  world_.run_until([&] { return raw->closed.has_value(); }, Duration::seconds(5));
  EXPECT_THAT(raw->received, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(raw->received, HasSubstr(to_base64(server_public())));
}

TEST_F(SecureChannelTest, PendingHandshakesAreBounded) {
  std::vector<std::unique_ptr<RawClient>> idle;
  // In batches below the listen backlog, so every connection reaches the acceptor.
  while (idle.size() < ChannelAcceptor::kMaxPendingConnections + 1) {
    for (int i = 0; i < 100 && idle.size() < ChannelAcceptor::kMaxPendingConnections + 1; ++i) {
      idle.push_back(raw_connect());
    }
    world_.run_for(Duration::milliseconds(5));
  }
  EXPECT_EQ(acceptor_->counters().refused_busy, 1u);
  ASSERT_TRUE(idle.back()->closed.has_value());
  EXPECT_FALSE(idle.back()->closed->ok());
  EXPECT_FALSE(idle.front()->closed.has_value());
  // The timeout frees the slots; new clients are served again.
  world_.run_for(Duration::seconds(11));
  EXPECT_EQ(acceptor_->counters().timed_out, ChannelAcceptor::kMaxPendingConnections);
  idle.clear();
  EXPECT_TRUE(fetch().ok());
}

// A client written from nodes/common/README.md alone, with noise.h, reaches the server.
TEST_F(SecureChannelTest, WireFormatAsDocumented) {
  noise::HandshakeConfig config;
  config.role = noise::Role::initiator;
  const std::string prologue = "warren warren-control/1";
  config.prologue = Bytes(prologue.begin(), prologue.end());
  config.local_static = client_key_;
  config.remote_static = server_public();
  auto hs = noise::HandshakeState::create(config, rng_);
  ASSERT_TRUE(hs.ok());
  auto initiation = hs->write_message(ByteView());
  ASSERT_TRUE(initiation.ok());
  EXPECT_EQ(initiation->size(), 96u);

  auto raw = raw_connect();
  const std::string request =
      "POST /control HTTP/1.1\r\nHost: control.test\r\n"
      "Upgrade: warren-control/1\r\nConnection: Upgrade\r\n"
      "X-Warren-Handshake: " +
      base64_encode(*initiation) + "\r\n\r\n";
  ASSERT_TRUE(raw->stream->write(ByteView(std::string_view(request))).ok());
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: warren-control/1\r\n"
      "Connection: Upgrade\r\n\r\n";
  world_.run_until([&] { return raw->received.size() >= head.size() + 3 + 48; },
                   Duration::seconds(5));
  ASSERT_EQ(raw->received.size(), head.size() + 3 + 48);
  EXPECT_EQ(raw->received.substr(0, head.size()), head);
  const std::string frame = raw->received.substr(head.size());
  EXPECT_EQ(frame.substr(0, 3), std::string("\x02\x00\x30", 3));  // type 2, length 48
  ASSERT_TRUE(hs->read_message(ByteView(std::string_view(frame).substr(3))).ok());
  auto ciphers = hs->split();
  ASSERT_TRUE(ciphers.ok());

  ASSERT_EQ(server_channels_.size(), 1u);
  Recorder at_server;
  server_channels_[0]->set_handlers(at_server.handlers());
  // Message "hi" = 00 00 00 02 'h' 'i', split over two records.
  Bytes wire;
  for (Bytes part : {Bytes{0, 0, 0}, Bytes{2, 'h', 'i'}}) {
    auto sealed = ciphers->send.encrypt_with_ad(ByteView(), part);
    ASSERT_TRUE(sealed.ok());
    wire.push_back(4);
    append_be16(wire, static_cast<uint16_t>(sealed->size()));
    wire.insert(wire.end(), sealed->begin(), sealed->end());
  }
  ASSERT_TRUE(raw->stream->write(wire).ok());
  world_.run_until([&] { return !at_server.messages.empty(); }, Duration::seconds(5));
  EXPECT_EQ(at_server.messages, (std::vector<std::string>{"hi"}));

  // And back: the server's records decrypt with the receive cipher.
  raw->received.clear();
  ASSERT_TRUE(server_channels_[0]->send(ByteView(std::string_view("ok"))).ok());
  world_.run_until([&] { return raw->received.size() >= 3 + 6 + 16; }, Duration::seconds(5));
  ASSERT_EQ(raw->received.size(), 3u + 6 + 16);
  EXPECT_EQ(raw->received[0], 4);
  auto opened = ciphers->receive.decrypt_with_ad(
      ByteView(), ByteView(std::string_view(raw->received).substr(3)));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, (Bytes{0, 0, 0, 2, 'o', 'k'}));

  // A forged record ends the channel with an error frame to us.
  Bytes forged{4, 0, 17};
  forged.resize(3 + 17, 0x55);
  ASSERT_TRUE(raw->stream->write(forged).ok());
  world_.run_until([&] { return at_server.closed.has_value(); }, Duration::seconds(5));
  ASSERT_TRUE(at_server.closed.has_value());
  EXPECT_THAT(at_server.closed->error().message, HasSubstr("failed authentication"));
}

}  // namespace
}  // namespace warren
