// Probes a list of STUN servers from one local UDP socket per address family and reports
// what each saw as our endpoint. One socket per family matters: whether the NAT's mapping
// varies by destination can only be read from answers to the same local socket.
//
// A convenience around StunTransactions that owns its sockets (opened through env.network);
// the client proper runs StunTransactions on its shared socket instead.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/client/stun_transactions.h"
#include "nodes/net/env.h"
#include "nodes/net/udp_socket.h"

namespace warren {

struct StunServerSpec {
  std::string name;   // a label for results and logs
  Endpoint endpoint;  // IPv4-mapped IPv6 addresses are treated as IPv4
};

class StunProber {
 public:
  using DoneFn = std::function<void()>;

  // `env` must outlive the prober.
  explicit StunProber(Env& env, StunRetransmitOptions options = {});
  ~StunProber();
  StunProber(const StunProber&) = delete;
  StunProber& operator=(const StunProber&) = delete;

  // Opens a socket for each family the servers need (bound to the entry of `bind` of that
  // family, else to the unspecified address, port 0) and starts one transaction per server.
  // `on_done` runs once, after every transaction has ended, never inside start(); it may
  // destroy the prober. A family whose socket cannot be opened fails its servers' results
  // with the reason; start() returns an error (and never calls on_done) only if no
  // transaction could start: no servers, more than StunTransactions::kMaxActive, two bind
  // endpoints of one family, or no socket could be opened. Call once.
  Status start(const std::vector<StunServerSpec>& servers, DoneFn on_done,
               const std::vector<Endpoint>& bind = {});

  bool done() const { return started_ && pending_ == 0; }
  // One per server, in the order given. Complete once done().
  const std::vector<StunProbeResult>& results() const { return results_; }
  // See the free function of that name; over results() so far.
  std::optional<bool> mapping_varies_by_destination(Family family) const;
  // The local endpoint of the socket used for `family`, if one is open.
  std::optional<Endpoint> local_endpoint(Family family) const;
  const StunTransactionStats& stats() const { return transactions_.stats(); }

 private:
  static size_t slot(Family f) { return f == Family::ipv4 ? 0 : 1; }
  Status send(const Endpoint& to, ByteView payload);

  Env& env_;
  StunTransactions transactions_;
  std::array<std::unique_ptr<UdpSocket>, 2> sockets_;  // [ipv4, ipv6]
  std::vector<StunProbeResult> results_;
  size_t pending_ = 0;
  bool started_ = false;
  DoneFn on_done_;
};

}  // namespace warren
