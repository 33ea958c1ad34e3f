#include "nodes/common/stun_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/crc.hpp>

namespace warren {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Bytes from_hex(std::string_view hex) {
  Bytes out;
  int nibble = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else
      continue;  // spaces and newlines
    if (nibble < 0) {
      nibble = v;
    } else {
      out.push_back(static_cast<uint8_t>(nibble << 4 | v));
      nibble = -1;
    }
  }
  return out;
}

const StunTransactionId kRfcId = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                  0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

// RFC 5769 2.1: a request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
// MESSAGE-INTEGRITY and FINGERPRINT.
const char* kRfc5769Request =
    "00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
    "00 24 00 04 6e 00 01 ff"
    "80 29 00 08 93 2f f9 b1 51 26 3b 36"
    "00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
    "00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2"
    "80 28 00 04 e5 7a 3b cf";

// RFC 5769 2.2: IPv4 response, mapped 192.0.2.1:32853.
const char* kRfc5769V4Response =
    "01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 08 00 01 a1 47 e1 12 a6 43"
    "00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7"
    "80 28 00 04 c0 7d 4c 96";

// RFC 5769 2.3: IPv6 response, mapped [2001:db8:1234:5678:11:2233:4455:6677]:32853.
const char* kRfc5769V6Response =
    "01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9"
    "00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41"
    "80 28 00 04 c8 fb 0b 4c";

TEST(StunMessage, ParsesRfc5769Ipv4Response) {
  const Bytes wire = from_hex(kRfc5769V4Response);
  ASSERT_TRUE(looks_like_stun(wire));
  auto m = parse_stun(wire);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->message_class, StunClass::success);
  EXPECT_EQ(m->method, kStunMethodBinding);
  EXPECT_EQ(m->transaction_id, kRfcId);
  ASSERT_TRUE(m->xor_mapped_address.has_value());
  EXPECT_EQ(m->xor_mapped_address->to_string(), "192.0.2.1:32853");
  EXPECT_EQ(m->software, "test vector");
  EXPECT_TRUE(m->fingerprint);
  EXPECT_TRUE(m->message_integrity);  // present, not verified
  EXPECT_TRUE(m->unknown_required.empty());
}

TEST(StunMessage, ParsesRfc5769Ipv6Response) {
  auto m = parse_stun(from_hex(kRfc5769V6Response));
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_TRUE(m->mapped_endpoint().has_value());
  EXPECT_EQ(m->mapped_endpoint()->to_string(), "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
  EXPECT_TRUE(m->fingerprint);
}

TEST(StunMessage, ParsesRfc5769RequestAndListsUnknownRequiredAttributes) {
  auto m = parse_stun(from_hex(kRfc5769Request));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->is_binding_request());
  EXPECT_EQ(m->software, "STUN test client");
  EXPECT_TRUE(m->fingerprint);
  EXPECT_TRUE(m->message_integrity);
  // PRIORITY (0x0024) is an ICE attribute a plain STUN server does not understand;
  // ICE-CONTROLLED (0x8029) is comprehension-optional; USERNAME is understood.
  EXPECT_THAT(m->unknown_required, ElementsAre(0x0024));
}

