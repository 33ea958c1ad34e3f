// Small checks for hand-written JSON: every error names where in the file it is
// ("topology.json: nodes[3].delay_ms") and, for a misspelt word, the nearest valid one.
// Nothing here throws: types are checked before any nlohmann accessor is used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/net/result.h"

namespace warren::json_checks {

using nlohmann::json;

// "<where>: <message>"; `where` already starts with the file name.
Error error_at(const std::string& where, const std::string& message);

// `s` in double quotes, for messages.
std::string in_quotes(std::string_view s);

// " (did you mean "x"?)" for the candidate closest to `word` within a small edit distance;
// "" when none is close. Ties go to the earlier candidate, so messages are deterministic.
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates);

// "a string", "a number", ... for "expected X, got Y" messages.
const char* type_name(const json& v);

// Every key of `object` must be in `allowed`. `elsewhere` lists keys that are valid in other
// kinds of the same object, so the message can say "only applies to NATs" (`elsewhere_note`).
Status check_keys(const json& object, const std::string& where,
                  const std::vector<std::string>& allowed,
                  const std::vector<std::string>& elsewhere = {},
                  const std::string& elsewhere_note = "");

// Typed readers: `where` names the object, the key is appended. A missing optional key gives
// nullopt; a present key of the wrong type or out of range is an error.
Result<std::string> required_string(const json& object, const char* key, const std::string& where);
Result<std::optional<std::string>> optional_string(const json& object, const char* key,
                                                   const std::string& where);
Result<std::optional<bool>> optional_bool(const json& object, const char* key,
                                          const std::string& where);
// A finite number in [min, max].
Result<std::optional<double>> optional_number(const json& object, const char* key,
                                              const std::string& where, double min, double max);
// An integer (no fraction) in [min, max].
Result<std::optional<int64_t>> optional_integer(const json& object, const char* key,
                                                const std::string& where, int64_t min, int64_t max);

// Node and group names: 1..kMaxNameLength of [A-Za-z0-9._-], starting with a letter or digit,
// so they are safe in messages, file names, Graphviz and ns-3's Names.
constexpr size_t kMaxNameLength = 64;
Status check_name(const std::string& name, const std::string& where);

}  // namespace warren::json_checks
