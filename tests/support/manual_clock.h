// A Clock that only moves when a test tells it to. Timers run from advance()/run_next(), in
// (deadline, scheduling order) order, each seeing now() equal to its own deadline. Nothing
// runs on its own, so a test controls exactly what has happened when it asserts.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "nodes/net/clock.h"

namespace warren {

class ManualClock final : public Clock {
 public:
  // A timer callback that keeps re-arming itself at the current instant would make advance()
  // spin forever; past this many timers within one advance() the clock aborts with a message,
  // since a test that legitimately runs more is not something we write.
  static constexpr size_t kMaxTimersPerAdvance = 10'000'000;

  explicit ManualClock(Timestamp start = Timestamp()) : now_(start) {}
  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;

  Timestamp now() const override { return now_; }
  // A deadline in the past is treated as now: it runs at the next advance()/run_next().
  TimerId schedule_at(Timestamp when, std::function<void()> fn) override;
  void cancel(TimerId id) override;

  // Moves time forward by `delay` (>= 0), running every timer due up to the new time,
  // including timers those callbacks schedule within the window.
  void advance(Duration delay);
  void advance_to(Timestamp when);
  // Runs the earliest pending timer, moving now() to its deadline. False if none is pending.
  bool run_next();
  size_t pending() const { return queue_.size(); }
  // The deadline of the earliest pending timer, if any.
  std::optional<Timestamp> next_deadline() const;

 private:
  using Key = std::pair<int64_t, TimerId>;  // (deadline ns, id): ids grow, so ties keep order
  void run_front();

  Timestamp now_;
  TimerId next_id_ = 1;
  std::map<Key, std::function<void()>> queue_;
  std::map<TimerId, int64_t> deadline_of_;
};

}  // namespace warren
