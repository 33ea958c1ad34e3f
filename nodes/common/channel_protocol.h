// The pieces of the secure channel's wire protocol that both ends share (the full format is in
// nodes/common/README.md): names on the HTTP side, the Noise prologue, the key document served
// at GET /key, and strict base64 for the handshake header.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "nodes/common/aead.h"
#include "nodes/common/channel_frame.h"
#include "nodes/common/noise.h"
#include "nodes/common/x25519.h"
#include "nodes/net/bytes.h"
#include "nodes/net/result.h"

namespace warren {

constexpr std::string_view kChannelKeyPath = "/key";
constexpr std::string_view kChannelHandshakeHeader = "X-Warren-Handshake";
constexpr noise::Pattern kChannelNoisePattern = noise::Pattern::ik;
// A record is one frame: its ciphertext (plaintext + tag) must fit the u16 frame length.
constexpr size_t kMaxRecordPlaintextBytes = kMaxFramePayloadBytes - kAeadTagBytes;
// The Noise initiation is 96 bytes with the empty payload we send; a future payload may add
// some, but nothing near this. Also bounds the base64 work done for unauthenticated peers.
constexpr size_t kMaxInitiationBytes = 2048;
// The GET /key document is about 100 bytes.
constexpr size_t kMaxKeyDocumentBytes = 4096;

// "warren " + protocol: binds the Noise handshake to the protocol named in the Upgrade.
Bytes channel_prologue(std::string_view protocol);

// {"public_key": "<44-char base64>", "protocol": "<protocol>"}
std::string key_document(const PublicKey& key, std::string_view protocol);
// Errors: not JSON, not an object, missing or mistyped field, malformed key, or a protocol
// other than `expected_protocol` (the message names both). Unknown fields are ignored so the
// document can grow.
Result<PublicKey> parse_key_document(std::string_view text, std::string_view expected_protocol);

// Standard base64 with padding (RFC 4648 section 4).
std::string base64_encode(ByteView bytes);
// Strict: the canonical encoding only (padding required, no whitespace, no stray bits), at most
// `max_bytes` decoded bytes.
Result<Bytes> base64_decode(std::string_view text, size_t max_bytes);

// `text` with every byte outside printable ASCII replaced by '?', cut to `max` bytes: for
// putting a peer's words into our own error messages and logs.
std::string printable(std::string_view text, size_t max);

}  // namespace warren
