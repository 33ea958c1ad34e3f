// Fuzzes the STUN codec. Never crash on any input; whatever parses serializes to bytes that
// parse back to the same values; and whatever the builders produce from fuzz-chosen fields
// parses back to those fields.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "nodes/common/stun_message.h"

namespace {

using warren::Bytes;
using warren::ByteView;
using warren::Endpoint;
using warren::StunMessage;

void check(bool ok) {
  if (!ok) std::abort();
}

bool same_values(const StunMessage& a, const StunMessage& b) {
  return a.message_class == b.message_class && a.method == b.method &&
         a.transaction_id == b.transaction_id && a.xor_mapped_address == b.xor_mapped_address &&
         a.mapped_address == b.mapped_address && a.software == b.software &&
         a.error_code == b.error_code && a.unknown_attributes == b.unknown_attributes &&
         a.fingerprint == b.fingerprint;
}

// Consumes bytes from the front of the input, zeros once it runs out.
struct Reader {
  ByteView in;
  size_t pos = 0;
  uint8_t u8() { return pos < in.size() ? in[pos++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
};

void check_builders(ByteView data) {
  Reader r{data};
  warren::StunTransactionId id{};
  for (auto& b : id) b = r.u8();
  const uint8_t flags = r.u8();
  Endpoint mapped;
  if (flags & 1) {
    std::array<uint8_t, 16> a{};
    for (auto& b : a) b = r.u8();
    mapped = Endpoint(warren::IpAddress::v6(a), r.u16());
  } else {
    mapped = Endpoint(warren::IpAddress::v4(r.u8(), r.u8(), r.u8(), r.u8()), r.u16());
  }
  const bool fingerprint = flags & 2;
  const std::string software(reinterpret_cast<const char*>(data.data()) + r.pos,
                             std::min<size_t>(data.size() - std::min(r.pos, data.size()), 40));

  auto req = warren::parse_stun(warren::build_binding_request(id, fingerprint, software));
  check(req.ok() && req->is_binding_request() && req->transaction_id == id &&
        req->fingerprint == fingerprint &&
        (software.empty() ? !req->software : req->software == software));

  auto ok = warren::parse_stun(warren::build_binding_success(id, mapped, software, fingerprint));
  check(ok.ok() && ok->message_class == warren::StunClass::success && ok->transaction_id == id &&
        ok->xor_mapped_address.has_value());
  const Endpoint expected(mapped.address.unmap(), mapped.port);
  check(*ok->xor_mapped_address == expected);

  const uint16_t code = static_cast<uint16_t>(300 + r.u16() % 400);
  std::vector<uint16_t> unknown;
  for (int i = 0, n = r.u8() % 4; i < n; ++i)
    unknown.push_back(static_cast<uint16_t>(0x100 * i + 1));
  auto err = warren::parse_stun(
      warren::build_binding_error(id, code, software, unknown, "x", fingerprint));
  check(err.ok() && err->message_class == warren::StunClass::error && err->error_code &&
        err->error_code->code == code && err->error_code->reason == software &&
        err->unknown_attributes == unknown);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView input(data, size);
  const bool looks = warren::looks_like_stun(input);
  auto parsed = warren::parse_stun(input);
  if (parsed) {
    check(looks);  // anything that parses passes the cheap demux test
    const Bytes again = warren::serialize_stun(*parsed);
    check(warren::looks_like_stun(again));
    auto reparsed = warren::parse_stun(again);
    check(reparsed.ok() && same_values(*parsed, *reparsed));
  }
  check_builders(input);
  return 0;
}