// Responses captured from coturn 4.6.1 (`turnserver --stun-only`) to a request with
// transaction ID 01..0c sent from 127.0.0.1:40001 / [::1]:40001 (with FINGERPRINT) and from
// 127.0.0.1:40000 (without): XOR-MAPPED-ADDRESS, MAPPED-ADDRESS, RESPONSE-ORIGIN (0x802B),
// OTHER-ADDRESS (0x802C), SOFTWARE, and FINGERPRINT only when the request had one.
TEST(StunMessage, ParsesCoturnResponses) {
  const StunTransactionId id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  struct Case {
    const char* hex;
    const char* mapped;
    bool fingerprint;
  };
  const Case cases[] = {
      {"010100502112a4420102030405060708090a0b0c002000080001bd535e12a4430001000800019c417f0000"
       "01802b0008000187e67f000001802c0008000187e77f00000180220014436f7475726e2d342e362e312027"
       "476f72737427802800044f1b8987",
       "127.0.0.1:40001", true},
      {"010100482112a4420102030405060708090a0b0c002000080001bd525e12a4430001000800019c407f0000"
       "01802b0008000187e67f000001802c0008000187e77f00000180220014436f7475726e2d342e362e312027"
       "476f72737427",
       "127.0.0.1:40000", false},
      {"010100802112a4420102030405060708090a0b0c002000140002bd532112a4420102030405060708090a0b"
       "0d0001001400029c4100000000000000000000000000000001802b0014000287e600000000000000000000"
       "000000000001802c0014000287e70000000000000000000000000000000180220014436f7475726e2d342e"
       "362e312027476f727374278028000483f16fc3",
       "[::1]:40001", true},
  };
  for (const Case& c : cases) {
    auto m = parse_stun(from_hex(c.hex));
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->message_class, StunClass::success);
    EXPECT_EQ(m->transaction_id, id);
    EXPECT_EQ(m->xor_mapped_address->to_string(), c.mapped);
    EXPECT_EQ(m->mapped_address->to_string(), c.mapped);
    EXPECT_EQ(m->software, "Coturn-4.6.1 'Gorst'");
    EXPECT_EQ(m->fingerprint, c.fingerprint);
    EXPECT_TRUE(m->unknown_required.empty());
  }
}

TEST(StunMessage, WrongFingerprintIsAnError) {
  Bytes wire = from_hex(kRfc5769V4Response);
  wire.back() ^= 0x01;
  auto m = parse_stun(wire);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.error().message, HasSubstr("FINGERPRINT"));

  // A flipped bit anywhere before the fingerprint is caught too.
  Bytes flipped = from_hex(kRfc5769V4Response);
  flipped[30] ^= 0x40;  // inside SOFTWARE
  EXPECT_FALSE(parse_stun(flipped).ok());
}

TEST(StunMessage, FingerprintMustBeLast) {
  // A valid fingerprint (computed over a header whose length covers everything), followed by
  // a SOFTWARE attribute.
  Bytes wire = from_hex(
      "00010010"
      "2112a442"
      "000000000000000000000000");
  boost::crc_32_type crc;
  crc.process_bytes(wire.data(), wire.size());
  append_be16(wire, stun_attr::kFingerprint);
  append_be16(wire, 4);
  append_be32(wire, crc.checksum() ^ kStunFingerprintXor);
  for (uint8_t b : Bytes{0x80, 0x22, 0x00, 0x04, 'a', 'b', 'c', 'd'}) wire.push_back(b);
  auto parsed = parse_stun(wire);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error().message, HasSubstr("last"));
}

TEST(StunMessage, BindingRequestLayoutIsExact) {
  const StunTransactionId id = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const Bytes wire = build_binding_request(id, /*fingerprint=*/false, /*software=*/"");
  EXPECT_EQ(to_hex(wire),
            "000100002112a442010203040506070809"
            "0a0b0c");

  // SOFTWARE "warren" is 6 bytes, padded to 8; FINGERPRINT adds 8: length 4+8+8 = 20.
  const Bytes full = build_binding_request(id);
  ASSERT_EQ(full.size(), 40u);
  EXPECT_EQ(to_hex(ByteView(full).sub(0, 4)), "00010014");
  EXPECT_EQ(to_hex(ByteView(full).sub(20, 12)),
            "80220006"
            "77617272656e"
            "0000");
  EXPECT_EQ(to_hex(ByteView(full).sub(32, 4)), "80280004");
  auto m = parse_stun(full);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->is_binding_request());
  EXPECT_EQ(m->transaction_id, id);
  EXPECT_EQ(m->software, "warren");
  EXPECT_TRUE(m->fingerprint);
}

