#include "nodes/real/real_udp_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

#include "nodes/real/asio_endpoint.h"

namespace warren {

struct RealUdpSocket::State {
  explicit State(boost::asio::io_context& io) : socket(io) {}
  boost::asio::ip::udp::socket socket;
  Endpoint local;
  bool alive = true;  // false once the owner destroyed the socket
  // Shared so that replacing or dropping the handler from inside it never destroys the
  // function that is running.
  std::shared_ptr<ReceiveHandler> handler;
  std::vector<uint8_t> buffer = std::vector<uint8_t>(kReceiveBufferSize);
};

namespace {

using State = RealUdpSocket::State;

// The destination address of the datagram, from its IP_PKTINFO / IPV6_PKTINFO control message.
bool arrival_address(msghdr& msg, IpAddress& out) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      uint8_t b[4];
      std::memcpy(b, &info.ipi_addr, 4);
      out = IpAddress::v4(b[0], b[1], b[2], b[3]);
      return true;
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      std::array<uint8_t, 16> b;
      std::memcpy(b.data(), &info.ipi6_addr, 16);
      out = IpAddress::v6(b);
      return true;
    }
  }
  return false;
}

// Reads up to kMaxDatagramsPerWakeup datagrams. Returns false if the handler destroyed the
// socket (then nothing may be touched but `state`, which the caller holds).
bool receive_batch(const std::shared_ptr<State>& state) {
  const int fd = state->socket.native_handle();
  for (size_t i = 0; i < RealUdpSocket::kMaxDatagramsPerWakeup; ++i) {
    sockaddr_storage from_addr;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo))];
    iovec iov{state->buffer.data(), state->buffer.size()};
    msghdr msg{};
    msg.msg_name = &from_addr;
    msg.msg_namelen = sizeof from_addr;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      continue;  // a transient error (EINTR, a queued ICMP error): try the next datagram
    }
    if ((msg.msg_flags & MSG_TRUNC) != 0) continue;  // cannot be a valid UDP datagram: drop
    Endpoint from;
    if (!from_sockaddr(reinterpret_cast<sockaddr*>(&from_addr), msg.msg_namelen, from)) continue;
    Endpoint local = state->local;
    IpAddress arrived_on;
    if (arrival_address(msg, arrived_on)) local.address = arrived_on;
    std::shared_ptr<UdpSocket::ReceiveHandler> handler = state->handler;
    if (!handler || !*handler) continue;  // no handler yet: dropped, as the contract says
    (*handler)(from, local, ByteView(state->buffer.data(), static_cast<size_t>(n)));
    if (!state->alive) return false;
  }
  return true;
}

void wait_readable(const std::shared_ptr<State>& state) {
  state->socket.async_wait(boost::asio::ip::udp::socket::wait_read,
                           [state](const boost::system::error_code& ec) {
                             if (!state->alive || ec) return;
                             if (!receive_batch(state)) return;
                             wait_readable(state);
                           });
}

std::string describe(const boost::system::error_code& ec) {
  return ec.message();
}

}  // namespace

Result<std::unique_ptr<UdpSocket>> RealUdpSocket::open(boost::asio::io_context& io,
                                                       const Endpoint& bind) {
  namespace ip = boost::asio::ip;
  auto state = std::make_shared<State>(io);
  boost::system::error_code ec;
  const bool v6 = bind.address.is_v6();
  state->socket.open(v6 ? ip::udp::v6() : ip::udp::v4(), ec);
  if (ec) {
    return make_error("cannot bind " + bind.to_string() + ": cannot open an " +
                      to_string(bind.family()) + " UDP socket: " + describe(ec));
  }
  const int fd = state->socket.native_handle();
  const int on = 1;
  int rc = v6 ? ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on)
              : ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  if (rc == 0 && v6) rc = ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
  if (rc != 0) {
    return make_error("cannot bind " + bind.to_string() + ": setsockopt: " + std::strerror(errno));
  }
  state->socket.non_blocking(true, ec);
  if (!ec) state->socket.bind(to_asio_endpoint<ip::udp>(bind), ec);
  if (ec) return make_error("cannot bind " + bind.to_string() + ": " + describe(ec));
  auto local = state->socket.local_endpoint(ec);
  if (ec) return make_error("cannot bind " + bind.to_string() + ": " + describe(ec));
  state->local = from_asio_endpoint(local);
  // Read from the start so that datagrams arriving before a handler is set are dropped
  // rather than delivered late.
  wait_readable(state);
  return std::unique_ptr<UdpSocket>(new RealUdpSocket(std::move(state)));
}

RealUdpSocket::~RealUdpSocket() {
  state_->alive = false;
  state_->handler.reset();
  boost::system::error_code ec;
  state_->socket.close(ec);  // completes the pending wait with operation_aborted
}

Endpoint RealUdpSocket::local_endpoint() const {
  return state_->local;
}

Status RealUdpSocket::send_to(const Endpoint& to, ByteView payload) {
  if (to.family() != state_->local.family()) {
    return make_error("cannot send to " + to.to_string() + " from " + state_->local.to_string() +
                      ": the address families differ (IPv6 sockets carry no IPv4)");
  }
  sockaddr_storage addr;
  const socklen_t addr_len = to_sockaddr(to, addr);
  iovec iov{const_cast<uint8_t*>(payload.data()), payload.size()};
  msghdr msg{};
  msg.msg_name = &addr;
  msg.msg_namelen = addr_len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  const ssize_t n = ::sendmsg(state_->socket.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n >= 0) return Status::success();
  const int err = errno;
  if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
    return make_error("cannot send to " + to.to_string() + ": send buffer full (datagram dropped)");
  }
  return make_error("cannot send to " + to.to_string() + ": " + std::strerror(err));
}

void RealUdpSocket::set_receive_handler(ReceiveHandler handler) {
  state_->handler = std::make_shared<ReceiveHandler>(std::move(handler));
}

}  // namespace warren
