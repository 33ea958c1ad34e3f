// The relay protocol's frames ("warren-relay/1"). The relay rides the secure channel
// (secure_channel.h: HTTP/1.1 Upgrade on POST /relay, then Noise IK with the client's NODE key
// as its static key, so the handshake itself proves the client holds its node private key and
// the relay holds the key the relay map lists). Every channel message is exactly one frame:
//
//   frame = type u8 | length u32 BE | body[length]          (length = bytes of body)
//
// The length is redundant with the message length and must equal it; it keeps a frame
// self-describing in captures and lets the parser refuse a lying header. Keys are 32 raw bytes,
// integers big-endian. Types (DERP's numbering where the meaning matches, see
// ../shared/research/protocols.md; documented in nodes/relay/README.md):
//
//   0x02 client_hello   C->S  version u8 (1) | flags u8 (bit0 preferred, bit1 mesh)
//                             [| mesh_proof[32] when bit1]
//   0x03 server_hello   S->C  version u8 | rate_bytes_per_s u32 | burst_bytes u32 (0 = no
//                             limit) [| mesh_proof[32], answering a mesh client]
//   0x04 send_packet    C->S  dst[32] | packet
//   0x05 recv_packet    S->C  src[32] | packet
//   0x06 keepalive      S->C  empty
//   0x07 note_preferred C->S  u8 (1 = this is my home relay, 0 = not)
//   0x08 peer_gone      S->C  key[32] | reason u8 (0 disconnected, 1 not here)
//   0x09 peer_present   S->C  key[32] | ip[16] (IPv4 as ::ffff:a.b.c.d) | port u16 | flags u8
//                             (to mesh watchers: who is connected here)
//   0x0a forward_packet mesh  src[32] | dst[32] | packet   (mesh peer -> relay; never forwarded
//                             again)
//   0x0b refused        S->C  reason u8 | UTF-8 text; the relay closes right after
//   0x10 watch_conns    mesh  empty
//   0x12 ping           both  data[8]
//   0x13 pong           both  data[8]
//   0x14 health         S->C  UTF-8 text (empty = healthy again)
//   0x15 restarting     S->C  reconnect_in_ms u32 | try_for_ms u32
//
// Packets are at most kMaxRelayPacketBytes. A frame of an unknown type decodes to
// UnknownFrame (skipped and counted by receivers, which is how the protocol grows); a known
// type with a wrong body size, a length that disagrees with the message, a bad version or a
// bad text is an error with a message saying which.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "nodes/common/x25519.h"
#include "nodes/net/bytes.h"
#include "nodes/net/endpoint.h"
#include "nodes/net/result.h"

