#include "nodes/real/real_clock.h"

#include <chrono>

namespace warren {
namespace {

std::chrono::steady_clock::time_point to_time_point(int64_t ns) {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::nanoseconds(ns)));
}

}  // namespace

RealClock::RealClock(boost::asio::io_context& io) : timer_(io) {}

RealClock::~RealClock() {
  *alive_ = false;
  timer_.cancel();
}

Timestamp RealClock::now() const {
  return Timestamp::from_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now().time_since_epoch())
                                .count());
}

int64_t RealClock::unix_time_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TimerId RealClock::schedule_at(Timestamp when, std::function<void()> fn) {
  const Timestamp current = now();
  if (when < current) when = current;  // past deadlines queue behind timers already due
  const TimerId id = next_id_++;
  queue_.emplace(Key{when.ns(), id}, std::move(fn));
  deadline_of_.emplace(id, when.ns());
  if (!in_wakeup_ && (!armed_ || when.ns() < armed_for_)) arm();
  return id;
}

void RealClock::cancel(TimerId id) {
  auto it = deadline_of_.find(id);
  if (it == deadline_of_.end()) return;
  queue_.erase(Key{it->second, id});
  deadline_of_.erase(it);
  // The wait stays armed: a wakeup with nothing due just re-arms for the next deadline.
}

void RealClock::arm() {
  if (queue_.empty()) {
    if (armed_) timer_.cancel();
    armed_ = false;
    return;
  }
  armed_ = true;
  armed_for_ = queue_.begin()->first.first;
  const uint64_t generation = ++generation_;
  timer_.expires_at(to_time_point(armed_for_));  // cancels any earlier wait
  timer_.async_wait([this, alive = alive_, generation](const boost::system::error_code& ec) {
    if (!*alive || ec || generation != generation_) return;
    on_wakeup();
  });
}

void RealClock::on_wakeup() {
  armed_ = false;
  in_wakeup_ = true;
  const int64_t current = now().ns();
  size_t ran = 0;
  while (!queue_.empty() && queue_.begin()->first.first <= current && ran < kMaxTimersPerWakeup) {
    auto it = queue_.begin();
    const TimerId id = it->first.second;
    std::function<void()> fn = std::move(it->second);
    queue_.erase(it);
    deadline_of_.erase(id);
    ++ran;
    fn();
  }
  in_wakeup_ = false;
  arm();
}

}  // namespace warren
