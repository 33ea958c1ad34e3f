// Fuzzes what the secure channel parses before any authentication besides HTTP and frames: the
// GET /key document and the base64 of the handshake header. Never crash; accepted base64
// re-encodes to the same text; an accepted key document names the expected protocol and its
// key survives a round trip.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "nodes/common/channel_protocol.h"

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto bytes = warren::base64_decode(text, warren::kMaxInitiationBytes);
  if (bytes.ok()) {
    check(bytes->size() <= warren::kMaxInitiationBytes);
    check(warren::base64_encode(*bytes) == text);
  }
  auto key = warren::parse_key_document(text, "warren-control/1");
  if (key.ok()) {
    auto again = warren::parse_key_document(warren::key_document(*key, "warren-control/1"),
                                            "warren-control/1");
    check(again.ok() && *again == *key);
  }
  check(warren::printable(text, 64).size() <= 64);
  return 0;
}
