// Short human-readable forms of topology values, shared by the DOT and CLI output.
#pragma once

#include <cstdint>
#include <string>

#include "nat-models/nat_config.h"
#include "nodes/net/time.h"

namespace warren::topo {

std::string format_delay(Duration d);        // "10 ms", "0.5 ms"
std::string format_rate(uint64_t rate_bps);  // "1 Gbit/s", "100 Mbit/s", "512 kbit/s"
std::string format_loss(double loss);        // "1% loss", "0.1% loss"
// RFC 4787 abbreviations and the port strategy: "EIM / APDF, preserve".
std::string behaviour_summary(const nat::NatConfig& c);

}  // namespace warren::topo
