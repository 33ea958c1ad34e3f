#include "nodes/control/address_allocator.h"

#include <algorithm>
#include <string>

namespace warren::control {
namespace {

// Addresses Tailscale clients treat specially; handing them to a node would break it.
constexpr uint32_t kTailscaleServiceV4 = (100u << 24) | (100u << 16) | (100u << 8) | 100u;
constexpr uint32_t kChromeOsVmFirst = (100u << 24) | (115u << 16) | (92u << 8);  // 100.115.92.0
constexpr uint32_t kChromeOsVmLast = kChromeOsVmFirst + 511;                     // /23
const char kTailscaleDnsV6[] = "fd7a:115c:a1e0::53";

// At most: network, last, service address, ChromeOS range, DNS address.
constexpr size_t kMaxReservedRanges = 5;
// first_free skips each reserved range at most once and at most one used range after each
// reserved one (used ranges are merged), so this many steps always suffice.
constexpr int kMaxFreeSearchSteps = 2 * (static_cast<int>(kMaxReservedRanges) + 1) + 1;

uint64_t load_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

}  // namespace

AddressPool::AddressPool(Prefix prefix) : prefix_(prefix) {
  int width = prefix_.family() == Family::ipv4 ? 32 : 128;
  int host_bits = width - prefix_.length();
  last_offset_ = host_bits >= 64 ? UINT64_MAX : (uint64_t{1} << host_bits) - 1;

  reserved_.push_back({0, 0});
  reserved_.push_back({last_offset_, last_offset_});
  if (prefix_.family() == Family::ipv4) {
    uint64_t net = prefix_.network().v4_value();
    auto reserve_v4 = [&](uint64_t first, uint64_t last) {
      uint64_t lo = std::max(first, net);
      uint64_t hi = std::min(last, net + last_offset_);
      if (lo <= hi) reserved_.push_back({lo - net, hi - net});
    };
    reserve_v4(kTailscaleServiceV4, kTailscaleServiceV4);
    reserve_v4(kChromeOsVmFirst, kChromeOsVmLast);
  } else {
    auto dns = IpAddress::parse(kTailscaleDnsV6);
    uint64_t offset = 0;
    if (dns.ok() && offset_of(*dns, offset)) reserved_.push_back({offset, offset});
  }
  std::sort(reserved_.begin(), reserved_.end(),
            [](const Range& a, const Range& b) { return a.first < b.first; });
  // Merge overlaps (a /31 has network == last - 1; a /32 has network == last).
  std::vector<Range> merged;
  for (const Range& r : reserved_) {
    if (!merged.empty() && (r.first <= merged.back().last || (merged.back().last != UINT64_MAX &&
                                                              r.first == merged.back().last + 1))) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  reserved_ = std::move(merged);
}

bool AddressPool::offset_of(const IpAddress& address, uint64_t& offset) const {
  if (!prefix_.contains(address)) return false;
  if (address.is_v4()) {
    offset = uint64_t{address.v4_value()} - prefix_.network().v4_value();
    return true;
  }
  // The high 64 bits must equal the network's: beyond the first 2^64 addresses is out of range.
  const uint8_t* a = address.bytes();
  const uint8_t* n = prefix_.network().bytes();
  if (!std::equal(a, a + 8, n)) return false;
  offset = load_be64(a + 8) - load_be64(n + 8);
  return true;
}

bool AddressPool::in_range(const IpAddress& address) const {
  uint64_t offset = 0;
  return offset_of(address, offset);
}

bool AddressPool::used_contains(uint64_t offset) const {
  auto it = used_.upper_bound(offset);
  if (it == used_.begin()) return false;
  --it;
  return offset <= it->second;
}

bool AddressPool::is_used(const IpAddress& address) const {
  uint64_t offset = 0;
  return offset_of(address, offset) && used_contains(offset);
}

bool AddressPool::is_reserved(const IpAddress& address) const {
  uint64_t offset = 0;
  if (!offset_of(address, offset)) return false;
  for (const Range& r : reserved_) {
    if (offset >= r.first && offset <= r.last) return true;
  }
  return false;
}

void AddressPool::insert_used(uint64_t offset) {
  auto next = used_.upper_bound(offset);  // first range starting after offset
  bool joins_next = next != used_.end() && offset != UINT64_MAX && next->first == offset + 1;
  if (next != used_.begin()) {
    auto prev = std::prev(next);
    if (prev->second != UINT64_MAX && prev->second + 1 == offset) {
      prev->second = joins_next ? next->second : offset;
      if (joins_next) used_.erase(next);
      ++used_count_;
      return;
    }
  }
  if (joins_next) {
    uint64_t last = next->second;
    used_.erase(next);
    used_.emplace(offset, last);
  } else {
    used_.emplace(offset, offset);
  }
  ++used_count_;
}

void AddressPool::erase_used(uint64_t offset) {
  auto it = used_.upper_bound(offset);
  if (it == used_.begin()) return;
  --it;
  if (offset > it->second) return;
  uint64_t first = it->first;
  uint64_t last = it->second;
  used_.erase(it);
  if (first < offset) used_.emplace(first, offset - 1);
  if (offset < last) used_.emplace(offset + 1, last);
  --used_count_;
}

Status AddressPool::mark_used(const IpAddress& address) {
  uint64_t offset = 0;
  if (!offset_of(address, offset)) return Status::success();
  if (used_contains(offset)) {
    return make_error("address " + address.to_string() + " is used twice");
  }
  insert_used(offset);
  cursor_ = std::max(cursor_, offset);
  return Status::success();
}

void AddressPool::release(const IpAddress& address) {
  uint64_t offset = 0;
  if (offset_of(address, offset)) erase_used(offset);
}

bool AddressPool::first_free(uint64_t from, uint64_t to, uint64_t& out) const {
  uint64_t x = from;
  for (int step = 0; step < kMaxFreeSearchSteps; ++step) {
    if (x > to) return false;
    uint64_t skip_to_last = 0;
    bool blocked = false;
    auto it = used_.upper_bound(x);
    if (it != used_.begin() && x <= std::prev(it)->second) {
      blocked = true;
      skip_to_last = std::prev(it)->second;
    } else {
      for (const Range& r : reserved_) {
        if (x >= r.first && x <= r.last) {
          blocked = true;
          skip_to_last = r.last;
          break;
        }
      }
    }
    if (!blocked) {
      out = x;
      return true;
    }
    if (skip_to_last == UINT64_MAX) return false;
    x = skip_to_last + 1;
  }
  return false;  // unreachable: see kMaxFreeSearchSteps
}

Result<IpAddress> AddressPool::peek() const {
  uint64_t offset = 0;
  bool found = cursor_ < last_offset_ && first_free(cursor_ + 1, last_offset_, offset);
  // Wrap once: addresses below the cursor were freed by deleted nodes (or never used).
  if (!found) found = first_free(1, cursor_, offset);
  if (!found) {
    return make_error("no free " + std::string(to_string(prefix_.family())) + " address left in " +
                      prefix_.to_string() + " (" + std::to_string(used_count_) +
                      " in use): delete nodes that are gone, or configure a larger prefix");
  }
  return prefix_.host(offset);
}

Result<IpAddress> AddressPool::allocate() {
  auto address = peek();
  if (!address) return address;
  uint64_t offset = 0;
  offset_of(*address, offset);
  insert_used(offset);
  cursor_ = offset;
  return address;
}

IpAddress AddressPool::cursor() const {
  auto address = prefix_.host(cursor_);
  return address.ok() ? *address : prefix_.network();
}

bool AddressPool::set_cursor(const IpAddress& address) {
  uint64_t offset = 0;
  if (!offset_of(address, offset)) return false;
  cursor_ = offset;
  return true;
}

AddressAllocator::AddressAllocator(Prefix ipv4, Prefix ipv6) : v4_(ipv4), v6_(ipv6) {}

Result<AddressPair> AddressAllocator::allocate() {
  // Check both before taking either, so a full IPv6 pool does not leak an IPv4 address.
  auto a4 = v4_.peek();
  if (!a4) return a4.error();
  auto a6 = v6_.peek();
  if (!a6) return a6.error();
  return AddressPair{*v4_.allocate(), *v6_.allocate()};
}

Status AddressAllocator::mark_used(const AddressPair& pair) {
  if (v4_.is_used(pair.ipv4))
    return make_error("address " + pair.ipv4.to_string() + " is used twice");
  if (v6_.is_used(pair.ipv6))
    return make_error("address " + pair.ipv6.to_string() + " is used twice");
  Status s4 = v4_.mark_used(pair.ipv4);
  if (!s4) return s4;
  return v6_.mark_used(pair.ipv6);
}

void AddressAllocator::release(const AddressPair& pair) {
  v4_.release(pair.ipv4);
  v6_.release(pair.ipv6);
}

}  // namespace warren::control
