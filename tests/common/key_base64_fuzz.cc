// Fuzzes key base64 decoding: never crash; anything accepted is exactly 44 characters and
// encodes back to the same text (so there is one text form per key).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "nodes/common/x25519.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto key = warren::key_from_base64(text);
  if (key.ok()) {
    if (text.size() != warren::kKeyBase64Chars) std::abort();
    if (warren::key_to_base64(*key) != text) std::abort();
  }
  return 0;
}
