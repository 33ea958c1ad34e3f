#include "nodes/relay/stun_server.h"

#include "nodes/common/stun_message.h"

namespace warren {

StunServer::StunServer(Env& env, std::string software)
    : env_(env), log_(env.log.child("stun-server")), software_(std::move(software)) {}

StunServer::~StunServer() = default;

Status StunServer::start(const std::vector<Endpoint>& listen) {
  if (!sockets_.empty()) return make_error("STUN server already started");
  if (listen.empty()) return make_error("STUN server needs at least one listen address");
  if (listen.size() > kMaxListenSockets) {
    return make_error("STUN server given " + std::to_string(listen.size()) +
                      " listen addresses; at most " + std::to_string(kMaxListenSockets) +
                      " are supported");
  }
  std::vector<std::unique_ptr<UdpSocket>> opened;
  for (const Endpoint& e : listen) {
    auto socket = env_.network.open_udp(e);
    if (!socket) {
      return make_error("cannot listen for STUN on " + e.to_string() + ": " +
                        socket.error().message);
    }
    opened.push_back(std::move(*socket));
  }
  sockets_ = std::move(opened);
  for (auto& s : sockets_) {
    UdpSocket* raw = s.get();
    raw->set_receive_handler([this, raw](const Endpoint& from, const Endpoint&, ByteView p) {
      on_datagram(*raw, from, p);
    });
    log_.info("listening on " + raw->local_endpoint().to_string());
  }
  return Status::success();
}

std::vector<Endpoint> StunServer::local_endpoints() const {
  std::vector<Endpoint> out;
  for (const auto& s : sockets_) out.push_back(s->local_endpoint());
  return out;
}

void StunServer::on_datagram(UdpSocket& socket, const Endpoint& from, ByteView payload) {
  auto reply = respond(from, payload);
  if (!reply) return;
  Status sent = socket.send_to(from, *reply);
  if (!sent) {
    ++stats_.send_failures;
    log_.debug("reply to " + from.to_string() + " not sent: " + sent.error().message);
  }
}

std::optional<Bytes> StunServer::respond(const Endpoint& from, ByteView request) {
  auto parsed = parse_stun(request);
  if (!parsed) {
    ++stats_.malformed;
    if (log_.enabled(LogLevel::debug)) {
      log_.debug("dropped " + std::to_string(request.size()) + " bytes from " + from.to_string() +
                 ": " + parsed.error().message);
    }
    return std::nullopt;
  }
  const StunMessage& m = *parsed;
  if (m.message_class != StunClass::request) {
    ++stats_.ignored;
    log_.debug(std::string("ignored a ") + to_string(m.message_class) + " from " +
               from.to_string());
    return std::nullopt;
  }
  // Replies always carry FINGERPRINT, whether or not the request did: RFC 8489 lets a
  // server add one, and clients that do not check it skip it as an optional attribute.
  if (m.method != kStunMethodBinding) {
    ++stats_.error_responses;
    log_.debug("400 to " + from.to_string() + ": request method " + std::to_string(m.method) +
               " is not Binding");
    StunMessage reply;  // an error response of the request's own method
    reply.message_class = StunClass::error;
    reply.method = m.method;
    reply.transaction_id = m.transaction_id;
    reply.error_code = StunErrorCode{kStunErrorBadRequest, "Bad Request: only Binding is served"};
    if (!software_.empty()) reply.software = software_;
    reply.fingerprint = true;
    return serialize_stun(reply);
  }
  if (!m.unknown_required.empty()) {
    ++stats_.error_responses;
    if (log_.enabled(LogLevel::debug)) {
      std::string types;
      for (uint16_t t : m.unknown_required) {
        const uint8_t be[2] = {static_cast<uint8_t>(t >> 8), static_cast<uint8_t>(t)};
        types += (types.empty() ? " 0x" : ", 0x") + to_hex(ByteView(be, 2));
      }
      log_.debug("420 to " + from.to_string() + ": unknown comprehension-required attribute(s)" +
                 types);
    }
    return build_binding_error(m.transaction_id, kStunErrorUnknownAttribute,
                               stun_error_reason(kStunErrorUnknownAttribute), m.unknown_required,
                               software_);
  }
  ++stats_.binding_requests;
  log_.debug("binding request from " + from.to_string() +
             (m.fingerprint ? "" : " (no fingerprint)"));
  return build_binding_success(m.transaction_id, from, software_);
}

}  // namespace warren
