#include "nodes/net/logger.h"

#include "nodes/net/clock.h"

namespace warren {

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    case LogLevel::off: return "off";
  }
  return "?";
}

bool parse_log_level(std::string_view text, LogLevel& out) {
  if (text == "debug") out = LogLevel::debug;
  else if (text == "info") out = LogLevel::info;
  else if (text == "warn" || text == "warning") out = LogLevel::warn;
  else if (text == "error") out = LogLevel::error;
  else if (text == "off") out = LogLevel::off;
  else return false;
  return true;
}

Logger Logger::child(std::string_view name) const {
  Logger l = *this;
  l.component_ = component_.empty() ? std::string(name) : component_ + "/" + std::string(name);
  return l;
}

void Logger::log(LogLevel level, std::string_view message) const {
  if (!enabled(level)) return;
  sink_->write(clock_ != nullptr ? clock_->now() : Timestamp(), level, component_, message);
}

}  // namespace warren
