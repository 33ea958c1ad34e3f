#include "nodes/common/control_json.h"

namespace warren::control::wire {

using json_checks::error_at;
using json_checks::in_quotes;
using json_checks::type_name;

const json* find(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string at(const std::string& where, const char* key) {
  return where + "." + key;
}

std::string at(const std::string& where, size_t index) {
  return where + "[" + std::to_string(index) + "]";
}

Result<std::string> text_value(const json& v, const std::string& where, size_t max_bytes) {
  if (!v.is_string()) {
    return error_at(where, std::string("expected a string, got ") + type_name(v));
  }
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() > max_bytes) {
    return error_at(where, "longer than " + std::to_string(max_bytes) + " bytes");
  }
  return s;
}

Result<std::string> required_text(const json& object, const char* key, const std::string& where,
                                  size_t max_bytes) {
  const json* v = find(object, key);
  if (!v) return error_at(where, "missing " + in_quotes(key));
  return text_value(*v, at(where, key), max_bytes);
}

Result<int64_t> integer_value(const json& v, const std::string& where, int64_t min, int64_t max) {
  auto range = [&] {
    return error_at(where, "expected an integer in [" + std::to_string(min) + ", " +
                               std::to_string(max) + "], got " + v.dump());
  };
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(max) || (min > 0 && u < static_cast<uint64_t>(min))) {
      return range();
    }
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i < min || i > max) return range();
    return i;
  }
  // Integers arrive as integers; 1.0 or 1e3 is a broken sender, not a rounding question.
  return error_at(where, std::string("expected an integer, got ") +
                             (v.is_number_float() ? "a fraction" : type_name(v)));
}

Result<int64_t> required_integer(const json& object, const char* key, const std::string& where,
                                 int64_t min, int64_t max) {
  const json* v = find(object, key);
  if (!v) return error_at(where, "missing " + in_quotes(key));
  return integer_value(*v, at(where, key), min, max);
}

Result<bool> required_bool(const json& object, const char* key, const std::string& where) {
  const json* v = find(object, key);
  if (!v) return error_at(where, "missing " + in_quotes(key));
  if (!v->is_boolean()) {
    return error_at(at(where, key), std::string("expected true or false, got ") + type_name(*v));
  }
  return v->get<bool>();
}

Result<PublicKey> key_value(const json& v, const std::string& where) {
  if (!v.is_string()) {
    return error_at(where, std::string("expected a base64 key, got ") + type_name(v));
  }
  auto key = public_key_from_base64(v.get_ref<const std::string&>());
  if (!key) return error_at(where, key.error().message);
  return *key;
}

Result<PublicKey> required_key(const json& object, const char* key, const std::string& where) {
  const json* v = find(object, key);
  if (!v) return error_at(where, "missing " + in_quotes(key));
  return key_value(*v, at(where, key));
}

Result<const json*> required_array(const json& object, const char* key, const std::string& where,
                                   size_t max_items) {
  const json* v = find(object, key);
  if (!v) return error_at(where, "missing " + in_quotes(key));
  if (!v->is_array()) {
    return error_at(at(where, key), std::string("expected an array, got ") + type_name(*v));
  }
  if (v->size() > max_items) {
    return error_at(at(where, key), "more than " + std::to_string(max_items) + " entries");
  }
  return v;
}

// Time in whole Unix seconds, or null for never (0).
Result<int64_t> unix_seconds_value(const json& v, const std::string& where) {
  if (v.is_null()) return int64_t{0};
  return integer_value(v, where, 1, int64_t{1} << 40);
}

json unix_seconds_to_json(int64_t s) {
  return s == 0 ? json(nullptr) : json(s);
}

Result<Endpoint> endpoint_value(const json& v, const std::string& where) {
  if (!v.is_string()) {
    return error_at(where, std::string("expected \"ip:port\", got ") + type_name(v));
  }
  auto e = Endpoint::parse(v.get_ref<const std::string&>());
  if (!e) return error_at(where, e.error().message);
  return *e;
}

Result<Prefix> prefix_value(const json& v, const std::string& where) {
  if (!v.is_string()) {
    return error_at(where, std::string("expected a prefix \"addr/len\", got ") + type_name(v));
  }
  auto p = Prefix::parse(v.get_ref<const std::string&>());
  if (!p) return error_at(where, p.error().message);
  return *p;
}

Result<NodeId> id_value(const json& v, const std::string& where) {
  auto id = integer_value(v, where, 1, kMaxId);
  if (!id) return id.error();
  return static_cast<NodeId>(*id);
}

Result<int> relay_region_value(const json& v, const std::string& where) {
  auto r = integer_value(v, where, 0, kMaxRelayRegionId);
  if (!r) return r.error();
  return static_cast<int>(*r);
}

// Routes a client sends must be canonical, sorted and unique so that the server stores one
// form (the registry compares route sets).
Status check_ascending_unique_prefixes(const std::vector<Prefix>& routes,
                                       const std::string& where) {
  for (size_t i = 1; i < routes.size(); ++i) {
    if (!(routes[i - 1] < routes[i])) {
      return error_at(at(where, i), routes[i].to_string() +
                                        " is out of order or repeated; send routes sorted "
                                        "and unique");
    }
  }
  return Status::success();
}

json keys_to_json(const std::vector<PublicKey>& keys) {
  json out = json::array();
  for (const PublicKey& k : keys) out.push_back(to_base64(k));
  return out;
}

json endpoints_to_json(const std::vector<Endpoint>& endpoints) {
  json out = json::array();
  for (const Endpoint& e : endpoints) out.push_back(e.to_string());
  return out;
}

json prefixes_to_json(const std::vector<Prefix>& prefixes) {
  json out = json::array();
  for (const Prefix& p : prefixes) out.push_back(p.to_string());
  return out;
}

Bytes to_bytes(const json& doc) {
  std::string text = doc.dump();
  return Bytes(text.begin(), text.end());
}

}  // namespace warren::control::wire
