// One warren role (control server, relay, client, or a test role) as an ns-3 Application.
// Start() builds the role through a factory from an Env whose pieces belong to the
// application: an Ns3Clock running timers in the node's context, an Ns3Network on the node, a
// SeededRng handed in by whoever installs it (derived from the scenario seed and the node's
// name), and a Logger over the installer's LogSink. Stop() destroys the role and cancels any
// timer it left; Start() after Stop() builds a fresh role with the same Env pieces, the RNG
// continuing where it was (a process restart on the same machine).
//
// Start()/Stop() may be called at any simulated time (scenario events); StartApplication and
// StopApplication (the Application start/stop times) call them too, unless "AutoStart" is
// false. Call them from an event in the node's context (Simulator::ScheduleWithContext with
// the node id) so sockets and timers carry the node's context.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <ns3/application.h>
#include <ns3/traced-callback.h>

#include "nodes/net/env.h"
#include "nodes/net/logger.h"
#include "nodes/net/rng.h"
#include "sim/ns3_clock.h"
#include "sim/ns3_network.h"

namespace warren::sim {

class RoleApplication : public ns3::Application {
 public:
  // Builds the role; the Env outlives the returned object. Returning null means the role
  // could not be built (the factory should have logged why through env.log).
  using Factory = std::function<std::shared_ptr<void>(Env& env)>;
  // (how many times the role has been started, counting this one)
  using StartStopTracedCallback = void (*)(uint32_t starts);

  static ns3::TypeId GetTypeId();
  RoleApplication();
  ~RoleApplication() override;

  // Configuration, before the first Start. `sink` may be null (logs discarded) and must
  // outlive the application.
  void SetFactory(Factory factory);
  void SetRng(const SeededRng& rng);
  void SetLogSink(LogSink* sink, LogLevel min_level);

  // Builds the role now; a no-op while it runs. False if the factory returned null.
  bool Start();
  // Destroys the role now and cancels the timers it left; a no-op when not running.
  void Stop();
  bool IsRunning() const { return role_ != nullptr; }
  uint32_t GetStartCount() const { return starts_; }

  // The running role, or null. role<T>() trusts the caller that the factory built a T.
  const std::shared_ptr<void>& GetRole() const { return role_; }
  template <class T>
  T* role() const {
    return static_cast<T*>(role_.get());
  }
  // The Env pieces, created at the first Start (null before).
  Env* GetEnv() const { return env_.get(); }
  Ns3Clock* GetClock() const { return clock_.get(); }
  Ns3Network* GetNetwork() const { return network_.get(); }

 protected:
  void DoDispose() override;

 private:
  void StartApplication() override;
  void StopApplication() override;
  void EnsureEnv();

  Factory factory_;
  std::optional<SeededRng> rng_;
  LogSink* sink_ = nullptr;
  LogLevel min_level_ = LogLevel::info;
  std::string name_;  // "Name" attribute: the Logger component; defaults to the node id
  bool auto_start_ = true;

  std::unique_ptr<Ns3Clock> clock_;
  std::unique_ptr<Ns3Network> network_;
  std::unique_ptr<Env> env_;
  std::shared_ptr<void> role_;
  uint32_t starts_ = 0;
  ns3::TracedCallback<uint32_t> start_trace_;
  ns3::TracedCallback<uint32_t> stop_trace_;
};

}  // namespace warren::sim
