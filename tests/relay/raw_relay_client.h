// Test helpers for the relay server: a bare relay-protocol client (a secure channel plus the
// frame codec, nothing automatic, so a test can send anything in any order) and a fake
// SecureChannel whose unsent-bytes count the test controls (a reader that stops reading).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/common/relay_frame.h"
#include "nodes/common/secure_channel.h"
#include "tests/support/memory_network.h"

namespace warren::relay::testing {

inline ChannelOptions relay_channel_options() {
  ChannelOptions options;
  options.protocol = kRelayChannelProtocol;
  options.path = kRelayChannelPath;
  options.max_message_bytes = kMaxRelayFrameBytes;
  return options;
}

// Records every frame it receives (as raw messages; decoded on demand).
class RawRelayClient {
 public:
  RawRelayClient(std::unique_ptr<SecureChannel> channel, PublicKey key)
      : channel_(std::move(channel)), key_(key) {
    SecureChannel::Handlers handlers;
    handlers.on_message = [this](ByteView m) { messages_.push_back(m.to_bytes()); };
    handlers.on_closed = [this](const Status& s) { closed_ = s; };
    channel_->set_handlers(std::move(handlers));
  }
  ~RawRelayClient() {
    if (channel_ && !closed_) channel_->close();
  }

  const PublicKey& key() const { return key_; }
  SecureChannel& channel() { return *channel_; }
  bool closed() const { return closed_.has_value(); }
  void close() {
    channel_->close();
    closed_ = Status::success();
  }

  Status send(const RelayFrame& frame) { return channel_->send(encode_relay_frame(frame)); }
  Status send_raw(ByteView message) { return channel_->send(message); }
  Status hello(bool preferred = false) {
    ClientHello h;
    h.preferred = preferred;
    return send(h);
  }
  Status send_packet(const PublicKey& dst, const std::string& packet) {
    return send(SendPacket{dst, ByteView(std::string_view(packet))});
  }

  // Every frame received, decoded (views point into this client's storage).
  std::vector<RelayFrame> frames() const {
    std::vector<RelayFrame> out;
    for (const Bytes& m : messages_) {
      auto f = decode_relay_frame(m);
      if (f.ok()) out.push_back(*f);
    }
    return out;
  }
  template <typename T>
  std::vector<T> all() const {
    std::vector<T> out;
    for (const RelayFrame& f : frames()) {
      if (const T* t = std::get_if<T>(&f)) out.push_back(*t);
    }
    return out;
  }
  template <typename T>
  size_t count() const {
    return all<T>().size();
  }
  template <typename T>
  std::optional<T> first() const {
    auto v = all<T>();
    if (v.empty()) return std::nullopt;
    return v.front();
  }
  // The payloads of received packets, as strings, with their sources.
  std::vector<std::pair<PublicKey, std::string>> packets() const {
    std::vector<std::pair<PublicKey, std::string>> out;
    for (const RecvPacket& p : all<RecvPacket>()) {
      out.emplace_back(p.src, std::string(p.packet.as_string()));
    }
    return out;
  }
  size_t message_count() const { return messages_.size(); }
  void clear() { messages_.clear(); }

 private:
  std::unique_ptr<SecureChannel> channel_;
  PublicKey key_;
  std::vector<Bytes> messages_;
  std::optional<Status> closed_;
};

// A channel that never touches a network. Sent messages are kept; each adds its size to the
// unsent-bytes count unless `reading` is set, so a test can make the reader stall and resume.
class FakeChannel final : public SecureChannel {
 public:
  struct State {
    Handlers handlers;
    std::vector<Bytes> sent;
    size_t pending = 0;
    bool reading = true;
    bool closed = false;
  };

  FakeChannel(std::shared_ptr<State> state, PublicKey peer, Endpoint remote)
      : state_(std::move(state)), peer_(peer), remote_(remote) {}

  void set_handlers(Handlers handlers) override { state_->handlers = std::move(handlers); }
  Status send(ByteView message) override {
    if (state_->closed) return make_error("closed");
    state_->sent.push_back(message.to_bytes());
    if (!state_->reading) state_->pending += message.size();
    return Status::success();
  }
  size_t pending_write_bytes() const override { return state_->pending; }
  void close() override {
    state_->closed = true;
    state_->handlers = {};
  }
  const PublicKey& peer_static_key() const override { return peer_; }
  Endpoint remote_endpoint() const override { return remote_; }

 private:
  std::shared_ptr<State> state_;
  PublicKey peer_;
  Endpoint remote_;
};

}  // namespace warren::relay::testing
