// Overlay address allocation: one IPv4 and one IPv6 address per node, handed out sequentially
// from the configured prefixes (as headscale's "sequential" allocation).
//
// - Never handed out: each prefix's network address and its last address (the IPv4 broadcast;
//   IPv6 skips its last one too, so both families follow one rule), and, where they fall inside
//   the prefix, 100.100.100.100 (Tailscale's service address), 100.115.92.0/23 (ChromeOS VMs)
//   and fd7a:115c:a1e0::53 (Tailscale's DNS address).
// - Each family has a cursor: the last address it handed out (initially the network address).
//   The next allocation takes the first free address after the cursor. An address freed by a
//   deleted node is therefore not handed out again until the cursor has run to the end of the
//   prefix and wrapped round once: a peer that still holds the old node in a stale map never
//   sees a new node under that address soon after. The Registry persists the cursors, so a
//   restart does not hand out a deleted node's address early either.
// - No free address left in a prefix is an error naming the prefix (and what to do).
// - Cost: O(log N) per allocation, mark and release (used addresses are kept as merged ranges,
//   so finding the next free one never walks over used addresses one by one).
// - A prefix with more than 2^64 addresses (IPv6 shorter than /64) allocates in its first 2^64.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "nodes/net/prefix.h"
#include "nodes/net/result.h"

namespace warren::control {

// The addresses of one prefix.
class AddressPool {
 public:
  explicit AddressPool(Prefix prefix);

  const Prefix& prefix() const { return prefix_; }
  // Inside the prefix and within its first 2^64 addresses: the only addresses the pool tracks.
  bool in_range(const IpAddress& address) const;
  // A loaded node's address: marks it used and moves the cursor up to it if it is beyond.
  // Addresses outside the range are not tracked (they cannot collide with allocations) and
  // succeed; an address already used is an error.
  Status mark_used(const IpAddress& address);
  // Frees an address (its node was deleted). Not handed out again before the cursor wraps.
  void release(const IpAddress& address);
  bool is_used(const IpAddress& address) const;
  bool is_reserved(const IpAddress& address) const;
  // The address allocate() would hand out next, without taking it.
  Result<IpAddress> peek() const;
  // Takes peek()'s address and moves the cursor to it.
  Result<IpAddress> allocate();

  // The cursor as an address (the network address before the first allocation).
  IpAddress cursor() const;
  // Restores a persisted cursor; ignored (returns false) if it lies outside the range.
  bool set_cursor(const IpAddress& address);
  uint64_t used_count() const { return used_count_; }

 private:
  struct Range {
    uint64_t first;
    uint64_t last;  // inclusive
  };
  bool offset_of(const IpAddress& address, uint64_t& offset) const;
  // The first offset in [from, to] that is neither used nor reserved.
  bool first_free(uint64_t from, uint64_t to, uint64_t& out) const;
  bool used_contains(uint64_t offset) const;
  void insert_used(uint64_t offset);
  void erase_used(uint64_t offset);

  Prefix prefix_;
  uint64_t last_offset_ = 0;           // highest offset in range
  std::vector<Range> reserved_;        // sorted, disjoint; a handful at most
  std::map<uint64_t, uint64_t> used_;  // first -> last (inclusive); merged, disjoint
  uint64_t used_count_ = 0;
  uint64_t cursor_ = 0;
};

struct AddressPair {
  IpAddress ipv4;
  IpAddress ipv6;
};

// Both families together: an allocation takes one address of each or neither.
class AddressAllocator {
 public:
  // `ipv4` must be an IPv4 prefix and `ipv6` an IPv6 one (checked by the Registry's load()).
  AddressAllocator(Prefix ipv4, Prefix ipv6);

  Result<AddressPair> allocate();
  // Either address may be outside its pool's range (then it is not tracked).
  Status mark_used(const AddressPair& pair);
  void release(const AddressPair& pair);

  AddressPool& ipv4() { return v4_; }
  AddressPool& ipv6() { return v6_; }
  const AddressPool& ipv4() const { return v4_; }
  const AddressPool& ipv6() const { return v6_; }

 private:
  AddressPool v4_;
  AddressPool v6_;
};

}  // namespace warren::control
