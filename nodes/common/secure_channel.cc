// The client side of the secure channel: fetch_server_key and open_channel. The server side is
// channel_acceptor.cc, the established channel established_channel.cc.
#include "nodes/common/secure_channel.h"

#include <optional>
#include <utility>

#include "nodes/common/channel_protocol.h"
#include "nodes/common/established_channel.h"
#include "nodes/common/http_message.h"

namespace warren {
namespace {

// A refusal's explanation (the text/plain body of a 4xx) is read up to this many bytes; the
// rest is not worth waiting for.
constexpr size_t kMaxRefusalBodyBytes = 1024;

// One HTTP request to the server and the answer, up to where the derived class takes over.
// Every path ends in exactly one report (success or error) unless the object is destroyed
// first; the report is the last thing it does, since the receiver may destroy the object.
class ClientAttempt : public PendingChannel {
 public:
  ClientAttempt(Env& env, const Endpoint& server, std::string host, ChannelOptions options)
      : env_(env),
        server_(server),
        host_(std::move(host)),
        options_(std::move(options)),
        timer_(env.clock) {}

 protected:
  // Connects, queues `request` (sent once connected) and starts the handshake timeout.
  void begin(const std::string& request) {
    stream_ = env_.network.connect(server_);
    Stream::Handlers handlers;
    handlers.on_connected = [this] { phase_ = "waiting for the HTTP answer"; };
    handlers.on_data = [this](ByteView data) { on_data(data); };
    handlers.on_closed = [this](const Status& reason) { on_closed(reason); };
    stream_->set_handlers(std::move(handlers));
    (void)stream_->write(ByteView(std::string_view(request)));  // fails only once closed
    timer_.arm_after(options_.handshake_timeout, [this] {
      fail("no answer from " + describe() + " within " + to_string(options_.handshake_timeout) +
           " (" + phase_ + ")");
    });
  }

  // Reports an error from the clock, for failures found before any I/O.
  void fail_soon(std::string message) {
    timer_.arm_after(Duration::zero(), [this, message] { fail(message); });
  }

  // Tears the connection down (a reset) and reports. `this` may be gone afterwards.
  void fail(const std::string& message) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    stream_.reset();
    report_error(message);
  }

  // Marks the attempt done without reporting (the derived class reports success itself).
  void finish() {
    finished_ = true;
    timer_.cancel();
  }

  std::string describe() const {
    return "the server at " + server_.to_string() + " (Host: " + host_ + ")";
  }

  // The head arrived; rest_ holds what followed it.
  virtual void on_head() = 0;
  // More bytes after the head.
  virtual void on_more(ByteView data) = 0;
  // The server closed cleanly after the head.
  virtual void on_eof() = 0;
  virtual void report_error(const std::string& message) = 0;

