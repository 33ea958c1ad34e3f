// The real-socket backend: one thread, one boost::asio::io_context, the OS steady clock, OS
// sockets. Protocol objects get `clock()` and `network()` through their Env; a program builds
// one RealLoop, creates its objects, then calls run() (or run_until in tests).
//
//   RealLoop loop;
//   SystemRng rng;
//   StderrLogSink sink;
//   Env env{loop.clock(), loop.network(), rng, Logger(&sink, &loop.clock(), "relay", level)};
//   ... start protocol objects ...
//   loop.stop_on_signals();
//   loop.run();
//
// Threading: everything runs on the thread that calls run*; only stop() may be called from
// another thread. Lifetime: sockets, listeners, streams and timers from this loop must be
// destroyed before it.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "nodes/net/clock.h"
#include "nodes/net/network.h"

namespace boost {
namespace asio {
class io_context;
}  // namespace asio
}  // namespace boost

namespace warren {

class RealLoop {
 public:
  RealLoop();
  ~RealLoop();
  RealLoop(const RealLoop&) = delete;
  RealLoop& operator=(const RealLoop&) = delete;

  Clock& clock();
  Network& network();
  // For other OS-facing parts of nodes/real (TUN, ...) that need to join the same loop.
  boost::asio::io_context& io_context();

  // Runs handlers until `done()` is true (checked before and after each handler), `timeout`
  // has passed or stop() was called. Returns done().
  bool run_until(const std::function<bool()>& done, Duration timeout);
  void run_for(Duration duration);
  // Runs until stop().
  void run();
  // Makes the running (or the next) run*() call return after the current handler. May be
  // called from any thread; not from a signal handler (use stop_on_signals()).
  void stop();
  // The first SIGINT or SIGTERM calls stop() (delivered through asio, not in signal
  // context); a second one exits the process at once, for a shutdown that hangs.
  void stop_on_signals();

 private:
  struct Impl;
  bool take_stop() { return stop_requested_.exchange(false); }

  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace warren
