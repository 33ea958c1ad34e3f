#include "nodes/real/real_loop.h"

#include <signal.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdlib>
#include <optional>

#include "nodes/real/real_clock.h"
#include "nodes/real/real_network.h"

namespace warren {

// Member order is destruction order in reverse: sockets' and timers' owners go before the
// io_context they are registered with.
struct RealLoop::Impl {
  boost::asio::io_context io{1};  // concurrency hint 1: single-threaded, no locking
  // Keeps run() from returning merely because nothing is pending.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  RealClock clock{io};
  RealNetwork network{io};
  std::optional<boost::asio::signal_set> signals;
};

RealLoop::RealLoop() : impl_(new Impl) {}

RealLoop::~RealLoop() = default;

Clock& RealLoop::clock() {
  return impl_->clock;
}
Network& RealLoop::network() {
  return impl_->network;
}
boost::asio::io_context& RealLoop::io_context() {
  return impl_->io;
}

bool RealLoop::run_until(const std::function<bool()>& done, Duration timeout) {
  const Timestamp deadline = impl_->clock.now() + timeout;
  if (done()) return true;
  // Each pass runs at most one handler, so the loop ends by the deadline or by stop().
  while (true) {
    if (take_stop()) return done();
    const Timestamp now = impl_->clock.now();
    if (now >= deadline) return done();
    if (impl_->io.stopped()) impl_->io.restart();
    impl_->io.run_one_for(std::chrono::nanoseconds((deadline - now).ns()));
    if (done()) return true;
  }
}

void RealLoop::run_for(Duration duration) {
  (void)run_until([] { return false; }, duration);
}

void RealLoop::run() {
  while (!take_stop()) {
    impl_->io.restart();
    impl_->io.run();  // returns only after io.stop(), which stop() calls
  }
}

void RealLoop::stop() {
  stop_requested_ = true;
  impl_->io.stop();
}

void RealLoop::stop_on_signals() {
  if (impl_->signals) return;
  impl_->signals.emplace(impl_->io, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    stop();
    impl_->signals->async_wait([](const boost::system::error_code& again, int signal_number) {
      if (!again) std::_Exit(128 + signal_number);
    });
  });
}

}  // namespace warren
