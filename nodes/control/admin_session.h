// One admin connection: read one request line, hand it to AdminApi, write one reply line, close.
//
// - A request longer than kMaxAdminMessageBytes, or a line that is not a JSON object, gets an
//   {"ok": false, "error": ...} reply at once; the connection is then closed.
// - A client that sends nothing complete within kAdminRequestTimeout is closed without a reply.
// - `finished` runs exactly once when the session is done (reply flushed or peer gone); the
//   owner may destroy the session from it. Destroying the session early makes a late AdminApi
//   reply a no-op.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "nodes/control/admin_api.h"
#include "nodes/net/clock.h"
#include "nodes/net/env.h"
#include "nodes/net/stream.h"

namespace warren::control {

// A human at a terminal or a script answers in well under this; a connection that stays silent
// longer is a stuck client holding a slot.
constexpr Duration kAdminRequestTimeout = Duration::seconds(30);

class AdminSession {
 public:
  AdminSession(Env& env, AdminApi& api, std::unique_ptr<Stream> stream,
               std::function<void()> finished);
  ~AdminSession();
  AdminSession(const AdminSession&) = delete;
  AdminSession& operator=(const AdminSession&) = delete;

  // Ends the session now (server stopping): closes the stream without a reply.
  void abort();

 private:
  void on_data(ByteView data);
  void handle_line(const std::string& line);
  void send_reply(const nlohmann::json& reply);
  void finish();

  Env& env_;
  AdminApi& api_;
  std::unique_ptr<Stream> stream_;
  std::function<void()> finished_;
  std::string buffer_;
  bool request_seen_ = false;  // a line was taken: everything after it is ignored
  bool done_ = false;
  Timer timeout_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace warren::control
