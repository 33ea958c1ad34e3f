#include "nodes/relay/admission_feed.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nodes/common/secure_channel.h"
#include "nodes/control/control_server.h"
#include "nodes/net/memory_store.h"
#include "tests/support/capture_log_sink.h"
#include "tests/support/memory_network.h"

namespace warren::relay {
namespace {

using ::testing::HasSubstr;

struct Removal {
  PublicKey key;
  std::string reason;
};

// A real control server (10.0.0.1:8080, over a MemoryStore that survives restarts) and a relay
// host (10.0.0.2) running an AdmissionFeed into an Admission.
class AdmissionFeedTest : public ::testing::Test {
 protected:
  static constexpr uint16_t kControlPort = 8080;

  AdmissionFeedTest()
      : control_host_(world_.add_host("control", {IpAddress::v4(10, 0, 0, 1)})),
        relay_host_(world_.add_host("relay", {IpAddress::v4(10, 0, 0, 2)})),
        control_env_{world_.clock(), control_host_, control_rng_,
                     Logger(&log_, &world_.clock(), "control", LogLevel::debug)},
        relay_env_{world_.clock(), relay_host_, relay_rng_,
                   Logger(&log_, &world_.clock(), "relay", LogLevel::debug)},
        control_key_(generate_private_key(control_rng_)),
        relay_key_(generate_private_key(relay_rng_)),
        admission_(Admission::Mode::no_control) {
    admission_.set_removed_listener([this](const PublicKey& key, const std::string& reason) {
      removals_.push_back({key, reason});
    });
  }

  ~AdmissionFeedTest() override {
    feed_.reset();
    stop_server();
  }

  Endpoint control_endpoint() const { return Endpoint(IpAddress::v4(10, 0, 0, 1), kControlPort); }

  // The relay map lists `listed` as the one relay's key (default: this relay's).
  void start_server(std::optional<PublicKey> listed = std::nullopt) {
    control::ControlServerOptions options;
    options.listen = control_endpoint();
    options.core.batch_window = Duration::milliseconds(100);
    control::RelayRegion region;
    region.id = 1;
    region.code = "home";
    control::Relay relay;
    relay.name = "r1";
    relay.host = "relay.test";
    relay.key = listed.value_or(public_key(relay_key_));
    region.relays.push_back(relay);
    options.core.relay_map.regions.push_back(region);
    store_ = std::make_unique<MemoryStore>(world_.clock(), store_data_);
    server_ = std::make_unique<control::ControlServer>(control_env_, *store_, control_key_,
                                                       std::move(options));
    Status started = server_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }

  void stop_server() {
    if (server_) server_->stop();
    server_.reset();
    store_.reset();
  }

  control::Registry& registry() { return server_->registry(); }

  // Registers a node through the registry (as a registering client would) and returns its node
  // key; its name is `hostname`.
  PublicKey register_node(const std::string& hostname) {
    if (auth_key_.empty()) {
      bool done = false;
      registry().create_user("alice", [&](Result<control::User> user) {
        EXPECT_TRUE(user.ok());
        registry().create_auth_key("alice", /*reusable=*/true, /*ephemeral=*/false,
                                   Duration::zero(), {}, [&](Result<control::CreatedAuthKey> key) {
                                     EXPECT_TRUE(key.ok());
                                     if (key) auth_key_ = key->text;
                                     done = true;
                                   });
      });
      EXPECT_TRUE(run_until([&] { return done; }));
    }
    control::RegisterRequest request;
    request.machine_key = public_key(generate_private_key(relay_rng_));
    request.node_key = public_key(generate_private_key(relay_rng_));
    request.disco_key = public_key(generate_private_key(relay_rng_));
    request.auth_key = auth_key_;
    request.hostname = hostname;
    bool done = false;
    registry().register_node(request, [&](Result<control::Node> node) {
      EXPECT_TRUE(node.ok()) << node.error().message;
      done = true;
    });
    EXPECT_TRUE(run_until([&] { return done; }));
    return request.node_key;
  }

  void registry_call(const std::function<void(control::Registry::Done)>& call) {
    bool done = false;
    call([&](const Status& s) {
      EXPECT_TRUE(s.ok()) << s.error().message;
      done = true;
    });
    EXPECT_TRUE(run_until([&] { return done; }));
  }

