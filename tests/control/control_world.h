// A control server and control clients on an in-memory network, for tests that need both ends:
// the server on 10.0.0.1:8080 over a MemoryStore that outlives it (restart = new server, same
// data), clients on hosts of their own, admin requests over real streams (10.0.0.1:9000).
// Header-only: tests/control builds every *_test.cc into one binary.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/client/control_client.h"
#include "nodes/control/control_server.h"
#include "nodes/net/memory_store.h"
#include "tests/support/capture_log_sink.h"
#include "tests/support/memory_network.h"

namespace warren::control {

// What a client saw, in order.
struct ClientRecord {
  std::vector<ControlClientError> errors;
  std::vector<PeerNode> registrations;
  std::vector<MapMessage> maps;
  std::vector<PublicKey> fetched_keys;
};

struct TestClient {
  MemoryHost* host = nullptr;
  std::unique_ptr<SeededRng> rng;
  std::unique_ptr<Env> env;
  ClientRecord record;
  std::unique_ptr<ControlClient> client;

  const NetMap& map() const { return client->net_map(); }
  const PeerNode* peer(const std::string& name) const {
    for (const auto& [id, p] : map().peers()) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }
  bool sees(const std::string& name) const { return peer(name) != nullptr; }
  bool registered() const { return !record.registrations.empty(); }
  bool fatal_error() const {
    for (const auto& e : record.errors) {
      if (!e.will_retry) return true;
    }
    return false;
  }
};

class ControlWorld {
 public:
  static constexpr uint16_t kControlPort = 8080;
  static constexpr uint16_t kAdminPort = 9000;

  ControlWorld()
      : server_host_(world_.add_host("control", {IpAddress::v4(10, 0, 0, 1)})),
        admin_host_(world_.add_host("admin", {IpAddress::v4(10, 0, 0, 2)})),
        server_env_{world_.clock(), server_host_, server_rng_,
                    Logger(&log_, &world_.clock(), "control", LogLevel::debug)},
        server_key_(generate_private_key(server_rng_)) {}

  ~ControlWorld() {
    clients_.clear();
    admin_listener_.reset();
    server_.reset();
    store_.reset();
  }

  MemoryWorld& world() { return world_; }
  ManualClock& clock() { return world_.clock(); }
  ControlServer& server() { return *server_; }
  bool server_running() const { return server_ != nullptr; }
  CaptureLogSink& log() { return log_; }
  MemoryStoreData& store_data() { return *data_; }
  const PrivateKey& server_key() const { return server_key_; }
  Endpoint server_endpoint() const { return Endpoint(IpAddress::v4(10, 0, 0, 1), kControlPort); }

  ControlServerOptions default_options() const {
    ControlServerOptions options;
    options.listen = server_endpoint();
    options.core.batch_window = Duration::milliseconds(100);
    return options;
  }

  // Builds (or rebuilds, after stop_server) the server on the shared store and starts it.
  Status start_server(std::optional<ControlServerOptions> options = std::nullopt) {
    store_ = std::make_unique<MemoryStore>(world_.clock(), data_);
    server_ = std::make_unique<ControlServer>(server_env_, *store_, server_key_,
                                              options.value_or(default_options()));
    Status started = server_->start();
    if (!started) return started;
    auto listener = server_host_.listen(Endpoint(IpAddress::v4(10, 0, 0, 1), kAdminPort));
    if (!listener) return listener.error();
    admin_listener_ = std::move(*listener);
    admin_listener_->set_accept_handler([this](std::unique_ptr<Stream> stream) {
      if (server_) server_->accept_admin(std::move(stream));
    });
    return Status::success();
  }

  // Stops and destroys the server; the store's data stays for the next start_server.
  void stop_server() {
    admin_listener_.reset();
    if (server_) server_->stop();
    server_.reset();
    store_.reset();
  }

  // Admin through the real transport: the bytes go out, one reply line comes back. Returns the
  // reply without its newline, or "" when the connection closed without one.
  std::string admin_raw(const std::string& bytes) {
    auto stream = admin_host_.connect(Endpoint(IpAddress::v4(10, 0, 0, 1), kAdminPort));
    std::string received;
    bool closed = false;
    Stream::Handlers handlers;
    handlers.on_data = [&](ByteView data) { received.append(data.as_string()); };
    handlers.on_closed = [&](const Status&) { closed = true; };
    stream->set_handlers(std::move(handlers));
    EXPECT_TRUE(stream->write(ByteView(std::string_view(bytes))).ok());
    EXPECT_TRUE(run_until([&] { return closed; }, Duration::seconds(60)))
        << "the admin connection stayed open";
    stream.reset();
    if (!received.empty() && received.back() == '\n') received.pop_back();
    return received;
  }

