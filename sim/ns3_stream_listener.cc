#include "sim/ns3_stream_listener.h"

#include <deque>

#include <ns3/simple-ref-count.h>
#include <ns3/simulator.h>
#include <ns3/socket.h>
#include <ns3/tcp-socket-factory.h>
#include <ns3/uinteger.h>

#include "nat-models/ns3/ns3_address.h"
#include "sim/node_teardown.h"
#include "sim/ns3_stream.h"
#include "sim/socket_error.h"

namespace warren::sim {

class Ns3StreamListener::Core : public ns3::SimpleRefCount<Core> {
 public:
  Core(ns3::Ptr<ns3::Socket> socket, Endpoint local) : socket_(socket), local_(local) {}

  void Attach() {
    ns3::Ptr<Core> self(this);
    socket_->SetAcceptCallback(ns3::MakeCallback(&Core::ConnectionRequest, self),
                               ns3::MakeCallback(&Core::NewConnection, self));
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    handler_.reset();
    socket_->SetAcceptCallback(
        ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
        ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>, const ns3::Address&>());
    if (!InNodeTeardown()) socket_->Close();
    backlog_.clear();  // destroying an unaccepted Stream aborts it
  }

  void SetHandler(AcceptHandler handler) {
    if (closed_) return;
    handler_ = std::make_shared<AcceptHandler>(std::move(handler));
    if (backlog_.empty() || pump_scheduled_) return;
    pump_scheduled_ = true;
    ns3::Ptr<Core> self(this);
    ns3::Simulator::ScheduleNow([self] {
      self->pump_scheduled_ = false;
      self->Pump();
    });
  }

  const Endpoint& local() const { return local_; }

 private:
  void Pump() {
    while (!closed_ && handler_ && !backlog_.empty()) {
      std::unique_ptr<Stream> stream = std::move(backlog_.front());
      backlog_.pop_front();
      std::shared_ptr<AcceptHandler> handler = handler_;
      (*handler)(std::move(stream));
    }
  }

  bool ConnectionRequest(ns3::Ptr<ns3::Socket>, const ns3::Address&) {
    return !closed_ && backlog_.size() < kMaxAcceptBacklog;
  }

  void NewConnection(ns3::Ptr<ns3::Socket> socket, const ns3::Address& from) {
    ns3::Ptr<Core> self(this);
    std::optional<Endpoint> remote = from_ns3_socket_address(from);
    if (closed_ || !remote) {
      socket->Close();
      return;
    }
    std::unique_ptr<Stream> stream = Ns3Stream::Adopt(socket, *remote);
    if (handler_ && backlog_.empty()) {
      std::shared_ptr<AcceptHandler> handler = handler_;
      (*handler)(std::move(stream));
      return;
    }
    backlog_.push_back(std::move(stream));
  }

  ns3::Ptr<ns3::Socket> socket_;
  Endpoint local_;
  bool closed_ = false;
  bool pump_scheduled_ = false;
  std::shared_ptr<AcceptHandler> handler_;
  std::deque<std::unique_ptr<Stream>> backlog_;
};

Result<std::unique_ptr<StreamListener>> Ns3StreamListener::Open(ns3::Ptr<ns3::Node> node,
                                                                const Endpoint& bind) {
  ns3::Ptr<ns3::Socket> socket =
      ns3::Socket::CreateSocket(node, ns3::TcpSocketFactory::GetTypeId());
  // Accepted sockets are forks of this one and inherit the segment size.
  socket->SetAttribute("SegmentSize", ns3::UintegerValue(kTcpSegmentBytes));
  if (socket->Bind(to_ns3_socket_address(bind)) < 0 || socket->Listen() < 0) {
    return BindFailure(socket, "listen on TCP", bind, "listener");
  }
  auto core = ns3::Create<Core>(socket, BoundEndpoint(socket, bind));
  core->Attach();
  return std::unique_ptr<StreamListener>(new Ns3StreamListener(core));
}

Ns3StreamListener::Ns3StreamListener(ns3::Ptr<Core> core) : core_(std::move(core)) {}

Ns3StreamListener::~Ns3StreamListener() {
  core_->Close();
}

Endpoint Ns3StreamListener::local_endpoint() const {
  return core_->local();
}

void Ns3StreamListener::set_accept_handler(AcceptHandler handler) {
  core_->SetHandler(std::move(handler));
}

}  // namespace warren::sim
