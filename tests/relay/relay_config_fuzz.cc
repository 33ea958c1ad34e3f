// Fuzzes the relay's config parser and its URL parser: never crash; an accepted config has the
// invariants `warren relay serve` relies on (a listen text, a mesh key for mesh peers, a
// control URL for a pinned control key, bounded tunables), and every error names its source.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "nodes/relay/relay_config.h"

namespace {

void check_target(const warren::relay::HttpTarget& t) {
  if (t.host.empty() || t.port == 0 || t.host_port.empty()) std::abort();
  if (t.host_port.rfind(":" + std::to_string(t.port)) + 1 + std::to_string(t.port).size() !=
      t.host_port.size()) {
    std::abort();  // the Host header ends in the port the resolver gets
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = warren::relay::parse_relay_config(text, "fuzz.json");
  if (config.ok()) {
    const auto& c = *config;
    if (c.listen_text.empty()) std::abort();
    if (!c.mesh_peers.empty() && !c.mesh_key_text && !c.mesh_key_file) std::abort();
    if (c.mesh_key_text && c.mesh_key_file) std::abort();
    if (c.control_key && !c.control_url) std::abort();
    if (c.control_url) check_target(*c.control_url);
    for (const auto& peer : c.mesh_peers) check_target(peer);
    if (c.server.queue_depth == 0 || c.server.max_clients == 0) std::abort();
  } else if (config.error().message.rfind("fuzz.json: ", 0) != 0) {
    std::abort();  // every error names the file
  }

  // The same bytes as a URL, as `--relay` and `--control` take them.
  auto target = warren::relay::parse_http_target(std::string(text), "--relay");
  if (target.ok()) {
    check_target(*target);
  } else if (target.error().message.rfind("--relay: ", 0) != 0) {
    std::abort();
  }
  return 0;
}
