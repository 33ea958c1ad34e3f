#include "nodes/common/channel_frame.h"

namespace warren {
namespace {

// Drops the consumed prefix once it is at least half the buffer, so each byte is moved at most
// a constant number of times on average.
// A drained buffer keeps at most this much capacity: a server holds one decoder per channel,
// and one big message must not pin its memory for the channel's lifetime.
constexpr size_t kRetainedCapacityBytes = 2 * (kFrameHeaderBytes + kMaxFramePayloadBytes);

void compact(Bytes& buffer, size_t& read) {
  if (read == buffer.size()) {
    if (buffer.capacity() > kRetainedCapacityBytes) {
      Bytes().swap(buffer);
    } else {
      buffer.clear();
    }
    read = 0;
  } else if (read > 0 && read >= buffer.size() / 2) {
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(read));
    read = 0;
  }
}

}  // namespace

Status append_frame(Bytes& out, FrameType type, ByteView payload) {
  if (payload.size() > kMaxFramePayloadBytes) {
    return make_error("a frame payload of " + std::to_string(payload.size()) +
                      " bytes exceeds the 65535-byte frame limit");
  }
  out.push_back(static_cast<uint8_t>(type));
  append_be16(out, static_cast<uint16_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  return Status::success();
}

Bytes error_frame(std::string_view reason) {
  Bytes out;
  (void)append_frame(out, FrameType::error,
                     ByteView(reason.substr(0, kMaxErrorReasonBytes)));  // always fits
  return out;
}

void FrameDecoder::feed(ByteView data) {
  if (!error_.empty()) return;
  compact(buffer_, read_);
  buffer_.insert(buffer_.end(), data.begin(), data.end());
}

Result<std::optional<Frame>> FrameDecoder::next() {
  if (!error_.empty()) return make_error(error_);
  const size_t available = buffer_.size() - read_;
  if (available < kFrameHeaderBytes) return std::optional<Frame>();
  const uint8_t* p = buffer_.data() + read_;
  const size_t length = load_be16(p + 1);
  if (length > max_payload_) {
    error_ = "frame of type " + std::to_string(p[0]) + " announces " + std::to_string(length) +
             " bytes, more than the " + std::to_string(max_payload_) + " allowed";
    return make_error(error_);
  }
  if (available < kFrameHeaderBytes + length) return std::optional<Frame>();
  Frame frame;
  frame.type = p[0];
  frame.payload.assign(p + kFrameHeaderBytes, p + kFrameHeaderBytes + length);
  read_ += kFrameHeaderBytes + length;
  if (read_ == buffer_.size()) compact(buffer_, read_);  // release a drained buffer at once
  return std::optional<Frame>(std::move(frame));
}

void append_message(Bytes& out, ByteView message) {
  append_be32(out, static_cast<uint32_t>(message.size()));
  out.insert(out.end(), message.begin(), message.end());
}

void MessageAssembler::feed(ByteView plaintext) {
  if (!error_.empty()) return;
  compact(buffer_, read_);
  buffer_.insert(buffer_.end(), plaintext.begin(), plaintext.end());
}

Result<std::optional<Bytes>> MessageAssembler::next() {
  if (!error_.empty()) return make_error(error_);
  const size_t available = buffer_.size() - read_;
  if (available < kMessageLengthBytes) return std::optional<Bytes>();
  const uint8_t* p = buffer_.data() + read_;
  const uint64_t length = load_be32(p);
  if (length > max_message_bytes_) {
    error_ = "a message of " + std::to_string(length) + " bytes arrived; the receiver's limit is " +
             std::to_string(max_message_bytes_) + " bytes (max_message_bytes)";
    return make_error(error_);
  }
  if (available < kMessageLengthBytes + length) return std::optional<Bytes>();
  Bytes message(p + kMessageLengthBytes, p + kMessageLengthBytes + length);
  read_ += kMessageLengthBytes + static_cast<size_t>(length);
  if (read_ == buffer_.size()) compact(buffer_, read_);  // release a drained buffer at once
  return std::optional<Bytes>(std::move(message));
}

}  // namespace warren
