// The control server a scenario places on a node ("control-server"): the same ControlServer
// that `warren control serve` runs, over a MemoryStore whose data belongs to the node (so a
// stop and start finds every user, key and node again, as a restarted process finds its
// SQLite file), with a static key fixed for the node (clients pin it).
//
// At every start it provisions what the scenario declares, through the Registry: users that do
// not exist yet, pre-auth keys it has not created before (or whose key vanished), and the ACL
// policy when its text differs. Each created key's full text goes into the runner-owned
// ControlServerRecord under the scenario's key name, where client roles pick it up: the
// simulation's stand-in for an operator pasting `warren control keys create` output.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/common/x25519.h"
#include "nodes/control/control_server.h"
#include "nodes/net/env.h"
#include "nodes/net/memory_store.h"
#include "sim/control_records.h"

namespace warren::sim {

struct ControlServerSetup {
  std::vector<std::string> users;
  std::vector<ScenarioAuthKey> keys;
  std::optional<std::string> policy;  // ACL policy text; absent: leave whatever is set
};

// Adds every counter of `c` to `total` (the record sums them over a server's starts).
void add_counters(control::ControlCoreCounters& total, const control::ControlCoreCounters& c);

class ControlServerRole {
 public:
  // Null (after logging why and noting it in `record`) when the server cannot start. `disk`
  // is the node's store data; `record` must outlive the role.
  static std::shared_ptr<ControlServerRole> Create(Env& env, std::shared_ptr<MemoryStoreData> disk,
                                                   const PrivateKey& server_key,
                                                   control::ControlServerOptions options,
                                                   ControlServerSetup setup,
                                                   ControlServerRecord& record);
  ~ControlServerRole();
  ControlServerRole(const ControlServerRole&) = delete;
  ControlServerRole& operator=(const ControlServerRole&) = delete;

  control::ControlServer& server() { return *server_; }

 private:
  ControlServerRole(Env& env, std::shared_ptr<MemoryStoreData> disk, const PrivateKey& server_key,
                    control::ControlServerOptions options, ControlServerSetup setup,
                    ControlServerRecord& record);
  // One provisioning step per call; each asynchronous step calls it again when done.
  void provision_next();
  void provision_failed(const std::string& what, const Error& error);

  Env& env_;
  ControlServerSetup setup_;
  ControlServerRecord& record_;
  MemoryStore store_;
  std::unique_ptr<control::ControlServer> server_;
  size_t next_user_ = 0;
  size_t next_key_ = 0;
  bool policy_done_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace warren::sim
