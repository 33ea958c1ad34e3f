#include "nodes/real/real_stream.h"

#include <sys/un.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <vector>

#include "nodes/real/asio_endpoint.h"

namespace warren {

namespace ip = boost::asio::ip;
namespace local = boost::asio::local;
using boost::system::error_code;

// What RealStream needs of its I/O state; one implementation per protocol below.
class RealStream::State {
 public:
  virtual ~State() = default;
  virtual void set_handlers(Handlers handlers) = 0;
  virtual Status write(ByteView data) = 0;
  virtual void close() = 0;
  virtual void owner_destroyed() = 0;
  virtual size_t pending() const = 0;
  virtual bool connected() const = 0;
  virtual Endpoint local() const = 0;
  virtual Endpoint remote() const = 0;
};

namespace {

// The few places where TCP and Unix-domain sockets differ.
Endpoint to_endpoint(const ip::tcp::endpoint& e) { return from_asio_endpoint(e); }
Endpoint to_endpoint(const local::stream_protocol::endpoint&) { return Endpoint(); }
void tune(ip::tcp::socket& socket) {
  error_code ignored;
  socket.set_option(ip::tcp::no_delay(true), ignored);
}
void tune(local::stream_protocol::socket&) {}

template <typename Protocol>
class StreamState final : public RealStream::State,
                          public std::enable_shared_from_this<StreamState<Protocol>> {
 public:
  using Handlers = Stream::Handlers;
  using Socket = typename Protocol::socket;
  using PeerEndpoint = typename Protocol::endpoint;
  enum class Phase { connecting, open, finished };

  // `peer_name` names the other end in messages ("192.0.2.1:80", a socket path).
  StreamState(Socket socket, Phase phase, const PeerEndpoint& peer, std::string peer_name)
      : socket_(std::move(socket)),
        linger_(socket_.get_executor()),
        phase_(phase),
        peer_(peer),
        peer_name_(std::move(peer_name)),
        remote_(to_endpoint(peer)) {}

  void start_connect();
  void start_accepted();
  // Fails a stream that cannot even start (held until handlers are set).
  void fail_at_once(const std::string& why) {
    finish(make_error("cannot connect to " + peer_name_ + ": " + why));
  }
  void set_handlers(Handlers handlers) override;
  Status write(ByteView data) override;
  void close() override;
  void owner_destroyed() override;

  size_t pending() const override { return pending_; }
  bool connected() const override { return phase_ == Phase::open && !user_closed_; }
  Endpoint local() const override { return local_; }
  Endpoint remote() const override { return remote_; }

 private:
  using std::enable_shared_from_this<StreamState<Protocol>>::shared_from_this;
  bool handlers_active() const { return owner_alive_ && !user_closed_ && !closed_reported_; }
  void on_connect(const error_code& ec);
  void became_open();
  void dispatch_held();
  void report_connected();
  void report_closed(const Status& reason);
  void start_read();
  void on_read(const error_code& ec, size_t n);
  void start_write();
  void on_write(const error_code& ec, size_t n);
  void shutdown_send();
  void finish(const Status& reason);  // the connection is over: close and report
  void close_socket();

  Socket socket_;
  boost::asio::steady_timer linger_;
  Phase phase_;
  PeerEndpoint peer_;
  std::string peer_name_;
  Endpoint local_;
  Endpoint remote_;
  bool owner_alive_ = true;
  bool user_closed_ = false;
  bool closed_reported_ = false;
  std::shared_ptr<Handlers> handlers_;  // shared: a handler may replace or drop them
  bool handlers_set_ = false;
  // Events that happened before handlers were set.
  bool held_connected_ = false;
  std::optional<Status> held_closed_;
  bool reading_ = false;
  bool writing_ = false;
  bool eof_ = false;
  bool shutdown_sent_ = false;
  std::deque<Bytes> queue_;  // written, not yet accepted by the kernel
  size_t front_offset_ = 0;  // bytes of queue_.front() already sent
  size_t pending_ = 0;
  std::array<uint8_t, RealStream::kReadBufferSize> read_buffer_;
};

template <typename Protocol>
void StreamState<Protocol>::start_connect() {
  error_code ec;
  socket_.open(peer_.protocol(), ec);
  if (ec) {
    // Held until handlers are set, so this never runs a handler inside connect().
    finish(make_error("cannot connect to " + peer_name_ + ": " + ec.message()));
    return;
  }
  socket_.async_connect(peer_,
                        [self = shared_from_this()](const error_code& e) { self->on_connect(e); });
}

template <typename Protocol>
void StreamState<Protocol>::start_accepted() {
  error_code ec;
  local_ = to_endpoint(socket_.local_endpoint(ec));
  tune(socket_);
}

template <typename Protocol>
void StreamState<Protocol>::on_connect(const error_code& ec) {
  if (phase_ != Phase::connecting) return;  // aborted meanwhile
  if (ec) {
    finish(make_error("cannot connect to " + peer_name_ + ": " + ec.message()));
    return;
  }
  phase_ = Phase::open;
  error_code ignored;
  local_ = to_endpoint(socket_.local_endpoint(ignored));
  tune(socket_);
  report_connected();
  if (phase_ == Phase::finished) return;  // the handler destroyed the stream
  became_open();
}

template <typename Protocol>
void StreamState<Protocol>::became_open() {
  start_write();
  if (user_closed_ && queue_.empty() && !writing_) shutdown_send();
  start_read();
}

template <typename Protocol>
void StreamState<Protocol>::set_handlers(Handlers handlers) {
  if (!owner_alive_ || user_closed_) return;
  handlers_ = std::make_shared<Handlers>(std::move(handlers));
  handlers_set_ = true;
  boost::asio::post(socket_.get_executor(), [self = shared_from_this()] { self->dispatch_held(); });
}

template <typename Protocol>
void StreamState<Protocol>::dispatch_held() {
  if (!handlers_active()) return;
  if (held_connected_) {
    held_connected_ = false;
    std::shared_ptr<Handlers> h = handlers_;
    if (h->on_connected) h->on_connected();
    if (!handlers_active()) return;
  }
  if (held_closed_) {
    Status reason = std::move(*held_closed_);
    held_closed_.reset();
    closed_reported_ = true;
    std::shared_ptr<Handlers> h = handlers_;
    if (h->on_closed) h->on_closed(reason);
    return;
  }
  start_read();
}

template <typename Protocol>
void StreamState<Protocol>::report_connected() {
  if (!handlers_active()) return;
  if (!handlers_set_) {
    held_connected_ = true;
    return;
  }
  std::shared_ptr<Handlers> h = handlers_;
  if (h->on_connected) h->on_connected();
}

template <typename Protocol>
void StreamState<Protocol>::report_closed(const Status& reason) {
  if (!handlers_active() || held_closed_) return;
  if (!handlers_set_) {
    held_closed_ = reason;
    return;
  }
  closed_reported_ = true;
  std::shared_ptr<Handlers> h = handlers_;
  if (h->on_closed) h->on_closed(reason);
}

template <typename Protocol>
Status StreamState<Protocol>::write(ByteView data) {
  if (phase_ == Phase::finished || user_closed_) {
    return make_error("cannot write to " + peer_name_ + ": the stream is closed");
  }
  if (data.empty()) return Status::success();
  queue_.push_back(data.to_bytes());
  pending_ += data.size();
  start_write();
  return Status::success();
}

template <typename Protocol>
void StreamState<Protocol>::start_read() {
  if (reading_ || eof_ || phase_ != Phase::open) return;
  if (!handlers_set_ && !user_closed_) return;  // leave bytes to TCP flow control until then
  reading_ = true;
  socket_.async_read_some(
      boost::asio::buffer(read_buffer_),
      [self = shared_from_this()](const error_code& ec, size_t n) { self->on_read(ec, n); });
}

template <typename Protocol>
void StreamState<Protocol>::on_read(const error_code& ec, size_t n) {
  reading_ = false;
  if (phase_ == Phase::finished || ec == boost::asio::error::operation_aborted) return;
  if (ec == boost::asio::error::eof) {
    eof_ = true;
    if (user_closed_) {
      if (shutdown_sent_) close_socket();  // both directions done: a clean close
      return;                              // else on_write finishes the flush first
    }
    // The peer closed: close our side too (the kernel still delivers what it has queued)
    // and report a clean close.
    finish(Status::success());
    return;
  }
  if (ec) {
    finish(make_error("connection to " + peer_name_ + ": " + ec.message()));
    return;
  }
  if (handlers_active()) {
    std::shared_ptr<Handlers> h = handlers_;
    if (h->on_data) h->on_data(ByteView(read_buffer_.data(), n));
    if (phase_ == Phase::finished) return;  // the handler destroyed the stream
  }
  // After close() the bytes are discarded: we only drain until the peer's FIN.
  start_read();
}

template <typename Protocol>
void StreamState<Protocol>::start_write() {
  if (writing_ || phase_ != Phase::open || queue_.empty()) return;
  std::vector<boost::asio::const_buffer> buffers;
  buffers.reserve(RealStream::kMaxBuffersPerWrite);
  for (size_t i = 0; i < queue_.size() && i < RealStream::kMaxBuffersPerWrite; ++i) {
    const size_t skip = i == 0 ? front_offset_ : 0;
    buffers.emplace_back(queue_[i].data() + skip, queue_[i].size() - skip);
  }
  writing_ = true;
  // The chunks stay in queue_ (deque elements never move) until on_write consumes them.
  socket_.async_write_some(buffers, [self = shared_from_this()](const error_code& ec, size_t n) {
    self->on_write(ec, n);
  });
}

template <typename Protocol>
void StreamState<Protocol>::on_write(const error_code& ec, size_t n) {
  writing_ = false;
  if (phase_ == Phase::finished || ec == boost::asio::error::operation_aborted) return;
  if (ec) {
    finish(make_error("connection to " + peer_name_ + ": " + ec.message()));
    return;
  }
  pending_ -= n;
  while (n > 0) {
    const size_t left = queue_.front().size() - front_offset_;
    if (n < left) {
      front_offset_ += n;
      break;
    }
    n -= left;
    queue_.pop_front();
    front_offset_ = 0;
  }
  if (!queue_.empty()) {
    start_write();
  } else if (user_closed_) {
    shutdown_send();
  }
}

template <typename Protocol>
void StreamState<Protocol>::shutdown_send() {
  if (shutdown_sent_) return;
  shutdown_sent_ = true;
  error_code ignored;
  socket_.shutdown(boost::asio::socket_base::shutdown_send, ignored);
  if (eof_) {
    close_socket();
  } else {
    start_read();  // drain until the peer's FIN
  }
}

template <typename Protocol>
void StreamState<Protocol>::close() {
  if (user_closed_ || !owner_alive_) return;
  user_closed_ = true;
  handlers_.reset();
  held_connected_ = false;
  held_closed_.reset();
  if (phase_ == Phase::finished) return;
  linger_.expires_after(std::chrono::nanoseconds(RealStream::kCloseLinger.ns()));
  linger_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec && self->phase_ != Phase::finished) self->close_socket();
  });
  if (phase_ == Phase::open) became_open();
  // While connecting, on_connect flushes and shuts down once connected.
}

