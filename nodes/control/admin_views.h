// The JSON shapes the admin protocol returns for users, keys, nodes and routes (documented in
// nodes/control/README.md, "State and admin results"). Times are Unix seconds (integers), null
// for "never"/"not yet". Keys' secrets never appear here: only keys.create adds "key".
// Every string is valid UTF-8, so a reply always serialises.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nodes/control/model.h"
#include "nodes/control/registry.h"

namespace warren::control {

// `text` with every byte that is not part of valid UTF-8 replaced by '?'.
std::string valid_utf8(std::string_view text);

nlohmann::json user_view(const User& user);
nlohmann::json auth_key_view(const AuthKey& key, const Registry& registry, int64_t now_unix_ns);
nlohmann::json node_view(const Node& node, const Registry& registry, const NodeLive& live);
// One entry per advertised prefix of the node, in prefix order.
nlohmann::json route_views(const Node& node);

}  // namespace warren::control
