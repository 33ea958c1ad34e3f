// STUN binding transactions (RFC 8489 6.2.1) without a socket of their own: the owner hands
// in a send function and pushes every received datagram into on_datagram(). The client uses
// it on its shared WireGuard/disco socket, StunProber on sockets it opens itself.
//
// Each transaction sends a binding request (with FINGERPRINT and SOFTWARE by default) and
// retransmits it with the same transaction ID on a doubling timer: with the defaults, at
// 0, 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s, then gives up at 39.5 s. Every transaction ends,
// exactly once, in its done callback: an answer, an error response, or a timeout.
//
// A response matches a transaction by transaction ID and by coming from the server's
// endpoint; anything else is a counted stray. Single-threaded, like all protocol code.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/common/stun_message.h"
#include "nodes/net/env.h"

namespace warren {

struct StunRetransmitOptions {
  // RFC 8489 6.2.1: an initial RTO of 500 ms for a path whose RTT is unknown.
  static constexpr Duration kDefaultInitialRto = Duration::milliseconds(500);
  // RFC 8489 6.2.1: Rc = 7 transmissions in all.
  static constexpr int kDefaultMaxTransmissions = 7;
  // RFC 8489 6.2.1: after the last transmission, wait Rm = 16 times the initial RTO.
  static constexpr int kDefaultLastWaitMultiplier = 16;
  // Upper bounds applied to the fields below. RTO doubles per transmission, so 16 at the
  // longest RTO is already days; more is a mistake, not a policy.
  static constexpr int kMaxTransmissionsLimit = 16;
  static constexpr int kLastWaitMultiplierLimit = 64;
  static constexpr Duration kInitialRtoLimit = Duration::seconds(60);

  Duration initial_rto = kDefaultInitialRto;              // clamped to [1 ms, kInitialRtoLimit]
  int max_transmissions = kDefaultMaxTransmissions;       // Rc, clamped to [1, limit]
  int last_wait_multiplier = kDefaultLastWaitMultiplier;  // Rm, clamped to [1, limit]
  bool fingerprint = true;                                // append FINGERPRINT to requests
  std::string software = "warren";                        // SOFTWARE in requests; empty: none

  // The same options with every field inside its bounds.
  StunRetransmitOptions clamped() const;
  // From the first transmission to giving up: RTO * (2^(Rc-1) - 1) + Rm * RTO (39.5 s by
  // default), for the clamped options.
  Duration transaction_timeout() const;
};

struct StunProbeResult {
  std::string name;  // the caller's label for the server
  Endpoint server;
  std::optional<Endpoint> mapped;  // our address and port as the server saw them
  // From the latest transmission to the answer. Retransmissions reuse the transaction ID,
  // so an answer to an earlier one reads short; `transmissions` > 1 says to be wary.
  Duration rtt;
  int transmissions = 0;
  std::string error;  // why `mapped` is empty: timeout, error response, send failure

  bool ok() const { return mapped.has_value(); }
};

struct StunTransactionStats {
  uint64_t transmissions = 0;    // requests handed to the send function, first and retries
  uint64_t send_failures = 0;    // of those, refused by it (treated as lost)
  uint64_t answers = 0;          // transactions that got a mapped endpoint
  uint64_t error_responses = 0;  // transactions ended by an error response
  uint64_t timeouts = 0;
  uint64_t strays = 0;     // STUN we did not ask for: unknown ID, wrong source, not a response
  uint64_t malformed = 0;  // looked like STUN but failed to parse (e.g. bad fingerprint)
};

// true if two answers over servers of `family` saw different mapped endpoints; false if at
// least two answered and all agree; nullopt if fewer than two answered.
std::optional<bool> mapping_varies_by_destination(const std::vector<StunProbeResult>& results,
                                                  Family family);

class StunTransactions {
 public:
  // Success means "appears to have been sent", as with UdpSocket::send_to.
  using SendFn = std::function<Status(const Endpoint& to, ByteView payload)>;
  using DoneFn = std::function<void(const StunProbeResult&)>;

  // Concurrent transactions at most: each holds a timer, and a client probes a handful of
  // relays, not hundreds.
  static constexpr size_t kMaxActive = 64;

  // `env` must outlive this object; `send` must stay callable while it lives.
  StunTransactions(Env& env, SendFn send, StunRetransmitOptions options = {});
  // Ends every pending transaction silently (no callbacks).
  ~StunTransactions();
  StunTransactions(const StunTransactions&) = delete;
  StunTransactions& operator=(const StunTransactions&) = delete;

  // Sends the first request to `server` now. `done` runs exactly once, later, never inside
  // start(); it may destroy this object. Error (and no callback): kMaxActive reached.
  Status start(std::string name, const Endpoint& server, DoneFn done);

  // Offers a received datagram. Returns false if it is not STUN (the caller may hand it to
  // another protocol); true if it is STUN, whether it matched a transaction or was counted
  // as a stray. May run a done callback, which may destroy this object.
  bool on_datagram(const Endpoint& from, ByteView payload);

  // Ends every pending transaction without running its callback.
  void cancel_all();
  size_t active() const { return active_.size(); }
  const StunRetransmitOptions& options() const { return options_; }
  const StunTransactionStats& stats() const { return stats_; }

 private:
  struct Transaction {
    StunProbeResult result;
    DoneFn done;
    Timestamp first_sent;
    Timestamp last_sent;
    Duration next_rto;
    Bytes request;
    std::unique_ptr<Timer> timer;
  };

  void transmit(const StunTransactionId& id, Transaction& t);
  void on_timer(const StunTransactionId& id);
  void finish(std::map<StunTransactionId, Transaction>::iterator it);

  Env& env_;
  Logger log_;
  SendFn send_;
  StunRetransmitOptions options_;
  StunTransactionStats stats_;
  std::map<StunTransactionId, Transaction> active_;
};

}  // namespace warren
