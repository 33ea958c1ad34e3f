// Writes role logs to stderr stamped with simulated time ("[  12.345678s] warn c-cgnat/stun-client: ...").
#pragma once

#include "nodes/net/logger.h"

namespace warren::sim {

class SimLogSink final : public LogSink {
 public:
  void write(Timestamp when, LogLevel level, std::string_view component,
             std::string_view message) override;
};

}  // namespace warren::sim
