// Stream over an ns-3 TCP socket (TcpSocketFactory). Writes go to an unbounded local queue
// (protocol code bounds it through pending_write_bytes) that is handed to the ns-3 socket as
// its send buffer frees up (GetTxAvailable / send callback). Events that arrive before
// handlers are set are held: on_connected, the received bytes (left in ns-3's receive buffer,
// so the peer sees flow control) and the close; they are delivered, in that order, from an
// event scheduled by set_handlers.
//
// Close semantics: close() stops all handlers at once, flushes the queue, then closes the TCP
// connection (FIN); the flush continues after the Stream object is destroyed. Destroying a
// Stream without close() aborts: the queue is discarded and the ns-3 socket closed (ns-3 has
// no public reset, so the peer sees a FIN after ns-3's own buffer drains). A peer close (FIN)
// delivers any remaining data, then on_closed(ok); bytes still queued are flushed afterwards.
//
// A reset answering the SYN fails the connection at once ("refused"), as on a real OS; ns-3
// 3.37 itself ignores it and retries its SYN for minutes.
//
// Lifetime: ns-3 calls back into a reference-counted core, never into this object.
#pragma once

#include <memory>

#include <ns3/node.h>
#include <ns3/ptr.h>
#include <ns3/socket.h>

#include "nodes/net/stream.h"

namespace warren::sim {

// TCP segment size for every socket warren opens: fits a 1500-byte MTU under IPv6 + TCP with
// timestamps (1500 - 40 - 32). ns-3's default of 536 would quadruple the per-byte event cost.
inline constexpr uint32_t kTcpSegmentBytes = 1428;

class Ns3Stream final : public Stream {
 public:
  // Starts connecting from `node` to `remote`. Failures (family not on the node, no route,
  // refused, timed out) arrive as on_closed with an error.
  static std::unique_ptr<Stream> Connect(ns3::Ptr<ns3::Node> node, const Endpoint& remote);
  // Wraps a connection a listener accepted.
  static std::unique_ptr<Stream> Adopt(ns3::Ptr<ns3::Socket> socket, const Endpoint& remote);
  ~Ns3Stream() override;

  void set_handlers(Handlers handlers) override;
  Status write(ByteView data) override;
  size_t pending_write_bytes() const override;
  void close() override;
  bool connected() const override;
  Endpoint local_endpoint() const override;
  Endpoint remote_endpoint() const override;

  class Core;  // the part ns-3 calls back into; defined in the .cc

 private:
  explicit Ns3Stream(ns3::Ptr<Core> core);
  ns3::Ptr<Core> core_;
};

}  // namespace warren::sim
