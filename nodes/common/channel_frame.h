// The secure channel's two framing layers (nodes/common/README.md has the whole wire format).
//
// Frames, on the stream after the HTTP Upgrade:
//
//   +--------+----------------+---------------------------+
//   | type 8 | length 16 (BE) | payload (length bytes)    |
//   +--------+----------------+---------------------------+
//
//   type 2 = Noise handshake response, 3 = error (UTF-8 reason, then the sender closes),
//   4 = transport record (ChaCha20-Poly1305 ciphertext of up to 65519 plaintext bytes).
//
// Messages, inside the decrypted records: u32 BE length | bytes, split across as many records
// as needed; a record may end in the middle of a message or of its length prefix.
//
// Both decoders are pure and incremental: feed them bytes as they arrive, then pull complete
// units until they report "need more". Errors are sticky: once a decoder has reported one it
// reports the same error forever (the stream is then unusable).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "nodes/net/bytes.h"
#include "nodes/net/result.h"

namespace warren {

enum class FrameType : uint8_t { handshake_response = 2, error = 3, record = 4 };

constexpr size_t kFrameHeaderBytes = 3;
constexpr size_t kMaxFramePayloadBytes = 65535;  // what the u16 length can say
constexpr size_t kMessageLengthBytes = 4;
// An error frame's reason is cut to this: enough for a sentence, little for an attacker.
constexpr size_t kMaxErrorReasonBytes = 1024;

struct Frame {
  uint8_t type = 0;
  Bytes payload;
};

// Appends one frame. The payload must be at most kMaxFramePayloadBytes (an error otherwise,
// with nothing appended).
Status append_frame(Bytes& out, FrameType type, ByteView payload);
// An error frame with `reason` cut to kMaxErrorReasonBytes.
Bytes error_frame(std::string_view reason);

class FrameDecoder {
 public:
  // Frames whose length exceeds `max_payload` are an error as soon as the header arrives.
  explicit FrameDecoder(size_t max_payload = kMaxFramePayloadBytes) : max_payload_(max_payload) {}
  void feed(ByteView data);
  // The next complete frame, nullopt when more bytes are needed, or the (sticky) error.
  // Unknown types are returned as they are: what a type means is the caller's business.
  Result<std::optional<Frame>> next();
  // Bytes received but not yet returned as frames.
  size_t buffered() const { return buffer_.size() - read_; }

 private:
  size_t max_payload_;
  Bytes buffer_;
  size_t read_ = 0;  // consumed prefix of buffer_, compacted lazily
  std::string error_;
};

// Appends `message` as u32 BE length | bytes. The caller has checked the length fits.
void append_message(Bytes& out, ByteView message);

class MessageAssembler {
 public:
  explicit MessageAssembler(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}
  void feed(ByteView plaintext);
  // The next complete message, nullopt when more bytes are needed, or the (sticky) error when
  // a length prefix exceeds max_message_bytes.
  Result<std::optional<Bytes>> next();
  // True when bytes of an unfinished message (or length prefix) are held.
  bool mid_message() const { return buffer_.size() > read_; }

 private:
  size_t max_message_bytes_;
  Bytes buffer_;
  size_t read_ = 0;
  std::string error_;
};

}  // namespace warren
