#include "nodes/common/stun_message.h"

#include <algorithm>
#include <boost/crc.hpp>

namespace warren {
namespace {

constexpr uint8_t kFamilyV4 = 0x01;
constexpr uint8_t kFamilyV6 = 0x02;
constexpr size_t kAttrHeaderSize = 4;
constexpr size_t kFingerprintAttrSize = kAttrHeaderSize + 4;

size_t padded(size_t n) {
  return (n + 3) & ~size_t{3};
}

uint16_t encode_type(uint16_t method, StunClass c) {
  const uint16_t cls = static_cast<uint16_t>(c);
  return static_cast<uint16_t>((method & 0x000F) | ((cls & 0x1) << 4) | ((method & 0x0070) << 1) |
                               ((cls & 0x2) << 7) | ((method & 0x0F80) << 2));
}

void decode_type(uint16_t type, uint16_t& method, StunClass& c) {
  method = static_cast<uint16_t>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
  c = static_cast<StunClass>(((type >> 4) & 0x1) | ((type >> 7) & 0x2));
}

uint32_t fingerprint_of(const uint8_t* data, size_t size) {
  boost::crc_32_type crc;
  crc.process_bytes(data, size);
  return crc.checksum() ^ kStunFingerprintXor;
}

// The XOR pad for an address: cookie || transaction ID (only the first 4 bytes for IPv4).
std::array<uint8_t, 16> xor_pad(const StunTransactionId& id) {
  std::array<uint8_t, 16> pad{};
  store_be32(pad.data(), kStunMagicCookie);
  std::copy(id.begin(), id.end(), pad.begin() + 4);
  return pad;
}

Result<Endpoint> decode_address(ByteView v, bool xored, const StunTransactionId& id,
                                const char* name) {
  if (v.size() < 4) {
    return make_error(std::string(name) + " is " + std::to_string(v.size()) +
                      " bytes, shorter than its 4-byte family and port");
  }
  const uint8_t family = v[1];
  uint16_t port = load_be16(v.data() + 2);
  if (xored) port ^= static_cast<uint16_t>(kStunMagicCookie >> 16);
  const auto pad = xor_pad(id);
  if (family == kFamilyV4) {
    if (v.size() != 8) {
      return make_error(std::string(name) + " for IPv4 must be 8 bytes, got " +
                        std::to_string(v.size()));
    }
    uint32_t a = load_be32(v.data() + 4);
    if (xored) a ^= kStunMagicCookie;
    return Endpoint(IpAddress::v4(a), port);
  }
  if (family == kFamilyV6) {
    if (v.size() != 20) {
      return make_error(std::string(name) + " for IPv6 must be 20 bytes, got " +
                        std::to_string(v.size()));
    }
    std::array<uint8_t, 16> b{};
    for (size_t i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(v[4 + i] ^ (xored ? pad[i] : 0));
    return Endpoint(IpAddress::v6(b).unmap(), port);
  }
  return make_error(std::string(name) + " has unknown address family " + std::to_string(family) +
                    " (expected 1 for IPv4 or 2 for IPv6)");
}

Result<StunErrorCode> decode_error_code(ByteView v) {
  if (v.size() < 4) return make_error("ERROR-CODE is shorter than 4 bytes");
  const unsigned cls = v[2] & 0x07;
  const unsigned number = v[3];
  if (cls < 3 || cls > 6 || number > 99) {
    return make_error("ERROR-CODE has class " + std::to_string(cls) + " and number " +
                      std::to_string(number) + "; expected class 3..6 and number 0..99");
  }
  StunErrorCode e;
  e.code = static_cast<uint16_t>(cls * 100 + number);
  e.reason = std::string(v.sub(4, kStunMaxTextBytes).as_string());
  return e;
}

bool understood_and_ignored(uint16_t type) {
  switch (type) {
    case stun_attr::kUsername:
    case stun_attr::kRealm:
    case stun_attr::kNonce:
    case stun_attr::kPasswordAlgorithm:
    case stun_attr::kUserhash:
      return true;
    default:
      return false;
  }
}

void add_unique(std::vector<uint16_t>& list, uint16_t type) {
  if (list.size() >= kStunMaxUnknownAttributes) return;
  if (std::find(list.begin(), list.end(), type) == list.end()) list.push_back(type);
}

void append_attr(Bytes& out, uint16_t type, ByteView value) {
  append_be16(out, type);
  append_be16(out, static_cast<uint16_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
  out.resize(padded(out.size()), 0);
}

void append_address(Bytes& out, uint16_t type, const Endpoint& e, bool xored,
                    const StunTransactionId& id) {
  Bytes v;
  v.push_back(0);
  v.push_back(e.address.is_v4() ? kFamilyV4 : kFamilyV6);
  append_be16(v, xored ? static_cast<uint16_t>(e.port ^ (kStunMagicCookie >> 16)) : e.port);
  const auto pad = xor_pad(id);
  for (size_t i = 0; i < e.address.size(); ++i) {
    v.push_back(static_cast<uint8_t>(e.address.bytes()[i] ^ (xored ? pad[i] : 0)));
  }
  append_attr(out, type, v);
}

std::string_view cut_text(std::string_view s) {
  return s.substr(0, kStunMaxTextBytes);
}

}  // namespace

const char* to_string(StunClass c) {
  switch (c) {
    case StunClass::request:
      return "request";
    case StunClass::indication:
      return "indication";
    case StunClass::success:
      return "success response";
    case StunClass::error:
      return "error response";
  }
  return "?";
}

const char* stun_error_reason(uint16_t code) {
  switch (code) {
    case 300:
      return "Try Alternate";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthenticated";
    case 420:
      return "Unknown Attribute";
    case 438:
      return "Stale Nonce";
    case 500:
      return "Server Error";
    default:
      return "";
  }
}

bool looks_like_stun(ByteView d) {
  if (d.size() < kStunHeaderSize) return false;
  if ((d[0] & 0xC0) != 0) return false;
  const size_t length = load_be16(d.data() + 2);
  return length % 4 == 0 && kStunHeaderSize + length == d.size() &&
         load_be32(d.data() + 4) == kStunMagicCookie;
}

Result<StunMessage> parse_stun(ByteView d) {
  if (d.size() < kStunHeaderSize) {
    return make_error("STUN message is " + std::to_string(d.size()) +
                      " bytes, shorter than the 20-byte header");
  }
  if ((d[0] & 0xC0) != 0) return make_error("not STUN: the top two bits of the header are set");
  if (load_be32(d.data() + 4) != kStunMagicCookie) {
    return make_error("not STUN: wrong magic cookie (RFC 3489-only peers are not supported)");
  }
  const size_t length = load_be16(d.data() + 2);
  if (length % 4 != 0) {
    return make_error("STUN length " + std::to_string(length) + " is not a multiple of 4");
  }
  if (kStunHeaderSize + length != d.size()) {
    return make_error("STUN length " + std::to_string(length) + " does not match the " +
                      std::to_string(d.size() - kStunHeaderSize) + " bytes after the header");
  }

  StunMessage m;
  decode_type(load_be16(d.data()), m.method, m.message_class);
  std::copy(d.data() + 8, d.data() + kStunHeaderSize, m.transaction_id.begin());

  bool after_integrity = false;
  bool seen_error_code = false, seen_unknown_list = false;
  size_t pos = kStunHeaderSize;
  // Each pass consumes at least 4 bytes, so the loop ends within size/4 steps.
  while (pos < d.size()) {
    if (m.fingerprint) return make_error("STUN attribute follows FINGERPRINT, which must be last");
    if (d.size() - pos < kAttrHeaderSize) return make_error("truncated STUN attribute header");
    const uint16_t type = load_be16(d.data() + pos);
    const size_t vlen = load_be16(d.data() + pos + 2);
    if (padded(vlen) > d.size() - pos - kAttrHeaderSize) {
      return make_error("STUN attribute 0x" + to_hex(d.sub(pos, 2)) + " of length " +
                        std::to_string(vlen) + " runs past the end of the message");
    }
    const ByteView v = d.sub(pos + kAttrHeaderSize, vlen);
    const size_t attr_start = pos;
    pos += kAttrHeaderSize + padded(vlen);

    if (type == stun_attr::kFingerprint) {
      if (vlen != 4) return make_error("FINGERPRINT must be 4 bytes");
      if (load_be32(v.data()) != fingerprint_of(d.data(), attr_start)) {
        return make_error("STUN FINGERPRINT does not match the message (corrupted or not STUN)");
      }
      m.fingerprint = true;
      continue;
    }
    if (after_integrity && type != stun_attr::kMessageIntegritySha256) continue;

    switch (type) {
      case stun_attr::kXorMappedAddress:
      case stun_attr::kXorMappedAddressOld: {
        if (m.xor_mapped_address) break;
        auto e = decode_address(v, true, m.transaction_id, "XOR-MAPPED-ADDRESS");
        if (!e) return e.error();
        m.xor_mapped_address = *e;
        break;
      }
      case stun_attr::kMappedAddress: {
        if (m.mapped_address) break;
        auto e = decode_address(v, false, m.transaction_id, "MAPPED-ADDRESS");
        if (!e) return e.error();
        m.mapped_address = *e;
        break;
      }
      case stun_attr::kSoftware:
        if (!m.software) m.software = std::string(v.sub(0, kStunMaxTextBytes).as_string());
        break;
      case stun_attr::kErrorCode: {
        if (seen_error_code) break;
        seen_error_code = true;
        auto e = decode_error_code(v);
        if (!e) return e.error();
        m.error_code = std::move(*e);
        break;
      }
      case stun_attr::kUnknownAttributes:
        if (seen_unknown_list) break;
        seen_unknown_list = true;
        if (vlen % 2 != 0) return make_error("UNKNOWN-ATTRIBUTES has an odd length");
        for (size_t i = 0; i + 1 < vlen; i += 2) {
          add_unique(m.unknown_attributes, load_be16(v.data() + i));
        }
        break;
      case stun_attr::kMessageIntegrity:
      case stun_attr::kMessageIntegritySha256:
        m.message_integrity = true;
        after_integrity = true;
        break;
      default:
        if (type < 0x8000 && !understood_and_ignored(type)) add_unique(m.unknown_required, type);
        break;
    }
  }
  return m;
}

Bytes serialize_stun(const StunMessage& m) {
  Bytes out;
  out.reserve(128);
  append_be16(out, encode_type(m.method, m.message_class));
  append_be16(out, 0);  // length, patched below
  append_be32(out, kStunMagicCookie);
  out.insert(out.end(), m.transaction_id.begin(), m.transaction_id.end());

  if (m.mapped_address) {
    append_address(out, stun_attr::kMappedAddress, *m.mapped_address, false, m.transaction_id);
  }
  if (m.xor_mapped_address) {
    append_address(out, stun_attr::kXorMappedAddress, *m.xor_mapped_address, true,
                   m.transaction_id);
  }
  if (m.error_code) {
    uint16_t code = m.error_code->code;
    if (code < 300 || code > 699) code = kStunErrorBadRequest;
    Bytes v = {0, 0, static_cast<uint8_t>(code / 100), static_cast<uint8_t>(code % 100)};
    const auto reason = cut_text(m.error_code->reason);
    v.insert(v.end(), reason.begin(), reason.end());
    append_attr(out, stun_attr::kErrorCode, v);
  }
  if (!m.unknown_attributes.empty()) {
    Bytes v;
    const size_t n = std::min(m.unknown_attributes.size(), kStunMaxUnknownAttributes);
    for (size_t i = 0; i < n; ++i) append_be16(v, m.unknown_attributes[i]);
    append_attr(out, stun_attr::kUnknownAttributes, v);
  }
  if (m.software) append_attr(out, stun_attr::kSoftware, ByteView(cut_text(*m.software)));

  // The fingerprint covers a header whose length already includes the fingerprint itself.
  const size_t body = out.size() - kStunHeaderSize + (m.fingerprint ? kFingerprintAttrSize : 0);
  store_be16(out.data() + 2, static_cast<uint16_t>(body));
  if (m.fingerprint) {
    const uint32_t crc = fingerprint_of(out.data(), out.size());
    append_be16(out, stun_attr::kFingerprint);
    append_be16(out, 4);
    append_be32(out, crc);
  }
  return out;
}

Bytes build_binding_request(const StunTransactionId& id, bool fingerprint,
                            std::string_view software) {
  StunMessage m;
  m.message_class = StunClass::request;
  m.transaction_id = id;
  if (!software.empty()) m.software = std::string(software);
  m.fingerprint = fingerprint;
  return serialize_stun(m);
}

Bytes build_binding_success(const StunTransactionId& id, const Endpoint& mapped,
                            std::string_view software, bool fingerprint) {
  StunMessage m;
  m.message_class = StunClass::success;
  m.transaction_id = id;
  m.xor_mapped_address = mapped;
  if (!software.empty()) m.software = std::string(software);
  m.fingerprint = fingerprint;
  return serialize_stun(m);
}

Bytes build_binding_error(const StunTransactionId& id, uint16_t code, std::string_view reason,
                          const std::vector<uint16_t>& unknown, std::string_view software,
                          bool fingerprint) {
  StunMessage m;
  m.message_class = StunClass::error;
  m.transaction_id = id;
  m.error_code = StunErrorCode{code, std::string(reason)};
  m.unknown_attributes = unknown;
  if (!software.empty()) m.software = std::string(software);
  m.fingerprint = fingerprint;
  return serialize_stun(m);
}

}  // namespace warren
