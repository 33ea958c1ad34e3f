// STUN (RFC 8489) messages: the binding subset warren needs for endpoint discovery, as pure
// parse/serialize functions over bytes. No I/O, no clock, no state.
//
// Header (20 bytes, network byte order):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |0 0|     STUN Message Type     |         Message Length        |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                   Magic Cookie = 0x2112A442                   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                 Transaction ID (96 bits)                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//   Message Type interleaves a 12-bit method M and a 2-bit class C:
//     bit 13..9 = M11..M7, bit 8 = C1, bit 7..5 = M6..M4, bit 4 = C0, bit 3..0 = M3..M0.
//     Binding request 0x0001, success response 0x0101, error response 0x0111.
//   Message Length counts the bytes after the header (always a multiple of 4).
//
// Attributes follow, each padded with zeros to a multiple of 4 bytes (the length field does
// not count the padding):
//
//   | Type (16) | Length (16) | Value (Length bytes) | padding to 4 |
//
//   XOR-MAPPED-ADDRESS 0x0020 (also accepted as 0x8020, a type some old servers used) and
//   MAPPED-ADDRESS 0x0001 share one value layout:
//     | 0x00 | Family (0x01 IPv4, 0x02 IPv6) | Port (16) | Address (32 or 128 bits) |
//   In XOR-MAPPED-ADDRESS the port is XORed with the top 16 bits of the cookie, an IPv4
//   address with the cookie, an IPv6 address with cookie || transaction ID.
//   ERROR-CODE 0x0009: | 0 (21 bits) | Class (3 bits, 3..6) | Number (8, 0..99) | Reason UTF-8 |
//   UNKNOWN-ATTRIBUTES 0x000A: a list of 16-bit attribute types.
//   SOFTWARE 0x8022: UTF-8 text.
//   FINGERPRINT 0x8028: CRC-32 (ISO-HDLC, as in zlib) of the message up to, not including,
//   this attribute (with the header length already covering it), XOR 0x5354554E. Always last.
//
// Parsing contract (parse_stun):
//   - Errors: shorter than 20 bytes, top two bits set, length not a multiple of 4 or not equal
//     to the bytes that follow, wrong magic cookie, an attribute running past the end, a
//     malformed attribute we decode, a FINGERPRINT that is not last or does not match.
//     A message with no FINGERPRINT is accepted (coturn's client sends none).
//   - MESSAGE-INTEGRITY (0x0008) and MESSAGE-INTEGRITY-SHA256 (0x001C) are comprehension-
//     required but warren has no STUN credentials: they are recorded as present and NOT
//     verified. Attributes after them other than FINGERPRINT are ignored (RFC 8489 14.5).
//   - The other RFC 8489 attributes we do not decode (USERNAME, REALM, NONCE,
//     PASSWORD-ALGORITHM, USERHASH) are understood-and-ignored; other comprehension-required
//     types (< 0x8000) are listed in `unknown_required` so a server can answer 420.
//     Unknown comprehension-optional types are skipped.
//   - Duplicate attributes: the first one counts.
//   - IPv4-mapped IPv6 addresses in (XOR-)MAPPED-ADDRESS are returned as IPv4.
//   - SOFTWARE and reason phrases longer than kStunMaxTextBytes are cut to that length.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodes/net/bytes.h"
#include "nodes/net/endpoint.h"
#include "nodes/net/result.h"

