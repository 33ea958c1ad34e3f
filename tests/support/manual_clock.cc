#include "tests/support/manual_clock.h"

#include <cstdio>
#include <cstdlib>

namespace warren {

TimerId ManualClock::schedule_at(Timestamp when, std::function<void()> fn) {
  if (when < now_) when = now_;
  TimerId id = next_id_++;
  queue_.emplace(Key{when.ns(), id}, std::move(fn));
  deadline_of_.emplace(id, when.ns());
  return id;
}

void ManualClock::cancel(TimerId id) {
  auto it = deadline_of_.find(id);
  if (it == deadline_of_.end()) return;
  queue_.erase(Key{it->second, id});
  deadline_of_.erase(it);
}

void ManualClock::advance(Duration delay) {
  if (delay < Duration::zero()) {
    std::fprintf(stderr, "ManualClock::advance: negative delay %s; time never goes back\n",
                 to_string(delay).c_str());
    std::abort();
  }
  advance_to(now_ + delay);
}

void ManualClock::advance_to(Timestamp when) {
  size_t ran = 0;
  while (!queue_.empty() && queue_.begin()->first.first <= when.ns()) {
    if (++ran > kMaxTimersPerAdvance) {
      std::fprintf(stderr,
                   "ManualClock: more than %zu timers ran in one advance; a timer probably "
                   "re-arms itself with zero delay\n",
                   kMaxTimersPerAdvance);
      std::abort();
    }
    run_front();
  }
  if (when > now_) now_ = when;
}

bool ManualClock::run_next() {
  if (queue_.empty()) return false;
  run_front();
  return true;
}

std::optional<Timestamp> ManualClock::next_deadline() const {
  if (queue_.empty()) return std::nullopt;
  return Timestamp::from_ns(queue_.begin()->first.first);
}

void ManualClock::run_front() {
  auto it = queue_.begin();
  Key key = it->first;
  std::function<void()> fn = std::move(it->second);
  queue_.erase(it);
  deadline_of_.erase(key.second);
  if (Timestamp::from_ns(key.first) > now_) now_ = Timestamp::from_ns(key.first);
  fn();
}

}  // namespace warren
