// Log lines for real mode, one per call:
//   2026-11-26T15:30:00.123Z info relay/stun: message
// stamped with the wall clock in UTC (the Timestamp passed in is the loop's monotonic clock,
// meaningless to a reader). Control characters in messages are escaped so that untrusted
// text cannot forge lines. Thread-safe: each line is written whole under a lock.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "nodes/net/logger.h"

namespace warren {

class StderrLogSink final : public LogSink {
 public:
  // `out` is for tests; it must outlive the sink.
  explicit StderrLogSink(std::FILE* out = stderr) : out_(out) {}

  void write(Timestamp when, LogLevel level, std::string_view component,
             std::string_view message) override;

  // The line write() prints, without the newline, for a given wall-clock time (ms since the
  // Unix epoch).
  static std::string format(int64_t unix_ms, LogLevel level, std::string_view component,
                            std::string_view message);

 private:
  std::FILE* out_;
  std::mutex mutex_;
};

}  // namespace warren
