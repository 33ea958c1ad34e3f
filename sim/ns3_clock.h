// The Clock of nodes/net over the ns-3 simulator: now() is Simulator::Now() in nanoseconds and
// timers are simulator events. Timers run in the context of one node (its id), so ns-3 logs
// and traces name the node the protocol code runs on. Same-instant timers run in the order
// they were scheduled (ns-3 orders equal timestamps by insertion).
//
// Lifetime: destroying the clock (or CancelAll) cancels every pending timer; an event that
// still sits in the simulator's queue then finds the timer gone and does nothing. A clock may
// be destroyed after Simulator::Destroy, but must not schedule or cancel across it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include <ns3/event-id.h>

#include "nodes/net/clock.h"

namespace warren::sim {

class Ns3Clock final : public Clock {
 public:
  // `context`: the ns-3 node id the timers run under.
  explicit Ns3Clock(uint32_t context);
  ~Ns3Clock() override;
  Ns3Clock(const Ns3Clock&) = delete;
  Ns3Clock& operator=(const Ns3Clock&) = delete;

  Timestamp now() const override;
  TimerId schedule_at(Timestamp when, std::function<void()> fn) override;
  void cancel(TimerId id) override;

  // Cancels every pending timer: used when the role that armed them is destroyed.
  void CancelAll();
  size_t PendingCount() const;
  uint32_t GetContext() const { return context_; }

 private:
  struct Pending {
    ns3::EventId event;  // empty when scheduled from another context (not removable)
    std::function<void()> fn;
  };
  struct Timers {
    std::map<TimerId, Pending> pending;
  };
  static void Fire(const std::weak_ptr<Timers>& timers, TimerId id);

  uint32_t context_;
  TimerId next_id_ = 1;
  // Shared with the scheduled events through weak_ptrs, so an event outliving the clock is
  // a no-op rather than a use of freed memory.
  std::shared_ptr<Timers> timers_;
};

}  // namespace warren::sim
