// ChannelAcceptor (declared in secure_channel.h): the server side of the secure channel.
#include <algorithm>
#include <map>
#include <utility>

#include "nodes/common/channel_protocol.h"
#include "nodes/common/established_channel.h"
#include "nodes/common/http_message.h"
#include "nodes/common/secure_channel.h"

namespace warren {
namespace {

std::string response_with_body(int status, const std::string& body,
                               const std::vector<HttpHeader>& extra, const char* content_type) {
  HttpResponseHead head;
  head.status = status;
  head.reason = http_reason_phrase(status);
  head.headers.add("Content-Type", content_type);
  head.headers.add("Content-Length", std::to_string(body.size()));
  for (const HttpHeader& h : extra) head.headers.fields.push_back(h);
  return format_http_response_head(head) + body;
}

}  // namespace

struct ChannelAcceptor::Impl {
  class Connection;

  Impl(Env& e, const PrivateKey& key, ChannelOptions o)
      : env(e), static_key(key), public_key(warren::public_key(key)), options(std::move(o)) {}

  void accept(std::unique_ptr<Stream> stream);
  // Removes a pending connection; the caller must not touch it afterwards.
  void drop(uint64_t id) { pending.erase(id); }

  Env& env;
  PrivateKey static_key;
  PublicKey public_key;
  ChannelOptions options;
  ChannelHandler handler;
  ChannelAcceptorCounters counters;
  std::map<uint64_t, std::unique_ptr<Connection>> pending;
  uint64_t next_id = 1;
};

// One accepted stream until it is answered and closed, or handed over as a channel.
class ChannelAcceptor::Impl::Connection {
 public:
  Connection(Impl& owner, uint64_t id, std::unique_ptr<Stream> stream)
      : owner_(owner), id_(id), stream_(std::move(stream)), timeout_(owner.env.clock) {}

  void start() {
    Stream::Handlers handlers;
    handlers.on_data = [this](ByteView data) { on_data(data); };
    handlers.on_closed = [this](const Status&) { owner_.drop(id_); };
    stream_->set_handlers(std::move(handlers));
    timeout_.arm_after(owner_.options.handshake_timeout, [this] {
      ++owner_.counters.timed_out;
      owner_.env.log.debug("channel: " + stream_->remote_endpoint().to_string() +
                           " sent no complete request within the handshake timeout");
      owner_.drop(id_);  // destroys the stream: the connection is reset
    });
  }

 private:
  void on_data(ByteView data) {
    buffer_.insert(buffer_.end(), data.begin(), data.end());
    // A head can only complete at a line end. Re-parsing on every byte of a slow client would
    // cost O(head^2); the first chunk is always parsed so non-HTTP bytes get their 400 at once.
    const bool first = buffer_.size() == data.size();
    const bool line_end = std::find(data.begin(), data.end(), '\n') != data.end();
    if (!first && !line_end && buffer_.size() <= kHttpMaxHeadBytes) return;
    auto parsed = parse_http_request_head(buffer_);
    switch (parsed.state) {
      case HttpParseState::incomplete:
        return;
      case HttpParseState::error:
        reject(400, parsed.error);
        return;
      case HttpParseState::parsed:
        route(parsed.head, parsed.consumed);
        return;
    }
  }

  void route(const HttpRequestHead& request, size_t consumed) {
    const std::string path = request.target.substr(0, request.target.find('?'));
    auto body = request.headers.content_length();
    if (!body.ok()) return reject(400, body.error().message);
    if (body->value_or(0) != 0) return reject(400, "this endpoint takes no request body");
    if (path == kChannelKeyPath) {
      if (request.method != "GET") {
        return reject(405, "use GET for " + std::string(kChannelKeyPath), {{"Allow", "GET"}});
      }
      return serve_key();
    }
    if (path != owner_.options.path) {
      return reject(404, "no such endpoint; this server offers GET " +
                             std::string(kChannelKeyPath) + " and POST " + owner_.options.path);
    }
    if (request.method != "POST") {
      return reject(
          405, "use POST with Upgrade: " + owner_.options.protocol + " for " + owner_.options.path,
          {{"Allow", "POST"}});
    }
    const std::string* upgrade = request.headers.find("Upgrade");
    const std::string* connection = request.headers.find("Connection");
    if (upgrade == nullptr || !http_list_contains(*upgrade, owner_.options.protocol) ||
        connection == nullptr || !http_list_contains(*connection, "upgrade")) {
      return reject(
          426,
          "this endpoint needs Upgrade: " + owner_.options.protocol + " and Connection: Upgrade",
          {{"Upgrade", owner_.options.protocol}, {"Connection", "Upgrade, close"}});
    }
    if (request.headers.count(kChannelHandshakeHeader) != 1) {
      return reject(400, "exactly one " + std::string(kChannelHandshakeHeader) +
                             " header (base64 of the Noise initiation) is required");
    }
    auto initiation =
        base64_decode(*request.headers.find(kChannelHandshakeHeader), kMaxInitiationBytes);
    if (!initiation.ok()) {
      return reject(400, std::string(kChannelHandshakeHeader) + ": " + initiation.error().message);
    }
    handshake(*initiation, consumed);
  }

