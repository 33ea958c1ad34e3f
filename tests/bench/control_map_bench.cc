// The control server at scale (issue 3, item 12): N registered nodes, all online with a map
// stream, all seeing each other (no policy = allow all).
//
// - BM_EndpointChange: one node reports new endpoints (an "update" message through the core)
//   and the batch window passes: compute + encode + hand every affected delta to its sink.
//   Counters: messages and bytes per change (N - 1 recipients each).
// - BM_FullMapWarm: one node reconnects and gets its full map (peer JSON already cached, as in
//   steady state). BM_PeerEncode: encoding one peer from scratch; a full map with nothing
//   cached (first connections after a restart) costs about N times that on top.
// - Memory (counters on every benchmark, bytes per node): heap growth measured with glibc's
//   mallinfo2().uordblks around each phase. registry_B = the Registry with its nodes;
//   store_B = the MemoryStore's records (taken out of registry_B: in real mode they live in
//   SQLite, not in the server's heap); core_B = the ControlCore once every node streams:
//   policy index, per-node map state with its cached peer JSON, per-stream and per-session
//   state, timers. The benchmark's own keys and sinks are allocated before measuring.
//
// Setup builds each N once (registrations straight into the Registry, then one map_request per
// node, flushing every kConnectBatch connections so no stream collapses into a second full map).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nodes/control/control_core.h"
#include "nodes/net/memory_store.h"
#include "tests/support/memory_network.h"

namespace warren::control {
namespace {

constexpr Duration kWindow = Duration::milliseconds(250);
constexpr size_t kConnectBatch = 512;  // below kMaxPendingPeers: deltas stay deltas

size_t heap_in_use() {
  return mallinfo2().uordblks;
}

class CountingSink final : public SessionSink {
 public:
  Status send(ByteView message) override {
    bytes += message.size();
    ++messages;
    return Status::success();
  }
  size_t backlog_bytes() const override { return 0; }
  void close(const std::string&) override { closed = true; }
  uint64_t bytes = 0;
  uint64_t messages = 0;
  bool closed = false;
};

PublicKey random_key(Rng& rng) {
  PublicKey k;
  rng.fill(k.bytes.data(), k.bytes.size());
  return k;
}

struct Scale {
  explicit Scale(size_t n)
      : host(world.add_host("control", {IpAddress::v4(10, 0, 0, 1)})),
        rng(1, "control-map-bench"),
        env{world.clock(), host, rng, Logger()},
        store(world.clock(), data) {
    // The benchmark's own keys and sinks are allocated before measuring.
    machines.resize(n);
    node_keys.resize(n);
    disco_keys.resize(n);
    for (size_t i = 0; i < n; ++i) {
      machines[i] = random_key(rng);
      node_keys[i] = random_key(rng);
      disco_keys[i] = random_key(rng);
    }
    sinks.resize(n);
    sessions.resize(n);
    for (auto& sink : sinks) sink = std::make_unique<CountingSink>();

    const size_t h0 = heap_in_use();
    registry = std::make_unique<Registry>(env, store, RegistryConfig());
    if (!registry->load().ok()) std::abort();
    registry->create_user("alice", [](Result<User> r) {
      if (!r.ok()) std::abort();
    });
    settle();
    std::string key_text;
    registry->create_auth_key("alice", true, false, Duration::zero(), {},
                              [&](Result<CreatedAuthKey> r) {
                                if (!r.ok()) std::abort();
                                key_text = r->text;
                              });
    settle();
    for (size_t i = 0; i < n; ++i) {
      RegisterRequest request;
      request.machine_key = machines[i];
      request.node_key = node_keys[i];
      request.disco_key = disco_keys[i];
      request.auth_key = key_text;
      request.hostname = "node-" + std::to_string(i);
      registry->register_node(request, [](Result<Node> r) {
        if (!r.ok()) std::abort();
      });
      if (i % 256 == 0) settle();
    }
    settle();
    const size_t h1 = heap_in_use();
    // The MemoryStore's records stand in for the SQLite file: measure a copy and take it out.
    size_t store_heap = 0;
    {
      const size_t before = heap_in_use();
      auto copy = std::make_unique<MemoryStoreData>(*data);
      store_heap = heap_in_use() - before;
    }
    registry_bytes = static_cast<double>(h1 - h0 - store_heap) / static_cast<double>(n);
    store_bytes_per_node = static_cast<double>(store_heap) / static_cast<double>(n);

    ControlCoreConfig config;
    config.batch_window = kWindow;
    core = std::make_unique<ControlCore>(env, *registry, config);
    if (!core->start().ok()) std::abort();
    for (size_t i = 0; i < n; ++i) {
      connect(i);
      if (i % kConnectBatch == kConnectBatch - 1) world.clock().advance(kWindow);
    }
    world.clock().advance(kWindow);
    const size_t h2 = heap_in_use();
    core_bytes = (static_cast<double>(h2) - static_cast<double>(h1)) / static_cast<double>(n);
    for (const auto& sink : sinks) {
      if (sink->closed) std::abort();
    }
  }

  void settle() { world.clock().advance(Duration::zero()); }

