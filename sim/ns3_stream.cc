#include "sim/ns3_stream.h"

#include <algorithm>
#include <optional>

#include <ns3/ipv4.h>
#include <ns3/ipv6.h>
#include <ns3/packet.h>
#include <ns3/simple-ref-count.h>
#include <ns3/simulator.h>
#include <ns3/tcp-header.h>
#include <ns3/tcp-socket-base.h>
#include <ns3/tcp-socket-factory.h>
#include <ns3/uinteger.h>

#include "nat-models/ns3/ns3_address.h"
#include "sim/node_teardown.h"
#include "sim/socket_error.h"

namespace warren::sim {

namespace {

// Largest piece handed to the ns-3 socket per Send: bounds one packet allocation and copy;
// the socket segments it anyway.
constexpr size_t kMaxSendChunkBytes = 64 * 1024;
// The consumed front of the write queue is erased once it is this large (and more than half
// the queue), so a long-lived stream does not keep every byte it ever sent.
constexpr size_t kCompactQueueBytes = 256 * 1024;

}  // namespace

class Ns3Stream::Core : public ns3::SimpleRefCount<Core> {
 public:
  enum class Phase { connecting, open, finished };

  Core(ns3::Ptr<ns3::Socket> socket, Endpoint remote, Phase phase)
      : socket_(socket), remote_(remote), phase_(phase) {
    local_ = Endpoint(IpAddress::any(remote.family()), 0);
    RefreshLocal();
  }

  void Attach() {
    ns3::Ptr<Core> self(this);
    socket_->SetConnectCallback(ns3::MakeCallback(&Core::ConnectSucceeded, self),
                                ns3::MakeCallback(&Core::ConnectFailed, self));
    socket_->SetRecvCallback(ns3::MakeCallback(&Core::HandleRecv, self));
    socket_->SetSendCallback(ns3::MakeCallback(&Core::HandleSend, self));
    socket_->SetCloseCallbacks(ns3::MakeCallback(&Core::NormalClose, self),
                               ns3::MakeCallback(&Core::ErrorClose, self));
  }

  // ns-3 3.37 ignores a RST answering its SYN and only gives up after its SYN retries (minutes);
  // a real OS reports "connection refused" at once. Watch the segments the socket receives
  // while connecting and fail on a reset.
  void WatchForReset() {
    reset_watch_ = ns3::MakeCallback(&Core::SegmentWhileConnecting, ns3::Ptr<Core>(this));
    if (!socket_->TraceConnectWithoutContext("Rx", reset_watch_)) reset_watch_.Nullify();
  }

  // Ends the connection before it started; delivered as on_closed once handlers are set.
  void FailNow(const std::string& message) { Finish(make_error(message)); }

  void SetHandlers(Handlers handlers) {
    if (silenced_) return;
    handlers_ = std::make_shared<Handlers>(std::move(handlers));
    handlers_set_ = true;
    if (pump_scheduled_) return;
    pump_scheduled_ = true;
    ns3::Ptr<Core> self(this);
    ns3::Simulator::ScheduleNow([self] {
      self->pump_scheduled_ = false;
      self->Pump();
    });
  }

  Status Write(ByteView data) {
    if (silenced_ || phase_ == Phase::finished) {
      return make_error("stream to " + remote_.to_string() +
                        " is closed; open a new connection to send more");
    }
    queue_.insert(queue_.end(), data.begin(), data.end());
    TrySend();
    return Status::success();
  }

  size_t PendingWriteBytes() const { return queue_.size() - head_; }

  void Close() {
    if (user_closed_) return;
    Silence();
    user_closed_ = true;
    if (phase_ == Phase::finished) return Release();
    TrySend();  // releases once the queue is empty; while connecting, ConnectSucceeded does
  }

  void Abort() {
    Silence();
    user_closed_ = true;
    queue_.clear();
    head_ = 0;
    Release();
  }

  bool user_closed() const { return user_closed_; }
  bool connected() const { return phase_ == Phase::open && !silenced_; }
  const Endpoint& local() const { return local_; }
  const Endpoint& remote() const { return remote_; }

 private:
  void Silence() {
    silenced_ = true;
    handlers_.reset();
    connected_pending_ = false;
    close_pending_.reset();
  }

  void RefreshLocal() {
    if (socket_ == nullptr) return;
    ns3::Address name;
    if (socket_->GetSockName(name) != 0) return;
    // Before it is bound, ns-3 names any TCP socket 0.0.0.0:0, whatever its family.
    auto ep = from_ns3_socket_address(name);
    if (ep && ep->family() == remote_.family()) local_ = *ep;
  }

