#include "nodes/common/json_checks.h"

#include <algorithm>
#include <cmath>

namespace warren::json_checks {
namespace {

// Words longer than this are never typos of a key or a name we suggest; bounds the work.
constexpr size_t kMaxSuggestLength = 80;

// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring characters ("rotuer") each cost one.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Error error_at(const std::string& where, const std::string& message) {
  return make_error(where + ": " + message);
}

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

std::string suggestion(std::string_view word, const std::vector<std::string>& candidates) {
  // One- and two-letter words are too short to guess from ("c" is one edit from any name).
  if (word.size() < 3 || word.size() > kMaxSuggestLength) return "";
  // A third of the word may be wrong (at least one edit); a word that is a prefix of a
  // candidate or the other way round ("delay" for "delay_ms") counts as just close enough.
  size_t limit = std::max<size_t>(1, word.size() / 3);
  const std::string* best = nullptr;
  size_t best_distance = limit + 1;
  for (const std::string& c : candidates) {
    if (c.size() > kMaxSuggestLength) continue;
    size_t length_gap = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    bool prefix = starts_with(c, word) || (c.size() >= 3 && starts_with(word, c));
    size_t d = length_gap <= limit ? edit_distance(word, c) : limit + 1;
    if (prefix) d = std::min(d, limit);
    if (d < best_distance) {
      best_distance = d;
      best = &c;
    }
  }
  return best ? " (did you mean " + in_quotes(*best) + "?)" : "";
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "a number";
    case json::value_t::number_float:
      return "a fractional number";
    default:
      return "an unsupported value";
  }
}

Status check_keys(const json& object, const std::string& where,
                  const std::vector<std::string>& allowed,
                  const std::vector<std::string>& elsewhere, const std::string& elsewhere_note) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    if (std::find(elsewhere.begin(), elsewhere.end(), key) != elsewhere.end()) {
      return error_at(where, "key " + in_quotes(key) + " " + elsewhere_note);
    }
    std::string hint = suggestion(key, allowed);
    if (hint.empty()) {
      hint = " (valid keys:";
      for (const std::string& a : allowed) hint += " " + a;
      hint += ")";
    }
    return error_at(where, "unknown key " + in_quotes(key) + hint);
  }
  return Status::success();
}

Result<std::string> required_string(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) return error_at(where, "missing " + in_quotes(key));
  if (!it->is_string()) {
    return error_at(where + "." + key, std::string("expected a string, got ") + type_name(*it));
  }
  return it->get<std::string>();
}

Result<std::optional<std::string>> optional_string(const json& object, const char* key,
                                                   const std::string& where) {
  if (object.find(key) == object.end()) return std::optional<std::string>();
  auto s = required_string(object, key, where);
  if (!s) return s.error();
  return std::optional<std::string>(std::move(*s));
}

Result<std::optional<bool>> optional_bool(const json& object, const char* key,
                                          const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) return std::optional<bool>();
  if (!it->is_boolean()) {
    return error_at(where + "." + key,
                    std::string("expected true or false, got ") + type_name(*it));
  }
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<double>> optional_number(const json& object, const char* key,
                                              const std::string& where, double min, double max) {
  auto it = object.find(key);
  if (it == object.end()) return std::optional<double>();
  if (!it->is_number()) {
    return error_at(where + "." + key, std::string("expected a number, got ") + type_name(*it));
  }
  double v = it->get<double>();
  if (!std::isfinite(v) || v < min || v > max) {
    return error_at(where + "." + key, "value " + it->dump() + " is out of range [" +
                                           json(min).dump() + ", " + json(max).dump() + "]");
  }
  return std::optional<double>(v);
}

Result<std::optional<int64_t>> optional_integer(const json& object, const char* key,
                                                const std::string& where, int64_t min,
                                                int64_t max) {
  auto it = object.find(key);
  if (it == object.end()) return std::optional<int64_t>();
  std::string at = where + "." + key;
  if (!it->is_number()) {
    return error_at(at, std::string("expected an integer, got ") + type_name(*it));
  }
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) ||
        d > static_cast<double>(max)) {
      return error_at(at, "expected an integer in [" + std::to_string(min) + ", " +
                              std::to_string(max) + "], got " + it->dump());
    }
    return std::optional<int64_t>(static_cast<int64_t>(d));
  }
  bool in_range = it->is_number_unsigned()
                      ? it->get<uint64_t>() <= static_cast<uint64_t>(max) &&
                            (min <= 0 || it->get<uint64_t>() >= static_cast<uint64_t>(min))
                      : it->get<int64_t>() >= min && it->get<int64_t>() <= max;
  if (!in_range) {
    return error_at(at, "value " + it->dump() + " is out of range [" + std::to_string(min) + ", " +
                            std::to_string(max) + "]");
  }
  return std::optional<int64_t>(it->is_number_unsigned() ? static_cast<int64_t>(it->get<uint64_t>())
                                                         : it->get<int64_t>());
}

Status check_name(const std::string& name, const std::string& where) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (name.empty()) return error_at(where, "empty name");
  if (name.size() > kMaxNameLength) {
    return error_at(where, "name " + in_quotes(name.substr(0, 20) + "...") + " is longer than " +
                               std::to_string(kMaxNameLength) + " characters");
  }
  if (!alnum(name[0])) {
    return error_at(where, "name " + in_quotes(name) + " must start with a letter or digit");
  }
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') {
      return error_at(
          where, "name " + in_quotes(name) + " may contain only letters, digits, '-', '_' and '.'");
    }
  }
  return Status::success();
}

}  // namespace warren::json_checks
