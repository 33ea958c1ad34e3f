// A LogSink that keeps every line in memory so tests can assert on what was logged.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "nodes/net/logger.h"

namespace warren {

class CaptureLogSink final : public LogSink {
 public:
  struct Line {
    Timestamp when;
    LogLevel level;
    std::string component;
    std::string message;
  };

  void write(Timestamp when, LogLevel level, std::string_view component,
             std::string_view message) override {
    lines_.push_back({when, level, std::string(component), std::string(message)});
  }

  const std::vector<Line>& lines() const { return lines_; }
  void clear() { lines_.clear(); }
  // True if some line's message contains `text` (at `level` or above).
  bool contains(std::string_view text, LogLevel level = LogLevel::debug) const {
    for (const Line& l : lines_) {
      if (l.level >= level && l.message.find(text) != std::string::npos) return true;
    }
    return false;
  }
  // "level component: message" lines joined by newlines, for failure messages.
  std::string text() const {
    std::string out;
    for (const Line& l : lines_) {
      out += std::string(to_string(l.level)) + " " + l.component + ": " + l.message + "\n";
    }
    return out;
  }

 private:
  std::vector<Line> lines_;
};

}  // namespace warren
