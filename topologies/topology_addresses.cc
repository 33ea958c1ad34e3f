// Stage 3 of the loader: addresses. Everything is a pure function of node order, so the same
// file always yields the same addresses (the README's "Addressing" section is the contract).
#include <algorithm>
#include <array>

#include "nodes/common/json_checks.h"
#include "topologies/load_state.h"

namespace warren::topo::detail {

using namespace json_checks;  // NOLINT: the loader is built from these checks
namespace {

// Public IPv4 comes from the documentation ranges (RFC 5737), then the benchmarking range
// (RFC 2544's 198.18.0.0/15), skipping .0 and .255 of every /24.
struct PublicBlock {
  uint32_t base;
  uint32_t slash24s;
};
constexpr PublicBlock kPublicBlocks[] = {
    {0xC0000200, 1},    // 192.0.2.0/24
    {0xC6336400, 1},    // 198.51.100.0/24
    {0xCB007100, 1},    // 203.0.113.0/24
    {0xC6120000, 512},  // 198.18.0.0/15
};
constexpr uint32_t kHostsPer24 = 254;

// Home LANs are 192.168.N.0/24 with N in [1, 255], reused round-robin: realms are isolated,
// so two LANs may share a prefix unless one is nested in the other.
constexpr int kHomeLanFirst = 1;
constexpr int kHomeLanLast = 255;
constexpr uint64_t kHomeLanHosts = 253;           // .2 .. .254; .1 is the NAT
constexpr uint64_t kCgnatHosts = (1u << 22) - 3;  // 100.64.0.2 .. 100.127.255.254
constexpr uint32_t kMaxLanIpv6 = 0xffff;          // 2001:db8:K::/64 with K in [1, 0xffff]

Result<IpAddress> public_ipv4(uint64_t k) {
  uint64_t total = 0;
  for (const PublicBlock& b : kPublicBlocks) {
    uint64_t n = static_cast<uint64_t>(b.slash24s) * kHostsPer24;
    if (k < n) {
      return IpAddress::v4(b.base + static_cast<uint32_t>(k / kHostsPer24) * 256 +
                           static_cast<uint32_t>(k % kHostsPer24) + 1);
    }
    k -= n;
    total += n;
  }
  return make_error(
      "the public IPv4 ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, "
      "198.18.0.0/15) hold " +
      std::to_string(total) + " addresses and are used up; put hosts behind NATs or make fewer");
}

Prefix ipv6_lan(uint32_t k) {  // 2001:db8:k::/64; k == 0 is the public /64
  std::array<uint8_t, 16> b{};
  b[0] = 0x20;
  b[1] = 0x01;
  b[2] = 0x0d;
  b[3] = 0xb8;
  b[4] = static_cast<uint8_t>(k >> 8);
  b[5] = static_cast<uint8_t>(k & 0xff);
  return Prefix::containing(IpAddress::v6(b), 64);
}

class Addresser {
 public:
  explicit Addresser(LoadState& s) : s_(s), home_n_(s.topology.nodes.size(), 0) {}
  Status run();

 private:
  Status address_public();
  Status open_lan(int nat);
  Status address_inside(int nat);