  void connect(size_t i) {
    sessions[i] = core->open_session(machines[i], *sinks[i]);
    MapRequestMessage m;
    m.node_key = node_keys[i];
    m.disco_key = disco_keys[i];
    m.hostname = "node-" + std::to_string(i);
    m.endpoints = {Endpoint(IpAddress::v4(static_cast<uint32_t>(0xC6120000u + i)), 41641)};
    m.home_relay = 1;
    core->on_message(sessions[i], encode(ClientMessage(m)));
  }

  uint64_t total_messages() const {
    uint64_t total = 0;
    for (const auto& sink : sinks) total += sink->messages;
    return total;
  }
  uint64_t total_bytes() const {
    uint64_t total = 0;
    for (const auto& sink : sinks) total += sink->bytes;
    return total;
  }

  MemoryWorld world;
  MemoryHost& host;
  SeededRng rng;
  Env env;
  std::shared_ptr<MemoryStoreData> data = std::make_shared<MemoryStoreData>();
  MemoryStore store;
  std::unique_ptr<Registry> registry;
  std::unique_ptr<ControlCore> core;
  std::vector<PublicKey> machines;
  std::vector<PublicKey> node_keys;
  std::vector<PublicKey> disco_keys;
  std::vector<std::unique_ptr<CountingSink>> sinks;
  std::vector<ControlCore::SessionId> sessions;
  double registry_bytes = 0;
  double store_bytes_per_node = 0;
  double core_bytes = 0;
  uint32_t endpoint_counter = 0;
};

Scale& scale(size_t n) {
  static std::map<size_t, std::unique_ptr<Scale>> built;
  auto& s = built[n];
  if (!s) s = std::make_unique<Scale>(n);
  return *s;
}

void report_memory(benchmark::State& state, const Scale& s) {
  state.counters["registry_B_per_node"] = s.registry_bytes;
  state.counters["store_B_per_node"] = s.store_bytes_per_node;
  state.counters["core_B_per_node"] = s.core_bytes;
}

Bytes endpoint_update(Scale& s) {
  UpdateMessage u;
  const uint32_t c = ++s.endpoint_counter;
  u.endpoints = std::vector<Endpoint>{
      Endpoint(IpAddress::v4(203, 0, static_cast<uint8_t>(c >> 8), static_cast<uint8_t>(c)),
               static_cast<uint16_t>(1024 + c % 60000))};
  return encode(ClientMessage(u));
}

void BM_EndpointChange(benchmark::State& state) {
  Scale& s = scale(static_cast<size_t>(state.range(0)));
  const size_t n = s.sessions.size();
  size_t next = 0;
  const uint64_t messages_before = s.total_messages();
  const uint64_t bytes_before = s.total_bytes();
  for (auto _ : state) {
    state.PauseTiming();
    Bytes update = endpoint_update(s);
    const size_t who = next++ % n;
    state.ResumeTiming();
    s.core->on_message(s.sessions[who], update);
    s.world.clock().advance(kWindow);  // the flush
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["messages_per_change"] =
      static_cast<double>(s.total_messages() - messages_before) / iterations;
  state.counters["bytes_per_change"] =
      static_cast<double>(s.total_bytes() - bytes_before) / iterations;
  report_memory(state, s);
}

void BM_FullMapWarm(benchmark::State& state) {
  Scale& s = scale(static_cast<size_t>(state.range(0)));
  const size_t n = s.sessions.size();
  size_t next = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const size_t who = next++ % n;
    s.core->close_session(s.sessions[who]);  // back within the grace period: peers see nothing
    s.settle();
    const uint64_t before = s.sinks[who]->bytes;
    state.ResumeTiming();
    s.connect(who);
    state.PauseTiming();
    bytes += s.sinks[who]->bytes - before;
    state.ResumeTiming();
  }
  state.counters["full_map_bytes"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations());
  report_memory(state, s);
}

// Encoding one peer from scratch: what a full map costs per peer when no JSON is cached yet
// (first connections after a restart); the warm full map only copies cached JSON.
void BM_PeerEncode(benchmark::State& state) {
  PeerNode p;
  p.id = 1234;
  p.name = "node-1234";
  p.user = "alice";
  Rng& rng = scale(1000).rng;
  p.node_key = random_key(rng);
  p.machine_key = random_key(rng);
  p.disco_key = random_key(rng);
  p.ipv4 = IpAddress::v4(100, 64, 4, 210);
  p.ipv6 = *IpAddress::parse("fd7a:115c:a1e0::4d2");
  p.endpoints = {*Endpoint::parse("198.18.4.210:41641"), *Endpoint::parse("[2001:db8::4d2]:41641")};
  p.home_relay = 1;
  p.online = true;
  p.last_seen_unix_s = 1767225600;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string json = peer_node_to_json(p).dump();
    bytes = json.size();
    benchmark::DoNotOptimize(json);
  }
  state.counters["peer_json_bytes"] = static_cast<double>(bytes);
}

BENCHMARK(BM_EndpointChange)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FullMapWarm)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PeerEncode)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace warren::control

BENCHMARK_MAIN();
