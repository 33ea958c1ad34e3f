// The STUN client a scenario can place on nodes: it asks a list of servers what they see
// from ONE socket per family, kept for the role's lifetime (as a real client keeps its
// socket), and asks again every interval. Keeping the socket makes NAT behaviour visible
// across rounds: a refreshed mapping keeps its port, a flushed or expired one may not.
// Completed rounds land in a StunClientRecord owned by the runner, so results survive the
// role being stopped and restarted by scenario events (a restart opens new sockets).
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "nodes/client/stun_prober.h"
#include "nodes/client/stun_transactions.h"
#include "nodes/net/env.h"

namespace warren::sim {

struct StunRound {
  Timestamp started;
  Timestamp ended;
  std::vector<StunProbeResult> results;  // in server order
};

struct StunClientRecord {
  // Rounds kept per client: a long run with a short interval must not grow the report
  // without bound; the newest rounds are the ones a reader wants.
  static constexpr size_t kMaxRounds = 64;
  std::vector<StunRound> rounds;  // oldest first, at most kMaxRounds
  uint64_t rounds_completed = 0;
  uint64_t starts = 0;  // how many times a role wrote here (restarts included)
};

class StunClientRole {
 public:
  // `record` must outlive the role. Interval zero: one round only.
  StunClientRole(Env& env, std::vector<StunServerSpec> servers, Duration interval,
                 StunRetransmitOptions retransmit, StunClientRecord& record);
  ~StunClientRole();
  StunClientRole(const StunClientRole&) = delete;
  StunClientRole& operator=(const StunClientRole&) = delete;

 private:
  void start_round();
  void on_result(size_t index, const StunProbeResult& result);
  Status send(const Endpoint& to, ByteView payload);

  Env& env_;
  std::vector<StunServerSpec> servers_;
  Duration interval_;
  StunClientRecord& record_;
  std::array<std::unique_ptr<UdpSocket>, 2> sockets_;  // [ipv4, ipv6]
  StunTransactions transactions_;
  StunRound round_;
  size_t pending_ = 0;
  Timer next_round_;
};

}  // namespace warren::sim
