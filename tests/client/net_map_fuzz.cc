// Fuzzes what a client does with a map stream from an untrusted server: the input is a sequence
// of newline-separated server messages, each decoded and, if it is a map, applied to one NetMap.
// Never crash; a rejected message leaves the map exactly as it was; the map's peers are keyed by
// their ids; the summary always serialises.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "nodes/client/net_map.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Messages beyond this many per input add nothing the first ones do not cover.
constexpr int kMaxMessagesPerInput = 64;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  warren::NetMap map;
  size_t start = 0;
  for (int i = 0; i < kMaxMessagesPerInput && start <= input.size(); ++i) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    start = end + 1;
    auto decoded = warren::control::decode_server_message(warren::ByteView(line));
    if (!decoded) continue;
    const auto* message = std::get_if<warren::control::MapMessage>(&*decoded);
    if (message == nullptr) continue;
    const uint64_t seq_before = map.seq();
    const size_t peers_before = map.peers().size();
    const bool had_full = map.has_full_map();
    warren::Status applied = map.apply(*message);
    if (!applied) {
      check(map.seq() == seq_before && map.peers().size() == peers_before &&
            map.has_full_map() == had_full);
      continue;
    }
    check(map.has_full_map() && map.seq() == message->seq);
    for (const auto& [id, peer] : map.peers()) check(id == peer.id);
    const std::string text =
        map.summary().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    check(!text.empty());
  }
  return 0;
}