namespace warren::relay {

constexpr uint8_t kRelayProtocolVersion = 1;
constexpr const char* kRelayChannelProtocol = "warren-relay/1";
constexpr const char* kRelayChannelPath = "/relay";
constexpr size_t kRelayFrameHeaderBytes = 5;
// A WireGuard packet of a 64 KiB inner MTU plus headroom: what DERP allows too.
constexpr size_t kMaxRelayPacketBytes = 64 << 10;
// The largest legal frame (forward_packet with a maximal packet); the channel's
// max_message_bytes, so anything bigger is refused by the channel before we parse it.
constexpr size_t kMaxRelayFrameBytes = kRelayFrameHeaderBytes + 32 + 32 + kMaxRelayPacketBytes;
// Health and refusal texts are short human sentences.
constexpr size_t kMaxRelayTextBytes = 1024;
constexpr size_t kRelayPingBytes = 8;
constexpr size_t kMeshProofBytes = 32;

enum class RelayFrameType : uint8_t {
  client_hello = 0x02,
  server_hello = 0x03,
  send_packet = 0x04,
  recv_packet = 0x05,
  keepalive = 0x06,
  note_preferred = 0x07,
  peer_gone = 0x08,
  peer_present = 0x09,
  forward_packet = 0x0a,
  refused = 0x0b,
  watch_conns = 0x10,
  ping = 0x12,
  pong = 0x13,
  health = 0x14,
  restarting = 0x15,
};

using MeshProof = std::array<uint8_t, kMeshProofBytes>;
using PingData = std::array<uint8_t, kRelayPingBytes>;

struct ClientHello {
  uint8_t version = kRelayProtocolVersion;
  bool preferred = false;
  std::optional<MeshProof> mesh_proof;  // present: this client is a mesh peer
};
struct ServerHello {
  uint8_t version = kRelayProtocolVersion;
  uint32_t rate_bytes_per_s = 0;  // the client's send rate limit; 0 = none
  uint32_t burst_bytes = 0;
  std::optional<MeshProof> mesh_proof;  // answering a mesh client: the relay's own proof
};
// Packets are views into the decoded message: valid only as long as it is.
struct SendPacket {
  PublicKey dst;
  ByteView packet;
};
struct RecvPacket {
  PublicKey src;
  ByteView packet;
};
struct KeepAlive {};
struct NotePreferred {
  bool preferred = false;
};
enum class PeerGoneReason : uint8_t { disconnected = 0, not_here = 1 };
struct PeerGone {
  PublicKey key;
  PeerGoneReason reason = PeerGoneReason::disconnected;  // unknown values read as disconnected
};
struct PeerPresent {
  PublicKey key;
  Endpoint endpoint;  // where the client connected from (as the relay sees it)
  uint8_t flags = 0;
};
struct ForwardPacket {
  PublicKey src;
  PublicKey dst;
  ByteView packet;
};
enum class RefusalReason : uint8_t {
  unknown_key = 1,     // the control server does not know the node key
  removed_key = 2,     // expired, deleted or replaced (the text says which)
  not_ready = 3,       // the relay has no admission list yet: retry later
  bad_mesh_key = 4,    // a mesh hello whose proof does not verify
  protocol_error = 5,  // a frame before the hello, a bad hello, a bad frame
  server_full = 6,     // the client limit is reached
  shutting_down = 7,
};
struct Refused {
  RefusalReason reason = RefusalReason::protocol_error;  // unknown values read as protocol_error
  std::string text;
};
struct WatchConns {};
struct Ping {
  PingData data{};
};
struct Pong {
  PingData data{};
};
struct Health {
  std::string text;
};
struct Restarting {
  uint32_t reconnect_in_ms = 0;
  uint32_t try_for_ms = 0;
};
struct UnknownFrame {
  uint8_t type = 0;
};

using RelayFrame = std::variant<ClientHello, ServerHello, SendPacket, RecvPacket, KeepAlive,
                                NotePreferred, PeerGone, PeerPresent, ForwardPacket, Refused,
                                WatchConns, Ping, Pong, Health, Restarting, UnknownFrame>;

// Parses one channel message. Views in the result point into `message`.
Result<RelayFrame> decode_relay_frame(ByteView message);

// Appends the encoded frame to `out` (callers reuse one buffer per connection to avoid an
// allocation per packet). Encoding an UnknownFrame writes an empty body of that type.
// Precondition: packets and texts within the limits above (checked by senders first).
void encode_relay_frame(const RelayFrame& frame, Bytes& out);
Bytes encode_relay_frame(const RelayFrame& frame);

// "send_packet", "refused", ... ("unknown" for UnknownFrame): for logs and errors.
const char* relay_frame_name(const RelayFrame& frame);
const char* refusal_reason_name(RefusalReason reason);

// The mesh proofs: keyed BLAKE2s-256 under the shared mesh key over a label and both static
// keys, so a proof is bound to one (client, relay) pair and one direction. A replayed proof
// is useless: the channel that carries it already proves the sender holds its static key.
using MeshKey = Secret32<struct MeshKeyTag>;
MeshProof mesh_client_proof(const MeshKey& mesh_key, const PublicKey& client,
                            const PublicKey& server);
MeshProof mesh_server_proof(const MeshKey& mesh_key, const PublicKey& client,
                            const PublicKey& server);
// Constant-time comparison.
bool mesh_proof_equal(const MeshProof& a, const MeshProof& b);
// A mesh key file holds 64 hex digits (optionally a trailing newline), as derper's does.
Result<MeshKey> parse_mesh_key(std::string_view text);
std::string mesh_key_to_hex(const MeshKey& key);

}  // namespace warren::relay
