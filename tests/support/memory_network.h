// An in-memory network of hosts driven by a ManualClock: the fast, deterministic backend for
// unit tests. Hosts implement Network with the same observable behaviour as the real-socket
// backend (nodes/real): wildcard binds, port-in-use and address-not-on-host errors, IPv6
// sockets that never see IPv4, streams that deliver in order, refuse when nobody listens,
// report EOF as on_closed(ok) and an abort as on_closed(error), and no handler after
// destruction or close().
//
// Every packet and stream segment takes `latency` to cross. Nothing happens until the test
// runs the clock (run_until, run_for, clock().advance). Results depend only on the calls
// made: no iteration over unordered containers, ephemeral ports count up from 49152.
//
// Ownership: the world owns its hosts and clock. Sockets, listeners and streams are owned by
// whoever opened them and must be destroyed before the world.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "nodes/net/network.h"
#include "tests/support/manual_clock.h"

namespace warren {

class MemoryHost;
namespace memory_detail {
class MemoryUdpSocket;
class StreamEnd;
class ListenerState;
}  // namespace memory_detail

class MemoryWorld {
 public:
  // Returns true to drop the datagram. Called when it is sent, with the sender's concrete
  // source address.
  using UdpFilter = std::function<bool(const Endpoint& from, const Endpoint& to, ByteView payload)>;

  struct Counters {
    uint64_t udp_sent = 0;
    uint64_t udp_delivered = 0;
    uint64_t udp_filtered = 0;     // dropped by the filter
    uint64_t udp_unreachable = 0;  // no host or no socket at the destination
  };

  explicit MemoryWorld(Duration latency = Duration::milliseconds(1));
  ~MemoryWorld();
  MemoryWorld(const MemoryWorld&) = delete;
  MemoryWorld& operator=(const MemoryWorld&) = delete;

  ManualClock& clock() { return clock_; }
  // Adds a host owning `addresses` (unicast, not loopback; each address on one host only:
  // anything else is a bug in the test and aborts). Every host also has the loopback address
  // of each family it has an address in. The reference stays valid for the world's life.
  MemoryHost& add_host(std::string name, std::vector<IpAddress> addresses);
  // The host that owns `address`, or nullptr.
  MemoryHost* host_with_address(const IpAddress& address) const;

  // Runs timers until `done()` is true (checked before and after each one) or `timeout` of
  // manual time has passed. Returns done().
  bool run_until(const std::function<bool()>& done, Duration timeout);
  void run_for(Duration duration) { clock_.advance(duration); }

  // Applies to packets and stream segments sent from now on. Segments of one stream never
  // overtake each other even if the latency shrinks.
  void set_latency(Duration latency) { latency_ = latency; }
  Duration latency() const { return latency_; }
  void set_udp_filter(UdpFilter drop) { udp_filter_ = std::move(drop); }
  const Counters& counters() const { return counters_; }

 private:
  friend class MemoryHost;
  friend class memory_detail::MemoryUdpSocket;
  friend class memory_detail::StreamEnd;

  // The host a packet from `from` addressed to `to` reaches, or nullptr.
  MemoryHost* route(MemoryHost& from, const IpAddress& to) const;
  void send_udp(MemoryHost& from_host, const Endpoint& from, const Endpoint& to, ByteView payload);

  Duration latency_;
  UdpFilter udp_filter_;
  Counters counters_;
  std::map<IpAddress, MemoryHost*> owner_of_;
  // Declared before the clock so that the clock, whose pending events refer to hosts, is
  // destroyed first.
  std::vector<std::unique_ptr<MemoryHost>> hosts_;
  ManualClock clock_;
};

class MemoryHost final : public Network {
 public:
  // Ports handed out for binds to port 0 and outbound streams: the IANA dynamic range,
  // counted upwards and wrapping, so tests see the same ports every run.
  static constexpr uint16_t kFirstEphemeralPort = 49152;
  // Connections waiting for accept beyond this many are refused (a typical listen backlog).
  static constexpr size_t kListenBacklog = 128;

  const std::string& name() const { return name_; }
  // Sorted; without the implicit loopback addresses.
  const std::vector<IpAddress>& addresses() const { return addresses_; }
  bool has_family(Family family) const;
  MemoryWorld& world() const { return *world_; }
  ManualClock& clock() const { return world_->clock(); }

  Result<std::unique_ptr<UdpSocket>> open_udp(const Endpoint& bind) override;
  Result<std::unique_ptr<StreamListener>> listen(const Endpoint& bind) override;
  std::unique_ptr<Stream> connect(const Endpoint& remote) override;
  std::vector<IpAddress> local_addresses() const override { return addresses_; }

 private:
  friend class MemoryWorld;
  friend class memory_detail::MemoryUdpSocket;
  friend class memory_detail::StreamEnd;
  friend class memory_detail::ListenerState;

  // What a socket is bound to; `address` is the unspecified address for wildcard binds.
  struct BindKey {
    Family family;
    uint16_t port;
    IpAddress address;
    bool operator<(const BindKey& o) const;
  };

  MemoryHost(MemoryWorld& world, std::string name, std::vector<IpAddress> addresses);
  // Ok if this host may bind `address` (one of its own, its loopback, or the wildcard).
  Status check_bindable(const Endpoint& bind, const char* what) const;
  // The source address the host uses towards `to` when the socket is bound to `bound`.
  IpAddress source_for(const IpAddress& bound, const IpAddress& to) const;
  bool owns(const IpAddress& address) const;  // its addresses or its loopback
  template <typename Map>
  static bool conflicts(const Map& bindings, const BindKey& key);
  Result<uint16_t> pick_port(uint16_t& next, const std::function<bool(uint16_t)>& free,
                             const Endpoint& bind) const;

  memory_detail::MemoryUdpSocket* find_udp(const Endpoint& to) const;
  memory_detail::ListenerState* find_listener(const Endpoint& to) const;
  void release_udp(const BindKey& key) { udp_.erase(key); }
  void release_listener(const BindKey& key) { listeners_.erase(key); }
  void release_connection(const BindKey& key) { connections_.erase(key); }

  MemoryWorld* world_;
  std::string name_;
  std::vector<IpAddress> addresses_;
  std::map<BindKey, memory_detail::MemoryUdpSocket*> udp_;
  std::map<BindKey, memory_detail::ListenerState*> listeners_;
  std::set<BindKey> connections_;  // local ends of outbound streams
  uint16_t next_udp_port_ = kFirstEphemeralPort;
  uint16_t next_tcp_port_ = kFirstEphemeralPort;
};

}  // namespace warren
