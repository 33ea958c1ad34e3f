#include "nodes/real/real_stream_listener.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include "nodes/real/accept_loop.h"
#include "nodes/real/asio_endpoint.h"
#include "nodes/real/real_stream.h"

namespace warren {

namespace ip = boost::asio::ip;
using boost::system::error_code;

struct RealStreamListener::State : AcceptLoop<ip::tcp> {
  explicit State(boost::asio::io_context& io)
      : AcceptLoop<ip::tcp>(io, kAcceptRetryDelay, [](ip::tcp::socket socket) {
          return RealStream::accepted(std::move(socket));
        }) {}
  Endpoint local;
};

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
  state_->shutdown();
}

Endpoint RealStreamListener::local_endpoint() const {
  return state_->local;
}

void RealStreamListener::set_accept_handler(AcceptHandler handler) {
  state_->set_handler(std::move(handler));
}

}  // namespace warren
