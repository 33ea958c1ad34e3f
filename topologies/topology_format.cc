#include "topologies/topology_format.h"

#include <cstdio>

namespace warren::topo {
namespace {

// Up to three decimals, trailing zeros dropped: 10, 0.5, 1.25.
std::string trimmed(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

const char* abbreviation(nat::Behaviour b, bool mapping) {
  switch (b) {
    case nat::Behaviour::endpoint_independent:
      return mapping ? "EIM" : "EIF";
    case nat::Behaviour::address_dependent:
      return mapping ? "ADM" : "ADF";
    case nat::Behaviour::address_and_port_dependent:
      return mapping ? "APDM" : "APDF";
  }
  return "?";
}

}  // namespace

std::string format_delay(Duration d) {
  return trimmed(d.ms_f()) + " ms";
}

std::string format_rate(uint64_t rate_bps) {
  double r = static_cast<double>(rate_bps);
  if (rate_bps >= 1'000'000'000 && rate_bps % 1'000'000 == 0) return trimmed(r / 1e9) + " Gbit/s";
  if (rate_bps >= 1'000'000) return trimmed(r / 1e6) + " Mbit/s";
  return trimmed(r / 1e3) + " kbit/s";
}

std::string format_loss(double loss) {
  return trimmed(loss * 100) + "% loss";
}

std::string behaviour_summary(const nat::NatConfig& c) {
  return std::string(abbreviation(c.mapping, true)) + " / " + abbreviation(c.filtering, false) +
         ", " + nat::to_string(c.ports);
}

}  // namespace warren::topo
