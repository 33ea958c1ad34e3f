#include "tests/support/memory_network.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "tests/support/memory_stream.h"
#include "tests/support/memory_udp_socket.h"

namespace warren {
namespace {

// Misuse of the test fixture itself (not of the network): stop the test with a message.
[[noreturn]] void fixture_bug(const std::string& message) {
  std::fprintf(stderr, "MemoryWorld: %s\n", message.c_str());
  std::abort();
}

}  // namespace

// ---- MemoryWorld ----

MemoryWorld::MemoryWorld(Duration latency) : latency_(latency) {}

MemoryWorld::~MemoryWorld() = default;

MemoryHost& MemoryWorld::add_host(std::string name, std::vector<IpAddress> addresses) {
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  for (const IpAddress& a : addresses) {
    if (a.is_unspecified() || a.is_loopback() || a.is_multicast()) {
      fixture_bug("host " + name + " cannot own " + a.to_string() +
                  " (loopback is implicit; unspecified and multicast are not host addresses)");
    }
    if (owner_of_.count(a) != 0) {
      fixture_bug(a.to_string() + " is already owned by host " + owner_of_.at(a)->name());
    }
  }
  hosts_.push_back(std::unique_ptr<MemoryHost>(new MemoryHost(*this, std::move(name), addresses)));
  MemoryHost& host = *hosts_.back();
  for (const IpAddress& a : host.addresses()) owner_of_[a] = &host;
  return host;
}

MemoryHost* MemoryWorld::host_with_address(const IpAddress& address) const {
  auto it = owner_of_.find(address);
  return it == owner_of_.end() ? nullptr : it->second;
}

bool MemoryWorld::run_until(const std::function<bool()>& done, Duration timeout) {
  const Timestamp deadline = clock_.now() + timeout;
  size_t ran = 0;
  while (!done()) {
    std::optional<Timestamp> next = clock_.next_deadline();
    if (!next || *next > deadline) {
      clock_.advance_to(deadline);
      return done();
    }
    if (++ran > ManualClock::kMaxTimersPerAdvance) {
      fixture_bug("run_until ran too many timers; something re-arms itself with zero delay");
    }
    clock_.run_next();
  }
  return true;
}

MemoryHost* MemoryWorld::route(MemoryHost& from, const IpAddress& to) const {
  if (to.is_loopback()) return from.has_family(to.family()) ? &from : nullptr;
  return host_with_address(to);
}

void MemoryWorld::send_udp(MemoryHost& from_host, const Endpoint& from, const Endpoint& to,
                           ByteView payload) {
  ++counters_.udp_sent;
  if (udp_filter_ && udp_filter_(from, to, payload)) {
    ++counters_.udp_filtered;
    return;
  }
  MemoryHost* destination = route(from_host, to.address);
  clock_.schedule_after(latency_, [this, destination, from, to, data = payload.to_bytes()] {
    memory_detail::MemoryUdpSocket* socket =
        destination != nullptr ? destination->find_udp(to) : nullptr;
    if (socket == nullptr) {
      ++counters_.udp_unreachable;
      return;
    }
    ++counters_.udp_delivered;
    socket->deliver(from, to, ByteView(data));
  });
}

// ---- MemoryHost ----

bool MemoryHost::BindKey::operator<(const BindKey& o) const {
  if (family != o.family) return family < o.family;
  if (port != o.port) return port < o.port;
  return address < o.address;
}

MemoryHost::MemoryHost(MemoryWorld& world, std::string name, std::vector<IpAddress> addresses)
    : world_(&world), name_(std::move(name)), addresses_(std::move(addresses)) {}

bool MemoryHost::has_family(Family family) const {
  return std::any_of(addresses_.begin(), addresses_.end(),
                     [family](const IpAddress& a) { return a.family() == family; });
}

bool MemoryHost::owns(const IpAddress& address) const {
  if (address.is_loopback()) return has_family(address.family());
  return std::binary_search(addresses_.begin(), addresses_.end(), address);
}

Status MemoryHost::check_bindable(const Endpoint& bind, const char* what) const {
  if (!has_family(bind.family())) {
    return make_error(std::string("cannot ") + what + " " + bind.to_string() +
                      ": Address family not supported by protocol (host " + name_ + " has no " +
                      to_string(bind.family()) + " address)");
  }
  if (!bind.address.is_unspecified() && !owns(bind.address)) {
    return make_error(std::string("cannot ") + what + " " + bind.to_string() +
                      ": Cannot assign requested address (not an address of host " + name_ + ")");
  }
  return Status::success();
}

IpAddress MemoryHost::source_for(const IpAddress& bound, const IpAddress& to) const {
  if (!bound.is_unspecified()) return bound;
  if (to.is_loopback()) return IpAddress::loopback(to.family());
  if (owns(to)) return to;
  for (const IpAddress& a : addresses_) {
    if (a.family() == to.family()) return a;  // the lowest address: a stable choice
  }
  return IpAddress::any(to.family());  // unreachable: callers check has_family first
}

namespace {
template <typename K>
const K& key_of(const K& key) {
  return key;
}
template <typename K, typename V>
const K& key_of(const std::pair<const K, V>& entry) {
  return entry.first;
}
}  // namespace

// Linux semantics without SO_REUSEPORT: a wildcard bind takes the port on every address of
// the family, so it conflicts with any binding of that port, and vice versa.
template <typename Container>
bool MemoryHost::conflicts(const Container& bindings, const BindKey& key) {
  const BindKey wildcard{key.family, key.port, IpAddress::any(key.family)};
  if (key.address.is_unspecified()) {
    auto it = bindings.lower_bound(wildcard);
    return it != bindings.end() && key_of(*it).family == key.family && key_of(*it).port == key.port;
  }
  return bindings.count(wildcard) != 0 || bindings.count(key) != 0;
}

Result<uint16_t> MemoryHost::pick_port(uint16_t& next, const std::function<bool(uint16_t)>& free,
                                       const Endpoint& bind) const {
  constexpr size_t kEphemeralPorts = 65536 - kFirstEphemeralPort;  // tries before giving up
  for (size_t i = 0; i < kEphemeralPorts; ++i) {
    uint16_t port = next;
    next = next == 65535 ? kFirstEphemeralPort : static_cast<uint16_t>(next + 1);
    if (free(port)) return port;
  }
  return make_error("cannot bind " + bind.to_string() + ": no free port in " +
                    std::to_string(kFirstEphemeralPort) + "-65535 on host " + name_);
}

Result<std::unique_ptr<UdpSocket>> MemoryHost::open_udp(const Endpoint& bind) {
  Status bindable = check_bindable(bind, "bind");
  if (!bindable) return bindable.error();
  BindKey key{bind.family(), bind.port, bind.address};
  if (key.port == 0) {
    auto port = pick_port(
        next_udp_port_,
        [&](uint16_t p) {
          return !conflicts(udp_, BindKey{key.family, p, key.address});
        },
        bind);
    if (!port) return port.error();
    key.port = *port;
  } else if (conflicts(udp_, key)) {
    return make_error("cannot bind " + bind.to_string() + ": Address already in use");
  }
  return std::unique_ptr<UdpSocket>(new memory_detail::MemoryUdpSocket(*this, key));
}

Result<std::unique_ptr<StreamListener>> MemoryHost::listen(const Endpoint& bind) {
  Status bindable = check_bindable(bind, "listen on");
  if (!bindable) return bindable.error();
  BindKey key{bind.family(), bind.port, bind.address};
  auto in_use = [&](const BindKey& k) {
    return conflicts(listeners_, k) || conflicts(connections_, k);
  };
  if (key.port == 0) {
    auto port = pick_port(
        next_tcp_port_,
        [&](uint16_t p) {
          return !in_use(BindKey{key.family, p, key.address});
        },
        bind);
    if (!port) return port.error();
    key.port = *port;
  } else if (in_use(key)) {
    return make_error("cannot listen on " + bind.to_string() + ": Address already in use");
  }
  auto state = std::make_shared<memory_detail::ListenerState>(*this, key);
  listeners_[key] = state.get();
  return std::unique_ptr<StreamListener>(new memory_detail::MemoryStreamListener(state));
}

std::unique_ptr<Stream> MemoryHost::connect(const Endpoint& remote) {
  using memory_detail::StreamEnd;
  const Family family = remote.family();
  auto failed = [&](const std::string& reason) {
    auto end = std::make_shared<StreamEnd>(*this, Endpoint(IpAddress::any(family), 0), remote,
                                           StreamEnd::Phase::connecting, false);
    end->fail("cannot connect to " + remote.to_string() + ": " + reason);
    return std::unique_ptr<Stream>(new memory_detail::MemoryStream(end));
  };
  if (!has_family(family)) {
    return failed("Network is unreachable (host " + name_ + " has no " + to_string(family) +
                  " address)");
  }
  if (remote.address.is_multicast()) return failed("Invalid argument");
  const IpAddress source = source_for(IpAddress::any(family), remote.address);
  auto port = pick_port(
      next_tcp_port_,
      [&](uint16_t p) {
        BindKey any_address{family, p, IpAddress::any(family)};  // one connection per port
        return !conflicts(connections_, any_address) &&
               !conflicts(listeners_, BindKey{family, p, source});
      },
      Endpoint(source, 0));
  if (!port) return failed(port.error().message);
  connections_.insert(BindKey{family, *port, source});
  auto end = std::make_shared<StreamEnd>(*this, Endpoint(source, *port), remote,
                                         StreamEnd::Phase::connecting, true);
  end->send_syn(world_->route(*this, remote.address));
  return std::unique_ptr<Stream>(new memory_detail::MemoryStream(end));
}

memory_detail::MemoryUdpSocket* MemoryHost::find_udp(const Endpoint& to) const {
  auto it = udp_.find(BindKey{to.family(), to.port, to.address});
  if (it == udp_.end()) it = udp_.find(BindKey{to.family(), to.port, IpAddress::any(to.family())});
  return it == udp_.end() ? nullptr : it->second;
}

memory_detail::ListenerState* MemoryHost::find_listener(const Endpoint& to) const {
  auto it = listeners_.find(BindKey{to.family(), to.port, to.address});
  if (it == listeners_.end()) {
    it = listeners_.find(BindKey{to.family(), to.port, IpAddress::any(to.family())});
  }
  return it == listeners_.end() ? nullptr : it->second;
}

}  // namespace warren
