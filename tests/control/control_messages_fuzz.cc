// Fuzzes both control-message decoders (client -> server and server -> client) on the same
// input: never crash; anything accepted re-encodes to a message that decodes again and
// encodes to the same bytes (one canonical form per message).
#include <cstdint>
#include <cstdlib>

#include "nodes/common/control_messages.h"

namespace {

template <typename Decode, typename Message>
void check_canonical(const warren::Result<Message>& decoded, Decode decode) {
  if (!decoded.ok()) return;
  warren::Bytes once = warren::control::encode(*decoded);
  auto again = decode(once);
  if (!again.ok()) std::abort();
  if (warren::control::encode(*again) != once) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  warren::ByteView bytes(data, size);
  check_canonical(warren::control::decode_client_message(bytes),
                  [](warren::ByteView b) { return warren::control::decode_client_message(b); });
  check_canonical(warren::control::decode_server_message(bytes),
                  [](warren::ByteView b) { return warren::control::decode_server_message(b); });
  return 0;
}