TEST(StunMessage, SuccessResponseEncodesXorMappedAddressLikeRfc5769) {
  // Same transaction ID and endpoint as RFC 5769 2.2: the XOR-MAPPED-ADDRESS bytes must match.
  const Bytes wire = build_binding_success(kRfcId, *Endpoint::parse("192.0.2.1:32853"), "",
                                           /*fingerprint=*/false);
  EXPECT_EQ(to_hex(wire),
            "0101000c2112a442b7e7a701bc34d686fa87dfae"
            "00200008"
            "0001a147e112a643");

  const Bytes v6 = build_binding_success(
      kRfcId, *Endpoint::parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853"), "", false);
  EXPECT_EQ(to_hex(ByteView(v6).sub(20)),
            "00200014"
            "0002a147"
            "0113a9faa5d3f179bc25f4b5bed2b9d9");
}

TEST(StunMessage, ResponsesRoundTripWithFingerprint) {
  const StunTransactionId id = {0xff, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xee};
  for (const char* text : {"203.0.113.7:40000", "[2001:db8::7]:1", "0.0.0.0:0"}) {
    const Endpoint mapped = *Endpoint::parse(text);
    auto m = parse_stun(build_binding_success(id, mapped));
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->message_class, StunClass::success);
    EXPECT_EQ(m->transaction_id, id);
    EXPECT_EQ(m->mapped_endpoint(), mapped) << text;
    EXPECT_TRUE(m->fingerprint);
    EXPECT_EQ(m->software, "warren");
  }
}

TEST(StunMessage, ErrorResponsesCarryCodeReasonAndUnknownList) {
  const StunTransactionId id = {};
  auto m = parse_stun(build_binding_error(id, 420, "Unknown Attribute", {0x0024, 0x0003}));
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->message_class, StunClass::error);
  ASSERT_TRUE(m->error_code.has_value());
  EXPECT_EQ(m->error_code->code, 420);
  EXPECT_EQ(m->error_code->reason, "Unknown Attribute");
  EXPECT_THAT(m->unknown_attributes, ElementsAre(0x0024, 0x0003));

  const Bytes bad = build_binding_error(id, 400, "Bad Request", {}, "", false);
  // ERROR-CODE: reserved 0000, class 4, number 0, then the reason (11 bytes, padded to 12).
  EXPECT_EQ(to_hex(ByteView(bad).sub(20, 8)), "0009000f00000400");
}

TEST(StunMessage, MappedAddressFallbackAndOldXorType) {
  // MAPPED-ADDRESS 0x0001, not XORed: 198.51.100.2:3478.
  Bytes wire = from_hex(
      "0101000c2112a442000000000000000000000000"
      "00010008"
      "00010d96c6336402");
  auto m = parse_stun(wire);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_FALSE(m->xor_mapped_address.has_value());
  EXPECT_EQ(m->mapped_endpoint()->to_string(), "198.51.100.2:3478");

  // 0x8020 is read as XOR-MAPPED-ADDRESS.
  Bytes old = from_hex(
      "0101000c2112a442b7e7a701bc34d686fa87dfae"
      "80200008"
      "0001a147e112a643");
  auto o = parse_stun(old);
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->mapped_endpoint()->to_string(), "192.0.2.1:32853");
}

TEST(StunMessage, Ipv4MappedIpv6IsUnmapped) {
  const Endpoint mapped(*IpAddress::parse("::ffff:192.0.2.9"), 5000);
  auto m = parse_stun(build_binding_success(kRfcId, mapped));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->mapped_endpoint()->to_string(), "192.0.2.9:5000");
}

