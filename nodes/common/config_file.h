// Shared pieces of the JSON config files (`warren control serve`, `warren relay serve`):
// errors rooted at the file name, the document itself (size cap, syntax errors with line and
// column, duplicate keys, an object at the top), and the log level field.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nodes/net/logger.h"
#include "nodes/net/result.h"

namespace warren {

// json_checks builds paths as `where + "." + key` and messages as "<where>: <message>". The
// readers are called with paths relative to the document ("" for the root), and every error
// is rooted here at the file name: ".x: m" and ": m" become "<source>: x: m", "<source>: m".
class ConfigErrors {
 public:
  explicit ConfigErrors(std::string source) : source_(std::move(source)) {}
  Error operator()(const Error& e) const;
  Error at(const std::string& path, const std::string& message) const;

 private:
  std::string source_;
};

// The parsed document. Errors: larger than `max_bytes` ("not a <kind> config file?"), invalid
// JSON (with its line and column), a key given twice (with both lines), not an object (the
// message shows `example`, a minimal valid file).
Result<nlohmann::json> parse_config_document(std::string_view text, size_t max_bytes,
                                             const std::string& kind, const std::string& example,
                                             const ConfigErrors& errors);

// "log_level": one of debug, info, warn, error, off; absent leaves `out` alone.
Status read_log_level(const nlohmann::json& doc, LogLevel& out, const ConfigErrors& errors);

}  // namespace warren
