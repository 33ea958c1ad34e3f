// The relay on real loopback sockets with 1,000 connected clients (issue 4, item 8).
//
// A child process runs the RelayServer exactly as `warren relay serve` does (RealLoop, real TCP
// on 127.0.0.1, Noise channels), admitting 1,000 node keys. The parent connects 1,000
// RelayClients, also on real sockets, and pairs them: the even client of each pair sends to
// the odd one, which echoes every packet back; each sender keeps kWindow packets in flight.
//
// - BM_RelayForward/<packet bytes>: packets forwarded per second (`forwarded`, two per round
//   trip), and the relay process's own CPU per forwarded packet (`relay_cpu_ns_per_pkt`, from
//   /proc/<pid>/stat, so it holds however the machine's cores are shared with the clients).
//   1e9 / relay_cpu_ns_per_pkt is what one core of relay forwards when the clients live
//   elsewhere.
// - Memory per client (counters on every run): the relay's heap growth (glibc mallinfo2 in
//   the child) and RSS growth from before the first client to all 1,000 admitted, divided by
//   1,000: session, channel, stream and socket buffers of an idle, connected client.
//
// The numbers go into the closing note of issue 4; nothing here asserts a speed.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "nodes/common/relay_client.h"
#include "nodes/net/env.h"
#include "nodes/net/rng.h"
#include "nodes/real/real_loop.h"
#include "nodes/relay/admission.h"
#include "nodes/relay/relay_server.h"

