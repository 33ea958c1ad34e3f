// libFuzzer target: any bytes as a topology file must give a Topology or an error, never a
// crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "topologies/topology_loader.h"

namespace {

// Groups of up to a million members are legal but take seconds and gigabytes; the fuzzer
// learns nothing from them, so inputs asking for big groups are skipped.
constexpr int64_t kMaxFuzzGroupCount = 100;

bool has_big_group(std::string_view text) {
  auto doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (!doc.is_object()) return false;
  auto groups = doc.find("groups");
  if (groups == doc.end() || !groups->is_array()) return false;
  for (const auto& g : *groups) {
    if (!g.is_object()) continue;
    auto count = g.find("count");
    if (count != g.end() && count->is_number() && count->get<double>() > kMaxFuzzGroupCount) {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (has_big_group(text)) return 0;
  auto t = warren::topo::parse_topology_text(text, "fuzz.json");
  (void)t;
  return 0;
}
