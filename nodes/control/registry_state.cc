#include "nodes/control/registry_state.h"

#include <algorithm>
#include <set>

namespace warren::control {

RegistryState::RegistryState(const RegistryConfig& config)
    : allocator(config.ipv4_prefix, config.ipv6_prefix), policy(allow_all_policy()) {}

Node& RegistryState::insert_node(Node node) {
  NodeId id = node.id;
  by_machine_key[node.machine_key] = id;
  by_node_key[node.node_key] = id;
  by_name[node.name] = id;
  return nodes[id] = std::move(node);
}

Node RegistryState::erase_node(NodeId id) {
  auto it = nodes.find(id);
  if (it == nodes.end()) return Node{};
  Node node = std::move(it->second);
  nodes.erase(it);
  by_machine_key.erase(node.machine_key);
  by_node_key.erase(node.node_key);
  by_name.erase(node.name);
  allocator.release(AddressPair{node.ipv4, node.ipv6});
  return node;
}

AllocatorCursors RegistryState::cursors() const {
  return AllocatorCursors{allocator.ipv4().cursor(), allocator.ipv6().cursor()};
}

namespace {

std::string where(const char* table, uint64_t id) {
  return std::string(table) + "/" + record_key(id);
}

}  // namespace

Result<std::unique_ptr<RegistryState>> build_registry_state(
    const RegistryConfig& config, const std::vector<StoreRecord>& records) {
  if (config.ipv4_prefix.family() != Family::ipv4) {
    return make_error("the IPv4 overlay prefix " + config.ipv4_prefix.to_string() +
                      " is not an IPv4 prefix");
  }
  if (config.ipv6_prefix.family() != Family::ipv6) {
    return make_error("the IPv6 overlay prefix " + config.ipv6_prefix.to_string() +
                      " is not an IPv6 prefix");
  }
  auto stored = decode_store(records);
  if (!stored) return stored.error();
  auto state = std::make_unique<RegistryState>(config);
  RegistryState& s = *state;

  uint64_t max_user = 0;
  for (User& u : stored->users) {
    if (s.user_by_name.count(u.name)) {
      return make_error(where(kUsersTable, u.id) + ": user name \"" + u.name + "\" is also user " +
                        record_key(s.user_by_name[u.name]) + "'s");
    }
    max_user = std::max(max_user, u.id);
    s.user_by_name[u.name] = u.id;
    s.users[u.id] = std::move(u);
  }

  uint64_t max_key = 0;
  for (AuthKey& k : stored->auth_keys) {
    if (!s.users.count(k.user)) {
      return make_error(where(kAuthKeysTable, k.id) + ": unknown user " + record_key(k.user));
    }
    if (s.key_by_prefix.count(k.prefix)) {
      return make_error(where(kAuthKeysTable, k.id) + ": prefix " + k.prefix + " is also key " +
                        record_key(s.key_by_prefix[k.prefix]) + "'s");
    }
    max_key = std::max(max_key, k.id);
    s.key_by_prefix[k.prefix] = k.id;
    s.keys[k.id] = std::move(k);
  }

  uint64_t max_node = 0;
  std::map<IpAddress, NodeId> by_address;  // catches duplicates outside the pools' ranges too
  for (Node& n : stored->nodes) {
    std::string at = where(kNodesTable, n.id);
    if (!s.users.count(n.user)) return make_error(at + ": unknown user " + record_key(n.user));
    auto clash = [&](const std::map<PublicKey, NodeId>& index, const PublicKey& key,
                     const char* what) -> Status {
      auto it = index.find(key);
      if (it == index.end()) return Status::success();
      return make_error(at + ": " + what + " is also node " + record_key(it->second) + "'s");
    };
    if (Status c = clash(s.by_machine_key, n.machine_key, "machine key"); !c) return c.error();
    if (Status c = clash(s.by_node_key, n.node_key, "node key"); !c) return c.error();
    if (s.by_name.count(n.name)) {
      return make_error(at + ": name \"" + n.name + "\" is also node " +
                        record_key(s.by_name[n.name]) + "'s");
    }
    for (const IpAddress& a : {n.ipv4, n.ipv6}) {
      auto [it, fresh] = by_address.emplace(a, n.id);
      if (!fresh) {
        return make_error(at + ": address " + a.to_string() + " is also node " +
                          record_key(it->second) + "'s");
      }
    }
    Status marked = s.allocator.mark_used(AddressPair{n.ipv4, n.ipv6});
    if (!marked) return make_error(at + ": " + marked.error().message);
    max_node = std::max(max_node, n.id);
    s.insert_node(std::move(n));
  }

  // Ids continue after the persisted counters, and after every id in use whatever they say.
  IdCounters c = stored->counters.value_or(IdCounters{});
  c.next_user = std::max(c.next_user, max_user + 1);
  c.next_auth_key = std::max(c.next_auth_key, max_key + 1);
  c.next_node = std::max(c.next_node, max_node + 1);
  s.counters = c;

  // A persisted cursor wins over the highest used address: it may have wrapped.
  if (stored->cursors.ipv4_last) s.allocator.ipv4().set_cursor(*stored->cursors.ipv4_last);
  if (stored->cursors.ipv6_last) s.allocator.ipv6().set_cursor(*stored->cursors.ipv6_last);

  if (stored->policy_text) {
    auto policy = parse_policy(*stored->policy_text);
    if (!policy) {
      return make_error(
          std::string(kMetaTable) + "/" + kPolicyKey +
          ": the stored policy is rejected by this version: " + policy.error().message);
    }
    s.policy = std::move(*policy);
    s.policy.text = *stored->policy_text;
  }
  return state;
}

}  // namespace warren::control
