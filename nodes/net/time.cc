#include "nodes/net/time.h"

#include <cstdio>

namespace warren {

std::string to_string(Duration d) {
  char buf[48];
  int64_t ns = d.ns();
  int64_t mag = ns < 0 ? -ns : ns;
  if (mag >= 1000000000) std::snprintf(buf, sizeof buf, "%.3fs", d.seconds_f());
  else if (mag >= 1000000) std::snprintf(buf, sizeof buf, "%.3fms", d.ms_f());
  else if (mag >= 1000) std::snprintf(buf, sizeof buf, "%lldus", static_cast<long long>(ns / 1000));
  else std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
  return buf;
}

}  // namespace warren
