#include "tests/support/memory_stream.h"

#include <utility>

namespace warren {
namespace memory_detail {

StreamEnd::StreamEnd(MemoryHost& host, const Endpoint& local, const Endpoint& remote, Phase phase,
                     bool reserved)
    : host_(host), local_(local), remote_(remote), reserved_(reserved), phase_(phase) {}

StreamEnd::~StreamEnd() {
  if (reserved_) host_.release_connection({local_.family(), local_.port, local_.address});
}

void StreamEnd::set_handlers(Stream::Handlers handlers) {
  if (!owner_alive_ || user_closed_) return;
  handlers_ = std::make_shared<Stream::Handlers>(std::move(handlers));
  handlers_set_ = true;
  if (!inbox_.empty() && !flush_scheduled_) {
    flush_scheduled_ = true;
    host_.clock().schedule_after(Duration::zero(), [self = shared_from_this()] { self->flush(); });
  }
}

Status StreamEnd::write(ByteView data) {
  if (phase_ == Phase::closed || user_closed_) {
    return make_error("cannot write to " + remote_.to_string() + ": the stream is closed");
  }
  if (data.empty()) return Status::success();
  if (phase_ == Phase::connecting) {
    pending_.insert(pending_.end(), data.begin(), data.end());
  } else {
    send_data(data.to_bytes());
  }
  return Status::success();
}

void StreamEnd::close() {
  if (user_closed_ || !owner_alive_) return;
  user_closed_ = true;
  handlers_.reset();
  inbox_.clear();
  // While connecting, the FIN follows the queued bytes once established (on_established).
  if (phase_ == Phase::open) send_fin();
}

void StreamEnd::owner_destroyed() {
  owner_alive_ = false;
  handlers_.reset();
  inbox_.clear();
  if (user_closed_) return;  // a graceful close carries on without its owner
  if (phase_ == Phase::open) send_segment(&StreamEnd::on_rst);
  // While connecting, the SYN-ACK is answered with a RST when it arrives.
  phase_ = Phase::closed;
  pending_.clear();
}

void StreamEnd::send_syn(MemoryHost* destination) {
  host_.clock().schedule_at(
      next_arrival(), [self = shared_from_this(), destination] { self->on_syn(destination); });
}

void StreamEnd::fail(const std::string& reason) {
  phase_ = Phase::closed;
  pending_.clear();
  deliver(Event{Event::Kind::closed, {}, make_error(reason)});
}

void StreamEnd::on_syn(MemoryHost* destination) {
  if (phase_ != Phase::connecting) return;  // aborted before the handshake completed
  const std::string prefix = "cannot connect to " + remote_.to_string() + ": ";
  std::string refusal;
  ListenerState* listener = nullptr;
  if (destination == nullptr) {
    refusal = prefix + "No route to host (no host in the in-memory world has that address)";
  } else if ((listener = destination->find_listener(remote_)) == nullptr) {
    refusal = prefix + "Connection refused";
  } else if (listener->full()) {
    refusal = prefix + "Connection refused (listen backlog full)";
  }
  if (!refusal.empty()) {
    host_.clock().schedule_at(next_arrival(),
                              [self = shared_from_this(), refusal] { self->on_refused(refusal); });
    return;
  }
  auto server = std::make_shared<StreamEnd>(*destination, remote_, local_, Phase::open, false);
  server->link(shared_from_this());
  link(server);
  server->send_segment(&StreamEnd::on_established);
  listener->enqueue(std::make_unique<MemoryStream>(server));
}

void StreamEnd::on_established() {
  if (phase_ != Phase::connecting) {
    send_segment(&StreamEnd::on_rst);  // aborted while connecting
    return;
  }
  phase_ = Phase::open;
  if (!pending_.empty()) {
    send_data(std::move(pending_));
    pending_.clear();
  }
  if (user_closed_) {
    send_fin();
  } else {
    deliver(Event{Event::Kind::connected, {}, Status::success()});
  }
}

void StreamEnd::on_data(Bytes data) {
  if (phase_ != Phase::open || user_closed_) return;  // a closing end discards what it reads
  deliver(Event{Event::Kind::data, std::move(data), Status::success()});
}

void StreamEnd::on_fin() {
  fin_received_ = true;
  if (phase_ == Phase::closed) return;
  if (!handlers_active()) {
    if (fin_sent_) phase_ = Phase::closed;  // a graceful close completes
    return;
  }
  // EOF: takes effect when dispatched (see flush), after the data that came before it, just as
  // the real backend only sees EOF once it has read everything.
  deliver(Event{Event::Kind::closed, {}, Status::success()});
}

void StreamEnd::on_rst() {
  if (phase_ == Phase::closed) return;
  if (!handlers_active()) {
    phase_ = Phase::closed;
    pending_.clear();
    return;
  }
  deliver(Event{Event::Kind::closed,
                {},
                make_error("connection to " + remote_.to_string() + ": Connection reset by peer")});
}

void StreamEnd::on_refused(const std::string& reason) {
  if (phase_ != Phase::connecting) return;
  phase_ = Phase::closed;
  pending_.clear();
  deliver(Event{Event::Kind::closed, {}, make_error(reason)});
}

Timestamp StreamEnd::next_arrival() {
  Timestamp at = host_.clock().now() + host_.world().latency();
  if (at < last_arrival_) at = last_arrival_;  // a shorter latency must not reorder segments
  last_arrival_ = at;
  return at;
}

void StreamEnd::send_segment(void (StreamEnd::*arrive)()) {
  std::shared_ptr<StreamEnd> peer = peer_.lock();
  if (!peer) return;
  host_.clock().schedule_at(next_arrival(), [peer, arrive] { ((*peer).*arrive)(); });
}

void StreamEnd::send_data(Bytes data) {
  std::shared_ptr<StreamEnd> peer = peer_.lock();
  if (!peer) return;
  host_.clock().schedule_at(
      next_arrival(), [peer, data = std::move(data)]() mutable { peer->on_data(std::move(data)); });
}

void StreamEnd::send_fin() {
  fin_sent_ = true;
  if (fin_received_) phase_ = Phase::closed;
  send_segment(&StreamEnd::on_fin);
}

void StreamEnd::deliver(Event event) {
  if (!handlers_active() || close_queued_) return;
  if (event.kind == Event::Kind::closed) close_queued_ = true;
  inbox_.push_back(std::move(event));
  if (handlers_set_ && !flush_scheduled_) {
    flush_scheduled_ = true;
    host_.clock().schedule_after(Duration::zero(), [self = shared_from_this()] { self->flush(); });
  }
}

void StreamEnd::flush() {
  flush_scheduled_ = false;
  // Bounded by the inbox: handlers cannot add events synchronously, only segments can.
  while (!inbox_.empty() && handlers_active()) {
    Event event = std::move(inbox_.front());
    inbox_.pop_front();
    std::shared_ptr<Stream::Handlers> handlers = handlers_;  // survives the owner's death
    switch (event.kind) {
      case Event::Kind::connected:
        if (handlers->on_connected) handlers->on_connected();
        break;
      case Event::Kind::data:
        if (handlers->on_data) handlers->on_data(ByteView(event.data));
        break;
      case Event::Kind::closed:
        closed_reported_ = true;
        inbox_.clear();
        phase_ = Phase::closed;
        pending_.clear();
        // After EOF the end closes its side too, as the real backend closes its socket.
        if (event.status.ok() && !fin_sent_) send_fin();
        if (handlers->on_closed) handlers->on_closed(event.status);
        break;
    }
  }
}

ListenerState::ListenerState(MemoryHost& host, const MemoryHost::BindKey& key)
    : host_(host), key_(key) {}

void ListenerState::enqueue(std::unique_ptr<Stream> stream) {
  backlog_.push_back(std::move(stream));
  schedule_flush();
}

void ListenerState::set_handler(StreamListener::AcceptHandler handler) {
  handler_ = std::make_shared<StreamListener::AcceptHandler>(std::move(handler));
  schedule_flush();
}

void ListenerState::shut_down() {
  alive_ = false;
  handler_.reset();
  host_.release_listener(key_);
  // Connections nobody accepted are aborted, as the OS does when a listening socket closes.
  std::deque<std::unique_ptr<Stream>> doomed = std::move(backlog_);
  backlog_.clear();
  doomed.clear();
}

void ListenerState::schedule_flush() {
  if (flush_scheduled_ || !alive_ || !handler_ || !*handler_ || backlog_.empty()) return;
  flush_scheduled_ = true;
  host_.clock().schedule_after(Duration::zero(), [self = shared_from_this()] { self->flush(); });
}

void ListenerState::flush() {
  flush_scheduled_ = false;
  // Bounded by the backlog, which only grows from clock events.
  while (alive_ && !backlog_.empty()) {
    std::shared_ptr<StreamListener::AcceptHandler> handler = handler_;
    if (!handler || !*handler) return;
    std::unique_ptr<Stream> stream = std::move(backlog_.front());
    backlog_.pop_front();
    (*handler)(std::move(stream));  // may destroy the listener; `this` lives on via `self`
  }
}

}  // namespace memory_detail
}  // namespace warren