  AdmissionFeedOptions feed_options() {
    AdmissionFeedOptions options;
    options.server = control_endpoint();
    options.host = "control.test:8080";
    options.relay_key = relay_key_;
    options.server_key = public_key(control_key_);
    return options;
  }

  void start_feed(std::optional<AdmissionFeedOptions> options = std::nullopt) {
    AdmissionFeed::Callbacks callbacks;
    callbacks.on_server_key = [this](const PublicKey& key) { fetched_keys_.push_back(key); };
    callbacks.on_error = [this](const std::string& message) { errors_.push_back(message); };
    callbacks.on_full_set = [this] { ++full_sets_; };
    feed_ = std::make_unique<AdmissionFeed>(relay_env_, options.value_or(feed_options()),
                                            admission_, std::move(callbacks));
    feed_->start();
  }

  bool run_until(const std::function<bool()>& done, Duration timeout = Duration::seconds(30)) {
    return world_.run_until(done, timeout);
  }
  bool admitted(const PublicKey& key) const { return admission_.check(key).admitted; }
  bool any_error_has(const std::string& text) const {
    for (const std::string& e : errors_) {
      if (e.find(text) != std::string::npos) return true;
    }
    return false;
  }

  MemoryWorld world_;
  MemoryHost& control_host_;
  MemoryHost& relay_host_;
  CaptureLogSink log_;
  SeededRng control_rng_{1, "control"};
  SeededRng relay_rng_{2, "relay"};
  Env control_env_;
  Env relay_env_;
  PrivateKey control_key_;
  PrivateKey relay_key_;
  std::shared_ptr<MemoryStoreData> store_data_ = std::make_shared<MemoryStoreData>();
  std::unique_ptr<MemoryStore> store_;
  std::unique_ptr<control::ControlServer> server_;
  std::string auth_key_;
  Admission admission_;
  std::unique_ptr<AdmissionFeed> feed_;
  std::vector<std::string> errors_;
  std::vector<PublicKey> fetched_keys_;
  std::vector<Removal> removals_;
  int full_sets_ = 0;
};

TEST_F(AdmissionFeedTest, FullSetArrivesAndAdmitsRegisteredNodes) {
  start_server();
  const PublicKey a = register_node("a");
  const PublicKey b = register_node("b");
  start_feed();
  EXPECT_EQ(admission_.mode(), Admission::Mode::waiting);
  EXPECT_EQ(admission_.check(a).reason, RefusalReason::not_ready);
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); })) << log_.text();
  EXPECT_EQ(admission_.mode(), Admission::Mode::live);
  EXPECT_EQ(admission_.size(), 2u);
  EXPECT_TRUE(admitted(a));
  EXPECT_TRUE(admitted(b));
  AdmissionVerdict stranger = admission_.check(public_key(generate_private_key(relay_rng_)));
  EXPECT_FALSE(stranger.admitted);
  EXPECT_EQ(stranger.reason, RefusalReason::unknown_key);
  EXPECT_EQ(full_sets_, 1);
  EXPECT_EQ(feed_->counters().full_sets, 1u);
  EXPECT_EQ(feed_->counters().connects, 1u);
  EXPECT_TRUE(errors_.empty());
  EXPECT_TRUE(fetched_keys_.empty());  // pinned: no /key request
}

TEST_F(AdmissionFeedTest, UnpinnedServerKeyIsFetchedAndReported) {
  start_server();
  AdmissionFeedOptions options = feed_options();
  options.server_key.reset();
  start_feed(options);
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); })) << log_.text();
  EXPECT_EQ(fetched_keys_, std::vector<PublicKey>{public_key(control_key_)});
}

TEST_F(AdmissionFeedTest, NodeRegisteredLaterIsAdded) {
  start_server();
  register_node("a");
  start_feed();
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); }));
  const PublicKey c = register_node("c");
  ASSERT_TRUE(run_until([&] { return admitted(c); }, Duration::seconds(5)));
  EXPECT_GE(feed_->counters().deltas, 1u);
  EXPECT_EQ(full_sets_, 1);
}

