// The Registry's in-memory state with its lookup indexes, and how it is rebuilt from a store.
// Internal to the Registry (registry.cc); separate so that loading and its cross-record checks
// read on their own.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nodes/control/address_allocator.h"
#include "nodes/control/model.h"
#include "nodes/control/policy.h"
#include "nodes/control/registry.h"
#include "nodes/control/store_records.h"

namespace warren::control {

struct RegistryState {
  explicit RegistryState(const RegistryConfig& config);

  std::map<UserId, User> users;
  std::map<std::string, UserId> user_by_name;
  std::map<AuthKeyId, AuthKey> keys;
  std::map<std::string, AuthKeyId> key_by_prefix;
  std::map<NodeId, Node> nodes;
  std::map<PublicKey, NodeId> by_machine_key;
  std::map<PublicKey, NodeId> by_node_key;
  std::map<std::string, NodeId> by_name;
  IdCounters counters;
  AddressAllocator allocator;
  Policy policy;

  // Adds a node to `nodes` and every index (the caller has checked uniqueness).
  Node& insert_node(Node node);
  // Removes it from `nodes` and every index, and frees its addresses; returns the removed copy.
  Node erase_node(NodeId id);
  AllocatorCursors cursors() const;
};

// Builds the state from every record of a store, with the checks a corrupt or hand-edited
// database needs: duplicate names, keys and addresses, references to unknown users, prefixes of
// the wrong family in the config, a stored policy this build rejects. Errors name the record.
Result<std::unique_ptr<RegistryState>> build_registry_state(
    const RegistryConfig& config, const std::vector<StoreRecord>& records);

}  // namespace warren::control
