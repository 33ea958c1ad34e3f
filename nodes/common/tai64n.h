// TAI64N timestamps (12 bytes) as WireGuard puts in handshake initiations: the responder
// accepts an initiation only if its timestamp is newer than the last one from that peer.
//
// Layout: u64 big-endian (2^62 + 10 + unix_seconds), then u32 big-endian nanoseconds.
// Protocol code never reads a clock: the caller passes the time (from Env's clock). The
// nanoseconds are encoded as given; wireguard-go clears their low 24 bits first (so the
// timestamp leaks less about the sender's clock) - a caller wanting that does it before.
// Big-endian layout makes byte order equal time order, so "newer" is a byte comparison.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace warren {

constexpr size_t kTai64nBytes = 12;
using Tai64n = std::array<uint8_t, kTai64nBytes>;

// nanoseconds >= 10^9 carry into the seconds.
Tai64n tai64n_encode(int64_t unix_seconds, uint32_t nanoseconds);
// True when `candidate` is strictly later than `previous`.
bool tai64n_newer(const Tai64n& candidate, const Tai64n& previous);

}  // namespace warren
