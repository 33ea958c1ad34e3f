// The control server role: a listener on the control port (GET /key, Upgrade to a Noise
// channel), a Registry over a DurableStore, the ControlCore, and the admin protocol over any
// stream the host hands in (the real host's Unix admin socket; tests and the simulator call
// accept_admin directly). The same object runs on real sockets and in ns-3.
#pragma once

#include <memory>
#include <string>

#include "nodes/common/secure_channel.h"
#include "nodes/control/admin_api.h"
#include "nodes/control/control_core.h"
#include "nodes/control/registry.h"
#include "nodes/net/durable_store.h"
#include "nodes/net/env.h"

namespace warren::control {

struct ControlServerOptions {
  Endpoint listen;  // control port (HTTP Upgrade + /key)
  RegistryConfig registry;
  ControlCoreConfig core;
};

class ControlServer {
 public:
  // `store` and `env` must outlive the server. `server_key` is the Noise static key.
  ControlServer(Env& env, DurableStore& store, const PrivateKey& server_key,
                ControlServerOptions options);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Loads state (errors: corrupt store) and starts listening (errors: bind failed).
  Status start();
  // Stops accepting, closes every channel. State already committed stays in the store.
  void stop();
  // One admin request line in, one reply line out, then close (see admin_api.h).
  void accept_admin(std::unique_ptr<Stream> stream);

  Endpoint listen_endpoint() const;  // the bound endpoint (port 0 resolved)
  const PublicKey& public_key() const;
  Registry& registry();
  ControlCore& core();
  AdminApi& admin();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warren::control
