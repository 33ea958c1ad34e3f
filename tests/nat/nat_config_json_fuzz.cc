// Fuzzes nat_config_from_json with arbitrary JSON text: it must return a config or an
// error, never throw or crash, and an accepted config must survive a round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "nat-models/nat_config_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json j =
      nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  warren::Result<warren::nat::NatConfig> c = warren::nat::nat_config_from_json(j);
  if (c.ok()) {
    warren::Result<warren::nat::NatConfig> back =
        warren::nat::nat_config_from_json(warren::nat::nat_config_to_json(*c));
    if (!back.ok() || *back != *c) std::abort();
  }
  (void)warren::nat::firewall_config_from_json(j);
  return 0;
}
