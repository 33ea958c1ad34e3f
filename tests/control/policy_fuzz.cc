// Fuzzes the policy parser (admins paste policy files; `policy set` must never crash the
// server): never crash; every error names a line; an accepted policy drives a PolicyIndex
// (peers, filters, dependents) without crashing, and visibility stays symmetric.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "nodes/common/json_locator.h"
#include "nodes/control/policy_index.h"

namespace {

warren::control::PolicySubject subject(uint64_t id, const char* user, const char* tag,
                                       const char* route) {
  warren::control::PolicySubject s;
  s.id = id;
  s.user = user;
  if (tag) s.tags.push_back(tag);
  s.ipv4 = *warren::IpAddress::parse("100.64.0." + std::to_string(id));
  s.ipv6 = *warren::IpAddress::parse("fd7a:115c:a1e0::" + std::to_string(id));
  if (route) s.approved_routes.push_back(*warren::Prefix::parse(route));
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace warren::control;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  warren::JsonLocator locator(text);
  (void)locator.line_of("/acls/0/dst/0");

  auto policy = parse_policy(text);
  if (!policy.ok()) {
    if (policy.error().message.rfind("line ", 0) != 0) std::abort();
    return 0;
  }
  PolicyIndex index(*policy);
  index.upsert(subject(1, "alice", nullptr, nullptr));
  index.upsert(subject(2, "bob", "tag:server", "192.168.1.0/24"));
  index.upsert(subject(3, "alice", nullptr, "0.0.0.0/0"));
  index.upsert(subject(4, "carol", "tag:a", nullptr));
  for (uint64_t a = 1; a <= 4; ++a) {
    index.for_each_peer(a, [&](uint64_t b) {
      if (!index.sees(b, a)) std::abort();
    });
    (void)index.filter_for(a);
    index.for_each_filter_dependent(*index.subject(a), [](uint64_t) {});
  }
  index.remove(2);
  (void)index.filter_for(1);
  return 0;
}