  LoadState& s_;
  std::vector<int> home_n_;  // per NAT with a home LAN: its N
  int next_home_ = kHomeLanFirst;
  uint32_t next_lan_ipv6_ = 1;
};

Status Addresser::address_public() {
  uint64_t v4 = 0;
  uint64_t v6 = 1;
  Prefix public_v6 = ipv6_lan(0);
  for (int m : s_.realm(-1)) {
    Node& n = s_.node(m);
    if (n.has(Family::ipv4)) {
      auto a = public_ipv4(v4++);
      if (!a) return error_at(s_.where(m), a.error().message);
      n.ipv4 = *a;
    }
    if (n.has(Family::ipv6)) n.ipv6 = *public_v6.host(v6++);  // a /64 cannot run out here
  }
  return Status::success();
}

// Chooses the NAT's inside prefixes. Its ancestors are numbered already (pre-order).
Status Addresser::open_lan(int nat) {
  const Topology& t = s_.topology;
  Node& g = s_.node(nat);
  std::vector<int> ancestors = t.nat_chain(nat);
  if (s_.lan_style[static_cast<size_t>(nat)] == LanStyle::cgnat) {
    for (int a : ancestors) {
      if (s_.lan_style[static_cast<size_t>(a)] == LanStyle::cgnat) {
        return error_at(s_.where(nat), "CGNAT " + in_quotes(g.name) + " sits inside CGNAT " +
                                           in_quotes(s_.node(a).name) +
                                           ", and both realms would be 100.64.0.0/10; give the "
                                           "inner one \"lan\": \"home\"");
      }
    }
    g.lan_ipv4 = *Prefix::parse("100.64.0.0/10");
  } else {
    auto taken = [&](int n) {
      return std::any_of(ancestors.begin(), ancestors.end(),
                         [&](int a) { return home_n_[static_cast<size_t>(a)] == n; });
    };
    int n = next_home_;
    // Skips the LANs of the NATs around this one; depth <= kMaxNatDepth < 255, so one exists.
    for (int tries = 0; tries < kHomeLanLast && taken(n); ++tries) {
      n = n == kHomeLanLast ? kHomeLanFirst : n + 1;
    }
    home_n_[static_cast<size_t>(nat)] = n;
    next_home_ = n == kHomeLanLast ? kHomeLanFirst : n + 1;
    g.lan_ipv4 = Prefix::containing(IpAddress::v4(192, 168, static_cast<uint8_t>(n), 0), 24);
  }
  if (g.ipv6_firewall) {
    if (next_lan_ipv6_ > kMaxLanIpv6) {
      return error_at(s_.where(nat), "more than " + std::to_string(kMaxLanIpv6) +
                                         " NATs forward IPv6, and 2001:db8:K::/64 has no K left "
                                         "for " +
                                         in_quotes(g.name));
    }
    g.lan_ipv6 = ipv6_lan(next_lan_ipv6_++);
  }
  return Status::success();
}

Status Addresser::address_inside(int nat) {
  const Node& g = s_.node(nat);
  bool home = s_.lan_style[static_cast<size_t>(nat)] == LanStyle::home;
  uint64_t capacity = home ? kHomeLanHosts : kCgnatHosts;
  uint64_t v4 = 2;
  uint64_t v6 = 2;
  for (int m : s_.realm(nat)) {
    Node& n = s_.node(m);
    if (n.has(Family::ipv4)) {
      if (v4 - 2 >= capacity) {
        return error_at(s_.where(m), "no address left for " + in_quotes(n.name) + " inside NAT " +
                                         in_quotes(g.name) + " (" + g.lan_ipv4->to_string() +
                                         " holds " + std::to_string(capacity) + " nodes" +
                                         (home ? "; give the NAT \"lan\": \"cgnat\")" : ")"));
      }
      n.ipv4 = *g.lan_ipv4->host(v4++);
    }
    if (n.has(Family::ipv6)) n.ipv6 = *g.lan_ipv6->host(v6++);  // chains were checked
  }
  return Status::success();
}

Status Addresser::run() {
  if (Status st = address_public(); !st) return st;
  // Depth-first from the public realm, in node order at each level: a site's CGNAT and the
  // home NAT inside it get neighbouring numbers.
  std::vector<int> stack;
  auto push_nats = [&](const std::vector<int>& realm) {
    for (auto it = realm.rbegin(); it != realm.rend(); ++it) {
      if (s_.node(*it).kind == NodeKind::nat) stack.push_back(*it);
    }
  };
  push_nats(s_.realm(-1));
  while (!stack.empty()) {
    int nat = stack.back();
    stack.pop_back();
    if (Status st = open_lan(nat); !st) return st;
    if (Status st = address_inside(nat); !st) return st;
    push_nats(s_.realm(nat));
  }
  for (Node& n : s_.topology.nodes) {
    if (n.kind == NodeKind::nat && n.nat) n.nat->external_addresses = {*n.ipv4};
  }
  return Status::success();
}

}  // namespace

Status assign_addresses(LoadState& s) {
  return Addresser(s).run();
}

}  // namespace warren::topo::detail
