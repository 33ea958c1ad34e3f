#include "sim/ns3_udp_socket.h"

#include <limits>

#include <ns3/ipv4-packet-info-tag.h>
#include <ns3/ipv6-packet-info-tag.h>
#include <ns3/packet.h>
#include <ns3/simple-ref-count.h>
#include <ns3/socket.h>
#include <ns3/udp-socket-factory.h>

#include "nat-models/ns3/ns3_address.h"
#include "sim/node_teardown.h"
#include "sim/socket_error.h"

namespace warren::sim {

class Ns3UdpSocket::Core : public ns3::SimpleRefCount<Core> {
 public:
  Core(ns3::Ptr<ns3::Socket> socket, Endpoint local) : socket_(socket), local_(local) {}

  void Attach() {
    socket_->SetRecvCallback(ns3::MakeCallback(&Core::HandleRead, ns3::Ptr<Core>(this)));
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    handler_.reset();
    socket_->SetRecvCallback(ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>>());
    if (!InNodeTeardown()) socket_->Close();
  }

  const Endpoint& local() const { return local_; }

  Status SendTo(const Endpoint& to, ByteView payload) {
    if (closed_) return make_error("UDP socket " + local_.to_string() + " is closed");
    if (to.family() != local_.family()) {
      return make_error("cannot send to " + to.to_string() + " from " + local_.to_string() +
                        ": address family differs from the socket's; open a socket of that "
                        "family");
    }
    ns3::Ptr<ns3::Packet> packet =
        ns3::Create<ns3::Packet>(payload.data(), static_cast<uint32_t>(payload.size()));
    if (socket_->SendTo(packet, 0, to_ns3_socket_address(to)) < 0) {
      return make_error("UDP send from " + local_.to_string() + " to " + to.to_string() +
                        " failed: " + DescribeSocketError(socket_->GetErrno()));
    }
    return Status::success();
  }

  void SetHandler(ReceiveHandler handler) {
    if (closed_) return;
    handler_ = std::make_shared<ReceiveHandler>(std::move(handler));
  }

 private:
  void HandleRead(ns3::Ptr<ns3::Socket> socket) {
    ns3::Ptr<Core> self(this);  // the handler may close us; stay alive until we return
    ns3::Address from;
    while (!closed_) {
      ns3::Ptr<ns3::Packet> packet =
          socket->RecvFrom(std::numeric_limits<uint32_t>::max(), 0, from);
      if (packet == nullptr) break;
      // Datagrams before a handler is set are dropped, as the contract says.
      if (!handler_) continue;
      std::optional<Endpoint> sender = from_ns3_socket_address(from);
      if (!sender) continue;
      Endpoint local = local_;
      if (local_.address.is_v4()) {
        ns3::Ipv4PacketInfoTag tag;
        if (packet->RemovePacketTag(tag)) local.address = from_ns3(tag.GetAddress());
      } else {
        ns3::Ipv6PacketInfoTag tag;
        if (packet->RemovePacketTag(tag)) local.address = from_ns3(tag.GetAddress());
      }
      buffer_.resize(packet->GetSize());
      packet->CopyData(buffer_.data(), static_cast<uint32_t>(buffer_.size()));
      std::shared_ptr<ReceiveHandler> handler = handler_;  // survives a reset inside the call
      (*handler)(*sender, local, ByteView(buffer_));
    }
  }

  ns3::Ptr<ns3::Socket> socket_;
  Endpoint local_;
  bool closed_ = false;
  std::shared_ptr<ReceiveHandler> handler_;
  Bytes buffer_;  // reused per datagram; ns-3 never delivers re-entrantly into one socket
};

Result<std::unique_ptr<UdpSocket>> Ns3UdpSocket::Open(ns3::Ptr<ns3::Node> node,
                                                      const Endpoint& bind) {
  ns3::Ptr<ns3::Socket> socket =
      ns3::Socket::CreateSocket(node, ns3::UdpSocketFactory::GetTypeId());
  if (socket->Bind(to_ns3_socket_address(bind)) < 0) {
    return BindFailure(socket, "bind UDP", bind, "socket");
  }
  socket->SetRecvPktInfo(true);
  auto core = ns3::Create<Core>(socket, BoundEndpoint(socket, bind));
  core->Attach();
  return std::unique_ptr<UdpSocket>(new Ns3UdpSocket(core));
}

Ns3UdpSocket::Ns3UdpSocket(ns3::Ptr<Core> core) : core_(std::move(core)) {}

Ns3UdpSocket::~Ns3UdpSocket() {
  core_->Close();
}

Endpoint Ns3UdpSocket::local_endpoint() const {
  return core_->local();
}

Status Ns3UdpSocket::send_to(const Endpoint& to, ByteView payload) {
  return core_->SendTo(to, payload);
}

void Ns3UdpSocket::set_receive_handler(ReceiveHandler handler) {
  core_->SetHandler(std::move(handler));
}

}  // namespace warren::sim
