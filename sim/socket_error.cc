#include "sim/socket_error.h"

#include "nat-models/ns3/ns3_address.h"

namespace warren::sim {

const char* DescribeSocketError(ns3::Socket::SocketErrno error) {
  switch (error) {
    case ns3::Socket::ERROR_NOTERROR:
      return "no error";
    case ns3::Socket::ERROR_ISCONN:
      return "already connected";
    case ns3::Socket::ERROR_NOTCONN:
      return "not connected";
    case ns3::Socket::ERROR_MSGSIZE:
      return "message too large";
    case ns3::Socket::ERROR_AGAIN:
      return "send buffer full";
    case ns3::Socket::ERROR_SHUTDOWN:
      return "socket shut down";
    case ns3::Socket::ERROR_OPNOTSUPP:
      return "operation not supported";
    case ns3::Socket::ERROR_AFNOSUPPORT:
      return "address family not supported";
    case ns3::Socket::ERROR_INVAL:
      return "invalid argument";
    case ns3::Socket::ERROR_BADF:
      return "socket closed";
    case ns3::Socket::ERROR_NOROUTETOHOST:
      return "no route to host";
    case ns3::Socket::ERROR_NODEV:
      return "no such device";
    case ns3::Socket::ERROR_ADDRNOTAVAIL:
      return "address not available";
    case ns3::Socket::ERROR_ADDRINUSE:
      return "address in use";
    case ns3::Socket::SOCKET_ERRNO_LAST:
      break;
  }
  return "unknown socket error";
}

Error BindFailure(ns3::Ptr<ns3::Socket> socket, const std::string& what, const Endpoint& bind,
                  const std::string& holder) {
  auto error = socket->GetErrno();
  socket->Close();
  std::string hint = error == ns3::Socket::ERROR_ADDRINUSE
                         ? ": pick another port or close the " + holder + " holding it"
                         : "";
  return make_error("cannot " + what + " " + bind.to_string() + ": " + DescribeSocketError(error) +
                    hint);
}

Endpoint BoundEndpoint(ns3::Ptr<ns3::Socket> socket, const Endpoint& bind) {
  ns3::Address name;
  socket->GetSockName(name);
  Endpoint local = bind;
  if (auto bound = from_ns3_socket_address(name)) local.port = bound->port;
  return local;
}

}  // namespace warren::sim
