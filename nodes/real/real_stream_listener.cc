#include "nodes/real/real_stream_listener.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "nodes/real/asio_endpoint.h"
#include "nodes/real/real_stream.h"

namespace warren {

namespace ip = boost::asio::ip;
using boost::system::error_code;

struct RealStreamListener::State : std::enable_shared_from_this<State> {
  explicit State(boost::asio::io_context& io) : acceptor(io), retry(io) {}

  void start_accept();

  ip::tcp::acceptor acceptor;
  boost::asio::steady_timer retry;
  Endpoint local;
  bool alive = true;
  bool accepting = false;
  // Shared so that replacing or dropping the handler from inside it is safe.
  std::shared_ptr<AcceptHandler> handler;
};

void RealStreamListener::State::start_accept() {
  if (accepting || !alive || !handler || !*handler) return;
  accepting = true;
  acceptor.async_accept([self = shared_from_this()](const error_code& ec, ip::tcp::socket socket) {
    self->accepting = false;
    if (!self->alive || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors or buffers: the connection waits in the backlog; try again later.
      self->retry.expires_after(std::chrono::nanoseconds(kAcceptRetryDelay.ns()));
      self->retry.async_wait([self](const error_code& e) {
        if (!e) self->start_accept();
      });
      return;
    }
    std::shared_ptr<AcceptHandler> h = self->handler;
    if (h && *h) (*h)(RealStream::accepted(std::move(socket)));
    self->start_accept();  // a no-op if the handler destroyed the listener
  });
}

Result<std::unique_ptr<StreamListener>> RealStreamListener::open(boost::asio::io_context& io,
                                                                 const Endpoint& bind) {
  auto state = std::make_shared<State>(io);
  auto fail = [&](const error_code& ec) {
    return make_error("cannot listen on " + bind.to_string() + ": " + ec.message());
  };
  error_code ec;
  const bool v6 = bind.address.is_v6();
  state->acceptor.open(v6 ? ip::tcp::v6() : ip::tcp::v4(), ec);
  if (ec) return fail(ec);
  if (v6) state->acceptor.set_option(ip::v6_only(true), ec);
  if (!ec) state->acceptor.set_option(ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(to_asio_endpoint<ip::tcp>(bind), ec);
  if (!ec) state->acceptor.listen(kBacklog, ec);
  if (ec) return fail(ec);
  auto local = state->acceptor.local_endpoint(ec);
  if (ec) return fail(ec);
  state->local = from_asio_endpoint(local);
  return std::unique_ptr<StreamListener>(new RealStreamListener(std::move(state)));
}

RealStreamListener::~RealStreamListener() {
  state_->alive = false;
  state_->handler.reset();
  state_->retry.cancel();
  error_code ignored;
  state_->acceptor.close(ignored);
}

Endpoint RealStreamListener::local_endpoint() const {
  return state_->local;
}

void RealStreamListener::set_accept_handler(AcceptHandler handler) {
  state_->handler = std::make_shared<AcceptHandler>(std::move(handler));
  state_->start_accept();
}

}  // namespace warren