TEST_F(AdmissionFeedTest, ExpiredAndDeletedNodesAreRemovedWithTheirReasonWithinFiveSeconds) {
  start_server();
  const PublicKey a = register_node("a");
  const PublicKey b = register_node("b");
  start_feed();
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); }));

  registry_call([&](auto done) { registry().expire_node("a", done); });
  ASSERT_TRUE(run_until([&] { return !admitted(a); }, Duration::seconds(5)));
  AdmissionVerdict v = admission_.check(a);
  EXPECT_EQ(v.reason, RefusalReason::removed_key);
  EXPECT_EQ(v.text, "node key expired");
  ASSERT_EQ(removals_.size(), 1u);
  EXPECT_EQ(removals_[0].key, a);
  EXPECT_EQ(removals_[0].reason, "node key expired");
  EXPECT_TRUE(admitted(b));

  registry_call([&](auto done) { registry().delete_node("b", done); });
  ASSERT_TRUE(run_until([&] { return !admitted(b); }, Duration::seconds(5)));
  EXPECT_EQ(admission_.check(b).text, "node deleted");
  ASSERT_EQ(removals_.size(), 2u);
  EXPECT_EQ(removals_[1].reason, "node deleted");
  EXPECT_TRUE(errors_.empty());
}

TEST_F(AdmissionFeedTest, RekeyedNodeIsSwappedWithTheReplacedReason) {
  start_server();
  register_node("a");
  start_feed();
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); }));
  // The same machine registers again with a new node key.
  const control::Node* node = registry().nodes().at(0);
  const PublicKey old_key = node->node_key;
  control::RegisterRequest request;
  request.machine_key = node->machine_key;
  request.node_key = public_key(generate_private_key(relay_rng_));
  request.disco_key = node->disco_key;
  request.hostname = "a";
  bool done = false;
  registry().register_node(request, [&](Result<control::Node> r) {
    EXPECT_TRUE(r.ok()) << r.error().message;
    done = true;
  });
  ASSERT_TRUE(run_until([&] { return done && admitted(request.node_key); }, Duration::seconds(5)));
  EXPECT_FALSE(admitted(old_key));
  EXPECT_EQ(admission_.check(old_key).text, "node key replaced by a newer one");
}

TEST_F(AdmissionFeedTest, RelayMissingFromTheRelayMapKeepsRetryingAndSaysWhy) {
  start_server(/*listed=*/public_key(generate_private_key(control_rng_)));
  register_node("a");
  start_feed();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_THAT(errors_.at(0), HasSubstr("the control server refused this relay"));
  EXPECT_THAT(errors_.at(0), HasSubstr("not a relay in the relay map"));
  EXPECT_THAT(errors_.at(0), HasSubstr(to_base64(public_key(relay_key_))));
  EXPECT_TRUE(log_.contains("refused this relay", LogLevel::warn));
  EXPECT_FALSE(feed_->subscribed());
  EXPECT_EQ(admission_.check(public_key(relay_key_)).reason, RefusalReason::not_ready);

  // It keeps trying, at the slow pace (half to all of backoff_max, 30 s).
  world_.run_for(Duration::seconds(120));
  EXPECT_GE(feed_->counters().connects, 4u);
  EXPECT_LE(feed_->counters().connects, 1u + 120 / 15);
  EXPECT_EQ(feed_->counters().errors, feed_->counters().connects);

  // The operator fixes the map and restarts the control server: the feed gets in.
  stop_server();
  start_server();
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); }, Duration::seconds(60)));
  EXPECT_EQ(admission_.size(), 1u);
}

TEST_F(AdmissionFeedTest, ControlServerRestartReconnectsAndReportsRemovalsInBetween) {
  start_server();
  const PublicKey a = register_node("a");
  const PublicKey b = register_node("b");
  start_feed();
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); }));

  stop_server();
  ASSERT_TRUE(run_until([&] { return !feed_->subscribed(); }));
  EXPECT_THAT(errors_.at(0), HasSubstr("control"));
  // While the control server is away the last set stays in force.
  world_.run_for(Duration::seconds(10));
  EXPECT_TRUE(admitted(a));
  EXPECT_TRUE(admitted(b));

  // Back, with b deleted and c new before the relay reconnects.
  start_server();
  registry_call([&](auto done) { registry().delete_node("b", done); });
  const PublicKey c = register_node("c");
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); }, Duration::seconds(60))) << log_.text();
  EXPECT_EQ(full_sets_, 2);
  EXPECT_TRUE(admitted(a));
  EXPECT_TRUE(admitted(c));
  EXPECT_FALSE(admitted(b));
  ASSERT_EQ(removals_.size(), 1u);
  EXPECT_EQ(removals_[0].key, b);
  EXPECT_EQ(removals_[0].reason, "no longer listed by the control server");
  EXPECT_EQ(admission_.check(b).reason, RefusalReason::removed_key);

  // And the new feed carries deltas as before.
  registry_call([&](auto done) { registry().expire_node("a", done); });
  ASSERT_TRUE(run_until([&] { return !admitted(a); }, Duration::seconds(5)));
  EXPECT_EQ(admission_.check(a).text, "node key expired");
}