  // Delivers every held event in order: connected, data, close. Any handler may close or
  // destroy the stream, so each step re-checks `silenced_`.
  void Pump() {
    if (!handlers_set_ || silenced_) return;
    ns3::Ptr<Core> self(this);
    if (connected_pending_) {
      connected_pending_ = false;
      std::shared_ptr<Handlers> h = handlers_;
      if (h->on_connected) h->on_connected();
      if (silenced_) return;
    }
    while (socket_ != nullptr && !silenced_) {
      ns3::Ptr<ns3::Packet> packet = socket_->Recv();
      if (packet == nullptr || packet->GetSize() == 0) break;
      buffer_.resize(packet->GetSize());
      packet->CopyData(buffer_.data(), static_cast<uint32_t>(buffer_.size()));
      std::shared_ptr<Handlers> h = handlers_;
      if (h->on_data) h->on_data(ByteView(buffer_));
    }
    if (silenced_ || !close_pending_) return;
    const Status reason = *close_pending_;
    std::shared_ptr<Handlers> h = handlers_;
    Silence();
    if (reason.ok()) {
      // The peer only stopped sending: flush what we still have queued, then close.
      user_closed_ = true;
      TrySend();
    } else {
      Release();
    }
    if (h->on_closed) h->on_closed(reason);
  }

  void TrySend() {
    if (socket_ == nullptr || phase_ == Phase::connecting) return;
    while (phase_ == Phase::open && head_ < queue_.size()) {
      const uint32_t available = socket_->GetTxAvailable();
      if (available == 0) break;
      const size_t n =
          std::min({static_cast<size_t>(available), queue_.size() - head_, kMaxSendChunkBytes});
      ns3::Ptr<ns3::Packet> packet =
          ns3::Create<ns3::Packet>(queue_.data() + head_, static_cast<uint32_t>(n));
      const int sent = socket_->Send(packet, 0);
      if (sent <= 0) break;
      head_ += static_cast<size_t>(sent);
    }
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
    } else if (head_ >= kCompactQueueBytes && head_ * 2 > queue_.size()) {
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    if (user_closed_ && (head_ == queue_.size() || phase_ == Phase::finished)) Release();
  }

  void StopWatchingForReset() {
    if (reset_watch_.IsNull() || socket_ == nullptr) return;
    socket_->TraceDisconnectWithoutContext("Rx", reset_watch_);
    reset_watch_.Nullify();
  }

  void SegmentWhileConnecting(ns3::Ptr<const ns3::Packet>, const ns3::TcpHeader& header,
                              ns3::Ptr<const ns3::TcpSocketBase>) {
    if (phase_ != Phase::connecting || (header.GetFlags() & ns3::TcpHeader::RST) == 0) return;
    // Not from inside the socket's own receive path: fail in an event of its own.
    ns3::Ptr<Core> self(this);
    ns3::Simulator::ScheduleNow([self] {
      if (self->phase_ != Phase::connecting) return;
      self->Finish(make_error("connection to " + self->remote_.to_string() +
                              " refused (reset); check that the peer listens on that port"));
    });
  }

  // Hands the socket back to ns-3: no more callbacks into us, then close (FIN once ns-3's own
  // buffer drains). Breaks the core <-> socket reference cycle.
  void Release() {
    if (socket_ == nullptr) return;
    StopWatchingForReset();
    ns3::Ptr<ns3::Socket> socket = socket_;
    socket_ = nullptr;
    auto null_socket = ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>>();
    socket->SetConnectCallback(null_socket, null_socket);
    socket->SetRecvCallback(null_socket);
    socket->SetSendCallback(ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>, uint32_t>());
    socket->SetCloseCallbacks(null_socket, null_socket);
    if (!InNodeTeardown()) socket->Close();
  }

  void Finish(Status reason) {
    if (phase_ == Phase::finished) return;
    phase_ = Phase::finished;
    if (silenced_) return Release();
    close_pending_ = std::move(reason);
    if (!close_pending_->ok()) Release();  // a failed connection has nothing left to read
    if (handlers_set_) Pump();
  }

  void ConnectSucceeded(ns3::Ptr<ns3::Socket>) {
    ns3::Ptr<Core> self(this);
    StopWatchingForReset();
    phase_ = Phase::open;
    RefreshLocal();
    if (!silenced_) connected_pending_ = true;
    TrySend();
    if (handlers_set_) Pump();
  }

  void ConnectFailed(ns3::Ptr<ns3::Socket>) {
    ns3::Ptr<Core> self(this);
    Finish(make_error("cannot connect to " + remote_.to_string() +
                      ": refused, unreachable or timed out; check that the peer listens and "
                      "is routable"));
  }

