// A STUN binding server (RFC 8489 section 6.3, binding only, no authentication): tells each
// client the source address and port its request arrived from. It will run inside
// `warren relay serve`; for now `warren stun-server` runs it alone.
//
// respond() is the pure core (bytes in, optional bytes out), so a relay that shares one UDP
// socket among protocols can call it directly; start() opens sockets through env.network
// and answers on them.
//
// Policy, per datagram:
//   - not STUN, or fails to parse (including a FINGERPRINT present but wrong): counted
//     drop, no reply. A request without FINGERPRINT is fine (coturn's client sends none).
//   - a binding request with comprehension-required attributes we don't understand: 420
//     Unknown Attribute listing them.
//   - any other request method: 400 Bad Request.
//   - indications (binding keepalives) and responses: counted drop, no reply.
//   - otherwise: a success response with XOR-MAPPED-ADDRESS = `from`, SOFTWARE and
//     FINGERPRINT.
// A 420 lists at most kStunMaxUnknownAttributes types, so a forged request cannot make the
// reply much larger than itself.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/net/bytes.h"
#include "nodes/net/endpoint.h"
#include "nodes/net/env.h"
#include "nodes/net/result.h"
#include "nodes/net/udp_socket.h"

namespace warren {

struct StunServerStats {
  uint64_t binding_requests = 0;  // answered with a success response
  uint64_t error_responses = 0;   // 400 or 420 sent
  uint64_t malformed = 0;         // dropped: not STUN or failed to parse
  uint64_t ignored = 0;           // dropped: indications and responses
  uint64_t send_failures = 0;     // a reply the socket refused to send
};

class StunServer {
 public:
  // At most this many listening sockets: one per address family and interface is what a
  // relay needs; more is a configuration mistake worth an error.
  static constexpr size_t kMaxListenSockets = 16;

  // `env` must outlive the server. `software` goes into the SOFTWARE attribute of replies
  // (empty: none).
  explicit StunServer(Env& env, std::string software = "warren");
  ~StunServer();
  StunServer(const StunServer&) = delete;
  StunServer& operator=(const StunServer&) = delete;

  // Opens one UDP socket per endpoint (IPv4 or IPv6; port 0 picks one). On any failure no
  // socket stays open and the error names the endpoint. Call once.
  Status start(const std::vector<Endpoint>& listen);
  // The bound endpoints, in the order given to start() (with the chosen ports).
  std::vector<Endpoint> local_endpoints() const;

  // The reply to `request` received from `from`, or nullopt to send nothing. Updates stats.
  std::optional<Bytes> respond(const Endpoint& from, ByteView request);

  const StunServerStats& stats() const { return stats_; }

 private:
  void on_datagram(UdpSocket& socket, const Endpoint& from, ByteView payload);

  Env& env_;
  Logger log_;
  std::string software_;
  StunServerStats stats_;
  std::vector<std::unique_ptr<UdpSocket>> sockets_;
};

}  // namespace warren
