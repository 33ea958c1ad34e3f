// Whether ns-3 is tearing a node down. Simulator::Destroy disposes a node's protocol stack and
// its applications in an order we do not control; a socket closed from a role's destructor
// then may find IPv4/IPv6 already disposed (a TCP close would send a FIN or RST through them
// and crash). While a NodeTeardownScope lives, warren's sockets are only detached from ns-3,
// not closed: the simulation is over, nothing would be sent anyway.
// ns-3 runs on one thread, so a process-wide flag is exact.
#pragma once

namespace warren::sim {

bool InNodeTeardown();

class NodeTeardownScope {
 public:
  NodeTeardownScope();
  ~NodeTeardownScope();
  NodeTeardownScope(const NodeTeardownScope&) = delete;
  NodeTeardownScope& operator=(const NodeTeardownScope&) = delete;
};

}  // namespace warren::sim