  void HandleRecv(ns3::Ptr<ns3::Socket>) {
    ns3::Ptr<Core> self(this);
    if (handlers_set_) Pump();  // otherwise the bytes wait in ns-3's receive buffer
  }

  void HandleSend(ns3::Ptr<ns3::Socket>, uint32_t) {
    ns3::Ptr<Core> self(this);
    TrySend();
  }

  // The peer sent FIN: it sends no more but still receives, so our queue is still flushed.
  void NormalClose(ns3::Ptr<ns3::Socket>) {
    ns3::Ptr<Core> self(this);
    if (peer_closed_ || phase_ == Phase::finished) return;
    peer_closed_ = true;
    if (silenced_) return TrySend();  // flushing after close(); releases when done
    close_pending_ = Status::success();
    if (handlers_set_) Pump();
  }

  void ErrorClose(ns3::Ptr<ns3::Socket>) {
    ns3::Ptr<Core> self(this);
    Finish(make_error("connection to " + remote_.to_string() + " was reset or timed out"));
  }

  ns3::Ptr<ns3::Socket> socket_;  // null once released
  Endpoint local_;
  Endpoint remote_;
  Phase phase_;
  bool silenced_ = false;     // no handler runs any more
  bool user_closed_ = false;  // close() or abort: release once the queue is flushed
  bool handlers_set_ = false;
  bool pump_scheduled_ = false;
  bool connected_pending_ = false;
  bool peer_closed_ = false;  // FIN received; we may still send
  std::optional<Status> close_pending_;
  std::shared_ptr<Handlers> handlers_;  // copied per call so a handler may replace or drop it
  ns3::Callback<void, ns3::Ptr<const ns3::Packet>, const ns3::TcpHeader&,
                ns3::Ptr<const ns3::TcpSocketBase>>
      reset_watch_;
  Bytes queue_;  // bytes [head_, end) not yet handed to ns-3
  size_t head_ = 0;
  Bytes buffer_;
};

std::unique_ptr<Stream> Ns3Stream::Connect(ns3::Ptr<ns3::Node> node, const Endpoint& remote) {
  const bool v4 = remote.address.is_v4();
  const bool family_ok =
      v4 ? node->GetObject<ns3::Ipv4>() != nullptr : node->GetObject<ns3::Ipv6>() != nullptr;
  if (!family_ok) {
    auto core = ns3::Create<Core>(nullptr, remote, Core::Phase::connecting);
    core->FailNow(std::string("cannot connect to ") + remote.to_string() + ": this host has no " +
                  to_string(remote.family()) + " stack");
    return std::unique_ptr<Stream>(new Ns3Stream(core));
  }
  ns3::Ptr<ns3::Socket> socket =
      ns3::Socket::CreateSocket(node, ns3::TcpSocketFactory::GetTypeId());
  socket->SetAttribute("SegmentSize", ns3::UintegerValue(kTcpSegmentBytes));
  auto core = ns3::Create<Core>(socket, remote, Core::Phase::connecting);
  core->Attach();
  core->WatchForReset();
  if (socket->Connect(to_ns3_socket_address(remote)) < 0) {
    core->FailNow("cannot connect to " + remote.to_string() + ": " +
                  DescribeSocketError(socket->GetErrno()));
  }
  return std::unique_ptr<Stream>(new Ns3Stream(core));
}

std::unique_ptr<Stream> Ns3Stream::Adopt(ns3::Ptr<ns3::Socket> socket, const Endpoint& remote) {
  auto core = ns3::Create<Core>(socket, remote, Core::Phase::open);
  core->Attach();
  return std::unique_ptr<Stream>(new Ns3Stream(core));
}

Ns3Stream::Ns3Stream(ns3::Ptr<Core> core) : core_(std::move(core)) {}

Ns3Stream::~Ns3Stream() {
  if (!core_->user_closed()) core_->Abort();
}

void Ns3Stream::set_handlers(Handlers handlers) {
  core_->SetHandlers(std::move(handlers));
}
Status Ns3Stream::write(ByteView data) {
  return core_->Write(data);
}
size_t Ns3Stream::pending_write_bytes() const {
  return core_->PendingWriteBytes();
}
void Ns3Stream::close() {
  core_->Close();
}
bool Ns3Stream::connected() const {
  return core_->connected();
}
Endpoint Ns3Stream::local_endpoint() const {
  return core_->local();
}
Endpoint Ns3Stream::remote_endpoint() const {
  return core_->remote();
}

}  // namespace warren::sim