  // For an unexpected status: waits (bounded) for the explanation in the body, then fails
  // with it. Returns after failing or arranging to wait.
  void refuse() {
    refusing_ = true;
    check_refusal(false);
  }
  // Body bytes of a refusal; `eof` when the server closed.
  void check_refusal(bool eof) {
    auto length = head_->headers.content_length();
    const size_t want = length.ok() && *length ? static_cast<size_t>(**length) : 0;
    const bool complete = eof || !length.ok() || !*length || rest_.size() >= want ||
                          rest_.size() >= kMaxRefusalBodyBytes;
    if (!complete) return;
    std::string body(ByteView(rest_).as_string().substr(0, kMaxRefusalBodyBytes));
    for (char& c : body) c = (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
    std::string text = printable(body, kMaxRefusalBodyBytes);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    fail(describe() + " answered " + std::to_string(head_->status) + " " +
         printable(head_->reason, 80) + (text.empty() ? "" : ": " + text));
  }

  Env& env_;
  Endpoint server_;
  std::string host_;
  ChannelOptions options_;
  std::unique_ptr<Stream> stream_;
  Timer timer_;
  std::string phase_ = "connecting";
  std::optional<HttpResponseHead> head_;
  Bytes rest_;  // bytes after the head, for the derived class
  bool refusing_ = false;

 private:
  void on_data(ByteView data) {
    if (finished_) return;
    if (head_) {
      if (refusing_) {
        rest_.insert(rest_.end(), data.begin(), data.end());
        check_refusal(false);
        return;
      }
      on_more(data);
      return;
    }
    head_buffer_.insert(head_buffer_.end(), data.begin(), data.end());
    auto parsed = parse_http_response_head(head_buffer_);
    if (parsed.state == HttpParseState::incomplete) return;
    if (parsed.state == HttpParseState::error) {
      fail(describe() + " did not answer with valid HTTP (" + parsed.error +
           "); is it a warren server?");
      return;
    }
    head_ = std::move(parsed.head);
    rest_.assign(head_buffer_.begin() + static_cast<std::ptrdiff_t>(parsed.consumed),
                 head_buffer_.end());
    Bytes().swap(head_buffer_);
    on_head();
  }

  void on_closed(const Status& reason) {
    if (finished_) return;
    if (!reason.ok()) {
      fail("cannot reach " + describe() + ": " + reason.error().message);
    } else if (!head_) {
      fail(describe() + " closed the connection without answering");
    } else if (refusing_) {
      check_refusal(true);
    } else {
      on_eof();
    }
  }

  Bytes head_buffer_;
  bool finished_ = false;
};

// --- GET /key ------------------------------------------------------------------------------

class KeyFetch final : public ClientAttempt {
 public:
  KeyFetch(Env& env, const Endpoint& server, const std::string& host, KeyReady done,
           ChannelOptions options)
      : ClientAttempt(env, server, host, std::move(options)), done_(std::move(done)) {
    HttpRequestHead request;
    request.method = "GET";
    request.target = std::string(kChannelKeyPath);
    request.headers.add("Host", host_);
    request.headers.add("Accept", "application/json");
    request.headers.add("Connection", "close");
    begin(format_http_request_head(request));
  }

 private:
  void on_head() override {
    if (head_->status != 200) return refuse();
    auto length = head_->headers.content_length();
    if (!length.ok()) return fail(describe() + " sent a bad key answer: " + length.error().message);
    if (*length && **length > kMaxKeyDocumentBytes) {
      return fail(describe() + " sent a key document of " + std::to_string(**length) +
                  " bytes; at most " + std::to_string(kMaxKeyDocumentBytes) + " expected");
    }
    length_ = *length;
    phase_ = "reading the key document";
    check();
  }

  void on_more(ByteView data) override {
    rest_.insert(rest_.end(), data.begin(), data.end());
    check();
  }

  void on_eof() override {
    if (length_) {
      fail(describe() + " closed the connection in the middle of the key document");
      return;
    }
    complete();
  }

  void check() {
    if (!length_) {
      if (rest_.size() > kMaxKeyDocumentBytes) {
        fail(describe() + " sent a key document larger than " +
             std::to_string(kMaxKeyDocumentBytes) + " bytes");
      }
      return;  // the document ends with the connection
    }
    if (rest_.size() >= *length_) {
      rest_.resize(static_cast<size_t>(*length_));
      complete();
    }
  }

  void complete() {
    auto key = parse_key_document(ByteView(rest_).as_string(), options_.protocol);
    if (!key.ok()) {
      fail(describe() + ": " + key.error().message);
      return;
    }
    finish();
    stream_->close();  // polite: we have all we asked for
    stream_.reset();
    KeyReady done = std::move(done_);
    done(*key);  // may destroy `this`
  }

  void report_error(const std::string& message) override {
    KeyReady done = std::move(done_);
    done(make_error(message));
  }

