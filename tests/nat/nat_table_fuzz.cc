// Drives a NatTable with an arbitrary sequence of packets over a tiny address and port space
// and checks what a NAT must never get wrong: a packet just translated outbound lets the
// remote's reply in to the same inside endpoint, and a translation stays inside the
// configured range. Every byte picks something, so short inputs explore long sequences.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "nat-models/nat_table.h"

namespace {

using namespace warren;
using namespace warren::nat;

class Bytes {
 public:
  Bytes(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return i_ >= n_; }
  uint8_t next() { return i_ < n_ ? d_[i_++] : 0; }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

// Endpoints from a 2-bit address and 2-bit port choice keep collisions frequent.
Endpoint inside_ep(uint8_t b) {
  return Endpoint(IpAddress::v4(192, 168, 1, static_cast<uint8_t>(b & 3)),
                  static_cast<uint16_t>(2000 + ((b >> 2) & 3)));
}
Endpoint remote_ep(uint8_t b) {
  return Endpoint(IpAddress::v4(198, 51, 100, static_cast<uint8_t>(b & 3)),
                  static_cast<uint16_t>(3478 + ((b >> 2) & 3)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  const uint8_t shape = in.next();
  NatConfig c;
  c.mapping = static_cast<Behaviour>(shape % 3);
  c.filtering = static_cast<Behaviour>((shape / 3) % 3);
  c.ports = static_cast<PortAssignment>((shape / 9) % 3);
  c.hairpinning = (shape & 0x80) != 0;
  c.inbound_refresh = (shape & 0x40) != 0;
  c.external_addresses = {IpAddress::v4(192, 0, 2, 1), IpAddress::v4(192, 0, 2, 2)};
  c.port_min = 2000;
  c.port_max = 2005;
  c.udp_timeout = Duration::seconds(30);
  c.tcp_established_timeout = Duration::seconds(100);
  c.tcp_transitory_timeout = Duration::seconds(10);
  SeededRng rng(shape, "nat-fuzz");
  NatTable nat(c, rng);

  Timestamp now;
  while (!in.empty()) {
    const uint8_t op = in.next();
    const uint8_t a = in.next();
    const uint8_t b = in.next();
    const Protocol proto = (op & 1) ? Protocol::tcp : Protocol::udp;
    TcpFlags flags;
    flags.syn = op & 2;
    flags.ack = op & 4;
    flags.fin = op & 8;
    flags.rst = (op & 0x30) == 0x30;
    now = now + Duration::seconds(op >> 6 == 3 ? 40 : op >> 6);
    switch ((op >> 4) & 3) {
      case 0:
      case 1: {
        const Endpoint src = inside_ep(a), dst = remote_ep(b);
        const Translation t = nat.outbound(proto, src, dst, now, flags);
        if (!t.ok()) break;
        if (t.endpoint.port < c.port_min || t.endpoint.port > c.port_max) std::abort();
        if (!nat.owns(t.endpoint.address)) std::abort();
        const Translation reply = nat.inbound(proto, dst, t.endpoint, now, TcpFlags{});
        if (!reply.ok() || reply.endpoint != src) std::abort();
        break;
      }
      case 2: {
        const Endpoint ext(c.external_addresses[a & 1], static_cast<uint16_t>(2000 + a % 7));
        (void)nat.inbound(proto, remote_ep(b), ext, now, flags);
        break;
      }
      default: {
        const Endpoint ext(c.external_addresses[a & 1], static_cast<uint16_t>(2000 + a % 7));
        (void)nat.hairpin(proto, inside_ep(b), ext, now, flags);
        if (b == 0xff) nat.flush();
        if (b == 0xfe) nat.expire(now);
        break;
      }
    }
  }
  if (nat.mapping_count() > 2u * 2u * 6u) std::abort();  // protocols x addresses x ports
  return 0;
}
