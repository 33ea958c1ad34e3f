// Readers and writers for the JSON values of the control protocol, shared by its codecs
// (control_messages.cc: the messages; control_values.cc: nodes, patches, relay map). Internal to
// nodes/common. Every reader takes the JSON path of its value (`where`, e.g.
// "map.peers[3].node_key") and returns the value or an error that starts with that path.
// Nothing here throws: types are checked before any nlohmann accessor is used.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/common/control_messages.h"
#include "nodes/common/json_checks.h"

namespace warren::control::wire {

using nlohmann::json;

// Names, user names, tags and relay hosts a server sends; longer is a broken server.
constexpr size_t kMaxTextBytes = 1024;
constexpr int64_t kMaxId = INT64_MAX;  // ids travel as JSON integers

// Paths: at("map", "peers") = "map.peers", at("map.peers", 3) = "map.peers[3]".
std::string at(const std::string& where, const char* key);
std::string at(const std::string& where, size_t index);
// The member `key` of an object, or nullptr.
const json* find(const json& object, const char* key);

// Values. "required_*" read a member that must be present.
Result<std::string> text_value(const json& v, const std::string& where, size_t max_bytes);
Result<std::string> required_text(const json& object, const char* key, const std::string& where,
                                  size_t max_bytes);
// A JSON integer (not 1.0) in [min, max].
Result<int64_t> integer_value(const json& v, const std::string& where, int64_t min, int64_t max);
Result<int64_t> required_integer(const json& object, const char* key, const std::string& where,
                                 int64_t min, int64_t max);
Result<bool> required_bool(const json& object, const char* key, const std::string& where);
Result<PublicKey> key_value(const json& v, const std::string& where);  // base64, 44 chars
Result<PublicKey> required_key(const json& object, const char* key, const std::string& where);
Result<const json*> required_array(const json& object, const char* key, const std::string& where,
                                   size_t max_items);
Result<Endpoint> endpoint_value(const json& v, const std::string& where);  // "ip:port"
Result<Prefix> prefix_value(const json& v, const std::string& where);      // canonical
Result<NodeId> id_value(const json& v, const std::string& where);          // 1..kMaxId
Result<int> relay_region_value(const json& v, const std::string& where);   // 0..65535
// Whole Unix seconds, or null for never (0).
Result<int64_t> unix_seconds_value(const json& v, const std::string& where);
json unix_seconds_to_json(int64_t s);

// Routes a client sends must be sorted and unique, so that the server stores one form (the
// registry compares route sets).
Status check_ascending_unique_prefixes(const std::vector<Prefix>& routes, const std::string& where);

json keys_to_json(const std::vector<PublicKey>& keys);
json endpoints_to_json(const std::vector<Endpoint>& endpoints);
json prefixes_to_json(const std::vector<Prefix>& prefixes);
Bytes to_bytes(const json& doc);

// The array member `key`, each item read by parse(item, path).
template <typename T, typename Parse>
Result<std::vector<T>> list_of(const json& object, const char* key, const std::string& where,
                               size_t max_items, Parse parse) {
  auto array = required_array(object, key, where, max_items);
  if (!array) return array.error();
  std::vector<T> out;
  out.reserve((*array)->size());
  for (size_t i = 0; i < (*array)->size(); ++i) {
    auto item = parse((**array)[i], at(at(where, key), i));
    if (!item) return item.error();
    out.push_back(std::move(*item));
  }
  return out;
}

// Strictly ascending by key(item): sorted and without repeats.
template <typename T, typename Key>
Status check_ascending(const std::vector<T>& items, const std::string& where, Key key) {
  for (size_t i = 1; i < items.size(); ++i) {
    if (!(key(items[i - 1]) < key(items[i]))) {
      return json_checks::error_at(at(where, i), "not in ascending order or repeated");
    }
  }
  return Status::success();
}

}  // namespace warren::control::wire
