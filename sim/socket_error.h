// Human-readable names for ns-3 socket errors, for the messages of warren's Status values.
#pragma once

#include <ns3/socket.h>

namespace warren::sim {

// "no route to host", "address in use", ...
const char* DescribeSocketError(ns3::Socket::SocketErrno error);

}  // namespace warren::sim
