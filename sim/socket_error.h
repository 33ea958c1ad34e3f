// Human-readable names for ns-3 socket errors, for the messages of warren's Status values,
// and the two steps every bound ns-3 socket shares: reporting a failed bind and learning the
// port it got.
#pragma once

#include <string>

#include <ns3/ptr.h>
#include <ns3/socket.h>

#include "nodes/net/endpoint.h"
#include "nodes/net/result.h"

namespace warren::sim {

// "no route to host", "address in use", ...
const char* DescribeSocketError(ns3::Socket::SocketErrno error);

// Closes `socket` after a failed bind or listen and says why: "cannot <what> <bind>: <reason>",
// with a hint to free the port when it is in use by another `holder` ("socket", "listener").
Error BindFailure(ns3::Ptr<ns3::Socket> socket, const std::string& what, const Endpoint& bind,
                  const std::string& holder);

// `bind` with the port the socket actually got (the chosen one when `bind` asked for port 0).
Endpoint BoundEndpoint(ns3::Ptr<ns3::Socket> socket, const Endpoint& bind);

}  // namespace warren::sim
