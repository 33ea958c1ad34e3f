#include "nodes/real/unix_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <cerrno>
#include <cstring>

#include "nodes/real/accept_loop.h"
#include "nodes/real/real_stream.h"

namespace warren {

namespace local = boost::asio::local;
using boost::system::error_code;

namespace {

// An owned file descriptor, closed on every exit path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool fill_address(const std::string& path, sockaddr_un& address) {
  if (path.empty() || path.size() > max_unix_socket_path()) return false;
  std::memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  return true;
}

Error path_too_long(const std::string& path) {
  return make_error("socket path " + path + " is too long (" + std::to_string(path.size()) +
                    " bytes; at most " + std::to_string(max_unix_socket_path()) +
                    "); choose a shorter path");
}

enum class Probe { live, stale, absent, failed };

// Whether something accepts connections at `path`, without blocking: a connect to a live
// listener succeeds at once (or finds its backlog full, EAGAIN); a stale file refuses.
Probe probe(const std::string& path, std::string* why) {
  sockaddr_un address;
  if (!fill_address(path, address)) return Probe::failed;
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) {
    *why = std::strerror(errno);
    return Probe::failed;
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
    return Probe::live;
  }
  switch (errno) {
    case EAGAIN:
      return Probe::live;
    case ECONNREFUSED:
      return Probe::stale;
    case ENOENT:
      return Probe::absent;
    default:
      *why = std::strerror(errno);
      return Probe::failed;
  }
}

// Sets the process umask for the duration of a scope: bind(2) creates the socket file with
// mode 0777 & ~umask, so this makes it 0600 from the start. (The process is single-threaded
// at this point: the loop runs on the calling thread.)
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

}  // namespace

size_t max_unix_socket_path() {
  return sizeof(sockaddr_un::sun_path) - 1;
}

struct UnixStreamListener::State : AcceptLoop<local::stream_protocol> {
  State(boost::asio::io_context& io, const std::string& path)
      : AcceptLoop<local::stream_protocol>(
            io, kAcceptRetryDelay, [path](local::stream_protocol::socket socket) {
              return RealStream::accepted_unix(std::move(socket), path);
            }) {}
};

Result<std::unique_ptr<UnixStreamListener>> UnixStreamListener::open(boost::asio::io_context& io,
                                                                     const std::string& path,
                                                                     const std::string& owner) {
  if (path.empty()) return make_error("the socket path is empty");
  if (path.size() > max_unix_socket_path()) return path_too_long(path);
  auto fail = [&](const std::string& why) {
    return make_error("cannot listen on " + path + ": " + why);
  };

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return fail("it exists and is not a socket; remove it or choose another path");
    }
    std::string why;
    switch (probe(path, &why)) {
      case Probe::live:
        return make_error("another " + owner + " is running on " + path);
      case Probe::stale:
        // Left behind by a server that died without cleaning up.
        if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
          return fail(std::string("cannot remove the stale socket: ") + std::strerror(errno));
        }
        break;
      case Probe::absent:
        break;
      case Probe::failed:
        return fail(why);
    }
  } else if (errno != ENOENT) {
    return fail(std::strerror(errno));
  }

  auto state = std::make_shared<State>(io, path);
  error_code ec;
  state->acceptor.open(local::stream_protocol(), ec);
  if (!ec) {
    ScopedUmask private_file(0177);
    state->acceptor.bind(local::stream_protocol::endpoint(path), ec);
  }
  if (ec) return fail(ec.message());
  // Belt and braces: the umask already gave 0600, unless the file system ignores it.
  if (::chmod(path.c_str(), 0600) != 0 || ::lstat(path.c_str(), &st) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(path.c_str());
    return fail(why);
  }
  state->acceptor.listen(kBacklog, ec);
  if (ec) {
    ::unlink(path.c_str());
    return fail(ec.message());
  }
  return std::unique_ptr<UnixStreamListener>(
      new UnixStreamListener(std::move(state), path, static_cast<unsigned long>(st.st_dev),
                             static_cast<unsigned long>(st.st_ino)));
}

UnixStreamListener::UnixStreamListener(std::shared_ptr<State> state, std::string path,
                                       unsigned long device, unsigned long inode)
    : state_(std::move(state)), path_(std::move(path)), device_(device), inode_(inode) {}

UnixStreamListener::~UnixStreamListener() {
  state_->shutdown();
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && static_cast<unsigned long>(st.st_dev) == device_ &&
      static_cast<unsigned long>(st.st_ino) == inode_) {
    ::unlink(path_.c_str());
  }
}

Endpoint UnixStreamListener::local_endpoint() const {
  return Endpoint();
}

void UnixStreamListener::set_accept_handler(AcceptHandler handler) {
  state_->set_handler(std::move(handler));
}

Result<std::string> unix_request_line(const std::string& path, std::string_view line,
                                      size_t max_reply_bytes, Duration timeout,
                                      bool* nobody_listening) {
  if (nobody_listening) *nobody_listening = false;
  sockaddr_un address;
  if (!fill_address(path, address)) return path_too_long(path);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0)
    return make_error(std::string("cannot create a socket: ") + std::strerror(errno));
  // SO_SNDTIMEO also bounds a connect that waits for room in a full backlog.
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.ns() / 1'000'000'000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.ns() % 1'000'000'000) / 1000);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int e = errno;
    if (e == ENOENT || e == ECONNREFUSED) {
      if (nobody_listening) *nobody_listening = true;
      return make_error("nobody is listening on " + path);
    }
    if (e == EAGAIN || e == EINPROGRESS) {
      return make_error("the server on " + path + " did not accept the connection in time");
    }
    return make_error("cannot connect to " + path + ": " + std::strerror(e));
  }

  size_t sent = 0;
  while (sent < line.size()) {  // each send moves at least one byte or fails/times out
    const ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const bool timed_out = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      return make_error("cannot send to " + path + ": " +
                        (timed_out ? "the server is not reading" : std::strerror(errno)));
    }
    sent += static_cast<size_t>(n);
  }

  std::string reply;
  char buffer[4096];
  while (reply.size() < max_reply_bytes) {  // each recv adds at least one byte or ends the loop
    const size_t want = std::min(sizeof buffer, max_reply_bytes - reply.size());
    const ssize_t n = ::recv(fd.get(), buffer, want, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return make_error("no reply from the server on " + path + " within " +
                          std::to_string(timeout.ns() / 1'000'000'000) + " s");
      }
      return make_error("cannot read the reply from " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;  // the server closed: the reply is what came
    const size_t newline = std::string_view(buffer, static_cast<size_t>(n)).find('\n');
    if (newline != std::string_view::npos) {
      reply.append(buffer, newline + 1);
      return reply;
    }
    reply.append(buffer, static_cast<size_t>(n));
  }
  if (reply.size() >= max_reply_bytes) {
    return make_error("the reply from " + path + " is longer than " +
                      std::to_string(max_reply_bytes) + " bytes");
  }
  if (reply.empty()) return make_error("the server on " + path + " closed without replying");
  return reply;
}

}  // namespace warren
