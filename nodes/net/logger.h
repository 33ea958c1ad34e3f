// Levelled, component-tagged logging. Protocol code writes through a Logger; where lines go
// (stderr, a file, a simulation trace) is the backend's LogSink. Timestamps come from the
// environment's Clock so simulated logs show simulated time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "nodes/net/time.h"

namespace warren {

class Clock;

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };
const char* to_string(LogLevel level);
// "debug", "info", "warn"/"warning", "error", "off"; anything else is an error for the caller.
bool parse_log_level(std::string_view text, LogLevel& out);

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(Timestamp when, LogLevel level, std::string_view component,
                     std::string_view message) = 0;
};

// Cheap to copy. A default-constructed Logger discards everything.
class Logger {
 public:
  Logger() = default;
  Logger(LogSink* sink, const Clock* clock, std::string component, LogLevel min_level)
      : sink_(sink), clock_(clock), component_(std::move(component)), min_level_(min_level) {}

  // The same sink and clock under "parent/name".
  Logger child(std::string_view name) const;
  bool enabled(LogLevel level) const { return sink_ != nullptr && level >= min_level_; }
  void log(LogLevel level, std::string_view message) const;
  void debug(std::string_view m) const { log(LogLevel::debug, m); }
  void info(std::string_view m) const { log(LogLevel::info, m); }
  void warn(std::string_view m) const { log(LogLevel::warn, m); }
  void error(std::string_view m) const { log(LogLevel::error, m); }
  const std::string& component() const { return component_; }

 private:
  LogSink* sink_ = nullptr;
  const Clock* clock_ = nullptr;
  std::string component_;
  LogLevel min_level_ = LogLevel::info;
};

}  // namespace warren