  void serve_key() {
    ++owner_.counters.key_requests;
    answer_and_close(response_with_body(
        200, key_document(owner_.public_key, owner_.options.protocol),
        {{"Cache-Control", "no-store"}, {"Connection", "close"}}, "application/json"));
  }

  void handshake(const Bytes& initiation, size_t consumed) {
    Impl& owner = owner_;
    noise::HandshakeConfig config;
    config.pattern = kChannelNoisePattern;
    config.role = noise::Role::responder;
    config.prologue = channel_prologue(owner.options.protocol);
    config.local_static = owner.static_key;
    auto state = noise::HandshakeState::create(config, owner.env.rng);
    Result<Bytes> response = state.ok() ? Result<Bytes>(Bytes()) : state.error();
    if (state.ok()) {
      auto payload = state->read_message(initiation);  // the payload is reserved: ignored
      response = payload.ok() ? state->write_message(ByteView()) : payload.error();
    }
    std::string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: " + owner.options.protocol +
                       "\r\nConnection: Upgrade\r\n\r\n";
    Bytes wire(head.begin(), head.end());
    if (!response.ok()) {
      ++owner.counters.rejected_handshake;
      owner.env.log.debug("channel: handshake from " + stream_->remote_endpoint().to_string() +
                          " failed: " + response.error().message);
      const Bytes error =
          error_frame("handshake failed (this server's key is " + to_base64(owner.public_key) +
                      "): " + response.error().message);
      wire.insert(wire.end(), error.begin(), error.end());
      answer_and_close(std::string(wire.begin(), wire.end()));
      return;
    }
    (void)append_frame(wire, FrameType::handshake_response, *response);  // 48 bytes
    auto ciphers = state->split();
    if (!stream_->write(wire).ok() || !ciphers.ok()) {
      owner.drop(id_);
      return;
    }
    ++owner.counters.handshakes_completed;
    FrameDecoder decoder;
    decoder.feed(ByteView(buffer_).sub(consumed));  // nothing, from a well-behaved client
    auto channel = std::make_unique<EstablishedChannel>(
        owner.env, std::move(stream_), std::move(*ciphers), state->remote_static(),
        owner.options.max_message_bytes, std::move(decoder));
    ChannelHandler handler = owner.handler;
    owner.drop(id_);  // destroys `this`
    if (handler) {
      handler(std::move(channel));  // may destroy the acceptor; nothing after
    } else {
      owner.env.log.warn("channel: no channel handler set; dropping an established channel");
    }
  }

  void reject(int status, const std::string& reason, const std::vector<HttpHeader>& extra = {}) {
    ++owner_.counters.rejected_http;
    owner_.env.log.debug("channel: answering " + std::to_string(status) + " to " +
                         stream_->remote_endpoint().to_string() + ": " + reason);
    std::vector<HttpHeader> headers = extra;
    if (status != 426) headers.push_back({"Connection", "close"});
    answer_and_close(
        response_with_body(status, reason + "\n", headers, "text/plain; charset=utf-8"));
  }

  void answer_and_close(const std::string& bytes) {
    (void)stream_->write(ByteView(std::string_view(bytes)));
    stream_->close();  // flushes the answer even though the stream is destroyed right away
    owner_.drop(id_);  // destroys `this`
  }

  Impl& owner_;
  uint64_t id_;
  std::unique_ptr<Stream> stream_;
  Timer timeout_;
  Bytes buffer_;
};

void ChannelAcceptor::Impl::accept(std::unique_ptr<Stream> stream) {
  if (pending.size() >= ChannelAcceptor::kMaxPendingConnections) {
    ++counters.refused_busy;
    env.log.warn("channel: refusing " + stream->remote_endpoint().to_string() + ": " +
                 std::to_string(ChannelAcceptor::kMaxPendingConnections) +
                 " handshakes already in progress");
    return;  // the stream is destroyed: the connection is reset
  }
  const uint64_t id = next_id++;
  auto owned = std::make_unique<Connection>(*this, id, std::move(stream));
  Connection* connection = owned.get();
  pending.emplace(id, std::move(owned));
  connection->start();
}

ChannelAcceptor::ChannelAcceptor(Env& env, const PrivateKey& static_key, ChannelOptions options)
    : impl_(std::make_unique<Impl>(env, static_key, std::move(options))) {}

ChannelAcceptor::~ChannelAcceptor() = default;

void ChannelAcceptor::set_channel_handler(ChannelHandler handler) {
  impl_->handler = std::move(handler);
}

void ChannelAcceptor::accept(std::unique_ptr<Stream> stream) {
  impl_->accept(std::move(stream));
}

const PublicKey& ChannelAcceptor::public_key() const {
  return impl_->public_key;
}

const ChannelAcceptorCounters& ChannelAcceptor::counters() const {
  return impl_->counters;
}

}  // namespace warren
