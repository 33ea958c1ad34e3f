#include "nodes/common/channel_protocol.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "nodes/net/sodium_once.h"

namespace warren {

Bytes channel_prologue(std::string_view protocol) {
  const std::string text = "warren " + std::string(protocol);
  return Bytes(text.begin(), text.end());
}

std::string key_document(const PublicKey& key, std::string_view protocol) {
  nlohmann::json doc = nlohmann::json::object();
  doc["public_key"] = to_base64(key);
  doc["protocol"] = std::string(protocol);
  return doc.dump();
}

Result<PublicKey> parse_key_document(std::string_view text, std::string_view expected_protocol) {
  if (text.size() > kMaxKeyDocumentBytes) {
    return make_error("the key document is " + std::to_string(text.size()) + " bytes; at most " +
                      std::to_string(kMaxKeyDocumentBytes) + " expected");
  }
  const nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                                   /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return make_error("the key document is not a JSON object (is this a warren server?)");
  }
  const auto key = doc.find("public_key");
  const auto protocol = doc.find("protocol");
  if (key == doc.end() || !key->is_string()) {
    return make_error("the key document has no \"public_key\" string");
  }
  if (protocol == doc.end() || !protocol->is_string()) {
    return make_error("the key document has no \"protocol\" string");
  }
  const std::string& spoken = protocol->get_ref<const std::string&>();
  if (spoken != expected_protocol) {
    return make_error("the server speaks \"" + printable(spoken, 64) + "\", not \"" +
                      std::string(expected_protocol) + "\"; check the server address and port");
  }
  auto parsed = public_key_from_base64(key->get_ref<const std::string&>());
  if (!parsed.ok()) return make_error("the key document's public_key: " + parsed.error().message);
  return parsed;
}

std::string base64_encode(ByteView bytes) {
  ensure_sodium();
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL sodium writes
  return out;
}

Result<Bytes> base64_decode(std::string_view text, size_t max_bytes) {
  ensure_sodium();
  const size_t max_chars = (max_bytes + 2) / 3 * 4;
  if (text.size() > max_chars) {
    return make_error("base64 text of " + std::to_string(text.size()) +
                      " characters is longer than the " + std::to_string(max_chars) + " allowed");
  }
  if (text.size() % 4 != 0) {
    return make_error("base64 text must be padded with '=' to a multiple of 4 characters");
  }
  Bytes out(text.size() / 4 * 3 + 1);  // +1: sodium wants a non-null buffer even for ""
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return make_error("not valid standard base64 (A-Z a-z 0-9 + / with '=' padding)");
  }
  out.resize(len);
  // One text per byte string: reject anything sodium tolerated but would not have produced.
  if (base64_encode(out) != text) return make_error("base64 text is not in canonical form");
  return out;
}

std::string printable(std::string_view text, size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) {
    const auto u = static_cast<uint8_t>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  return out;
}

}  // namespace warren
