// The real backend's TCP listener: an asio acceptor (IPV6_V6ONLY for IPv6, SO_REUSEADDR so a
// restarted server can rebind while old connections linger in TIME_WAIT). Connections are
// accepted only while a handler is set; before that they wait in the kernel's backlog.
// Destroying the listener closes it; no handler runs afterwards.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "nodes/net/stream.h"
#include "nodes/net/time.h"

namespace warren {

class RealStreamListener final : public StreamListener {
 public:
  // Passed to listen(2); the kernel caps it at net.core.somaxconn.
  static constexpr int kBacklog = 128;
  // Pause after a failed accept (EMFILE, ENOBUFS) so a persistent failure cannot spin.
  static constexpr Duration kAcceptRetryDelay = Duration::milliseconds(100);

  // Errors name the address: "cannot listen on 192.0.2.1:80: Address already in use".
  static Result<std::unique_ptr<StreamListener>> open(boost::asio::io_context& io,
                                                      const Endpoint& bind);
  ~RealStreamListener() override;

  Endpoint local_endpoint() const override;
  void set_accept_handler(AcceptHandler handler) override;

  struct State;

 private:
  explicit RealStreamListener(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace warren
