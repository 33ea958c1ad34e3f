#include "nodes/common/relay_frame.h"

#include <algorithm>
#include <string>

#include "nodes/common/blake2s.h"

namespace warren::relay {
namespace {

constexpr uint8_t kHelloFlagPreferred = 0x01;
constexpr uint8_t kHelloFlagMesh = 0x02;
constexpr size_t kKeyBytes = kX25519KeyBytes;
constexpr size_t kIpBytes = 16;
constexpr size_t kClientHelloBytes = 2;
constexpr size_t kServerHelloBytes = 1 + 4 + 4;
constexpr size_t kPeerGoneBytes = kKeyBytes + 1;
constexpr size_t kPeerPresentBytes = kKeyBytes + kIpBytes + 2 + 1;
constexpr size_t kRestartingBytes = 4 + 4;
constexpr size_t kMeshKeyHexChars = 2 * kMeshProofBytes;

// Domain-separation labels: a client proof can never be replayed as a server proof.
constexpr std::string_view kMeshClientLabel = "warren-relay/1 mesh proof: client to relay";
constexpr std::string_view kMeshServerLabel = "warren-relay/1 mesh proof: relay to client";

const char* type_name(uint8_t type) {
  switch (static_cast<RelayFrameType>(type)) {
    case RelayFrameType::client_hello:
      return "client_hello";
    case RelayFrameType::server_hello:
      return "server_hello";
    case RelayFrameType::send_packet:
      return "send_packet";
    case RelayFrameType::recv_packet:
      return "recv_packet";
    case RelayFrameType::keepalive:
      return "keepalive";
    case RelayFrameType::note_preferred:
      return "note_preferred";
    case RelayFrameType::peer_gone:
      return "peer_gone";
    case RelayFrameType::peer_present:
      return "peer_present";
    case RelayFrameType::forward_packet:
      return "forward_packet";
    case RelayFrameType::refused:
      return "refused";
    case RelayFrameType::watch_conns:
      return "watch_conns";
    case RelayFrameType::ping:
      return "ping";
    case RelayFrameType::pong:
      return "pong";
    case RelayFrameType::health:
      return "health";
    case RelayFrameType::restarting:
      return "restarting";
  }
  return "unknown";
}

Error body_size_error(uint8_t type, size_t got, const std::string& want) {
  return make_error(std::string("relay frame ") + type_name(type) + " must have a body of " + want +
                    " bytes, got " + std::to_string(got));
}

PublicKey read_key(const uint8_t* p) {
  PublicKey key;
  std::copy(p, p + kKeyBytes, key.bytes.begin());
  return key;
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. Returns
// the offset of the first bad byte, or npos.
size_t invalid_utf8_at(ByteView text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const uint8_t c = text[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    uint8_t lo = 0x80;
    uint8_t hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return i;
    }
    if (n - i <= extra) return i;
    if (text[i + 1] < lo || text[i + 1] > hi) return i;
    for (size_t k = 2; k <= extra; ++k) {
      if (text[i + k] < 0x80 || text[i + k] > 0xbf) return i;
    }
    i += extra + 1;
  }
  return std::string_view::npos;
}

Result<std::string> read_text(uint8_t type, ByteView text) {
  if (text.size() > kMaxRelayTextBytes) {
    return make_error(std::string("relay frame ") + type_name(type) + " carries " +
                      std::to_string(text.size()) + " bytes of text; the limit is " +
                      std::to_string(kMaxRelayTextBytes));
  }
  const size_t bad = invalid_utf8_at(text);
  if (bad != std::string_view::npos) {
    return make_error(std::string("relay frame ") + type_name(type) +
                      " text is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  }
  return std::string(text.as_string());
}

Result<ByteView> read_packet(uint8_t type, ByteView packet) {
  if (packet.size() > kMaxRelayPacketBytes) {
    return make_error(std::string("relay frame ") + type_name(type) + " carries a packet of " +
                      std::to_string(packet.size()) + " bytes; the limit is " +
                      std::to_string(kMaxRelayPacketBytes));
  }
  return packet;
}

Error bad_version(uint8_t type, uint8_t version) {
  return make_error(std::string("relay frame ") + type_name(type) + " speaks protocol version " +
                    std::to_string(version) + "; this build speaks only version " +
                    std::to_string(kRelayProtocolVersion) + " (upgrade the older side)");
}

Result<RelayFrame> decode_body(uint8_t type, ByteView body) {
  const size_t n = body.size();
  const uint8_t* p = body.data();
  switch (static_cast<RelayFrameType>(type)) {
    case RelayFrameType::client_hello: {
      if (n < kClientHelloBytes) {
        return body_size_error(type, n, "2 (34 with a mesh proof)");
      }
      ClientHello hello;
      hello.version = p[0];
      if (hello.version != kRelayProtocolVersion) return bad_version(type, hello.version);
      const uint8_t flags = p[1];
      hello.preferred = (flags & kHelloFlagPreferred) != 0;
      // Other flag bits are reserved: ignored, so a newer client still gets in.
      if (flags & kHelloFlagMesh) {
        if (n != kClientHelloBytes + kMeshProofBytes) {
          return body_size_error(type, n, "34 (the mesh flag is set, so a 32-byte proof follows)");
        }
        MeshProof proof;
        std::copy(p + kClientHelloBytes, p + n, proof.begin());
        hello.mesh_proof = proof;
      } else if (n != kClientHelloBytes) {
        return body_size_error(type, n, "2 (the mesh flag is clear, so no proof follows)");
      }
      return RelayFrame(std::move(hello));
    }
    case RelayFrameType::server_hello: {
      if (n != kServerHelloBytes && n != kServerHelloBytes + kMeshProofBytes) {
        return body_size_error(type, n, "9 (41 with a mesh proof)");
      }
      ServerHello hello;
      hello.version = p[0];
      if (hello.version != kRelayProtocolVersion) return bad_version(type, hello.version);
      hello.rate_bytes_per_s = load_be32(p + 1);
      hello.burst_bytes = load_be32(p + 5);
      if (n > kServerHelloBytes) {
        MeshProof proof;
        std::copy(p + kServerHelloBytes, p + n, proof.begin());
        hello.mesh_proof = proof;
      }
      return RelayFrame(std::move(hello));
    }
    case RelayFrameType::send_packet:
    case RelayFrameType::recv_packet: {
      if (n < kKeyBytes) return body_size_error(type, n, "at least 32 (a key, then the packet)");
      auto packet = read_packet(type, body.sub(kKeyBytes));
      if (!packet.ok()) return packet.error();
      if (type == static_cast<uint8_t>(RelayFrameType::send_packet)) {
        return RelayFrame(SendPacket{read_key(p), *packet});
      }
      return RelayFrame(RecvPacket{read_key(p), *packet});
    }
    case RelayFrameType::keepalive:
      if (n != 0) return body_size_error(type, n, "0");
      return RelayFrame(KeepAlive{});
    case RelayFrameType::note_preferred:
      if (n != 1) return body_size_error(type, n, "1");
      if (p[0] > 1) {
        return make_error("relay frame note_preferred must carry 0 or 1, got " +
                          std::to_string(p[0]));
      }
      return RelayFrame(NotePreferred{p[0] == 1});
    case RelayFrameType::peer_gone: {
      if (n != kPeerGoneBytes) return body_size_error(type, n, "33");
      PeerGone gone;
      gone.key = read_key(p);
      gone.reason = p[kKeyBytes] == static_cast<uint8_t>(PeerGoneReason::not_here)
                        ? PeerGoneReason::not_here
                        : PeerGoneReason::disconnected;
      return RelayFrame(gone);
    }
    case RelayFrameType::peer_present: {
      if (n != kPeerPresentBytes) return body_size_error(type, n, "51");
      PeerPresent present;
      present.key = read_key(p);
      std::array<uint8_t, kIpBytes> ip;
      std::copy(p + kKeyBytes, p + kKeyBytes + kIpBytes, ip.begin());
      present.endpoint = Endpoint(IpAddress::v6(ip).unmap(), load_be16(p + kKeyBytes + kIpBytes));
      present.flags = p[kKeyBytes + kIpBytes + 2];
      return RelayFrame(present);
    }
    case RelayFrameType::forward_packet: {
      if (n < 2 * kKeyBytes) {
        return body_size_error(type, n, "at least 64 (two keys, then the packet)");
      }
      auto packet = read_packet(type, body.sub(2 * kKeyBytes));
      if (!packet.ok()) return packet.error();
      return RelayFrame(ForwardPacket{read_key(p), read_key(p + kKeyBytes), *packet});
    }
    case RelayFrameType::refused: {
      if (n < 1) return body_size_error(type, n, "at least 1 (a reason, then text)");
      Refused refused;
      const uint8_t reason = p[0];
      refused.reason = reason >= static_cast<uint8_t>(RefusalReason::unknown_key) &&
                               reason <= static_cast<uint8_t>(RefusalReason::shutting_down)
                           ? static_cast<RefusalReason>(reason)
                           : RefusalReason::protocol_error;
      auto text = read_text(type, body.sub(1));
      if (!text.ok()) return text.error();
      refused.text = std::move(*text);
      return RelayFrame(std::move(refused));
    }
    case RelayFrameType::watch_conns:
      if (n != 0) return body_size_error(type, n, "0");
      return RelayFrame(WatchConns{});
    case RelayFrameType::ping:
    case RelayFrameType::pong: {
      if (n != kRelayPingBytes) return body_size_error(type, n, "8");
      PingData data;
      std::copy(p, p + kRelayPingBytes, data.begin());
      if (type == static_cast<uint8_t>(RelayFrameType::ping)) return RelayFrame(Ping{data});
      return RelayFrame(Pong{data});
    }
    case RelayFrameType::health: {
      auto text = read_text(type, body);
      if (!text.ok()) return text.error();
      return RelayFrame(Health{std::move(*text)});
    }
    case RelayFrameType::restarting:
      if (n != kRestartingBytes) return body_size_error(type, n, "8");
      return RelayFrame(Restarting{load_be32(p), load_be32(p + 4)});
  }
  return RelayFrame(UnknownFrame{type});
}

void append_key(Bytes& out, const PublicKey& key) {
  out.insert(out.end(), key.bytes.begin(), key.bytes.end());
}

void append_view(Bytes& out, ByteView bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// Appends one frame's type and body; the caller patches the length.
struct BodyWriter {
  Bytes& out;

  void type(RelayFrameType t) { out.push_back(static_cast<uint8_t>(t)); }
  void header(RelayFrameType t) {
    type(t);
    append_be32(out, 0);  // patched by encode_relay_frame
  }

  void operator()(const ClientHello& f) {
    header(RelayFrameType::client_hello);
    out.push_back(f.version);
    uint8_t flags = f.preferred ? kHelloFlagPreferred : 0;
    if (f.mesh_proof) flags |= kHelloFlagMesh;
    out.push_back(flags);
    if (f.mesh_proof) out.insert(out.end(), f.mesh_proof->begin(), f.mesh_proof->end());
  }
  void operator()(const ServerHello& f) {
    header(RelayFrameType::server_hello);
    out.push_back(f.version);
    append_be32(out, f.rate_bytes_per_s);
    append_be32(out, f.burst_bytes);
    if (f.mesh_proof) out.insert(out.end(), f.mesh_proof->begin(), f.mesh_proof->end());
  }
  void operator()(const SendPacket& f) {
    header(RelayFrameType::send_packet);
    append_key(out, f.dst);
    append_view(out, f.packet);
  }
  void operator()(const RecvPacket& f) {
    header(RelayFrameType::recv_packet);
    append_key(out, f.src);
    append_view(out, f.packet);
  }
  void operator()(const KeepAlive&) { header(RelayFrameType::keepalive); }
  void operator()(const NotePreferred& f) {
    header(RelayFrameType::note_preferred);
    out.push_back(f.preferred ? 1 : 0);
  }
  void operator()(const PeerGone& f) {
    header(RelayFrameType::peer_gone);
    append_key(out, f.key);
    out.push_back(static_cast<uint8_t>(f.reason));
  }
  void operator()(const PeerPresent& f) {
    header(RelayFrameType::peer_present);
    append_key(out, f.key);
    std::array<uint8_t, kIpBytes> ip{};
    const IpAddress& a = f.endpoint.address;
    if (a.is_v4()) {
      ip[10] = 0xff;
      ip[11] = 0xff;
      std::copy(a.bytes(), a.bytes() + 4, ip.begin() + 12);
    } else {
      std::copy(a.bytes(), a.bytes() + kIpBytes, ip.begin());
    }
    out.insert(out.end(), ip.begin(), ip.end());
    append_be16(out, f.endpoint.port);
    out.push_back(f.flags);
  }
  void operator()(const ForwardPacket& f) {
    header(RelayFrameType::forward_packet);
    append_key(out, f.src);
    append_key(out, f.dst);
    append_view(out, f.packet);
  }
  void operator()(const Refused& f) {
    header(RelayFrameType::refused);
    out.push_back(static_cast<uint8_t>(f.reason));
    append_view(out, ByteView(std::string_view(f.text)));
  }
  void operator()(const WatchConns&) { header(RelayFrameType::watch_conns); }
  void operator()(const Ping& f) {
    header(RelayFrameType::ping);
    out.insert(out.end(), f.data.begin(), f.data.end());
  }
  void operator()(const Pong& f) {
    header(RelayFrameType::pong);
    out.insert(out.end(), f.data.begin(), f.data.end());
  }
  void operator()(const Health& f) {
    header(RelayFrameType::health);
    append_view(out, ByteView(std::string_view(f.text)));
  }
  void operator()(const Restarting& f) {
    header(RelayFrameType::restarting);
    append_be32(out, f.reconnect_in_ms);
    append_be32(out, f.try_for_ms);
  }
  void operator()(const UnknownFrame& f) {
    out.push_back(f.type);
    append_be32(out, 0);
  }
};

struct NameOf {
  const char* operator()(const ClientHello&) const { return "client_hello"; }
  const char* operator()(const ServerHello&) const { return "server_hello"; }
  const char* operator()(const SendPacket&) const { return "send_packet"; }
  const char* operator()(const RecvPacket&) const { return "recv_packet"; }
  const char* operator()(const KeepAlive&) const { return "keepalive"; }
  const char* operator()(const NotePreferred&) const { return "note_preferred"; }
  const char* operator()(const PeerGone&) const { return "peer_gone"; }
  const char* operator()(const PeerPresent&) const { return "peer_present"; }
  const char* operator()(const ForwardPacket&) const { return "forward_packet"; }
  const char* operator()(const Refused&) const { return "refused"; }
  const char* operator()(const WatchConns&) const { return "watch_conns"; }
  const char* operator()(const Ping&) const { return "ping"; }
  const char* operator()(const Pong&) const { return "pong"; }
  const char* operator()(const Health&) const { return "health"; }
  const char* operator()(const Restarting&) const { return "restarting"; }
  const char* operator()(const UnknownFrame&) const { return "unknown"; }
};

MeshProof mesh_proof(std::string_view label, const MeshKey& mesh_key, const PublicKey& client,
                     const PublicKey& server) {
  auto h = Blake2s::create(kMeshProofBytes, mesh_key.view());  // 32 and a 32-byte key: cannot fail
  return h->update(ByteView(label)).update(client.view()).update(server.view()).finish32();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<RelayFrame> decode_relay_frame(ByteView message) {
  if (message.size() < kRelayFrameHeaderBytes) {
    return make_error("a relay frame needs its 5-byte header (type, length); the message has " +
                      std::to_string(message.size()) + " bytes");
  }
  const uint8_t type = message[0];
  const uint64_t length = load_be32(message.data() + 1);
  const size_t body_bytes = message.size() - kRelayFrameHeaderBytes;
  if (length != body_bytes) {
    return make_error(std::string("relay frame ") + type_name(type) + " (type " +
                      std::to_string(type) + ") says its body is " + std::to_string(length) +
                      " bytes but the message carries " + std::to_string(body_bytes));
  }
  return decode_body(type, message.sub(kRelayFrameHeaderBytes));
}

void encode_relay_frame(const RelayFrame& frame, Bytes& out) {
  const size_t start = out.size();
  std::visit(BodyWriter{out}, frame);
  store_be32(out.data() + start + 1,
             static_cast<uint32_t>(out.size() - start - kRelayFrameHeaderBytes));
}

Bytes encode_relay_frame(const RelayFrame& frame) {
  Bytes out;
  encode_relay_frame(frame, out);
  return out;
}

const char* relay_frame_name(const RelayFrame& frame) {
  return std::visit(NameOf{}, frame);
}

const char* refusal_reason_name(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::unknown_key:
      return "unknown_key";
    case RefusalReason::removed_key:
      return "removed_key";
    case RefusalReason::not_ready:
      return "not_ready";
    case RefusalReason::bad_mesh_key:
      return "bad_mesh_key";
    case RefusalReason::protocol_error:
      return "protocol_error";
    case RefusalReason::server_full:
      return "server_full";
    case RefusalReason::shutting_down:
      return "shutting_down";
  }
  return "protocol_error";
}

MeshProof mesh_client_proof(const MeshKey& mesh_key, const PublicKey& client,
                            const PublicKey& server) {
  return mesh_proof(kMeshClientLabel, mesh_key, client, server);
}

MeshProof mesh_server_proof(const MeshKey& mesh_key, const PublicKey& client,
                            const PublicKey& server) {
  return mesh_proof(kMeshServerLabel, mesh_key, client, server);
}

bool mesh_proof_equal(const MeshProof& a, const MeshProof& b) {
  return constant_time_equal(a, b);
}

Result<MeshKey> parse_mesh_key(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  if (text.size() != kMeshKeyHexChars) {
    return make_error(
        "a mesh key is 64 hex digits (32 bytes; make one with `openssl rand -hex "
        "32`), got " +
        std::to_string(text.size()) + " characters");
  }
  Key32 bytes{};
  bool any_set = false;
  for (size_t i = 0; i < kMeshKeyHexChars; i += 2) {
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) {
      const size_t at = hi < 0 ? i : i + 1;
      secure_wipe(bytes.data(), bytes.size());
      return make_error("a mesh key is 64 hex digits; character " + std::to_string(at + 1) +
                        " is not a hex digit");
    }
    bytes[i / 2] = static_cast<uint8_t>(hi << 4 | lo);
    any_set = any_set || bytes[i / 2] != 0;
  }
  if (!any_set) {
    return make_error(
        "the mesh key is all zeros, which is no secret; generate one with "
        "`openssl rand -hex 32`");
  }
  MeshKey key(bytes);
  secure_wipe(bytes.data(), bytes.size());
  return key;
}

std::string mesh_key_to_hex(const MeshKey& key) {
  return to_hex(key.view());
}

}  // namespace warren::relay
