// A Registry over a MemoryStore with a manual clock, for registry and admin API tests: runs the
// asynchronous calls to completion and records what the observer was told.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nodes/control/registry.h"
#include "nodes/net/memory_store.h"
#include "nodes/net/rng.h"
#include "tests/support/memory_network.h"

namespace warren::control::testing {

struct ObserverEvent {
  std::string kind;  // "upserted", "created", "removed", "policy", "reset"
  NodeId id = 0;
};

class RecordingObserver final : public RegistryObserver {
 public:
  void node_upserted(const Node& node, bool created) override {
    events.push_back({created ? "created" : "upserted", node.id});
  }
  void node_removed(const Node& node) override { events.push_back({"removed", node.id}); }
  void policy_changed(const Policy&) override { events.push_back({"policy", 0}); }
  void reset() override { events.push_back({"reset", 0}); }
  std::vector<std::string> kinds() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(e.kind);
    return out;
  }
  std::vector<ObserverEvent> events;
};

inline PublicKey test_key(uint32_t n, uint8_t kind) {
  PublicKey k;
  k.bytes[0] = kind;
  k.bytes[1] = static_cast<uint8_t>(n >> 24);
  k.bytes[2] = static_cast<uint8_t>(n >> 16);
  k.bytes[3] = static_cast<uint8_t>(n >> 8);
  k.bytes[4] = static_cast<uint8_t>(n);
  k.bytes[31] = 1;
  return k;
}
inline PublicKey machine_key(uint32_t n) {
  return test_key(n, 'm');
}
inline PublicKey node_key(uint32_t n) {
  return test_key(n, 'n');
}
inline PublicKey disco_key(uint32_t n) {
  return test_key(n, 'd');
}

class RegistryHarness {
 public:
  RegistryHarness() { start(); }

  void start(RegistryConfig config = RegistryConfig()) {
    Status loaded = try_start(config);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  }
  // A new Registry over the stored data; the load's status.
  Status try_start(RegistryConfig config) {
    config_ = config;
    registry_.reset();
    store_ = std::make_unique<MemoryStore>(clock(), data_);
    registry_ = std::make_unique<Registry>(env_, *store_, config_);
    registry_->set_observer(&observer_);
    return registry_->load();
  }
  // A new Registry over the same stored data, as after a server restart.
  void restart() { start(config_); }

  ManualClock& clock() { return world_.clock(); }
  Env& env() { return env_; }
  Registry& reg() { return *registry_; }
  MemoryStoreData& data() { return *data_; }
  RecordingObserver& observer() { return observer_; }
  void run() { clock().advance(Duration::zero()); }

  template <typename T, typename Call>
  Result<T> wait(Call call) {
    std::optional<Result<T>> out;
    call([&out](Result<T> r) { out.emplace(std::move(r)); });
    EXPECT_FALSE(out.has_value()) << "done ran inside the call";
    run();
    EXPECT_TRUE(out.has_value()) << "done did not run";
    if (!out) return make_error("no reply");
    return std::move(*out);
  }
  template <typename Call>
  Status wait_status(Call call) {
    std::optional<Status> out;
    call([&out](const Status& s) { out.emplace(s); });
    EXPECT_FALSE(out.has_value()) << "done ran inside the call";
    run();
    EXPECT_TRUE(out.has_value()) << "done did not run";
    if (!out) return make_error("no reply");
    return *out;
  }

  Result<User> create_user(const std::string& name) {
    return wait<User>([&](auto done) { reg().create_user(name, done); });
  }
  Result<CreatedAuthKey> create_key(const std::string& user, bool reusable = false,
                                    bool ephemeral = false, Duration expiration = Duration::zero(),
                                    std::vector<std::string> tags = {}) {
    return wait<CreatedAuthKey>([&](auto done) {
      reg().create_auth_key(user, reusable, ephemeral, expiration, tags, done);
    });
  }
  Result<Node> register_node(uint32_t machine, const std::string& auth_key,
                             const std::string& hostname = "host", std::vector<Prefix> routes = {},
                             uint32_t node = 0) {
    RegisterRequest req;
    req.machine_key = machine_key(machine);
    req.node_key = node_key(node ? node : machine);
    req.disco_key = disco_key(machine);
    req.auth_key = auth_key;
    req.hostname = hostname;
    req.advertised_routes = std::move(routes);
    return wait<Node>([&](auto done) { reg().register_node(req, done); });
  }
  Status status(const std::function<void(Registry::Done)>& call) { return wait_status(call); }

  // A user "alice" and a reusable key of hers.
  std::string alice_key() {
    if (!reg().find_user(1)) {
      auto u = create_user("alice");
      EXPECT_TRUE(u.ok());
    }
    auto k = create_key("alice", /*reusable=*/true);
    EXPECT_TRUE(k.ok());
    return k.ok() ? k->text : "";
  }

 private:
  MemoryWorld world_;
  MemoryHost& host_ = world_.add_host("control", {*IpAddress::parse("192.0.2.1")});
  SeededRng rng_{42, "registry-test"};
  Env env_{world_.clock(), host_, rng_, Logger()};
  std::shared_ptr<MemoryStoreData> data_ = std::make_shared<MemoryStoreData>();
  std::unique_ptr<MemoryStore> store_;
  RegistryConfig config_;
  RecordingObserver observer_;
  std::unique_ptr<Registry> registry_;
};

}  // namespace warren::control::testing