  nlohmann::json admin(const std::string& command, nlohmann::json args = nlohmann::json::object()) {
    nlohmann::json request = {{"command", command}, {"args", std::move(args)}};
    const std::string reply = admin_raw(request.dump() + "\n");
    nlohmann::json parsed = nlohmann::json::parse(reply, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << "admin reply is not JSON: " << reply;
    return parsed;
  }

  // users.create (when the user is new) + keys.create; returns the key text.
  std::string create_key(const std::string& user = "alice", bool reusable = false,
                         bool ephemeral = false, std::vector<std::string> tags = {},
                         int64_t expiration_s = 0) {
    bool known = false;
    for (const User& u : server_->registry().users()) known = known || u.name == user;
    if (!known) {
      nlohmann::json created = admin("users.create", {{"name", user}});
      EXPECT_EQ(created.value("ok", false), true) << created.dump();
    }
    nlohmann::json args = {{"user", user}, {"reusable", reusable}, {"ephemeral", ephemeral}};
    if (!tags.empty()) args["tags"] = tags;
    if (expiration_s > 0) args["expiration_s"] = expiration_s;
    nlohmann::json key = admin("keys.create", args);
    EXPECT_EQ(key.value("ok", false), true) << key.dump();
    if (!key.value("ok", false)) return "";
    return key["result"].value("key", "");
  }

  ControlClientOptions client_options(const std::string& hostname, const std::string& auth_key,
                                      Rng& rng) const {
    ControlClientOptions options;
    options.server = server_endpoint();
    options.host = "control.test:8080";
    options.machine_key = generate_private_key(rng);
    options.node_key = generate_private_key(rng);
    options.disco_key = generate_private_key(rng);
    options.hostname = hostname;
    options.auth_key = auth_key;
    return options;
  }

  // A client on a host of its own (10.0.1.N); the options come from `adjust`. Not started.
  TestClient& add_client(const std::string& hostname, const std::string& auth_key,
                         const std::function<void(ControlClientOptions&)>& adjust = nullptr) {
    auto c = std::make_unique<TestClient>();
    const int n = next_client_++;
    c->host =
        &world_.add_host(hostname + "-host", {IpAddress::v4(10, 0, 1, static_cast<uint8_t>(n))});
    c->rng = std::make_unique<SeededRng>(static_cast<uint64_t>(n), "client");
    c->env = std::make_unique<Env>(Env{world_.clock(), *c->host, *c->rng,
                                       Logger(&log_, &world_.clock(), hostname, LogLevel::debug)});
    ControlClientOptions options = client_options(hostname, auth_key, *c->rng);
    if (adjust) adjust(options);
    TestClient* raw = c.get();
    ControlClient::Callbacks callbacks;
    callbacks.on_server_key = [raw](const PublicKey& key) {
      raw->record.fetched_keys.push_back(key);
    };
    callbacks.on_registered = [raw](const PeerNode& self) {
      raw->record.registrations.push_back(self);
    };
    callbacks.on_map = [raw](const NetMap&, const MapMessage& m) { raw->record.maps.push_back(m); };
    callbacks.on_error = [raw](const ControlClientError& e) { raw->record.errors.push_back(e); };
    c->client = std::make_unique<ControlClient>(*c->env, std::move(options), std::move(callbacks));
    clients_.push_back(std::move(c));
    return *raw;
  }

  // Starts the client and runs until it has its full map (or failed).
  bool connect(TestClient& c, Duration timeout = Duration::seconds(30)) {
    c.client->start();
    return run_until([&] { return c.client->streaming() || c.fatal_error(); }, timeout) &&
           c.client->streaming();
  }

  bool run_until(const std::function<bool()>& done, Duration timeout = Duration::seconds(30)) {
    return world_.run_until(done, timeout);
  }
  void run_for(Duration d) { world_.run_for(d); }

 private:
  MemoryWorld world_;
  MemoryHost& server_host_;
  MemoryHost& admin_host_;
  CaptureLogSink log_;
  SeededRng server_rng_{1, "control-server"};
  Env server_env_;
  PrivateKey server_key_;
  std::shared_ptr<MemoryStoreData> data_ = std::make_shared<MemoryStoreData>();
  std::unique_ptr<MemoryStore> store_;
  std::unique_ptr<ControlServer> server_;
  std::unique_ptr<StreamListener> admin_listener_;
  std::vector<std::unique_ptr<TestClient>> clients_;
  int next_client_ = 1;
};

}  // namespace warren::control
