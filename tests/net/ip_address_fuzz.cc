// Fuzzes the address, endpoint and prefix parsers: never crash, and whatever parses must
// format back to text that parses to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "nodes/net/endpoint.h"
#include "nodes/net/prefix.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto a = warren::IpAddress::parse(text)) {
    auto again = warren::IpAddress::parse(a->to_string());
    if (!again || *again != *a) std::abort();
  }
  if (auto e = warren::Endpoint::parse(text)) {
    auto again = warren::Endpoint::parse(e->to_string());
    if (!again || *again != *e) std::abort();
  }
  if (auto p = warren::Prefix::parse(text)) {
    auto again = warren::Prefix::parse(p->to_string());
    if (!again || *again != *p) std::abort();
  }
  return 0;
}
