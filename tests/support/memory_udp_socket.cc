#include "tests/support/memory_udp_socket.h"

namespace warren {
namespace memory_detail {

MemoryUdpSocket::MemoryUdpSocket(MemoryHost& host, const MemoryHost::BindKey& key)
    : host_(host), key_(key) {
  host_.udp_[key_] = this;
}

MemoryUdpSocket::~MemoryUdpSocket() {
  host_.release_udp(key_);
}

Status MemoryUdpSocket::send_to(const Endpoint& to, ByteView payload) {
  Endpoint local = local_endpoint();
  if (to.family() != key_.family) {
    return make_error("cannot send to " + to.to_string() + " from " + local.to_string() +
                      ": the address families differ (IPv6 sockets carry no IPv4)");
  }
  if (to.port == 0 || to.address.is_unspecified() || to.address.is_multicast()) {
    return make_error("cannot send to " + to.to_string() + ": Invalid argument");
  }
  if (key_.address.is_loopback() && !host_.owns(to.address)) {
    return make_error("cannot send to " + to.to_string() + " from " + local.to_string() +
                      ": Invalid argument (a loopback socket reaches only its own host)");
  }
  Endpoint from(host_.source_for(key_.address, to.address), key_.port);
  host_.world().send_udp(host_, from, to, payload);
  return Status::success();
}

void MemoryUdpSocket::set_receive_handler(ReceiveHandler handler) {
  handler_ = std::make_shared<ReceiveHandler>(std::move(handler));
}

void MemoryUdpSocket::deliver(const Endpoint& from, const Endpoint& local, ByteView payload) {
  std::shared_ptr<ReceiveHandler> handler = handler_;
  if (handler && *handler) (*handler)(from, local, payload);
}

}  // namespace memory_detail
}  // namespace warren
