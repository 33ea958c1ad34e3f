// What the control roles of a scenario leave behind for the report and for each other, owned by
// the runner (RoleRecords) so it survives a role being stopped and started again:
//  - ControlServerRecord: the pre-auth keys the server role created (their text is how a
//    scenario's clients get them: the simulation hands them over, as an operator would paste
//    them), the core's counters summed over every start, and the running server, if any;
//  - ControlClientRecord: what one client learned: overlay addresses, maps, peers, errors.
// Plain data, no ns-3. Times are simulated (Clock::now of the node).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nodes/common/x25519.h"
#include "nodes/control/control_core.h"
#include "nodes/net/ip_address.h"
#include "nodes/net/time.h"

namespace warren::control {
class ControlServer;
}

namespace warren::sim {

// A pre-auth key as a scenario declares it: {"name", "user", "reusable"?, "ephemeral"?,
// "expiration_s"?, "tags"?}. `name` exists only in the scenario: clients ask for a key by it.
struct ScenarioAuthKey {
  std::string name;
  std::string user;
  bool reusable = false;
  bool ephemeral = false;
  Duration expiration = Duration::zero();  // zero: never expires
  std::vector<std::string> tags;
};

// A key the server role created: its full text (shown once by the registry) and its prefix,
// by which the role recognises it after a restart.
struct IssuedAuthKey {
  std::string text;
  std::string prefix;
  Timestamp created;
};

struct ControlServerRecord {
  uint64_t starts = 0;         // role builds that got the server listening
  uint64_t failed_starts = 0;  // role builds that did not (store corrupt, bind failed)
  std::string last_error;      // why the latest failure happened (provisioning included)
  std::map<std::string, IssuedAuthKey> keys;  // by scenario key name
  std::optional<Timestamp> provisioned;       // when every user and key first existed
  // Counters of the servers that have stopped, summed; add the running one's for the total.
  control::ControlCoreCounters finished;
  // Registered nodes when the last server stopped (for a report written while none runs).
  uint64_t nodes_at_stop = 0;
  control::ControlServer* running = nullptr;  // set by the running role, cleared when it stops
};

struct ControlClientRecord {
  // The client's state directory, as far as the simulation needs one: the server key it
  // pinned on first contact, and whether it has registered (a restarted client that has
  // registered before sends no auth key: the server knows its machine key).
  std::optional<PublicKey> pinned_server_key;
  uint64_t starts = 0;                 // role builds
  std::optional<Timestamp> first_try;  // when the first start's jitter ended
  std::optional<Timestamp> first_registered;
  std::optional<Timestamp> last_registered;
  uint64_t registrations = 0;    // successful register exchanges, restarts included
  uint64_t address_changes = 0;  // registrations that returned other overlay addresses
  std::optional<IpAddress> overlay_ipv4;
  std::optional<IpAddress> overlay_ipv6;
  uint64_t node_id = 0;
  std::string node_name;   // the name the server gave it
  uint64_t full_maps = 0;  // map messages received with full = true
  uint64_t deltas = 0;     // other map messages
  uint64_t peers = 0;      // peers in the client's map after the latest map message
  std::optional<Timestamp> last_map;
  uint64_t errors = 0;  // channel failures, refused registrations
  std::string last_error;
};

}  // namespace warren::sim
