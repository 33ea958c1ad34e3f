// Host name resolution for real mode (command-line and configuration input). Blocking: call
// it before the loop runs, never from a handler.
#pragma once

#include <string_view>
#include <vector>

#include "nodes/net/endpoint.h"
#include "nodes/net/result.h"

namespace warren {

// Addresses beyond this many in one answer are ignored: we only ever use the first few.
constexpr size_t kMaxResolvedAddresses = 32;

// An IP literal (also "[v6]") is returned as is, without a lookup; anything else goes through
// getaddrinfo. The addresses come in the system's preference order (RFC 6724), without
// duplicates. Error: "cannot resolve 'name': Name or service not known".
Result<std::vector<IpAddress>> resolve_host(std::string_view host);

// "HOST:PORT", "[v6]:PORT" or "a.b.c.d:PORT" (the port is required). Picks the first address
// of the `preferred` family, else the first address. Errors name the input and what to fix.
Result<Endpoint> resolve_endpoint(std::string_view host_port, Family preferred);

}  // namespace warren
