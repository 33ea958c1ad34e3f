// A tiny echo protocol written only against Env: the proof that one protocol object runs
// unchanged on every backend (in-memory, real sockets, ns-3).
//
// EchoServer answers each UDP datagram with the same payload, from the socket it arrived on,
// to its sender; and echoes every byte received on an accepted stream back on that stream.
// EchoClient is the matching test helper: it records what comes back.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "nodes/net/env.h"

namespace warren {

class EchoServer {
 public:
  // More simultaneous streams than this are closed right after accept: bounds memory.
  static constexpr size_t kMaxStreams = 64;
  // A stream whose unsent echo exceeds this is aborted: its peer writes but does not read.
  static constexpr size_t kMaxPendingBytes = size_t{4} << 20;

  struct Stats {
    uint64_t datagrams = 0;     // echoed
    uint64_t send_errors = 0;   // datagrams whose echo could not be sent (counted drops)
    uint64_t stream_bytes = 0;  // echoed on streams
    uint64_t streams_accepted = 0;
    uint64_t streams_closed_ok = 0;     // the peer closed
    uint64_t streams_closed_error = 0;  // reset, failed, or aborted for not reading
    Endpoint last_from;                 // sender of the last datagram
    Endpoint last_local;  // where the last datagram arrived (concrete even for a wildcard bind)
  };

  explicit EchoServer(const Env& env) : env_(env) {}
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  Status start_udp(const Endpoint& bind);
  Status start_tcp(const Endpoint& bind);
  Endpoint udp_endpoint() const;  // valid after start_udp
  Endpoint tcp_endpoint() const;  // valid after start_tcp
  // Gracefully closes every accepted stream (their peers see on_closed(ok)).
  void close_streams();
  size_t open_streams() const { return streams_.size(); }
  const Stats& stats() const { return stats_; }

 private:
  void on_datagram(const Endpoint& from, const Endpoint& local, ByteView payload);
  void on_accept(std::unique_ptr<Stream> stream);
  void on_stream_data(uint64_t id, ByteView data);
  void on_stream_closed(uint64_t id, const Status& reason);

  Env env_;
  std::unique_ptr<UdpSocket> udp_;
  std::unique_ptr<StreamListener> listener_;
  std::map<uint64_t, std::unique_ptr<Stream>> streams_;  // ordered: deterministic iteration
  uint64_t next_stream_id_ = 1;
  Stats stats_;
};

class EchoClient {
 public:
  // Replies kept for inspection; later ones are counted but not stored.
  static constexpr size_t kMaxKeptReplies = 4096;

  struct Reply {
    Endpoint from;
    Endpoint local;
    Bytes payload;
  };

  explicit EchoClient(const Env& env) : env_(env) {}
  EchoClient(const EchoClient&) = delete;
  EchoClient& operator=(const EchoClient&) = delete;

  // UDP.
  Status open_udp(const Endpoint& bind);
  Endpoint udp_endpoint() const;
  Status send(const Endpoint& server, ByteView payload);
  const std::vector<Reply>& replies() const { return replies_; }
  uint64_t reply_count() const { return reply_count_; }

  // Stream.
  void connect(const Endpoint& server);
  Status write(ByteView data);
  void close();  // graceful; no more callbacks
  void abort();  // destroys the stream
  Stream* stream() { return stream_.get(); }
  bool connected() const { return connected_; }  // on_connected was seen
  const Bytes& received() const { return received_; }
  // Set once on_closed fired.
  const std::optional<Status>& closed() const { return closed_; }
  // Runs inside on_data after the bytes were recorded; may call abort().
  std::function<void()> on_data_hook;

 private:
  Env env_;
  std::unique_ptr<UdpSocket> udp_;
  std::vector<Reply> replies_;
  uint64_t reply_count_ = 0;
  std::unique_ptr<Stream> stream_;
  bool connected_ = false;
  Bytes received_;
  std::optional<Status> closed_;
};

}  // namespace warren
