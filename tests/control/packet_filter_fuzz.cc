// Fuzzes packet filter parsing (clients read it from map messages): never crash; anything
// accepted is normalised, so encoding and parsing it again gives the same filter; the matcher
// runs on whatever was accepted.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nodes/common/packet_filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using warren::control::packet_filter_from_json;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  auto filter = packet_filter_from_json(j);
  if (!filter.ok()) {
    if (filter.error().message.rfind("packet_filter", 0) != 0) std::abort();
    return 0;
  }
  auto again = packet_filter_from_json(warren::control::packet_filter_to_json(*filter));
  if (!again.ok() || *again != *filter) std::abort();
  auto a = *warren::IpAddress::parse("100.64.0.1");
  auto b = *warren::IpAddress::parse("fd7a:115c:a1e0::2");
  (void)warren::control::packet_filter_accepts(*filter, a, a, 6, 22);
  (void)warren::control::packet_filter_accepts(*filter, b, b, 1, 0);
  return 0;
}
