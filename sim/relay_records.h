// What the relay roles of a scenario leave behind for the report, owned by the runner
// (RoleRecords) so it survives a role being stopped and started again:
//  - RelayServerRecord: the relay's identity in the scenario (region, key) and its counters
//    summed over every start, plus the running role, if any;
//  - RelayProbeRecord: what one probe did: which relay, the relay map it was handed, packets
//    sent and answered with their round-trip times, refusals and errors.
// Plain data, no ns-3. Times are simulated (Clock::now of the node).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "nodes/common/relay_map.h"
#include "nodes/common/x25519.h"
#include "nodes/net/time.h"
#include "nodes/relay/admission_feed.h"
#include "nodes/relay/relay_server.h"

namespace warren::sim {

class RelayServerRole;

struct RelayServerRecord {
  int region = 0;
  PublicKey key;               // the relay's static key (as the relay map lists it)
  uint64_t starts = 0;         // role builds that got the relay listening
  uint64_t failed_starts = 0;  // role builds that did not (bind failed)
  std::string last_error;
  // Counters of the relays that have stopped, summed; add the running one's for the total.
  relay::RelayServerCounters finished;
  relay::AdmissionFeedCounters feed_finished;
  uint64_t stun_requests_finished = 0;
  RelayServerRole* running = nullptr;  // set by the running role, cleared when it stops
};

struct RelayProbeRecord {
  std::string relay;  // the relay node it uses; empty until chosen (from the map, by default)
  std::string mode;   // "echo" or "send"
  std::string to;     // send mode: the probe node it sends to
  uint64_t starts = 0;
  // The relay map of the latest full map the probe's control client received.
  std::optional<control::RelayMap> relay_map;
  std::optional<Timestamp> first_connected;  // first server_hello
  uint64_t connects = 0;     // server_hellos received, restarts and reconnects included
  uint64_t sent = 0;         // request packets handed to the relay client
  uint64_t send_failed = 0;  // requests the relay client dropped (not connected, rate, ...)
  uint64_t received = 0;     // answers to our requests (each request counted once)
  uint64_t duplicates = 0;   // answers to a request already answered
  uint64_t unexpected = 0;   // packets that were neither a request nor an answer of ours
  uint64_t echoed = 0;       // requests from others answered
  Duration rtt_min = Duration::zero();
  Duration rtt_max = Duration::zero();
  Duration rtt_sum = Duration::zero();
  // The relay refused us for good (a refusal the probe does not retry).
  uint64_t refusals = 0;
  // Refusals followed by a retry: unknown_key right after registering (the relay had not heard
  // of the node yet: control tells relays a batch window after it answers the node), and those
  // the relay client retries by itself (not_ready, server_full, shutting_down, ...).
  uint64_t retried_refusals = 0;
  std::string last_refusal;  // of either kind: "unknown_key: <the relay client's message>"
  uint64_t errors = 0;       // every other failure (connection, protocol, no peer, ...)
  std::string last_error;
};

}  // namespace warren::sim
