// The accept loop shared by the real backend's TCP and Unix-domain listeners. Internal to
// nodes/real. Connections are accepted only while a handler is set; before that they wait in
// the kernel's backlog. A failed accept (EMFILE, ENOBUFS) is retried after `retry_delay` so a
// persistent failure cannot spin. After shutdown() no handler runs.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "nodes/net/stream.h"
#include "nodes/net/time.h"

namespace warren {

template <typename Protocol>
class AcceptLoop : public std::enable_shared_from_this<AcceptLoop<Protocol>> {
 public:
  using Socket = typename Protocol::socket;
  // Turns an accepted socket into the Stream handed to the handler.
  using Wrap = std::function<std::unique_ptr<Stream>(Socket socket)>;

  AcceptLoop(boost::asio::io_context& io, Duration retry_delay, Wrap wrap)
      : acceptor(io), retry_(io), retry_delay_(retry_delay), wrap_(std::move(wrap)) {}

  void set_handler(StreamListener::AcceptHandler handler) {
    handler_ = std::make_shared<StreamListener::AcceptHandler>(std::move(handler));
    start_accept();
  }

  void shutdown() {
    alive_ = false;
    handler_.reset();
    retry_.cancel();
    boost::system::error_code ignored;
    acceptor.close(ignored);
  }

  typename Protocol::acceptor acceptor;

 private:
  void start_accept() {
    if (accepting_ || !alive_ || !handler_ || !*handler_) return;
    accepting_ = true;
    acceptor.async_accept(
        [self = this->shared_from_this()](const boost::system::error_code& ec, Socket socket) {
          self->on_accept(ec, std::move(socket));
        });
  }

  void on_accept(const boost::system::error_code& ec, Socket socket) {
    accepting_ = false;
    if (!alive_ || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or buffers: the connection waits in the backlog; try again later.
      retry_.expires_after(std::chrono::nanoseconds(retry_delay_.ns()));
      retry_.async_wait([self = this->shared_from_this()](const boost::system::error_code& e) {
        if (!e) self->start_accept();
      });
      return;
    }
    // Shared so that replacing or dropping the handler from inside it is safe.
    std::shared_ptr<StreamListener::AcceptHandler> h = handler_;
    if (h && *h) (*h)(wrap_(std::move(socket)));
    start_accept();  // a no-op if the handler destroyed the listener
  }

  boost::asio::steady_timer retry_;
  Duration retry_delay_;
  Wrap wrap_;
  bool alive_ = true;
  bool accepting_ = false;
  std::shared_ptr<StreamListener::AcceptHandler> handler_;
};

}  // namespace warren
