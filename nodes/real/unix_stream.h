// Unix-domain stream sockets for local control: the admin socket of `warren control serve` and
// the `warren control ...` commands that talk to it.
//
// UnixStreamListener accepts connections as RealStreams (the TCP streams' implementation:
// events held until handlers are set, graceful close that flushes). The socket file gets mode
// 0600 (only the owner, normally root, may administer); a stale file left by a crashed server
// (nobody accepts on it) is replaced; a live one is an error, so two servers never share a
// state directory. Destroying the listener removes its socket file (if it is still its own).
//
// unix_request_line is the client side for command-line tools: blocking, since a CLI has
// nothing else to do meanwhile, and bounded in time and size.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "nodes/net/stream.h"
#include "nodes/net/time.h"

namespace warren {

class UnixStreamListener final : public StreamListener {
 public:
  // Passed to listen(2): admin connections are rare and short.
  static constexpr int kBacklog = 64;
  // Pause after a failed accept (EMFILE, ENOBUFS) so a persistent failure cannot spin.
  static constexpr Duration kAcceptRetryDelay = Duration::milliseconds(100);

  // Errors: "another <owner> is running on PATH", a path that exists and is not a socket, a
  // path too long for sockaddr_un, a directory that is missing or not writable.
  static Result<std::unique_ptr<UnixStreamListener>> open(boost::asio::io_context& io,
                                                          const std::string& path,
                                                          const std::string& owner = "server");
  ~UnixStreamListener() override;

  Endpoint local_endpoint() const override;  // Endpoint(): Unix sockets have no IP endpoint
  void set_accept_handler(AcceptHandler handler) override;
  const std::string& path() const { return path_; }

  struct State;

 private:
  UnixStreamListener(std::shared_ptr<State> state, std::string path, unsigned long device,
                     unsigned long inode);
  std::shared_ptr<State> state_;
  std::string path_;
  unsigned long device_;  // identify our socket file, so we never remove a successor's
  unsigned long inode_;
};

// Longest socket path sockaddr_un holds (without the terminating NUL).
size_t max_unix_socket_path();

// Connects to the socket at `path`, sends `line` (which must end in '\n'), and returns the
// reply up to and including its first '\n' (or up to the peer's close), at most
// `max_reply_bytes`. Each connect/send/receive step waits at most `timeout`. When nobody
// listens at `path` (no file, or a stale one), `*nobody_listening` is set and the error says so.
Result<std::string> unix_request_line(const std::string& path, std::string_view line,
                                      size_t max_reply_bytes, Duration timeout,
                                      bool* nobody_listening = nullptr);

}  // namespace warren
