// Who sees whom and which packets each node accepts, maintained incrementally as nodes come and
// go, so that the work for one change is proportional to the nodes it affects.
//
// Matching. A node X is a source of a rule when a src selector names it: "*"; its user, a group
// holding its user, or autogroup:member (untagged nodes only); one of its tags or
// autogroup:tagged (tagged nodes only); or a host/literal prefix that contains one of its
// addresses or overlaps one of its approved subnet routes. A node Y is a destination of a rule
// when a dst selector names it the same way, or "autogroup:internet" and Y has an approved exit
// route (0.0.0.0/0 or ::/0). Literal prefixes never match exit routes: use "*" or
// autogroup:internet for traffic through exit nodes.
//
// Visibility is symmetric (as in headscale): a and b see each other when some rule has one as a
// source and the other as a destination. A node never sees itself. Nodes with the same identity
// (user, or tag set for tagged nodes) fall in one class, so the user/group/tag part is computed
// per class, not per node pair; prefix-matched nodes are kept per rule.
//
// Packet filter of Y: one FilterRule per policy rule (in policy order) with Y as a destination.
// Sources: any_source when src has "*"; otherwise the host/literal prefixes as written plus the
// addresses (/32, /128) of every node in the classes the src names. Destinations: Y's own part
// of each matching dst entry, with its ports — its addresses for "*", user, group, tag and
// autogroup entries; plus all its approved routes for "*"; the addresses it has inside a prefix
// entry and the overlap of that prefix with its subnet routes; its exit routes for
// autogroup:internet. Destinations are sorted and unique.
//
// Subjects are expected to carry both overlay addresses (the registry assigns them); an
// unspecified address is treated as absent.
//
// Costs (N nodes, C classes, R rules, P results, A rules with prefix or internet selectors):
// upsert/remove O(log N + A + R), plus O(R) the first time an identity appears; for_each_peer
// and for_each_filter_dependent O(R + C/64 + P log C), or O(N) when the result is at least half
// of the nodes; sees O(R log N); filter_for O(R + size of the filter), as each rule's source
// list is built once after its source classes change and then shared by every destination;
// set_policy O(N (log C + A) + C R). Enumeration is in ascending NodeId order.
// Single-threaded like the rest of the role: even const calls fill that cache.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nodes/common/packet_filter.h"
#include "nodes/control/model.h"
#include "nodes/control/policy.h"

namespace warren::control {

struct PolicySubject {
  NodeId id = 0;
  std::string user;               // owner's user name (ignored for policy when tags are set)
  std::vector<std::string> tags;  // sorted
  IpAddress ipv4;
  IpAddress ipv6;
  std::vector<Prefix> approved_routes;
};

class PolicyIndex {
 public:
  explicit PolicyIndex(Policy policy = allow_all_policy());
  ~PolicyIndex();
  PolicyIndex(const PolicyIndex&) = delete;
  PolicyIndex& operator=(const PolicyIndex&) = delete;

  const Policy& policy() const;
  // Replaces the policy (already validated). Afterwards every node's peers and filter may differ;
  // the caller compares and sends what changed.
  void set_policy(Policy policy);

  void upsert(const PolicySubject& subject);  // add, or replace by id
  void remove(NodeId id);                     // unknown id: no-op
  bool contains(NodeId id) const;
  size_t size() const;
  // The subject as last upserted; nullptr if unknown. Valid until the next change.
  const PolicySubject* subject(NodeId id) const;

  void for_each_peer(NodeId id, const std::function<void(NodeId)>& fn) const;
  bool sees(NodeId a, NodeId b) const;
  PacketFilter filter_for(NodeId id) const;  // empty for an unknown id
  // The nodes (ascending id, excluding the subject itself) whose filter_for() depends on
  // `subject` — its addresses appear in their filters. After upserting or removing that subject,
  // exactly these need a fresh filter: call it with the old version (before the change) and the
  // new one (after an upsert), as identity changes move a node between classes. Works whether or
  // not the subject is in the index. (A subject's own filter depends on its own routes, tags and
  // addresses: the caller refreshes it too.)
  void for_each_filter_dependent(const PolicySubject& subject,
                                 const std::function<void(NodeId)>& fn) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warren::control