template <typename Protocol>
void StreamState<Protocol>::owner_destroyed() {
  owner_alive_ = false;
  handlers_.reset();
  if (user_closed_ || phase_ == Phase::finished) return;  // a graceful close carries on
  // Abort: SO_LINGER 0 makes close() send a RST and drop whatever is unsent.
  error_code ignored;
  socket_.set_option(boost::asio::socket_base::linger(true, 0), ignored);
  close_socket();
}

template <typename Protocol>
void StreamState<Protocol>::finish(const Status& reason) {
  close_socket();
  report_closed(reason);
}

template <typename Protocol>
void StreamState<Protocol>::close_socket() {
  phase_ = Phase::finished;
  queue_.clear();
  pending_ = 0;
  linger_.cancel();
  error_code ignored;
  socket_.close(ignored);  // pending operations complete with operation_aborted
}

}  // namespace

std::unique_ptr<Stream> RealStream::connect(boost::asio::io_context& io, const Endpoint& remote) {
  using S = StreamState<ip::tcp>;
  auto state = std::make_shared<S>(ip::tcp::socket(io), S::Phase::connecting,
                                   to_asio_endpoint<ip::tcp>(remote), remote.to_string());
  state->start_connect();
  return std::unique_ptr<Stream>(new RealStream(std::move(state)));
}

