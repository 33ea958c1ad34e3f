// The SecureChannel both ends get once the Noise handshake is done (internal to the secure
// channel: ChannelAcceptor and open_channel build it; everyone else sees SecureChannel).
//
// It owns the Stream. Outgoing messages become u32 BE length | bytes, cut into records of at
// most kMaxRecordPlaintextBytes, each sealed with the send CipherState and framed as type 4.
// Incoming frames: records are opened with the receive CipherState and reassembled into
// messages; an error frame (type 3) ends the channel with the peer's reason; anything else
// (a malformed frame, an unknown type, a failed record, an oversized message) makes us send an
// error frame, close the stream gracefully and report the error.
//
// Callbacks: messages and the close are held until handlers are set, then delivered from a
// clock event (never from inside set_handlers). on_closed runs at most once and is the last
// callback. Any callback may destroy the channel.
#pragma once

#include <deque>
#include <memory>
#include <optional>

#include "nodes/common/channel_frame.h"
#include "nodes/common/noise.h"
#include "nodes/common/secure_channel.h"

namespace warren {

class EstablishedChannel final : public SecureChannel {
 public:
  // Messages held while no handlers are set, beyond which the channel fails: the owner is not
  // reading, and the peer must not grow our memory without bound meanwhile.
  static constexpr size_t kMaxHeldMessages = 1024;
  // ... or more than this many maximum-size messages' worth of bytes.
  static constexpr size_t kHeldMessageBytesFactor = 2;
  // Send scratch larger than this is released after use rather than kept for the next one.
  static constexpr size_t kRetainedSendBufferBytes = 128 << 10;

  // `decoder` may already hold bytes that arrived right after the handshake.
  EstablishedChannel(Env& env, std::unique_ptr<Stream> stream, noise::TransportCiphers ciphers,
                     const PublicKey& peer, size_t max_message_bytes, FrameDecoder decoder);
  ~EstablishedChannel() override;

  void set_handlers(Handlers handlers) override;
  Status send(ByteView message) override;
  size_t pending_write_bytes() const override;
  void close() override;
  const PublicKey& peer_static_key() const override { return peer_; }
  Endpoint remote_endpoint() const override { return remote_; }

 private:
  void on_data(ByteView data);
  // Drains complete frames and messages; may end with `this` destroyed by a callback.
  void process();
  // Delivers one message now or holds it. Returns false if `this` was destroyed.
  bool deliver(ByteView message);
  // A protocol violation by the peer: tell it why, close, report `reason`.
  void fail(const std::string& reason);
  // Ends the channel: no more reads or writes; reports `status` (now or once handlers exist).
  void finish(const Status& status);
  void flush_held();

  std::unique_ptr<Stream> stream_;
  noise::CipherState send_;
  noise::CipherState receive_;
  PublicKey peer_;
  Endpoint remote_;
  size_t max_message_bytes_;
  FrameDecoder decoder_;
  MessageAssembler assembler_;

  std::shared_ptr<Handlers> handlers_;  // shared: a handler may replace them mid-call
  std::deque<Bytes> held_;
  size_t held_bytes_ = 0;
  std::optional<Status> held_close_;
  Timer flush_timer_;
  bool closed_ = false;    // no more traffic either way
  bool reported_ = false;  // on_closed delivered or abandoned by close()
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace warren