namespace warren {

using StunTransactionId = std::array<uint8_t, 12>;

constexpr uint32_t kStunMagicCookie = 0x2112A442;
constexpr size_t kStunHeaderSize = 20;
constexpr uint32_t kStunFingerprintXor = 0x5354554E;  // "STUN"
constexpr uint16_t kStunDefaultPort = 3478;
// RFC 8489 14.3 and 14.8: fewer than 128 characters, which is at most 763 bytes of UTF-8.
constexpr size_t kStunMaxTextBytes = 763;
// UNKNOWN-ATTRIBUTES lists and unknown_required are cut to this many entries: a real peer
// sends a handful, and a 420 reply listing thousands would let a forged request make us
// send far more than we received.
constexpr size_t kStunMaxUnknownAttributes = 16;

constexpr uint16_t kStunMethodBinding = 0x001;

enum class StunClass : uint8_t { request = 0, indication = 1, success = 2, error = 3 };
const char* to_string(StunClass c);

namespace stun_attr {
constexpr uint16_t kMappedAddress = 0x0001;
constexpr uint16_t kUsername = 0x0006;
constexpr uint16_t kMessageIntegrity = 0x0008;
constexpr uint16_t kErrorCode = 0x0009;
constexpr uint16_t kUnknownAttributes = 0x000A;
constexpr uint16_t kRealm = 0x0014;
constexpr uint16_t kNonce = 0x0015;
constexpr uint16_t kMessageIntegritySha256 = 0x001C;
constexpr uint16_t kPasswordAlgorithm = 0x001D;
constexpr uint16_t kUserhash = 0x001E;
constexpr uint16_t kXorMappedAddress = 0x0020;
constexpr uint16_t kXorMappedAddressOld = 0x8020;  // pre-RFC 5389 servers; Tailscale accepts it
constexpr uint16_t kSoftware = 0x8022;
constexpr uint16_t kFingerprint = 0x8028;
}  // namespace stun_attr

struct StunErrorCode {
  uint16_t code = 0;  // 300..699
  std::string reason;
  bool operator==(const StunErrorCode& o) const { return code == o.code && reason == o.reason; }
};

constexpr uint16_t kStunErrorBadRequest = 400;
constexpr uint16_t kStunErrorUnknownAttribute = 420;

struct StunMessage {
  StunClass message_class = StunClass::request;
  uint16_t method = kStunMethodBinding;  // 12 bits
  StunTransactionId transaction_id{};

  std::optional<Endpoint> xor_mapped_address;  // from 0x0020 (or 0x8020)
  std::optional<Endpoint> mapped_address;      // from 0x0001
  std::optional<std::string> software;
  std::optional<StunErrorCode> error_code;
  std::vector<uint16_t> unknown_attributes;  // the UNKNOWN-ATTRIBUTES attribute (in a 420)

  bool fingerprint = false;                // parse: present and valid; serialize: append one
  bool message_integrity = false;          // present, never verified (parse only)
  std::vector<uint16_t> unknown_required;  // comprehension-required types we don't know

  bool is_binding_request() const {
    return message_class == StunClass::request && method == kStunMethodBinding;
  }
  // XOR-MAPPED-ADDRESS if present, else MAPPED-ADDRESS.
  std::optional<Endpoint> mapped_endpoint() const {
    return xor_mapped_address ? xor_mapped_address : mapped_address;
  }
};

// Cheap demultiplexing test for a socket shared with other protocols: true when the header
// is well-formed (top bits zero, magic cookie, length matching the datagram). Says nothing
// about the attributes; parse_stun decides those.
bool looks_like_stun(ByteView datagram);

Result<StunMessage> parse_stun(ByteView datagram);

// Writes the header and, in this order, MAPPED-ADDRESS, XOR-MAPPED-ADDRESS, ERROR-CODE,
// UNKNOWN-ATTRIBUTES, SOFTWARE, FINGERPRINT (when set), for the fields that are set.
// message_integrity and unknown_required are not written. Text is cut to kStunMaxTextBytes,
// unknown_attributes to kStunMaxUnknownAttributes; error codes outside 300..699 become 400
// (programmer error, not worth a failure path).
Bytes serialize_stun(const StunMessage& message);

// A binding request; `software` empty omits SOFTWARE.
Bytes build_binding_request(const StunTransactionId& id, bool fingerprint = true,
                            std::string_view software = "warren");
// A binding success response carrying XOR-MAPPED-ADDRESS = `mapped`.
Bytes build_binding_success(const StunTransactionId& id, const Endpoint& mapped,
                            std::string_view software = "warren", bool fingerprint = true);
// A binding error response: ERROR-CODE `code` with `reason`, plus UNKNOWN-ATTRIBUTES when
// `unknown` is non-empty (for 420).
Bytes build_binding_error(const StunTransactionId& id, uint16_t code, std::string_view reason,
                          const std::vector<uint16_t>& unknown = {},
                          std::string_view software = "warren", bool fingerprint = true);

// "Bad Request", "Unknown Attribute", ... for the codes RFC 8489 defines; "" otherwise.
const char* stun_error_reason(uint16_t code);

}  // namespace warren
