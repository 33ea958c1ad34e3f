// The real backend's Clock: the OS steady clock (the only place in warren that reads it) and
// one asio steady_timer set to the earliest deadline of an ordered timer queue, so timers due
// at the same instant run in the order they were scheduled. Single-threaded: use it only from
// the loop's thread. Callbacks must not destroy the clock.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <utility>

#include "nodes/net/clock.h"

namespace warren {

class RealClock final : public Clock {
 public:
  // Due timers run per wakeup before the loop gets to poll sockets again: keeps a burst of
  // timers from starving I/O.
  static constexpr size_t kMaxTimersPerWakeup = 256;

  explicit RealClock(boost::asio::io_context& io);
  ~RealClock() override;
  RealClock(const RealClock&) = delete;
  RealClock& operator=(const RealClock&) = delete;

  Timestamp now() const override;
  int64_t unix_time_ns() const override;
  TimerId schedule_at(Timestamp when, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  size_t pending() const { return queue_.size(); }

 private:
  using Key = std::pair<int64_t, TimerId>;  // (deadline ns, id): ids grow, so ties keep order
  void arm();
  void on_wakeup();

  boost::asio::steady_timer timer_;
  std::map<Key, std::function<void()>> queue_;
  std::map<TimerId, int64_t> deadline_of_;
  TimerId next_id_ = 1;
  uint64_t generation_ = 0;  // identifies the current wait; stale completions are ignored
  bool armed_ = false;
  int64_t armed_for_ = 0;
  bool in_wakeup_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace warren
