// The in-memory network's streams and listeners (internal to memory_network.cc).
//
// Each connection is two StreamEnds that send each other "segments" (established, data, FIN,
// RST, refused) as clock events one latency apart, never reordered. A StreamEnd outlives its
// Stream handle while segments to it are in flight, so close() followed by destruction still
// flushes, exactly like the real backend.
#pragma once

#include <deque>
#include <memory>

#include "tests/support/memory_network.h"

namespace warren {
namespace memory_detail {

class StreamEnd : public std::enable_shared_from_this<StreamEnd> {
 public:
  enum class Phase { connecting, open, closed };

  // `reserved`: the host reserved `local` for this end and it is released on destruction.
  StreamEnd(MemoryHost& host, const Endpoint& local, const Endpoint& remote, Phase phase,
            bool reserved);
  ~StreamEnd();

  // Stream operations, called through MemoryStream.
  void set_handlers(Stream::Handlers handlers);
  Status write(ByteView data);
  size_t pending_write_bytes() const { return pending_.size(); }
  void close();
  void owner_destroyed();  // aborts unless close() was called
  bool connected() const { return phase_ == Phase::open && !user_closed_; }
  const Endpoint& local() const { return local_; }
  const Endpoint& remote() const { return remote_; }

  // Connection set-up, driven by MemoryHost::connect.
  void link(const std::shared_ptr<StreamEnd>& peer) { peer_ = peer; }
  void send_syn(MemoryHost* destination);
  // Report a failure to the owner (connect failed before any segment was sent).
  void fail(const std::string& reason);

 private:
  struct Event {
    enum class Kind { connected, data, closed } kind;
    Bytes data;
    Status status;
  };

  // Segments arriving from the peer.
  void on_syn(MemoryHost* destination);
  void on_established();
  void on_data(Bytes data);
  void on_fin();
  void on_rst();
  void on_refused(const std::string& reason);

  // Schedules `arrive` on the peer one latency from now, after every earlier segment.
  void send_segment(void (StreamEnd::*arrive)());
  void send_data(Bytes data);
  void send_fin();
  bool handlers_active() const { return owner_alive_ && !user_closed_ && !closed_reported_; }
  void deliver(Event event);
  void flush();
  Timestamp next_arrival();

  MemoryHost& host_;
  Endpoint local_;
  Endpoint remote_;
  bool reserved_;
  std::weak_ptr<StreamEnd> peer_;
  Phase phase_;
  bool owner_alive_ = true;
  bool user_closed_ = false;
  bool closed_reported_ = false;
  bool close_queued_ = false;  // an on_closed is in the inbox: nothing may follow it
  bool fin_sent_ = false;
  bool fin_received_ = false;
  std::shared_ptr<Stream::Handlers> handlers_;  // shared: a handler may replace them
  bool handlers_set_ = false;
  std::deque<Event> inbox_;  // events waiting for handlers or for the flush
  bool flush_scheduled_ = false;
  Bytes pending_;  // written while connecting
  Timestamp last_arrival_;
};

class MemoryStream final : public Stream {
 public:
  explicit MemoryStream(std::shared_ptr<StreamEnd> end) : end_(std::move(end)) {}
  ~MemoryStream() override { end_->owner_destroyed(); }

  void set_handlers(Handlers handlers) override { end_->set_handlers(std::move(handlers)); }
  Status write(ByteView data) override { return end_->write(data); }
  size_t pending_write_bytes() const override { return end_->pending_write_bytes(); }
  void close() override { end_->close(); }
  bool connected() const override { return end_->connected(); }
  Endpoint local_endpoint() const override { return end_->local(); }
  Endpoint remote_endpoint() const override { return end_->remote(); }

 private:
  std::shared_ptr<StreamEnd> end_;
};

// The part of a listener that arriving connections and scheduled accepts refer to.
class ListenerState : public std::enable_shared_from_this<ListenerState> {
 public:
  ListenerState(MemoryHost& host, const MemoryHost::BindKey& key);
  const MemoryHost::BindKey& key() const { return key_; }
  bool full() const { return backlog_.size() >= MemoryHost::kListenBacklog; }
  // A connection completed its handshake; it waits in the backlog until accepted.
  void enqueue(std::unique_ptr<Stream> stream);
  void set_handler(StreamListener::AcceptHandler handler);
  void shut_down();  // the listener is gone: abort the backlog, accept nothing more

 private:
  void schedule_flush();
  void flush();

  MemoryHost& host_;
  MemoryHost::BindKey key_;
  bool alive_ = true;
  std::deque<std::unique_ptr<Stream>> backlog_;
  std::shared_ptr<StreamListener::AcceptHandler> handler_;
  bool flush_scheduled_ = false;
};

class MemoryStreamListener final : public StreamListener {
 public:
  explicit MemoryStreamListener(std::shared_ptr<ListenerState> state) : state_(std::move(state)) {}
  ~MemoryStreamListener() override { state_->shut_down(); }
  Endpoint local_endpoint() const override {
    return Endpoint(state_->key().address, state_->key().port);
  }
  void set_accept_handler(AcceptHandler handler) override {
    state_->set_handler(std::move(handler));
  }

 private:
  std::shared_ptr<ListenerState> state_;
};

}  // namespace memory_detail
}  // namespace warren
