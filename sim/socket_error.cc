#include "sim/socket_error.h"

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

}  // namespace warren::sim