TEST_F(AdmissionFeedTest, WrongPinnedControlKeyFailsWithAClearMessage) {
  start_server();
  const PublicKey a = register_node("a");
  AdmissionFeedOptions options = feed_options();
  const PublicKey wrong = public_key(generate_private_key(relay_rng_));
  options.server_key = wrong;
  start_feed(options);
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_THAT(errors_.at(0), HasSubstr("presents key " + to_base64(public_key(control_key_))));
  EXPECT_THAT(errors_.at(0), HasSubstr("this relay expects " + to_base64(wrong)));
  EXPECT_THAT(errors_.at(0), HasSubstr("control server key in the relay's config"));
  EXPECT_EQ(admission_.check(a).reason, RefusalReason::not_ready);
  // Still retried (the operator may swap the control server's key back).
  world_.run_for(Duration::seconds(60));
  EXPECT_GE(feed_->counters().connects, 2u);
  EXPECT_FALSE(feed_->subscribed());
}

TEST_F(AdmissionFeedTest, UnreachableControlServerBacksOffWithBoundedDelays) {
  // Nobody listens: every attempt is refused at once.
  start_feed();
  world_.run_for(Duration::seconds(10 * 60));
  const uint64_t connects = feed_->counters().connects;
  // 1 s doubling to 30 s, each half fixed: at most 1 + 0.5+1+2+4+8 s then one per >= 15 s.
  EXPECT_GE(connects, 10u);
  EXPECT_LE(connects, 5u + 600 / 15 + 1);
  EXPECT_THAT(errors_.at(0), HasSubstr("10.0.0.1:8080"));
  EXPECT_EQ(admission_.mode(), Admission::Mode::waiting);
}

TEST_F(AdmissionFeedTest, KeepalivesKeepTheFeedUp) {
  start_server();
  start_feed();
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); }));
  world_.run_for(Duration::seconds(5 * 60));
  EXPECT_TRUE(feed_->subscribed());
  EXPECT_GE(feed_->counters().keepalives, 4u);
  EXPECT_EQ(feed_->counters().connects, 1u);
  EXPECT_TRUE(errors_.empty());
}

TEST_F(AdmissionFeedTest, SilenceLongerThanTheWatchdogReconnects) {
  start_server();
  AdmissionFeedOptions options = feed_options();
  options.watchdog = Duration::seconds(20);  // shorter than the server's keepalive interval
  start_feed(options);
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); }));
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }, Duration::seconds(25)));
  EXPECT_THAT(errors_.at(0), HasSubstr("nothing heard from the control server for 20.000s"));
  ASSERT_TRUE(run_until([&] { return full_sets_ == 2; }, Duration::seconds(10)));
}

TEST_F(AdmissionFeedTest, DestroyingTheFeedClosesItsSession) {
  start_server();
  start_feed();
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); }));
  EXPECT_EQ(server_->core().session_count(), 1u);
  feed_.reset();
  ASSERT_TRUE(run_until([&] { return server_->core().session_count() == 0; }));
  EXPECT_TRUE(errors_.empty());
}

TEST_F(AdmissionFeedTest, StopKeepsTheSetAndStartResubscribes) {
  start_server();
  const PublicKey a = register_node("a");
  start_feed();
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); }));
  feed_->stop();
  EXPECT_FALSE(feed_->subscribed());
  world_.run_for(Duration::seconds(60));
  EXPECT_TRUE(admitted(a));
  EXPECT_EQ(feed_->counters().connects, 1u);
  feed_->start();
  ASSERT_TRUE(run_until([&] { return feed_->subscribed(); }));
  EXPECT_EQ(full_sets_, 2);
}