std::unique_ptr<Stream> RealStream::accepted(ip::tcp::socket socket) {
  using S = StreamState<ip::tcp>;
  error_code ec;
  const ip::tcp::endpoint remote = socket.remote_endpoint(ec);
  auto state = std::make_shared<S>(std::move(socket), S::Phase::open, remote,
                                   from_asio_endpoint(remote).to_string());
  state->start_accepted();
  return std::unique_ptr<Stream>(new RealStream(std::move(state)));
}

std::unique_ptr<Stream> RealStream::connect_unix(boost::asio::io_context& io,
                                                 const std::string& path) {
  using S = StreamState<local::stream_protocol>;
  // asio throws for a path that does not fit sun_path; report it as a failed connect instead.
  const bool fits = path.size() < sizeof(sockaddr_un::sun_path);
  auto state = std::make_shared<S>(local::stream_protocol::socket(io), S::Phase::connecting,
                                   fits ? local::stream_protocol::endpoint(path)
                                        : local::stream_protocol::endpoint(),
                                   path);
  if (fits) {
    state->start_connect();
  } else {
    state->fail_at_once("the path is longer than " +
                        std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
  }
  return std::unique_ptr<Stream>(new RealStream(std::move(state)));
}

std::unique_ptr<Stream> RealStream::accepted_unix(local::stream_protocol::socket socket,
                                                  const std::string& path) {
  using S = StreamState<local::stream_protocol>;
  auto state = std::make_shared<S>(std::move(socket), S::Phase::open,
                                   local::stream_protocol::endpoint(), path);
  state->start_accepted();
  return std::unique_ptr<Stream>(new RealStream(std::move(state)));
}

RealStream::~RealStream() {
  state_->owner_destroyed();
}

void RealStream::set_handlers(Handlers handlers) {
  state_->set_handlers(std::move(handlers));
}
Status RealStream::write(ByteView data) {
  return state_->write(data);
}
size_t RealStream::pending_write_bytes() const {
  return state_->pending();
}
void RealStream::close() {
  state_->close();
}
bool RealStream::connected() const {
  return state_->connected();
}
Endpoint RealStream::local_endpoint() const {
  return state_->local();
}
Endpoint RealStream::remote_endpoint() const {
  return state_->remote();
}

}  // namespace warren
