// The Registry's validation rules and name derivation, as pure functions. Every error names
// the offending value (made printable: untrusted text never reaches a message raw).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "nodes/common/control_messages.h"  // kMaxHostnameBytes
#include "nodes/net/prefix.h"
#include "nodes/net/result.h"

namespace warren::control {

constexpr size_t kMaxUserNameChars = 63;
constexpr size_t kMaxDnsLabelChars = 63;  // RFC 1035
// Bounds on what one key or one node may carry, so a record and a map entry stay small.
constexpr size_t kMaxTagsPerKey = 32;
constexpr size_t kMaxRoutesPerNode = 256;

// Quotes `text` for a message: at most `max_chars`, bytes outside printable ASCII as \xNN.
std::string printable(std::string_view text, size_t max_chars = 64);

// [a-z0-9][a-z0-9._-]{0,62}
Status check_user_name(std::string_view name);
// "tag:" then [A-Za-z0-9][A-Za-z0-9._-]{0,62}
Status check_tag(std::string_view tag);
// Validated, sorted, duplicates removed; at most kMaxTagsPerKey.
Result<std::vector<std::string>> normalize_tags(std::vector<std::string> tags);

// A DNS label: 1..63 of [a-z0-9-], not starting or ending with '-'.
Status check_node_name(std::string_view name);
// The label a hostname suggests: its first dot-separated part, lower-cased, every run of other
// characters made one '-', trimmed to 63; "node" when nothing is left.
std::string dns_label_from_hostname(std::string_view hostname);
// `base` with "-N" appended (N >= 2), shortened so the result is still a valid label.
std::string numbered_name(const std::string& base, uint64_t n);

// Subnet routes and exit routes (0.0.0.0/0, ::/0), both families. Rejects IPv4-mapped IPv6
// prefixes (advertise the IPv4 prefix instead) and more than kMaxRoutesPerNode; returns them
// sorted with duplicates removed. (Prefix values are canonical by construction: host bits 0.)
Result<std::vector<Prefix>> normalize_routes(std::vector<Prefix> routes);
bool is_exit_route(const Prefix& prefix);

}  // namespace warren::control
