// libFuzzer target: any admin requests must get exactly one reply each that serialises, never a
// crash. The input is up to kMaxRequests lines, each one request (JSON), run in order against
// a registry that already holds a user, a key and two nodes, with every commit completed
// between requests; every few inputs the store fails a commit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/control/admin_api.h"
#include "nodes/net/memory_store.h"

namespace {

using namespace warren;
using namespace warren::control;

constexpr size_t kMaxRequests = 16;   // enough for create -> use -> delete sequences
constexpr int kMaxTimerRuns = 10000;  // a request's commits take a handful of turns

class FuzzClock final : public Clock {
 public:
  Timestamp now() const override { return now_; }
  TimerId schedule_at(Timestamp when, std::function<void()> fn) override {
    TimerId id = next_id_++;
    queue_[{std::max(when.ns(), now_.ns()), id}] = std::move(fn);
    return id;
  }
  void cancel(TimerId id) override {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->first.second == id) {
        queue_.erase(it);
        return;
      }
    }
  }
  void run_all() {
    for (int i = 0; i < kMaxTimerRuns && !queue_.empty(); ++i) {
      auto it = queue_.begin();
      now_ = Timestamp::from_ns(it->first.first);
      auto fn = std::move(it->second);
      queue_.erase(it);
      fn();
    }
  }

 private:
  Timestamp now_;
  TimerId next_id_ = 1;
  std::map<std::pair<int64_t, TimerId>, std::function<void()>> queue_;
};

class NoNetwork final : public Network {
 public:
  Result<std::unique_ptr<UdpSocket>> open_udp(const Endpoint&) override {
    return make_error("no network in the fuzzer");
  }
  Result<std::unique_ptr<StreamListener>> listen(const Endpoint&) override {
    return make_error("no network in the fuzzer");
  }
  std::unique_ptr<Stream> connect(const Endpoint&) override { return nullptr; }
  std::vector<IpAddress> local_addresses() const override { return {}; }
};

class NoLive final : public NodeLiveSource {
 public:
  NodeLive live(NodeId) const override { return NodeLive{}; }
};

PublicKey key_of(uint8_t kind, uint8_t n) {
  PublicKey k;
  k.bytes[0] = kind;
  k.bytes[1] = n;
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static uint64_t inputs = 0;
  FuzzClock clock;
  NoNetwork network;
  SeededRng rng(1, "admin-fuzz");
  Env env{clock, network, rng, Logger()};
  auto stored = std::make_shared<MemoryStoreData>();
  MemoryStore store(clock, stored);
  Registry registry(env, store, RegistryConfig());
  if (!registry.load()) std::abort();
  NoLive live;
  AdminApi api(env, registry, live);

  // Seed state: alice, a reusable key, nodes "laptop" (advertising routes) and "desktop".
  registry.create_user("alice", [](Result<User>) {});
  std::string key_text;
  registry.create_auth_key("alice", true, false, Duration::zero(), {"tag:x"},
                           [&](Result<CreatedAuthKey> k) {
                             if (k) key_text = k->text;
                           });
  clock.run_all();
  for (uint8_t i = 1; i <= 2; ++i) {
    RegisterRequest req;
    req.machine_key = key_of('m', i);
    req.node_key = key_of('n', i);
    req.auth_key = key_text;
    req.hostname = i == 1 ? "laptop" : "desktop";
    if (i == 1) req.advertised_routes = {*Prefix::parse("10.0.0.0/24"), *Prefix::parse("::/0")};
    registry.register_node(req, [](Result<Node>) {});
    clock.run_all();
  }
  if (++inputs % 4 == 0) stored->fail_next_commits = 1;

  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (size_t n = 0; n < kMaxRequests && !text.empty(); ++n) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    auto request = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
    if (request.is_discarded()) request = nlohmann::json(std::string(line));  // a bad request
    int replies = 0;
    api.handle(request, [&replies](nlohmann::json reply) {
      ++replies;
      if (!reply.is_object() || !reply.contains("ok")) std::abort();
      (void)reply.dump();  // throws (and so fails) on anything that does not serialise
    });
    clock.run_all();
    if (replies != 1) std::abort();
  }
  return 0;
}
