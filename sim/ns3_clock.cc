#include "sim/ns3_clock.h"

#include <algorithm>

#include <ns3/event-impl.h>
#include <ns3/nstime.h>
#include <ns3/simulator.h>

namespace warren::sim {

Ns3Clock::Ns3Clock(uint32_t context) : context_(context), timers_(std::make_shared<Timers>()) {}

Ns3Clock::~Ns3Clock() {
  CancelAll();
}

Timestamp Ns3Clock::now() const {
  return Timestamp::from_ns(ns3::Simulator::Now().GetNanoSeconds());
}

TimerId Ns3Clock::schedule_at(Timestamp when, std::function<void()> fn) {
  const TimerId id = next_id_++;
  const int64_t delay_ns = std::max<int64_t>(0, (when - now()).ns());
  const ns3::Time delay = ns3::NanoSeconds(delay_ns);
  std::weak_ptr<Timers> weak = timers_;
  Pending pending;
  pending.fn = std::move(fn);
  if (ns3::Simulator::GetContext() == context_) {
    pending.event = ns3::Simulator::Schedule(delay, [weak, id] { Fire(weak, id); });
  } else {
    // Only ScheduleWithContext switches context, and it returns no EventId: such a timer is
    // cancelled by forgetting it, and its event runs as a no-op.
    ns3::Simulator::ScheduleWithContext(context_, delay, [weak, id] { Fire(weak, id); });
  }
  timers_->pending.emplace(id, std::move(pending));
  return id;
}

void Ns3Clock::cancel(TimerId id) {
  auto it = timers_->pending.find(id);
  if (it == timers_->pending.end()) return;
  // Remove, not Cancel: protocol code re-arms timers per packet, and cancelled events would
  // otherwise pile up in the simulator's queue until their time comes.
  if (!it->second.event.IsExpired()) ns3::Simulator::Remove(it->second.event);
  timers_->pending.erase(it);
}

void Ns3Clock::CancelAll() {
  // Flag the events cancelled rather than Remove them: this also runs from destructors during
  // and after Simulator::Destroy, when the simulator must not be touched.
  for (auto& entry : timers_->pending) {
    if (ns3::EventImpl* event = entry.second.event.PeekEventImpl()) event->Cancel();
  }
  timers_->pending.clear();
}

size_t Ns3Clock::PendingCount() const {
  return timers_->pending.size();
}

void Ns3Clock::Fire(const std::weak_ptr<Timers>& weak, TimerId id) {
  std::shared_ptr<Timers> timers = weak.lock();
  if (!timers) return;
  auto it = timers->pending.find(id);
  if (it == timers->pending.end()) return;
  std::function<void()> fn = std::move(it->second.fn);
  timers->pending.erase(it);
  fn();  // may destroy the clock's owner; touch nothing after
}

}  // namespace warren::sim
