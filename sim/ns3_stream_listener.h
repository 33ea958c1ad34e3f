// StreamListener over a listening ns-3 TCP socket. Accepted connections become Ns3Streams;
// while no accept handler is set they wait in a bounded backlog (kMaxAcceptBacklog), beyond
// which new connection requests are refused. Destroying the listener closes the listening
// socket and aborts the streams still in the backlog; accepted streams live on.
#pragma once

#include <memory>

#include <ns3/node.h>
#include <ns3/ptr.h>

#include "nodes/net/stream.h"

namespace warren::sim {

// Accepted but not yet handed-out connections per listener: the value Linux uses for
// somaxconn; a role that sets its handler at once never gets near it.
inline constexpr size_t kMaxAcceptBacklog = 4096;

class Ns3StreamListener final : public StreamListener {
 public:
  // Binds and listens on `node`. The caller (Ns3Network) has checked the family and address.
  static Result<std::unique_ptr<StreamListener>> Open(ns3::Ptr<ns3::Node> node,
                                                      const Endpoint& bind);
  ~Ns3StreamListener() override;

  Endpoint local_endpoint() const override;
  void set_accept_handler(AcceptHandler handler) override;

  class Core;  // the part ns-3 calls back into; defined in the .cc

 private:
  explicit Ns3StreamListener(ns3::Ptr<Core> core);
  ns3::Ptr<Core> core_;
};

}  // namespace warren::sim