namespace warren::relay {
namespace {

constexpr size_t kClients = 1000;  // even: clients pair up
constexpr int kWindow = 8;         // packets in flight per sender
constexpr size_t kRoundTripsPerIteration = 20000;
constexpr Duration kConnectTimeout = Duration::seconds(120);
constexpr Duration kIterationTimeout = Duration::seconds(60);

struct ChildReport {
  uint16_t port = 0;
  size_t heap_before = 0;
  size_t heap_after = 0;
  size_t rss_before = 0;
  size_t rss_after = 0;
};

size_t heap_in_use() {
  return mallinfo2().uordblks;
}

// Resident bytes of `pid` ("self" for this process).
size_t rss_bytes(const std::string& pid) {
  std::ifstream statm("/proc/" + pid + "/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// utime + stime of `pid`, in nanoseconds.
int64_t cpu_ns(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<int64_t>((utime + stime) * (1000000000ull / sysconf(_SC_CLK_TCK)));
}

void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// The relay process: serves until SIGTERM. Reports its port, then its memory once every
// client is admitted, through `out`.
[[noreturn]] void run_relay(const PrivateKey& relay_key, const std::vector<PublicKey>& keys,
                            int out) {
  RealLoop loop;
  SeededRng rng(1, "relay");
  Env env{loop.clock(), loop.network(), rng, Logger()};
  Admission admission(Admission::Mode::waiting);
  control::RelayKeysMessage full;
  full.seq = 1;
  full.full = true;
  full.keys = keys;
  std::sort(full.keys.begin(), full.keys.end());
  if (!admission.apply(full)) _exit(3);

  RelayServerOptions options;
  options.listen = Endpoint(*IpAddress::parse("127.0.0.1"), 0);
  options.rate_bytes_per_s = 0;  // measure forwarding, not the limiter
  ChildReport report;
  report.heap_before = heap_in_use();
  report.rss_before = rss_bytes("self");
  RelayServer server(env, relay_key, admission, options);
  if (!server.start()) _exit(4);
  report.port = server.listen_endpoint().port;
  if (write(out, &report, sizeof report) != sizeof report) _exit(5);

  loop.run_until([&] { return server.clients() == kClients; }, kConnectTimeout);
  report.heap_after = heap_in_use();
  report.rss_after = rss_bytes("self");
  if (write(out, &report, sizeof report) != sizeof report) _exit(5);
  loop.stop_on_signals();
  loop.run();
  _exit(0);
}

// The parent's side: 1,000 clients on one loop, paired sender -> echoer.
class Harness {
 public:
  Harness() : rng_(2, "clients"), env_{loop_.clock(), loop_.network(), rng_, Logger()} {}

  bool start(std::string& error) {
    raise_fd_limit();
    SeededRng keys_rng(3, "keys");
    const PrivateKey relay_key = generate_private_key(keys_rng);
    std::vector<PrivateKey> node_keys;
    std::vector<PublicKey> public_keys;
    for (size_t i = 0; i < kClients; ++i) {
      node_keys.push_back(generate_private_key(keys_rng));
      public_keys.push_back(public_key(node_keys.back()));
    }
    int fds[2];
    if (pipe(fds) != 0) return fail(error, "pipe failed");
    child_ = fork();
    if (child_ < 0) return fail(error, "fork failed");
    if (child_ == 0) {
      close(fds[0]);
      run_relay(relay_key, public_keys, fds[1]);
    }
    close(fds[1]);
    pipe_ = fds[0];
    ChildReport first;
    if (read(pipe_, &first, sizeof first) != sizeof first) {
      return fail(error, "the relay process did not start");
    }

    const Endpoint server(*IpAddress::parse("127.0.0.1"), first.port);
    for (size_t i = 0; i < kClients; ++i) {
      RelayClientOptions options;
      options.server = server;
      options.host = "127.0.0.1";
      options.key = node_keys[i];
      options.server_key = public_key(relay_key);
      RelayClient::Callbacks callbacks;
      if (i % 2 == 1) {  // echoer: every packet goes back to its sender
        callbacks.on_packet = [this, i](const PublicKey& src, ByteView packet) {
          clients_[i]->send_packet(src, packet);
        };
      } else {  // sender: a returning packet completes a round trip and makes room for one
        callbacks.on_packet = [this, i](const PublicKey&, ByteView) {
          ++round_trips_;
          if (sending_) send_one(i);
        };
      }
      callbacks.on_error = [this](const RelayClientError& e) {
        if (!e.will_retry) failure_ = e.message;
      };
      clients_.push_back(std::make_unique<RelayClient>(env_, options, callbacks));
      keys_.push_back(public_keys[i]);
    }
    for (auto& c : clients_) c->start();
    const bool all = loop_.run_until(
        [&] {
          if (!failure_.empty()) return true;
          for (auto& c : clients_) {
            if (!c->connected()) return false;
          }
          return true;
        },
        kConnectTimeout);
    if (!failure_.empty()) return fail(error, failure_);
    if (!all) return fail(error, "not every client connected in time");
    if (read(pipe_, &memory_, sizeof memory_) != sizeof memory_) {
      return fail(error, "the relay process did not report its memory");
    }
    return true;
  }

  // Runs until `round_trips` more round trips complete; false on timeout.
  bool run(size_t round_trips, size_t packet_bytes) {
    payload_.assign(packet_bytes, 0x5a);
    const uint64_t target = round_trips_ + round_trips;
    sending_ = true;
    for (size_t i = 0; i < kClients; i += 2) {
      for (int w = 0; w < kWindow; ++w) send_one(i);
    }
    const bool done = loop_.run_until([&] { return round_trips_ >= target; }, kIterationTimeout);
    // Let the packets in flight come home so the next run starts with empty windows.
    sending_ = false;
    const uint64_t in_flight = kClients / 2 * kWindow;
    loop_.run_until([&] { return round_trips_ >= target + in_flight; }, Duration::seconds(5));
    return done;
  }

  void stop() {
    clients_.clear();
    if (child_ > 0) {
      kill(child_, SIGTERM);
      int status = 0;
      waitpid(child_, &status, 0);
      child_ = -1;
    }
    if (pipe_ >= 0) close(pipe_);
    pipe_ = -1;
  }
  ~Harness() { stop(); }

  pid_t child() const { return child_; }
  uint64_t round_trips() const { return round_trips_; }
  const ChildReport& memory() const { return memory_; }

 private:
  static bool fail(std::string& error, const std::string& why) {
    error = why;
    return false;
  }
  void send_one(size_t sender) {
    clients_[sender]->send_packet(keys_[sender + 1], ByteView(payload_.data(), payload_.size()));
  }

  RealLoop loop_;
  SeededRng rng_;
  Env env_;
  std::vector<std::unique_ptr<RelayClient>> clients_;
  std::vector<PublicKey> keys_;
  Bytes payload_;
  uint64_t round_trips_ = 0;
  bool sending_ = false;
  std::string failure_;
  pid_t child_ = -1;
  int pipe_ = -1;
  ChildReport memory_;
};

Harness* harness = nullptr;

void BM_RelayForward(benchmark::State& state) {
  const size_t packet_bytes = static_cast<size_t>(state.range(0));
  const int64_t cpu_before = cpu_ns(harness->child());
  const uint64_t trips_before = harness->round_trips();
  for (auto _ : state) {
    if (!harness->run(kRoundTripsPerIteration, packet_bytes)) {
      state.SkipWithError("the relay stopped forwarding (timeout)");
      return;
    }
  }
  const double forwarded = 2.0 * static_cast<double>(harness->round_trips() - trips_before);
  const double relay_cpu = static_cast<double>(cpu_ns(harness->child()) - cpu_before);
  state.counters["forwarded"] = benchmark::Counter(forwarded, benchmark::Counter::kIsRate);
  state.counters["relay_cpu_ns_per_pkt"] = relay_cpu / forwarded;
  state.SetBytesProcessed(static_cast<int64_t>(forwarded) * static_cast<int64_t>(packet_bytes));
  const ChildReport& m = harness->memory();
  state.counters["heap_B_per_client"] =
      static_cast<double>(m.heap_after - m.heap_before) / kClients;
  state.counters["rss_B_per_client"] = static_cast<double>(m.rss_after - m.rss_before) / kClients;
  state.counters["clients"] = kClients;
}
BENCHMARK(BM_RelayForward)->Arg(64)->Arg(1280)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace warren::relay

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::string error;
  warren::relay::Harness harness;
  warren::relay::harness = &harness;
  if (!harness.start(error)) {
    std::fprintf(stderr, "relay_forward_bench: %s\n", error.c_str());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  harness.stop();
  return 0;
}
