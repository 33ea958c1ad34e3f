// Fuzzes the control server's config parser: never crash; an accepted config has the
// invariants the server relies on (a state dir, an admin socket, overlay prefixes of the right
// families, a positive batch window and keepalive).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "nodes/control/control_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = warren::control::parse_control_config(text, "fuzz.json");
  if (config.ok()) {
    const auto& c = *config;
    if (c.state_dir.empty() || c.admin_socket.empty() || c.listen_text.empty()) std::abort();
    if (!c.server.registry.ipv4_prefix.network().is_v4()) std::abort();
    if (c.server.registry.ipv6_prefix.network().is_v4()) std::abort();
    if (c.server.core.batch_window <= warren::Duration::zero()) std::abort();
    if (c.server.core.keepalive_interval <= warren::Duration::zero()) std::abort();
  } else if (config.error().message.rfind("fuzz.json: ", 0) != 0) {
    std::abort();  // every error names the file
  }
  return 0;
}
