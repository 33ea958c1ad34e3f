// The relay a scenario places on a node ("relay-server"): the same RelayServer that `warren
// relay serve` runs, with an Admission fed by an AdmissionFeed from the scenario's control
// server when the role names one (else it serves STUN and admits no node, as the real relay
// without control_url). Its static key is fixed per node and seed, so the relay map the control
// server hands out stays right across restarts; the control server's key is pinned the same
// way (the simulation knows it, as an operator copies it into the relay's config).
//
// What it did goes into a runner-owned RelayServerRecord: counters summed over every start,
// plus the running role for the live figures.
#pragma once

#include <memory>
#include <optional>

#include "nodes/common/x25519.h"
#include "nodes/net/env.h"
#include "nodes/relay/admission.h"
#include "nodes/relay/admission_feed.h"
#include "nodes/relay/relay_server.h"
#include "sim/relay_records.h"

namespace warren::sim {

struct RelayServerSetup {
  PrivateKey key;  // the relay's static key
  relay::RelayServerOptions options;
  std::optional<relay::AdmissionFeedOptions> control;  // absent: admit no node
};

// Adds every counter of `c` to `total` (the record sums them over a relay's starts).
void add_counters(relay::RelayServerCounters& total, const relay::RelayServerCounters& c);
void add_counters(relay::AdmissionFeedCounters& total, const relay::AdmissionFeedCounters& c);

class RelayServerRole {
 public:
  // Null (after logging why and noting it in `record`) when the relay cannot start. `record`
  // must outlive the role.
  static std::shared_ptr<RelayServerRole> Create(Env& env, RelayServerSetup setup,
                                                 RelayServerRecord& record);
  ~RelayServerRole();
  RelayServerRole(const RelayServerRole&) = delete;
  RelayServerRole& operator=(const RelayServerRole&) = delete;

  const relay::RelayServer& server() const { return *server_; }
  const relay::Admission& admission() const { return admission_; }
  const relay::AdmissionFeed* feed() const { return feed_.get(); }

 private:
  RelayServerRole(Env& env, RelayServerSetup setup, RelayServerRecord& record);

  RelayServerRecord& record_;
  std::optional<relay::AdmissionFeedOptions> control_;
  relay::Admission admission_;  // before server_ and feed_: both hold references to it
  std::unique_ptr<relay::RelayServer> server_;
  std::unique_ptr<relay::AdmissionFeed> feed_;
};

}  // namespace warren::sim
