#include "tests/support/echo.h"

namespace warren {

Status EchoServer::start_udp(const Endpoint& bind) {
  auto socket = env_.network.open_udp(bind);
  if (!socket) return socket.error();
  udp_ = std::move(*socket);
  udp_->set_receive_handler([this](const Endpoint& from, const Endpoint& local, ByteView payload) {
    on_datagram(from, local, payload);
  });
  env_.log.info("echoing UDP on " + udp_->local_endpoint().to_string());
  return Status::success();
}

Status EchoServer::start_tcp(const Endpoint& bind) {
  auto listener = env_.network.listen(bind);
  if (!listener) return listener.error();
  listener_ = std::move(*listener);
  listener_->set_accept_handler([this](std::unique_ptr<Stream> s) { on_accept(std::move(s)); });
  env_.log.info("echoing streams on " + listener_->local_endpoint().to_string());
  return Status::success();
}

Endpoint EchoServer::udp_endpoint() const {
  return udp_ ? udp_->local_endpoint() : Endpoint();
}

Endpoint EchoServer::tcp_endpoint() const {
  return listener_ ? listener_->local_endpoint() : Endpoint();
}

void EchoServer::close_streams() {
  for (auto& entry : streams_) entry.second->close();
  streams_.clear();
}

void EchoServer::on_datagram(const Endpoint& from, const Endpoint& local, ByteView payload) {
  stats_.last_from = from;
  stats_.last_local = local;
  Status sent = udp_->send_to(from, payload);
  if (sent) {
    ++stats_.datagrams;
  } else {
    ++stats_.send_errors;
    env_.log.warn("echo to " + from.to_string() + " dropped: " + sent.error().message);
  }
}

void EchoServer::on_accept(std::unique_ptr<Stream> stream) {
  ++stats_.streams_accepted;
  if (streams_.size() >= kMaxStreams) {
    env_.log.warn("refusing stream from " + stream->remote_endpoint().to_string() +
                  ": already echoing " + std::to_string(kMaxStreams) + " streams");
    stream->close();
    return;
  }
  const uint64_t id = next_stream_id_++;
  Stream::Handlers handlers;
  handlers.on_data = [this, id](ByteView data) { on_stream_data(id, data); };
  handlers.on_closed = [this, id](const Status& reason) { on_stream_closed(id, reason); };
  stream->set_handlers(std::move(handlers));
  streams_.emplace(id, std::move(stream));
}

void EchoServer::on_stream_data(uint64_t id, ByteView data) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& stream = *it->second;
  if (stream.pending_write_bytes() + data.size() > kMaxPendingBytes) {
    env_.log.warn("aborting stream from " + stream.remote_endpoint().to_string() +
                  ": it does not read its echo");
    ++stats_.streams_closed_error;
    streams_.erase(it);  // destroys the stream inside its own handler, which is allowed
    return;
  }
  Status written = stream.write(data);
  if (written) stats_.stream_bytes += data.size();
}

void EchoServer::on_stream_closed(uint64_t id, const Status& reason) {
  if (reason) {
    ++stats_.streams_closed_ok;
  } else {
    ++stats_.streams_closed_error;
    env_.log.info("stream closed: " + reason.error().message);
  }
  streams_.erase(id);  // destroys the stream inside its own handler, which is allowed
}

Status EchoClient::open_udp(const Endpoint& bind) {
  auto socket = env_.network.open_udp(bind);
  if (!socket) return socket.error();
  udp_ = std::move(*socket);
  udp_->set_receive_handler([this](const Endpoint& from, const Endpoint& local, ByteView payload) {
    ++reply_count_;
    if (replies_.size() < kMaxKeptReplies) replies_.push_back({from, local, payload.to_bytes()});
  });
  return Status::success();
}

Endpoint EchoClient::udp_endpoint() const {
  return udp_ ? udp_->local_endpoint() : Endpoint();
}

Status EchoClient::send(const Endpoint& server, ByteView payload) {
  if (!udp_) return make_error("EchoClient: open_udp first");
  return udp_->send_to(server, payload);
}

void EchoClient::connect(const Endpoint& server) {
  connected_ = false;
  received_.clear();
  closed_.reset();
  stream_ = env_.network.connect(server);
  Stream::Handlers handlers;
  handlers.on_connected = [this] { connected_ = true; };
  handlers.on_data = [this](ByteView data) {
    received_.insert(received_.end(), data.begin(), data.end());
    if (on_data_hook) on_data_hook();
  };
  handlers.on_closed = [this](const Status& reason) { closed_ = reason; };
  stream_->set_handlers(std::move(handlers));
}

Status EchoClient::write(ByteView data) {
  if (!stream_) return make_error("EchoClient: connect first");
  return stream_->write(data);
}

void EchoClient::close() {
  if (stream_) stream_->close();
}

void EchoClient::abort() {
  stream_.reset();
}

}  // namespace warren
