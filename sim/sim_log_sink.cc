#include "sim/sim_log_sink.h"

#include <cstdio>

namespace warren::sim {

void SimLogSink::write(Timestamp when, LogLevel level, std::string_view component,
                       std::string_view message) {
  std::fprintf(stderr, "[%12.6fs] %-5s %.*s: %.*s\n", when.seconds_f(), to_string(level),
               static_cast<int>(component.size()), component.data(), static_cast<int>(message.size()),
               message.data());
}

}  // namespace warren::sim
