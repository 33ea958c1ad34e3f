// The real backend's streams (Boost.Asio): TCP (TCP_NODELAY) and Unix-domain sockets, one
// implementation for both. A Unix stream has no IP endpoints (local_endpoint/remote_endpoint
// are Endpoint()) and its messages name the socket path.
//
// Lifetime: all I/O state lives in a shared object held by the pending asio operations, and
// every completion first checks whether the owner still wants to hear about it, so a handler
// may destroy its Stream and nothing runs afterwards.
//
// Closing: destroying a Stream without close() aborts it (RST). close() is graceful: queued
// bytes are flushed, then the write side is shut down and incoming bytes are read and
// discarded until the peer closes too (or kCloseLinger passes), so the peer sees a clean EOF
// rather than a reset. Destroying the Stream after close() does not cut that short.
//
// Bytes are read only once handlers are set, so an unattended stream is held back by TCP flow
// control rather than buffered here.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <memory>
#include <string>

#include "nodes/net/stream.h"
#include "nodes/net/time.h"

namespace warren {

class RealStream final : public Stream {
 public:
  static constexpr size_t kReadBufferSize = 65536;
  // Queued chunks handed to one send call (gathered writes; far below IOV_MAX).
  static constexpr size_t kMaxBuffersPerWrite = 16;
  // How long a graceful close may wait for the flush and the peer's FIN before the socket is
  // closed regardless; bounds the resources a vanished peer can pin.
  static constexpr Duration kCloseLinger = Duration::seconds(5);

  // Starts connecting; the outcome arrives as on_connected or on_closed(error).
  static std::unique_ptr<Stream> connect(boost::asio::io_context& io, const Endpoint& remote);
  // Wraps an accepted, connected socket.
  static std::unique_ptr<Stream> accepted(boost::asio::ip::tcp::socket socket);
  // The same over a Unix-domain socket at `path` (for local admin sockets).
  static std::unique_ptr<Stream> connect_unix(boost::asio::io_context& io,
                                              const std::string& path);
  static std::unique_ptr<Stream> accepted_unix(boost::asio::local::stream_protocol::socket socket,
                                               const std::string& path);
  ~RealStream() override;

  void set_handlers(Handlers handlers) override;
  Status write(ByteView data) override;
  size_t pending_write_bytes() const override;
  void close() override;
  bool connected() const override;
  Endpoint local_endpoint() const override;
  Endpoint remote_endpoint() const override;

  class State;  // the I/O state, shared with pending operations; per protocol in the .cc

 private:
  explicit RealStream(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace warren
