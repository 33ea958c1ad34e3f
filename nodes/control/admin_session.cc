#include "nodes/control/admin_session.h"

#include <utility>

namespace warren::control {
namespace {

nlohmann::json error_reply(const std::string& message) {
  return nlohmann::json{{"ok", false}, {"error", message}};
}

}  // namespace

AdminSession::AdminSession(Env& env, AdminApi& api, std::unique_ptr<Stream> stream,
                           std::function<void()> finished)
    : env_(env),
      api_(api),
      stream_(std::move(stream)),
      finished_(std::move(finished)),
      timeout_(env.clock) {
  timeout_.arm_after(kAdminRequestTimeout, [this] {
    env_.log.info("admin connection sent no complete request within " +
                  to_string(kAdminRequestTimeout) + "; closing it");
    finish();
  });
  Stream::Handlers handlers;
  handlers.on_data = [this](ByteView data) { on_data(data); };
  handlers.on_closed = [this](const Status&) {
    // The client went away (before or after its request): nothing to answer to.
    finish();
  };
  stream_->set_handlers(std::move(handlers));
}

AdminSession::~AdminSession() {
  *alive_ = false;
}

void AdminSession::abort() {
  finish();
}

void AdminSession::on_data(ByteView data) {
  if (request_seen_ || done_) return;
  const std::string_view text = data.as_string();
  const size_t newline = text.find('\n');
  const size_t take = newline == std::string_view::npos ? text.size() : newline;
  if (buffer_.size() + take > kMaxAdminMessageBytes) {
    request_seen_ = true;
    send_reply(error_reply("admin request longer than " + std::to_string(kMaxAdminMessageBytes) +
                           " bytes; send one JSON request per line"));
    return;
  }
  buffer_.append(text.substr(0, take));
  if (newline == std::string_view::npos) return;
  request_seen_ = true;
  timeout_.cancel();
  std::string line = std::move(buffer_);
  buffer_.clear();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  handle_line(line);
}

void AdminSession::handle_line(const std::string& line) {
  nlohmann::json request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) {
    send_reply(error_reply(
        "malformed admin request: expected one JSON object like {\"command\": \"users.list\", "
        "\"args\": {}} on a single line"));
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  api_.handle(request, [this, alive](nlohmann::json reply) {
    if (alive.expired()) return;  // the session ended (client gone, server stopped)
    send_reply(reply);
  });
}

void AdminSession::send_reply(const nlohmann::json& reply) {
  if (done_) return;
  // `replace`: a reply quoting bad UTF-8 from a request must not throw.
  std::string text = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  Status written = stream_->write(ByteView(std::string_view(text)));
  if (!written) env_.log.debug("admin reply not sent: " + written.error().message);
  finish();
}

void AdminSession::finish() {
  if (done_) return;
  done_ = true;
  timeout_.cancel();
  stream_->close();  // flushes the reply, if any; no handler runs after this
  auto finished = std::move(finished_);
  if (finished) finished();  // may destroy this
}

}  // namespace warren::control
