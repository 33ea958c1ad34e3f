// Time and timers as seen by protocol code. A backend owns the real clock (steady clock, ns-3
// Simulator, or a manual test clock); protocol objects only ask it for `now` and timers.
#pragma once

#include <cstdint>
#include <functional>

#include "nodes/net/time.h"

namespace warren {

using TimerId = uint64_t;  // 0 is never a valid id

// 2026-01-01T00:00:00Z: the wall-clock instant at which simulated time 0 happens.
constexpr int64_t kSimulatedUnixEpochNs = 1767225600LL * 1000000000LL;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
  // Runs `fn` once at `when` (as soon as possible if `when` has passed), never synchronously
  // inside schedule_at. Timers due at the same instant run in the order they were scheduled.
  virtual TimerId schedule_at(Timestamp when, std::function<void()> fn) = 0;
  // Cancels a pending timer. A no-op for ids that already ran or were cancelled.
  virtual void cancel(TimerId id) = 0;
  // Wall-clock time in nanoseconds since the Unix epoch, for what must survive a restart or be
  // shown to people (key expiry, last seen). Never use it to measure intervals: it can jump.
  // Backends without a wall clock (simulation, tests) count from kSimulatedUnixEpochNs.
  virtual int64_t unix_time_ns() const { return kSimulatedUnixEpochNs + now().ns(); }

  TimerId schedule_after(Duration delay, std::function<void()> fn) {
    return schedule_at(now() + delay, std::move(fn));
  }
};

// A one-shot timer owned by a protocol object. Re-arming replaces the pending run; destroying
// the Timer cancels it, so a callback never outlives the object that armed it.
class Timer {
 public:
  explicit Timer(Clock& clock) : clock_(&clock) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm_at(Timestamp when, std::function<void()> fn) {
    cancel();
    fn_ = std::move(fn);
    deadline_ = when;
    id_ = clock_->schedule_at(when, [this] {
      id_ = 0;
      auto run = std::move(fn_);
      run();  // may re-arm or destroy this Timer's owner; touch nothing after
    });
  }
  void arm_after(Duration delay, std::function<void()> fn) {
    arm_at(clock_->now() + delay, std::move(fn));
  }
  void cancel() {
    if (id_ != 0) clock_->cancel(id_);
    id_ = 0;
  }
  bool armed() const { return id_ != 0; }
  Timestamp deadline() const { return deadline_; }

 private:
  Clock* clock_;
  TimerId id_ = 0;
  Timestamp deadline_;
  std::function<void()> fn_;
};

}  // namespace warren