// --- a scripted control server, for what a real one never sends -------------------------

class ScriptedControlTest : public AdmissionFeedTest {
 protected:
  // Listens on the control port; each channel that sends relay_subscribe gets `script` (JSON
  // texts) in order.
  void start_scripted(std::vector<std::string> script) {
    script_ = std::move(script);
    acceptor_ = std::make_unique<ChannelAcceptor>(control_env_, control_key_);
    acceptor_->set_channel_handler([this](std::unique_ptr<SecureChannel> channel) {
      SecureChannel* raw = channel.get();
      channels_.push_back(std::move(channel));
      SecureChannel::Handlers handlers;
      handlers.on_message = [this, raw](ByteView) {
        ++subscribes_;
        for (const std::string& m : script_) {
          ASSERT_TRUE(raw->send(ByteView(std::string_view(m))).ok());
        }
      };
      handlers.on_closed = [](const Status&) {};
      raw->set_handlers(std::move(handlers));
    });
    auto listener = control_host_.listen(control_endpoint());
    ASSERT_TRUE(listener.ok());
    listener_ = std::move(*listener);
    listener_->set_accept_handler(
        [this](std::unique_ptr<Stream> stream) { acceptor_->accept(std::move(stream)); });
  }
  ~ScriptedControlTest() override {
    feed_.reset();
    channels_.clear();
    listener_.reset();
    acceptor_.reset();
  }
  static std::string keys_json(const std::vector<PublicKey>& keys) {
    std::string out = "[";
    for (size_t i = 0; i < keys.size(); ++i) {
      out += (i ? ",\"" : "\"") + to_base64(keys[i]) + "\"";
    }
    return out + "]";
  }

  std::vector<std::string> script_;
  std::unique_ptr<ChannelAcceptor> acceptor_;
  std::unique_ptr<StreamListener> listener_;
  std::vector<std::unique_ptr<SecureChannel>> channels_;
  int subscribes_ = 0;
};

TEST_F(ScriptedControlTest, SequenceGapReconnectsForAFreshFullSet) {
  const PublicKey a = public_key(generate_private_key(relay_rng_));
  const PublicKey b = public_key(generate_private_key(relay_rng_));
  start_scripted({
      R"({"type":"relay_keys","seq":1,"full":true,"keys":)" + keys_json({a}) + "}",
      R"({"type":"relay_keys","seq":3,"added":)" + keys_json({b}) + "}",
  });
  start_feed();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_THAT(errors_.at(0), HasSubstr("relay_keys seq 3 does not follow 1"));
  EXPECT_TRUE(admitted(a));  // the set in force stays
  EXPECT_FALSE(admitted(b));
  ASSERT_TRUE(run_until([&] { return subscribes_ >= 2; }));
}

TEST_F(ScriptedControlTest, FirstMessageMustBeAFullSet) {
  const PublicKey a = public_key(generate_private_key(relay_rng_));
  start_scripted({R"({"type":"relay_keys","seq":1,"added":)" + keys_json({a}) + "}"});
  start_feed();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_THAT(errors_.at(0), HasSubstr("not a full key set"));
  EXPECT_EQ(admission_.mode(), Admission::Mode::waiting);
}

TEST_F(ScriptedControlTest, MalformedOrForeignMessagesAreErrors) {
  start_scripted({R"({"type":"relay_keys","seq":1,"full":true,"keys":[]})",
                  R"({"type":"relay_keys","seq":2,"removed":[{"key":"nope","reason":"x"}]})"});
  start_feed();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_THAT(errors_.at(0), HasSubstr("malformed message from the control server: "
                                       "relay_keys.removed[0].key"));
  EXPECT_EQ(feed_->counters().errors, 1u);
}

TEST_F(ScriptedControlTest, MapMessageOnARelayFeedIsAnError) {
  start_scripted(
      {R"({"type":"keepalive"})", R"({"type":"register_response","ok":false,"error":"x"})"});
  start_feed();
  ASSERT_TRUE(run_until([&] { return !errors_.empty(); }));
  EXPECT_THAT(errors_.at(0), HasSubstr("unexpected register_response"));
  EXPECT_EQ(feed_->counters().keepalives, 1u);
}

}  // namespace
}  // namespace warren::relay
