// The control client a scenario places on a node ("control-client"): the same ControlClient
// that `warren debug netmap` (and later `warren up`) runs, registering with a scenario's
// control server and following its map stream. What it learns goes into a runner-owned
// ControlClientRecord, which also plays the client's state directory across restarts: the
// pinned server key and whether it has registered before.
//
// Timing: the role waits a start jitter drawn from the node's seeded Rng (so a thousand clients
// starting together spread out as real machines do), then waits for the scenario's pre-auth
// key to exist (the server role creates it at its start), polling every kKeyPollInterval at
// most kMaxKeyPolls times, then connects. Machine and node keys are fixed per node (a restart
// is the same machine); the disco key is drawn anew at every start, as a real client does.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "nodes/client/control_client.h"
#include "nodes/net/env.h"
#include "sim/control_records.h"

namespace warren::sim {

struct ControlClientSetup {
  Endpoint server;         // the server's control port
  std::string host;        // Host header: the server node's name
  std::string hostname;    // what the client calls itself: its node name
  std::string key_name;    // the scenario's name for the pre-auth key
  Duration start_jitter;   // the connect is delayed by uniform [0, start_jitter)
  PrivateKey machine_key;  // fixed per node
  PrivateKey node_key;     // fixed per node
};

class ControlClientRole {
 public:
  // Polling for a key the server role has not created yet: every half second for two
  // minutes, long enough for any scenario's server to come up, short enough that a key name
  // the server never creates shows as an error in the report.
  static constexpr Duration kKeyPollInterval = Duration::milliseconds(500);
  static constexpr int kMaxKeyPolls = 240;

  // `server` (the server node's record, holding the key texts) and `record` must outlive it.
  ControlClientRole(Env& env, ControlClientSetup setup, const ControlServerRecord& server,
                    ControlClientRecord& record);
  ~ControlClientRole();
  ControlClientRole(const ControlClientRole&) = delete;
  ControlClientRole& operator=(const ControlClientRole&) = delete;

  ControlClient* client() { return client_.get(); }
  // Called after every map message has been applied and recorded (roles that embed a control
  // client, such as the relay probe, follow the map through it). Must not destroy the role.
  void set_map_listener(std::function<void(const NetMap& map)> listener) {
    map_listener_ = std::move(listener);
  }

 private:
  void try_connect();
  void on_registered(const control::PeerNode& self);
  void on_map(const NetMap& map, const control::MapMessage& message);
  void on_error(const ControlClientError& error);

  Env& env_;
  ControlClientSetup setup_;
  const ControlServerRecord& server_;
  ControlClientRecord& record_;
  Timer wait_;
  int key_polls_ = 0;
  std::unique_ptr<ControlClient> client_;
  std::function<void(const NetMap& map)> map_listener_;
};

}  // namespace warren::sim