  KeyReady done_;
  std::optional<uint64_t> length_;
};

// --- POST <path> with Upgrade, then the Noise handshake ------------------------------------

class ChannelOpen final : public ClientAttempt {
 public:
  ChannelOpen(Env& env, const Endpoint& server, const std::string& host,
              const PrivateKey& client_key, const PublicKey& server_key, ChannelReady done,
              ChannelOptions options)
      : ClientAttempt(env, server, host, std::move(options)),
        server_key_(server_key),
        done_(std::move(done)) {
    noise::HandshakeConfig config;
    config.pattern = kChannelNoisePattern;
    config.role = noise::Role::initiator;
    config.prologue = channel_prologue(options_.protocol);
    config.local_static = client_key;
    config.remote_static = server_key;
    auto state = noise::HandshakeState::create(config, env.rng);
    auto initiation = state.ok() ? state->write_message(ByteView()) : Result<Bytes>(state.error());
    if (!initiation.ok()) {
      fail_soon("cannot start the handshake with " + describe() + " using the pinned key " +
                to_base64(server_key) + ": " + initiation.error().message);
      return;
    }
    state_.emplace(std::move(*state));
    HttpRequestHead request;
    request.method = "POST";
    request.target = options_.path;
    request.headers.add("Host", host_);
    request.headers.add("Upgrade", options_.protocol);
    request.headers.add("Connection", "Upgrade");
    request.headers.add(std::string(kChannelHandshakeHeader), base64_encode(*initiation));
    begin(format_http_request_head(request));
  }

 private:
  void on_head() override {
    if (head_->status != 101) return refuse();
    const std::string* upgrade = head_->headers.find("Upgrade");
    if (upgrade == nullptr || !http_iequals(*upgrade, options_.protocol)) {
      return fail(describe() + " switched to protocol \"" + printable(upgrade ? *upgrade : "", 80) +
                  "\", not \"" + options_.protocol + "\"");
    }
    phase_ = "waiting for the handshake response";
    decoder_.feed(rest_);
    Bytes().swap(rest_);
    process();
  }

  void on_more(ByteView data) override {
    decoder_.feed(data);
    process();
  }

  void on_eof() override { fail(describe() + " closed the connection during the handshake"); }

  void process() {
    auto frame = decoder_.next();
    if (!frame.ok()) return fail(describe() + " sent a malformed frame: " + frame.error().message);
    if (!*frame) return;
    const Frame& f = **frame;
    if (f.type == static_cast<uint8_t>(FrameType::error)) {
      return fail(mismatch("refused the handshake: " +
                           printable(ByteView(f.payload).as_string(), kMaxErrorReasonBytes)));
    }
    if (f.type != static_cast<uint8_t>(FrameType::handshake_response)) {
      return fail(describe() + " sent a frame of type " + std::to_string(f.type) +
                  " where the handshake response belongs");
    }
    auto payload = state_->read_message(f.payload);
    if (!payload.ok()) {
      return fail(mismatch("its handshake response does not authenticate (" +
                           payload.error().message + ")"));
    }
    auto ciphers = state_->split();
    if (!ciphers.ok()) return fail(ciphers.error().message);
    finish();
    auto channel = std::make_unique<EstablishedChannel>(
        env_, std::move(stream_), std::move(*ciphers), server_key_, options_.max_message_bytes,
        std::move(decoder_));
    ChannelReady done = std::move(done_);
    done(std::unique_ptr<SecureChannel>(std::move(channel)));  // may destroy `this`
  }

  std::string mismatch(const std::string& detail) const {
    return "the server's key does not match the pinned server key " + to_base64(server_key_) +
           ": " + describe() + " " + detail +
           ". If the server's key was changed on purpose, fetch the new one (GET " +
           std::string(kChannelKeyPath) + ") and pin it; otherwise something else answers at " +
           "this address";
  }

  void report_error(const std::string& message) override {
    ChannelReady done = std::move(done_);
    done(make_error(message));
  }

  PublicKey server_key_;
  ChannelReady done_;
  std::optional<noise::HandshakeState> state_;
  FrameDecoder decoder_;
};

}  // namespace

std::unique_ptr<PendingChannel> fetch_server_key(Env& env, const Endpoint& server,
                                                 const std::string& host, KeyReady done,
                                                 ChannelOptions options) {
  return std::make_unique<KeyFetch>(env, server, host, std::move(done), std::move(options));
}

std::unique_ptr<PendingChannel> open_channel(Env& env, const Endpoint& server,
                                             const std::string& host,
                                             const PrivateKey& client_static_key,
                                             const PublicKey& server_key, ChannelReady done,
                                             ChannelOptions options) {
  return std::make_unique<ChannelOpen>(env, server, host, client_static_key, server_key,
                                       std::move(done), std::move(options));
}

}  // namespace warren