TEST(StunMessage, RejectsMalformedHeaders) {
  const Bytes good = build_binding_request(kRfcId, false, "");
  ASSERT_TRUE(parse_stun(good).ok());

  Bytes top_bits = good;
  top_bits[0] |= 0x80;
  Bytes cookie = good;
  cookie[4] ^= 1;
  Bytes long_length = good;
  store_be16(long_length.data() + 2, 4);
  Bytes odd_length = good;
  odd_length.push_back(0);
  odd_length.push_back(0);
  store_be16(odd_length.data() + 2, 2);
  const Bytes short_header(good.begin(), good.begin() + 19);

  for (const Bytes* b :
       std::vector<const Bytes*>{&top_bits, &cookie, &long_length, &odd_length, &short_header}) {
    EXPECT_FALSE(parse_stun(*b).ok());
    EXPECT_FALSE(looks_like_stun(*b));
  }
  EXPECT_FALSE(parse_stun(ByteView()).ok());
}

TEST(StunMessage, RejectsAttributesPastTheEnd) {
  // An attribute header claiming 8 bytes with only 4 present.
  Bytes wire = from_hex(
      "00010008"
      "2112a442"
      "000000000000000000000000"
      "80220008"
      "61626364");
  EXPECT_TRUE(looks_like_stun(wire));  // the header alone is fine
  auto m = parse_stun(wire);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.error().message, HasSubstr("past the end"));

  // Unpadded length: 5 bytes of value need 8 with padding.
  Bytes unpadded = from_hex(
      "00010008"
      "2112a442"
      "000000000000000000000000"
      "80220005"
      "61626364");
  EXPECT_FALSE(parse_stun(unpadded).ok());
}

TEST(StunMessage, RejectsMalformedAddresses) {
  // Family 3.
  Bytes bad_family = from_hex(
      "0101000c2112a442000000000000000000000000"
      "00200008"
      "0003a147e112a643");
  auto a = parse_stun(bad_family);
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.error().message, HasSubstr("family"));
  // IPv6 family with an IPv4-sized value.
  Bytes short_v6 = from_hex(
      "0101000c2112a442000000000000000000000000"
      "00200008"
      "0002a147e112a643");
  EXPECT_FALSE(parse_stun(short_v6).ok());
  // ERROR-CODE class 7.
  Bytes bad_code = from_hex(
      "01110008"
      "2112a442"
      "000000000000000000000000"
      "00090004"
      "00000700");
  EXPECT_FALSE(parse_stun(bad_code).ok());
}

TEST(StunMessage, IgnoresAttributesAfterMessageIntegrityAndUnknownOptional) {
  // MESSAGE-INTEGRITY (20 zero bytes, unverified), then an unknown required 0x7777, which
  // RFC 8489 says to ignore after integrity; and an unknown optional 0xC001 before it.
  Bytes wire = from_hex(
      "00010024"
      "2112a442"
      "000000000000000000000000"
      "c0010000"
      "00080014"
      "0000000000000000000000000000000000000000"
      "77770004"
      "00000000");
  store_be16(wire.data() + 2, static_cast<uint16_t>(wire.size() - kStunHeaderSize));
  auto m = parse_stun(wire);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->message_integrity);
  EXPECT_TRUE(m->unknown_required.empty());
}

TEST(StunMessage, LooksLikeStunSeparatesOtherProtocols) {
  EXPECT_TRUE(looks_like_stun(build_binding_request(kRfcId)));
  // A WireGuard handshake initiation starts 01 00 00 00 and is 148 bytes.
  Bytes wg(148, 0);
  wg[0] = 1;
  EXPECT_FALSE(looks_like_stun(wg));
  EXPECT_FALSE(
      looks_like_stun(ByteView(std::string_view("TS\xf0\x9f\x92\xac"
                                                "0123456789abcdef"))));
}

TEST(StunMessage, MessageTypeInterleavesMethodAndClass) {
  StunMessage m;
  m.method = 0x0FFF;
  m.message_class = StunClass::indication;
  Bytes wire = serialize_stun(m);
  EXPECT_EQ(to_hex(ByteView(wire).sub(0, 2)), "3eff");
  auto back = parse_stun(wire);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->method, 0x0FFF);
  EXPECT_EQ(back->message_class, StunClass::indication);
}

}  // namespace
}  // namespace warren
