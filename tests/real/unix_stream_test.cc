#include "nodes/real/unix_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "nodes/real/real_loop.h"
#include "nodes/real/real_stream.h"
#include "tests/real/temp_dir.h"

namespace warren {
namespace {

using ::testing::HasSubstr;

constexpr Duration kTimeout = Duration::seconds(10);

// Leaves a socket file nobody listens on, as a crashed server does.
void make_stale_socket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ::close(fd);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Answers each accepted stream's first line with "echo: <line>", then closes gracefully.
class LineServer {
 public:
  explicit LineServer(StreamListener& listener) {
    listener.set_accept_handler([this](std::unique_ptr<Stream> stream) {
      Stream* s = stream.get();
      streams_.push_back(std::move(stream));
      auto buffer = std::make_shared<std::string>();
      s->set_handlers({nullptr,
                       [s, buffer](ByteView data) {
                         buffer->append(data.as_string());
                         const size_t newline = buffer->find('\n');
                         if (newline == std::string::npos) return;
                         (void)s->write(ByteView("echo: " + buffer->substr(0, newline + 1)));
                         s->close();
                       },
                       [this](const Status&) { ++closed_; }});
    });
  }
  size_t accepted() const { return streams_.size(); }

 private:
  std::vector<std::unique_ptr<Stream>> streams_;
  int closed_ = 0;
};

class UnixStreamTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }
  std::string socket_path() const { return dir_.file("admin.sock"); }
  std::unique_ptr<UnixStreamListener> open_ok(const std::string& path) {
    auto listener = UnixStreamListener::open(loop_.io_context(), path, "control server");
    EXPECT_TRUE(listener.ok()) << (listener.ok() ? "" : listener.error().message);
    return listener.ok() ? std::move(listener.value()) : nullptr;
  }

  TempDir dir_;
  RealLoop loop_;
};

TEST_F(UnixStreamTest, StreamsCarryBytesBothWaysAndCloseCleanly) {
  auto listener = open_ok(socket_path());
  ASSERT_TRUE(listener);
  LineServer server(*listener);
  auto client = RealStream::connect_unix(loop_.io_context(), socket_path());
  std::string reply;
  bool connected = false;
  std::optional<Status> closed;
  client->set_handlers({[&] { connected = true; },
                        [&](ByteView data) { reply.append(data.as_string()); },
                        [&](const Status& s) { closed = s; }});
  ASSERT_TRUE(client->write(ByteView(std::string_view("hello\n"))).ok());
  ASSERT_TRUE(loop_.run_until([&] { return closed.has_value(); }, kTimeout));
  EXPECT_TRUE(connected);
  EXPECT_TRUE(closed->ok()) << closed->error().message;  // a graceful close, not a reset
  EXPECT_EQ(reply, "echo: hello\n");
  EXPECT_EQ(client->local_endpoint(), Endpoint());
}

TEST_F(UnixStreamTest, ConnectingWhereNobodyListensFailsNamingThePath) {
  auto client = RealStream::connect_unix(loop_.io_context(), socket_path());
  std::optional<Status> closed;
  client->set_handlers({nullptr, nullptr, [&](const Status& s) { closed = s; }});
  ASSERT_TRUE(loop_.run_until([&] { return closed.has_value(); }, kTimeout));
  ASSERT_FALSE(closed->ok());
  EXPECT_THAT(closed->error().message, HasSubstr(socket_path()));
}

TEST_F(UnixStreamTest, TheSocketFileIsPrivateAndRemovedWithTheListener) {
  {
    auto listener = open_ok(socket_path());
    ASSERT_TRUE(listener);
    struct stat st {};
    ASSERT_EQ(::lstat(socket_path().c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  EXPECT_FALSE(exists(socket_path()));
}

TEST_F(UnixStreamTest, AStaleSocketFileIsReplaced) {
  make_stale_socket(socket_path());
  ASSERT_TRUE(exists(socket_path()));
  auto listener = open_ok(socket_path());
  ASSERT_TRUE(listener);
  LineServer server(*listener);
  std::string reply;
  std::atomic<bool> done{false};
  std::thread client([&] {
    auto r = unix_request_line(socket_path(), "ping\n", 1024, kTimeout);
    reply = r.ok() ? *r : r.error().message;
    done = true;
  });
  loop_.run_until([&] { return done.load(); }, kTimeout);
  client.join();
  EXPECT_EQ(reply, "echo: ping\n");
}

TEST_F(UnixStreamTest, ALiveSocketIsAnErrorAndIsLeftAlone) {
  auto first = open_ok(socket_path());
  ASSERT_TRUE(first);
  auto second = UnixStreamListener::open(loop_.io_context(), socket_path(), "control server");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, "another control server is running on " + socket_path());
  EXPECT_TRUE(exists(socket_path()));
}

TEST_F(UnixStreamTest, AFileThatIsNotASocketIsNeverRemoved) {
  { std::ofstream(socket_path()) << "precious"; }
  auto listener = UnixStreamListener::open(loop_.io_context(), socket_path());
  ASSERT_FALSE(listener.ok());
  EXPECT_THAT(listener.error().message, HasSubstr("is not a socket"));
  std::ifstream in(socket_path());
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(UnixStreamTest, APathTooLongForTheSocketAddressIsAClearError) {
  const std::string path = dir_.path() + "/" + std::string(200, 'x');
  auto listener = UnixStreamListener::open(loop_.io_context(), path);
  ASSERT_FALSE(listener.ok());
  EXPECT_THAT(listener.error().message, HasSubstr("too long"));
  auto reply = unix_request_line(path, "x\n", 10, kTimeout);
  ASSERT_FALSE(reply.ok());
  EXPECT_THAT(reply.error().message, HasSubstr("too long"));
}

TEST_F(UnixStreamTest, RequestLineReportsNobodyListeningForAMissingOrStaleSocket) {
  bool nobody = false;
  auto missing = unix_request_line(socket_path(), "x\n", 10, kTimeout, &nobody);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(nobody);
  make_stale_socket(socket_path());
  nobody = false;
  auto stale = unix_request_line(socket_path(), "x\n", 10, kTimeout, &nobody);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(nobody);
  EXPECT_THAT(stale.error().message, HasSubstr(socket_path()));
}

TEST_F(UnixStreamTest, RequestLineBoundsTheReplySize) {
  auto listener = open_ok(socket_path());
  ASSERT_TRUE(listener);
  LineServer server(*listener);
  std::optional<Result<std::string>> reply;
  std::atomic<bool> done{false};
  std::thread client([&] {
    reply = unix_request_line(socket_path(), std::string(100, 'a') + "\n", 16, kTimeout);
    done = true;
  });
  loop_.run_until([&] { return done.load(); }, kTimeout);
  client.join();
  ASSERT_TRUE(reply.has_value());
  ASSERT_FALSE(reply->ok());
  EXPECT_THAT(reply->error().message, HasSubstr("longer than 16 bytes"));
}

}  // namespace
}  // namespace warren
