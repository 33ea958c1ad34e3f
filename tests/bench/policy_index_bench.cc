// PolicyIndex costs at 1,000 and 10,000 nodes, under the allow-all policy and under a
// restricted one with 100 users in 10 teams (each team sees itself, every member reaches the
// infrastructure servers, 1% of the nodes). Run: policy_index_bench [--benchmark_filter=...].
#include <benchmark/benchmark.h>

#include <array>
#include <cstdlib>
#include <string>

#include "nodes/control/policy_index.h"

namespace warren::control {
namespace {

constexpr int kUsers = 100;
constexpr int kTeams = 10;
constexpr int kInfraEvery = 100;  // every 100th node is an infrastructure server

PolicySubject subject(NodeId id) {
  PolicySubject s;
  s.id = id;
  s.user = "u" + std::to_string(id % kUsers);
  if (id % kInfraEvery == 0) s.tags = {"tag:infra"};
  s.ipv4 = IpAddress::v4(static_cast<uint32_t>(0x64400000u + id));  // 100.64.0.0/10
  std::array<uint8_t, 16> v6{0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0};
  for (int i = 0; i < 8; ++i) v6[15 - i] = static_cast<uint8_t>(id >> (8 * i));
  s.ipv6 = IpAddress::v6(v6);
  return s;
}

Policy restricted_policy() {
  std::string groups;
  std::string acls;
  for (int t = 0; t < kTeams; ++t) {
    std::string members;
    for (int u = t; u < kUsers; u += kTeams) {
      members += std::string(members.empty() ? "" : ", ") + "\"u" + std::to_string(u) + "\"";
    }
    std::string g = "group:team" + std::to_string(t);
    groups += std::string(groups.empty() ? "" : ", ") + "\"" + g + "\": [" + members + "]";
    acls += R"({"action": "accept", "src": [")" + g + R"("], "dst": [")" + g + R"(:*"]}, )";
  }
  acls += R"({"action": "accept", "src": ["autogroup:member"], "dst": ["tag:infra:443"]})";
  std::string text = "{\"groups\": {" + groups + "}, \"tagOwners\": {\"tag:infra\": []}, " +
                     "\"acls\": [" + acls + "]}";
  auto p = parse_policy(text);
  if (!p.ok()) std::abort();
  return *p;
}

void fill(PolicyIndex& index, int64_t nodes) {
  for (NodeId id = 1; id <= static_cast<NodeId>(nodes); ++id) index.upsert(subject(id));
}

Policy policy_for(int64_t kind) {
  return kind == 0 ? allow_all_policy() : restricted_policy();
}
const char* label_for(int64_t kind) {
  return kind == 0 ? "allow-all" : "restricted";
}

// One node's full peer list (what a full map needs).
void BM_ForEachPeer(benchmark::State& state) {
  PolicyIndex index(policy_for(state.range(1)));
  fill(index, state.range(0));
  NodeId id = 1;
  size_t peers = 0;
  for (auto _ : state) {
    index.for_each_peer(id, [&](NodeId p) { benchmark::DoNotOptimize(peers += p); });
    id = id % static_cast<NodeId>(state.range(0)) + 1;
  }
  state.SetLabel(label_for(state.range(1)));
}

// Re-upserting a node with a new identity (untagged <-> tagged), as a tag change or a route
// approval does; endpoint changes never reach the index.
void BM_Upsert(benchmark::State& state) {
  PolicyIndex index(policy_for(state.range(1)));
  fill(index, state.range(0));
  NodeId id = 1;
  bool flip = false;
  for (auto _ : state) {
    PolicySubject s = subject(id);
    if (flip) s.tags = {"tag:infra"};
    index.upsert(s);
    flip = !flip;
    id = id % static_cast<NodeId>(state.range(0)) + 1;
  }
  state.SetLabel(label_for(state.range(1)));
}

// A node's packet filter (sent on connect and whenever a dependency changes).
void BM_FilterFor(benchmark::State& state) {
  PolicyIndex index(policy_for(state.range(1)));
  fill(index, state.range(0));
  NodeId id = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(index.filter_for(id));
    id = id % static_cast<NodeId>(state.range(0)) + 1;
  }
  state.SetLabel(label_for(state.range(1)));
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int64_t kind : {0, 1}) {
    for (int64_t nodes : {1000, 10000}) b->Args({nodes, kind});
  }
}

BENCHMARK(BM_ForEachPeer)->Apply(Sizes);
BENCHMARK(BM_Upsert)->Apply(Sizes);
BENCHMARK(BM_FilterFor)->Apply(Sizes);

}  // namespace
}  // namespace warren::control

BENCHMARK_MAIN();
