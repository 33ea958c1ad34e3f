// Fuzzes the relay frame decoder: any bytes decode to a frame or an error, never a crash. A
// frame that decodes re-encodes to a message that decodes again to the same kind of frame and
// re-encodes to the same bytes (encoding is canonical), and packets and texts stay within the
// protocol's limits.
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "nodes/common/relay_frame.h"

namespace {

using warren::Bytes;
using warren::ByteView;
namespace relay = warren::relay;

void check(bool ok) {
  if (!ok) std::abort();
}

void check_limits(const relay::RelayFrame& frame) {
  if (auto* p = std::get_if<relay::SendPacket>(&frame)) {
    check(p->packet.size() <= relay::kMaxRelayPacketBytes);
  } else if (auto* r = std::get_if<relay::RecvPacket>(&frame)) {
    check(r->packet.size() <= relay::kMaxRelayPacketBytes);
  } else if (auto* f = std::get_if<relay::ForwardPacket>(&frame)) {
    check(f->packet.size() <= relay::kMaxRelayPacketBytes);
  } else if (auto* h = std::get_if<relay::Health>(&frame)) {
    check(h->text.size() <= relay::kMaxRelayTextBytes);
  } else if (auto* x = std::get_if<relay::Refused>(&frame)) {
    check(x->text.size() <= relay::kMaxRelayTextBytes);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto decoded = relay::decode_relay_frame(ByteView(data, size));
  if (!decoded.ok()) {
    check(!decoded.error().message.empty());
    return 0;
  }
  check(size <= relay::kMaxRelayFrameBytes ||
        std::holds_alternative<relay::UnknownFrame>(*decoded));
  check_limits(*decoded);
  Bytes first;
  relay::encode_relay_frame(*decoded, first);
  const auto again = relay::decode_relay_frame(first);
  check(again.ok());
  check(again->index() == decoded->index());
  check_limits(*again);
  Bytes second = {0x55};  // encoding appends: what was there stays
  relay::encode_relay_frame(*again, second);
  check(second.size() == first.size() + 1 && second[0] == 0x55 &&
        Bytes(second.begin() + 1, second.end()) == first);
  return 0;
}
