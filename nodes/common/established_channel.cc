#include "nodes/common/established_channel.h"

#include <utility>

#include "nodes/common/channel_protocol.h"

namespace warren {

EstablishedChannel::EstablishedChannel(Env& env, std::unique_ptr<Stream> stream,
                                       noise::TransportCiphers ciphers, const PublicKey& peer,
                                       size_t max_message_bytes, FrameDecoder decoder)
    : stream_(std::move(stream)),
      send_(ciphers.send),
      receive_(ciphers.receive),
      peer_(peer),
      remote_(stream_->remote_endpoint()),
      max_message_bytes_(max_message_bytes),
      decoder_(std::move(decoder)),
      assembler_(max_message_bytes),
      flush_timer_(env.clock) {
  Stream::Handlers handlers;
  handlers.on_data = [this](ByteView data) { on_data(data); };
  handlers.on_closed = [this](const Status& reason) {
    if (closed_) return;
    if (reason.ok() && (assembler_.mid_message() || decoder_.buffered() > 0)) {
      finish(make_error("the connection to " + remote_.to_string() +
                        " ended in the middle of a message"));
      return;
    }
    finish(reason);
  };
  stream_->set_handlers(std::move(handlers));
  // Bytes that came with the handshake. No handlers are set yet, so nothing is called back.
  if (decoder_.buffered() > 0) process();
}

EstablishedChannel::~EstablishedChannel() = default;

void EstablishedChannel::set_handlers(Handlers handlers) {
  if (reported_) return;
  handlers_ = std::make_shared<Handlers>(std::move(handlers));
  if ((!held_.empty() || held_close_) && !flush_timer_.armed()) {
    flush_timer_.arm_after(Duration::zero(), [this] { flush_held(); });
  }
}

Status EstablishedChannel::send(ByteView message) {
  if (closed_) {
    return make_error("the secure channel to " + remote_.to_string() + " is closed");
  }
  if (message.size() > max_message_bytes_) {
    return make_error("a message of " + std::to_string(message.size()) +
                      " bytes exceeds the channel's limit of " +
                      std::to_string(max_message_bytes_) + " bytes (max_message_bytes)");
  }
  // Scratch shared by every channel of this thread (send() is synchronous and the stream copies
  // what it is given), so steady traffic allocates nothing here and an idle channel holds no
  // send buffer at all.
  thread_local Bytes send_plain;
  thread_local Bytes send_wire;
  send_plain.clear();
  append_message(send_plain, message);
  send_wire.clear();
  for (size_t offset = 0; offset < send_plain.size(); offset += kMaxRecordPlaintextBytes) {
    const ByteView chunk = ByteView(send_plain).sub(offset, kMaxRecordPlaintextBytes);
    const size_t sealed_bytes = chunk.size() + kAeadTagBytes;  // <= kMaxFramePayloadBytes
    send_wire.push_back(static_cast<uint8_t>(FrameType::record));
    send_wire.push_back(static_cast<uint8_t>(sealed_bytes >> 8));
    send_wire.push_back(static_cast<uint8_t>(sealed_bytes));
    Status sealed = send_.encrypt_append(ByteView(), chunk, send_wire);
    if (!sealed.ok()) {
      // Only after 2^64-1 records. Report from the clock, not from inside send().
      closed_ = true;
      stream_->close();
      held_close_ = sealed;
      if (handlers_ && !flush_timer_.armed()) {
        flush_timer_.arm_after(Duration::zero(), [this] { flush_held(); });
      }
      return sealed;
    }
  }
  Status written = stream_->write(send_wire);
  // A one-off huge message should not pin its buffers for the thread's lifetime.
  if (send_wire.capacity() > kRetainedSendBufferBytes) {
    Bytes().swap(send_plain);
    Bytes().swap(send_wire);
  }
  return written;
}

size_t EstablishedChannel::pending_write_bytes() const {
  return stream_->pending_write_bytes();
}

void EstablishedChannel::close() {
  if (reported_) return;
  reported_ = true;
  held_.clear();
  held_bytes_ = 0;
  held_close_.reset();
  flush_timer_.cancel();
  if (!closed_) {
    closed_ = true;
    stream_->close();
  }
}

void EstablishedChannel::on_data(ByteView data) {
  if (closed_) return;
  decoder_.feed(data);
  process();
}

void EstablishedChannel::process() {
  // Bounded by the bytes fed: each pass consumes a message or a frame, or stops.
  while (!closed_) {
    auto message = assembler_.next();
    if (!message.ok()) {
      fail(message.error().message);
      return;
    }
    if (*message) {
      if (!deliver(**message)) return;  // destroyed by its owner
      continue;
    }
    auto frame = decoder_.next();
    if (!frame.ok()) {
      fail("malformed channel frame: " + frame.error().message);
      return;
    }
    if (!*frame) return;
    const Frame& f = **frame;
    switch (static_cast<FrameType>(f.type)) {
      case FrameType::record: {
        auto plain = receive_.decrypt_with_ad(ByteView(), f.payload);
        if (!plain.ok()) {
          fail("a channel record failed authentication (corrupted, forged or replayed data)");
          return;
        }
        assembler_.feed(*plain);
        break;
      }
      case FrameType::error:
        finish(make_error("the peer closed the channel with an error: " +
                          printable(ByteView(f.payload).as_string(), kMaxErrorReasonBytes)));
        return;
      default:
        fail("unexpected channel frame of type " + std::to_string(f.type) + " after the handshake");
        return;
    }
  }
}

bool EstablishedChannel::deliver(ByteView message) {
  if (handlers_ && held_.empty() && !flush_timer_.armed()) {
    std::weak_ptr<bool> alive = alive_;
    std::shared_ptr<Handlers> handlers = handlers_;
    if (handlers->on_message) handlers->on_message(message);  // may destroy `this`
    return !alive.expired();
  }
  if (held_.size() >= kMaxHeldMessages ||
      held_bytes_ + message.size() > kHeldMessageBytesFactor * max_message_bytes_) {
    fail(std::to_string(held_.size()) + " messages (" + std::to_string(held_bytes_) +
         " bytes) arrived before the receiver was ready for them; it is not reading");
    return true;
  }
  held_bytes_ += message.size();
  held_.push_back(message.to_bytes());
  return true;
}

void EstablishedChannel::fail(const std::string& reason) {
  if (closed_) return;
  (void)stream_->write(error_frame(reason));  // best effort: the peer learns why
  finish(make_error(reason));
}

void EstablishedChannel::finish(const Status& status) {
  if (closed_) return;
  closed_ = true;
  stream_->close();  // flushes what is queued (an error frame, the last messages)
  if (reported_) return;
  if (handlers_ && held_.empty() && !flush_timer_.armed()) {
    reported_ = true;
    std::shared_ptr<Handlers> handlers = handlers_;
    if (handlers->on_closed) handlers->on_closed(status);  // may destroy `this`; nothing after
    return;
  }
  held_close_ = status;
}

void EstablishedChannel::flush_held() {
  std::weak_ptr<bool> alive = alive_;
  // Bounded by held_, which only grows from stream events, never from inside this loop.
  while (!held_.empty() && handlers_ && !reported_) {
    Bytes message = std::move(held_.front());
    held_.pop_front();
    held_bytes_ -= message.size();
    std::shared_ptr<Handlers> handlers = handlers_;
    if (handlers->on_message) handlers->on_message(message);
    if (alive.expired()) return;
  }
  if (held_.empty() && held_close_ && handlers_ && !reported_) {
    const Status status = *held_close_;
    held_close_.reset();
    reported_ = true;
    std::shared_ptr<Handlers> handlers = handlers_;
    if (handlers->on_closed) handlers->on_closed(status);
  }
}

}  // namespace warren
