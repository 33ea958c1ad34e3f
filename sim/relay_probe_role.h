// A test client of the relay ("relay-probe"): a node that registers with the control server
// through the same ControlClientRole a control-client runs, then connects a RelayClient to a
// relay with its node key (the relay admits it only because the control server knows that
// key) and either only answers, or also sends a series of numbered requests to another probe
// and times the answers. With "register": false it skips the control server and connects with
// a key nobody registered: the relay must refuse it.
//
// Probe packets (relay payloads; the relay never looks inside):
//   magic "WPRB" | type u8 (1 request, 2 answer) | seq u32 BE | zero padding to `size`
// Every probe answers every request, by sending it back with type 2; answers are never
// answered, so two probes cannot bounce a packet forever. A sender counts an answer only from
// the probe it sent to, for a request it sent, once.
//
// Which relay: the one named in the setup, else the first relay of region 1 in the relay map
// the control server hands out (the first map that has one), reached at its first address of a
// family the node has. The relay client retries what is worth retrying by itself (unknown_key
// at its slowest pace: a relay may hear of a new node late); those refusals count as
// retried_refusals. A probe that never registered stops at its first unknown_key, and final
// refusals (removed_key) stop it too: both count as refusals.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/common/relay_client.h"
#include "nodes/net/env.h"
#include "sim/control_client_role.h"
#include "sim/relay_records.h"

namespace warren::sim {

// A relay as a probe connects to it.
struct RelayTarget {
  std::string name;  // the relay node
  Endpoint endpoint;
  std::string host;
  PublicKey key;
};

struct RelayProbeSetup {
  // Absent for "register": false.
  std::optional<ControlClientSetup> control;
  PrivateKey node_key;               // the control setup's node key when it registers
  std::vector<Family> families;      // the node's: which relay address it can reach
  std::optional<RelayTarget> relay;  // absent: from the relay map
  bool send = false;                 // false: echo only
  std::string to;                    // send: the hostname of the probe to send to
  uint32_t count = 0;
  uint32_t size = 0;
  Duration interval;
};

class RelayProbeRole {
 public:
  static constexpr size_t kHeaderBytes = 9;  // magic, type, seq

  // `server` and `control_record` are used when the setup registers (both non-null then);
  // they and `record` must outlive the role.
  RelayProbeRole(Env& env, RelayProbeSetup setup, const ControlServerRecord* server,
                 ControlClientRecord* control_record, RelayProbeRecord& record);
  ~RelayProbeRole();
  RelayProbeRole(const RelayProbeRole&) = delete;
  RelayProbeRole& operator=(const RelayProbeRole&) = delete;

 private:
  void on_map(const NetMap& map);
  Result<RelayTarget> target_from_map(const control::RelayMap& map) const;
  void connect(const RelayTarget& target);
  void on_connected();
  void on_packet(const PublicKey& src, ByteView packet);
  void on_relay_error(const relay::RelayClientError& error);
  void note_error(const std::string& message);
  void maybe_start_sending();
  void send_next();

  Env& env_;
  RelayProbeSetup setup_;
  RelayProbeRecord& record_;
  std::unique_ptr<ControlClientRole> control_;
  std::unique_ptr<relay::RelayClient> relay_;
  bool map_error_noted_ = false;  // a map without a usable relay is reported once
  std::optional<PublicKey> to_key_;
  // Per request of this start: when it left (for the RTT) and whether it was answered.
  std::vector<Timestamp> sent_at_;
  std::vector<bool> answered_;
  uint32_t next_seq_ = 0;
  Bytes buffer_;  // reused for every packet sent
  Timer send_timer_;
};

}  // namespace warren::sim
