#include "nodes/common/relay_frame.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace warren::relay {
namespace {

using ::testing::HasSubstr;

PublicKey key_of(uint8_t fill) {
  PublicKey k;
  k.bytes.fill(fill);
  return k;
}

MeshProof proof_of(uint8_t fill) {
  MeshProof p;
  p.fill(fill);
  return p;
}

MeshKey mesh_key_of(uint8_t fill) {
  Key32 k;
  k.fill(fill);
  return MeshKey(k);
}

// A message with a correct header around `body`.
Bytes frame(uint8_t type, const Bytes& body) {
  Bytes out{type};
  append_be32(out, static_cast<uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

template <typename T>
T decode_as(const Bytes& message) {
  auto decoded = decode_relay_frame(message);
  EXPECT_TRUE(decoded.ok()) << decoded.error().message;
  if (!decoded.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*decoded)) << relay_frame_name(*decoded);
  if (!std::holds_alternative<T>(*decoded)) return T{};
  return std::get<T>(*decoded);
}

std::string decode_error(const Bytes& message) {
  auto decoded = decode_relay_frame(message);
  EXPECT_FALSE(decoded.ok()) << "decoded as " << relay_frame_name(*decoded);
  return decoded.ok() ? std::string() : decoded.error().message;
}

TEST(RelayFrame, HeaderCarriesTypeAndBodyLength) {
  const Bytes packet = {1, 2, 3};
  const Bytes wire = encode_relay_frame(SendPacket{key_of(7), packet});
  ASSERT_EQ(wire.size(), kRelayFrameHeaderBytes + 32 + 3);
  EXPECT_EQ(wire[0], 0x04);
  EXPECT_EQ(load_be32(wire.data() + 1), 35u);
  EXPECT_EQ(wire[5], 7);
  EXPECT_EQ(wire.back(), 3);
}

TEST(RelayFrame, EncodeAppendsToTheBuffer) {
  Bytes out = {0xaa};
  encode_relay_frame(KeepAlive{}, out);
  encode_relay_frame(Ping{PingData{1, 2, 3, 4, 5, 6, 7, 8}}, out);
  ASSERT_EQ(out.size(), 1 + 5 + 13u);
  EXPECT_EQ(out[0], 0xaa);
  EXPECT_TRUE(std::holds_alternative<KeepAlive>(
      *decode_relay_frame(ByteView(out.data() + 1, kRelayFrameHeaderBytes))));
  auto ping = decode_as<Ping>(Bytes(out.begin() + 6, out.end()));
  EXPECT_EQ(ping.data[7], 8);
}

TEST(RelayFrame, ClientHelloRoundTrips) {
  auto plain = decode_as<ClientHello>(encode_relay_frame(ClientHello{1, true, std::nullopt}));
  EXPECT_EQ(plain.version, 1);
  EXPECT_TRUE(plain.preferred);
  EXPECT_FALSE(plain.mesh_proof);

  const Bytes mesh_wire = encode_relay_frame(ClientHello{1, false, proof_of(9)});
  EXPECT_EQ(mesh_wire.size(), kRelayFrameHeaderBytes + 2 + 32);
  EXPECT_EQ(mesh_wire[6], 0x02);  // flags: mesh only
  auto mesh = decode_as<ClientHello>(mesh_wire);
  EXPECT_FALSE(mesh.preferred);
  ASSERT_TRUE(mesh.mesh_proof);
  EXPECT_EQ(*mesh.mesh_proof, proof_of(9));
}

TEST(RelayFrame, ClientHelloIgnoresReservedFlagBits) {
  auto hello = decode_as<ClientHello>(frame(0x02, {1, 0x81}));
  EXPECT_TRUE(hello.preferred);
  EXPECT_FALSE(hello.mesh_proof);
}

TEST(RelayFrame, ClientHelloWithMeshBitButNoProofIsAnError) {
  EXPECT_THAT(decode_error(frame(0x02, {1, 0x02})), HasSubstr("mesh flag is set"));
  Bytes short_proof = {1, 0x02};
  short_proof.resize(2 + 31, 5);
  EXPECT_THAT(decode_error(frame(0x02, short_proof)), HasSubstr("32-byte proof"));
}

TEST(RelayFrame, ClientHelloWithProofButNoMeshBitIsAnError) {
  Bytes body = {1, 0x00};
  body.resize(2 + 32, 5);
  EXPECT_THAT(decode_error(frame(0x02, body)), HasSubstr("mesh flag is clear"));
}

TEST(RelayFrame, HelloWithAnotherVersionIsAnError) {
  EXPECT_THAT(decode_error(frame(0x02, {2, 0})), HasSubstr("version 2"));
  EXPECT_THAT(decode_error(frame(0x02, {0, 0})), HasSubstr("version 0"));
  Bytes server = encode_relay_frame(ServerHello{});
  server[5] = 7;
  EXPECT_THAT(decode_error(server), HasSubstr("server_hello speaks protocol version 7"));
  EXPECT_THAT(decode_error(frame(0x02, {1})), HasSubstr("client_hello must have a body of 2"));
}

TEST(RelayFrame, ServerHelloRoundTrips) {
  auto hello = decode_as<ServerHello>(encode_relay_frame(ServerHello{1, 123456, 7890, {}}));
  EXPECT_EQ(hello.rate_bytes_per_s, 123456u);
  EXPECT_EQ(hello.burst_bytes, 7890u);
  EXPECT_FALSE(hello.mesh_proof);
  auto mesh = decode_as<ServerHello>(encode_relay_frame(ServerHello{1, 0, 0, proof_of(3)}));
  ASSERT_TRUE(mesh.mesh_proof);
  EXPECT_EQ(*mesh.mesh_proof, proof_of(3));
  Bytes odd(9 + 5, 0);
  odd[0] = 1;
  EXPECT_THAT(decode_error(frame(0x03, odd)), HasSubstr("9 (41 with a mesh proof)"));
}

TEST(RelayFrame, PacketsRoundTripAsViewsIntoTheMessage) {
  const Bytes packet(1400, 0x5a);
  const Bytes send_wire = encode_relay_frame(SendPacket{key_of(1), packet});
  auto send = decode_as<SendPacket>(send_wire);
  EXPECT_EQ(send.dst, key_of(1));
  EXPECT_EQ(send.packet.to_bytes(), packet);
  EXPECT_EQ(send.packet.data(), send_wire.data() + kRelayFrameHeaderBytes + 32);

  const Bytes recv_wire = encode_relay_frame(RecvPacket{key_of(2), packet});
  auto recv = decode_as<RecvPacket>(recv_wire);
  EXPECT_EQ(recv.src, key_of(2));
  EXPECT_EQ(recv.packet.to_bytes(), packet);

  const Bytes fwd_wire = encode_relay_frame(ForwardPacket{key_of(3), key_of(4), packet});
  auto fwd = decode_as<ForwardPacket>(fwd_wire);
  EXPECT_EQ(fwd.src, key_of(3));
  EXPECT_EQ(fwd.dst, key_of(4));
  EXPECT_EQ(fwd.packet.to_bytes(), packet);
}

TEST(RelayFrame, EmptyAndMaximalPacketsAreAccepted) {
  EXPECT_TRUE(
      decode_as<SendPacket>(encode_relay_frame(SendPacket{key_of(1), ByteView()})).packet.empty());
  const Bytes biggest(kMaxRelayPacketBytes, 1);
  const Bytes wire = encode_relay_frame(ForwardPacket{key_of(1), key_of(2), biggest});
  EXPECT_EQ(wire.size(), kMaxRelayFrameBytes);
  EXPECT_EQ(decode_as<ForwardPacket>(wire).packet.size(), kMaxRelayPacketBytes);
}

TEST(RelayFrame, OversizedPacketIsAnError) {
  const Bytes too_big(kMaxRelayPacketBytes + 1, 1);
  EXPECT_THAT(decode_error(encode_relay_frame(SendPacket{key_of(1), too_big})),
              HasSubstr("packet of 65537 bytes"));
  EXPECT_THAT(decode_error(encode_relay_frame(RecvPacket{key_of(1), too_big})),
              HasSubstr("recv_packet"));
  EXPECT_THAT(decode_error(encode_relay_frame(ForwardPacket{key_of(1), key_of(2), too_big})),
              HasSubstr("forward_packet"));
}

TEST(RelayFrame, TruncatedKeysAreAnError) {
  EXPECT_THAT(decode_error(frame(0x04, Bytes(31, 1))), HasSubstr("at least 32"));
  EXPECT_THAT(decode_error(frame(0x05, Bytes(0, 1))), HasSubstr("recv_packet"));
  EXPECT_THAT(decode_error(frame(0x0a, Bytes(63, 1))), HasSubstr("at least 64"));
  EXPECT_THAT(decode_error(frame(0x08, Bytes(32, 1))),
              HasSubstr("peer_gone must have a body of 33"));
  EXPECT_THAT(decode_error(frame(0x09, Bytes(50, 1))), HasSubstr("peer_present"));
}

TEST(RelayFrame, LengthFieldMustMatchTheMessage) {
  Bytes wire = encode_relay_frame(SendPacket{key_of(1), Bytes{1, 2, 3}});
  store_be32(wire.data() + 1, 34);
  EXPECT_THAT(decode_error(wire),
              HasSubstr("says its body is 34 bytes but the message carries 35"));
  store_be32(wire.data() + 1, 0xffffffff);
  EXPECT_THAT(decode_error(wire), HasSubstr("4294967295"));
  wire.push_back(0);  // one byte more than the header says
  store_be32(wire.data() + 1, 35);
  EXPECT_THAT(decode_error(wire), HasSubstr("carries 36"));
}

TEST(RelayFrame, ShortHeaderIsAnError) {
  EXPECT_THAT(decode_error(Bytes{}), HasSubstr("5-byte header"));
  EXPECT_THAT(decode_error(Bytes{0x06, 0, 0, 0}), HasSubstr("has 4 bytes"));
}

TEST(RelayFrame, SmallFramesRoundTrip) {
  EXPECT_EQ(encode_relay_frame(KeepAlive{}), (Bytes{0x06, 0, 0, 0, 0}));
  decode_as<KeepAlive>(encode_relay_frame(KeepAlive{}));
  decode_as<WatchConns>(encode_relay_frame(WatchConns{}));
  EXPECT_TRUE(decode_as<NotePreferred>(encode_relay_frame(NotePreferred{true})).preferred);
  EXPECT_FALSE(decode_as<NotePreferred>(encode_relay_frame(NotePreferred{false})).preferred);
  const PingData data{8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_EQ(decode_as<Ping>(encode_relay_frame(Ping{data})).data, data);
  EXPECT_EQ(decode_as<Pong>(encode_relay_frame(Pong{data})).data, data);
  auto restart = decode_as<Restarting>(encode_relay_frame(Restarting{1500, 60000}));
  EXPECT_EQ(restart.reconnect_in_ms, 1500u);
  EXPECT_EQ(restart.try_for_ms, 60000u);
}

TEST(RelayFrame, FixedSizeBodiesMustHaveTheirSize) {
  EXPECT_THAT(decode_error(frame(0x06, {0})), HasSubstr("keepalive must have a body of 0"));
  EXPECT_THAT(decode_error(frame(0x10, {0})), HasSubstr("watch_conns"));
  EXPECT_THAT(decode_error(frame(0x07, {})), HasSubstr("note_preferred must have a body of 1"));
  EXPECT_THAT(decode_error(frame(0x07, {2})), HasSubstr("0 or 1"));
  EXPECT_THAT(decode_error(frame(0x12, Bytes(7, 0))), HasSubstr("ping must have a body of 8"));
  EXPECT_THAT(decode_error(frame(0x13, Bytes(9, 0))), HasSubstr("pong"));
  EXPECT_THAT(decode_error(frame(0x15, Bytes(4, 0))), HasSubstr("restarting"));
}

TEST(RelayFrame, PeerGoneRoundTripsAndReadsUnknownReasonsAsDisconnected) {
  auto gone =
      decode_as<PeerGone>(encode_relay_frame(PeerGone{key_of(5), PeerGoneReason::not_here}));
  EXPECT_EQ(gone.key, key_of(5));
  EXPECT_EQ(gone.reason, PeerGoneReason::not_here);
  Bytes body(32, 5);
  body.push_back(77);
  EXPECT_EQ(decode_as<PeerGone>(frame(0x08, body)).reason, PeerGoneReason::disconnected);
}

TEST(RelayFrame, PeerPresentCarriesIpv4MappedAndIpv6Endpoints) {
  const Endpoint v4(IpAddress::v4(192, 0, 2, 10), 41641);
  const Bytes wire = encode_relay_frame(PeerPresent{key_of(6), v4, 0x03});
  // ::ffff:192.0.2.10 on the wire.
  EXPECT_EQ(wire[5 + 32 + 10], 0xff);
  EXPECT_EQ(wire[5 + 32 + 11], 0xff);
  EXPECT_EQ(wire[5 + 32 + 12], 192);
  auto present = decode_as<PeerPresent>(wire);
  EXPECT_EQ(present.key, key_of(6));
  EXPECT_EQ(present.endpoint, v4);
  EXPECT_EQ(present.flags, 0x03);

  const Endpoint v6(*IpAddress::parse("2001:db8::17"), 443);
  EXPECT_EQ(decode_as<PeerPresent>(encode_relay_frame(PeerPresent{key_of(6), v6, 0})).endpoint, v6);
}

TEST(RelayFrame, RefusedRoundTripsWithReasonAndText) {
  auto refused = decode_as<Refused>(
      encode_relay_frame(Refused{RefusalReason::removed_key, "node key expired; log in again"}));
  EXPECT_EQ(refused.reason, RefusalReason::removed_key);
  EXPECT_EQ(refused.text, "node key expired; log in again");
  EXPECT_EQ(decode_as<Refused>(frame(0x0b, {0})).reason, RefusalReason::protocol_error);
  EXPECT_EQ(decode_as<Refused>(frame(0x0b, {200, 'x'})).reason, RefusalReason::protocol_error);
  EXPECT_EQ(decode_as<Refused>(frame(0x0b, {7})).reason, RefusalReason::shutting_down);
  EXPECT_THAT(decode_error(frame(0x0b, {})), HasSubstr("at least 1"));
}

TEST(RelayFrame, HealthRoundTripsIncludingEmpty) {
  EXPECT_EQ(decode_as<Health>(encode_relay_frame(Health{"no admission list yet"})).text,
            "no admission list yet");
  EXPECT_EQ(decode_as<Health>(encode_relay_frame(Health{""})).text, "");
  EXPECT_EQ(decode_as<Health>(encode_relay_frame(Health{"caf\xc3\xa9 \xf0\x9f\x90\x87"})).text,
            "caf\xc3\xa9 \xf0\x9f\x90\x87");
}

TEST(RelayFrame, TooLongTextIsAnError) {
  const std::string longest(kMaxRelayTextBytes, 'a');
  EXPECT_EQ(decode_as<Health>(encode_relay_frame(Health{longest})).text, longest);
  EXPECT_THAT(decode_error(encode_relay_frame(Health{longest + "a"})),
              HasSubstr("1025 bytes of text; the limit is 1024"));
  EXPECT_THAT(decode_error(encode_relay_frame(Refused{RefusalReason::not_ready, longest + "a"})),
              HasSubstr("refused carries 1025"));
}

TEST(RelayFrame, InvalidUtf8TextIsAnError) {
  for (const char* bad : {"\xff", "ab\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                          "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\x80", "\xe2\x82"}) {
    SCOPED_TRACE(to_hex(ByteView(std::string_view(bad))));
    EXPECT_THAT(decode_error(encode_relay_frame(Health{bad})), HasSubstr("not valid UTF-8"));
  }
  EXPECT_THAT(decode_error(encode_relay_frame(Refused{RefusalReason::not_ready, "ok\xc3("})),
              HasSubstr("byte 2"));
}

TEST(RelayFrame, UnknownTypesDecodeAsUnknownFrame) {
  for (uint8_t type : {0x00, 0x01, 0x0c, 0x11, 0x16, 0xff}) {
    auto unknown = decode_as<UnknownFrame>(frame(type, {1, 2, 3}));
    EXPECT_EQ(unknown.type, type);
  }
  EXPECT_EQ(encode_relay_frame(UnknownFrame{0x42}), (Bytes{0x42, 0, 0, 0, 0}));
  EXPECT_STREQ(relay_frame_name(UnknownFrame{0x42}), "unknown");
}

TEST(RelayFrame, NamesForLogs) {
  EXPECT_STREQ(relay_frame_name(SendPacket{}), "send_packet");
  EXPECT_STREQ(relay_frame_name(Restarting{}), "restarting");
  EXPECT_STREQ(refusal_reason_name(RefusalReason::not_ready), "not_ready");
  EXPECT_STREQ(refusal_reason_name(RefusalReason::bad_mesh_key), "bad_mesh_key");
}

TEST(MeshProof, ClientAndServerProofsDiffer) {
  const MeshKey mesh = mesh_key_of(0x11);
  EXPECT_NE(mesh_client_proof(mesh, key_of(1), key_of(2)),
            mesh_server_proof(mesh, key_of(1), key_of(2)));
  // Deterministic, so both ends compute the same value.
  EXPECT_EQ(mesh_client_proof(mesh, key_of(1), key_of(2)),
            mesh_client_proof(mesh_key_of(0x11), key_of(1), key_of(2)));
}

TEST(MeshProof, BoundToBothKeysAndTheMeshKey) {
  const MeshKey mesh = mesh_key_of(0x11);
  const MeshProof proof = mesh_client_proof(mesh, key_of(1), key_of(2));
  EXPECT_NE(proof, mesh_client_proof(mesh, key_of(3), key_of(2)));
  EXPECT_NE(proof, mesh_client_proof(mesh, key_of(1), key_of(3)));
  EXPECT_NE(proof, mesh_client_proof(mesh, key_of(2), key_of(1)));
  EXPECT_NE(proof, mesh_client_proof(mesh_key_of(0x12), key_of(1), key_of(2)));
}

TEST(MeshProof, EqualityComparesEveryByte) {
  const MeshProof a = proof_of(1);
  MeshProof b = a;
  EXPECT_TRUE(mesh_proof_equal(a, b));
  b[31] ^= 1;
  EXPECT_FALSE(mesh_proof_equal(a, b));
}

TEST(MeshKeyText, ParsesHexWithOptionalNewline) {
  const std::string hex = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
  auto key = parse_mesh_key(hex);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->bytes()[1], 0x11);
  EXPECT_EQ(key->bytes()[31], 0xff);
  EXPECT_EQ(mesh_key_to_hex(*key),
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  EXPECT_TRUE(parse_mesh_key(hex + "\n").ok());
  EXPECT_TRUE(parse_mesh_key(hex + "\r\n").ok());
  EXPECT_EQ(*parse_mesh_key(mesh_key_to_hex(*key)), *key);
}

TEST(MeshKeyText, RejectsBadText) {
  const std::string hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  EXPECT_THAT(parse_mesh_key("").error().message, HasSubstr("got 0 characters"));
  EXPECT_THAT(parse_mesh_key(hex.substr(1)).error().message, HasSubstr("got 63 characters"));
  EXPECT_THAT(parse_mesh_key(hex + "0").error().message, HasSubstr("got 65 characters"));
  EXPECT_THAT(parse_mesh_key(hex + "\n\n").error().message, HasSubstr("64 hex digits"));
  EXPECT_THAT(parse_mesh_key(" " + hex.substr(1)).error().message, HasSubstr("character 1 "));
  std::string bad = hex;
  bad[10] = 'g';
  EXPECT_THAT(parse_mesh_key(bad).error().message, HasSubstr("character 11 is not a hex digit"));
  EXPECT_THAT(parse_mesh_key(std::string(64, '0')).error().message, HasSubstr("all zeros"));
}

}  // namespace
}  // namespace warren::relay
