#include "nodes/common/config_file.h"

#include <vector>

#include "nodes/common/json_checks.h"
#include "nodes/common/json_locator.h"

namespace warren {

using json = nlohmann::json;
using json_checks::in_quotes;

Error ConfigErrors::operator()(const Error& e) const {
  const std::string& m = e.message;
  if (m.rfind(": ", 0) == 0) return make_error(source_ + m);
  if (m.rfind(".", 0) == 0) return make_error(source_ + ": " + m.substr(1));
  return make_error(source_ + ": " + m);
}

Error ConfigErrors::at(const std::string& path, const std::string& message) const {
  return make_error(source_ + ": " + path + ": " + message);
}

Result<json> parse_config_document(std::string_view text, size_t max_bytes, const std::string& kind,
                                   const std::string& example, const ConfigErrors& errors) {
  if (text.size() > max_bytes) {
    return errors(make_error("larger than " + std::to_string(max_bytes >> 20) + " MiB; not a " +
                             kind + " config file?"));
  }
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // nlohmann keeps no position without exceptions; its exception says where the syntax
    // breaks, which is where to look. Caught here: nothing escapes the parser.
    try {
      json ignored = json::parse(text.begin(), text.end());
      (void)ignored;
    } catch (const json::parse_error& e) {
      const TextPosition p = position_of_offset(text, e.byte > 0 ? e.byte - 1 : 0);
      return errors(make_error("line " + std::to_string(p.line) + ", column " +
                               std::to_string(p.column) + ": not valid JSON"));
    } catch (const json::exception&) {
    }
    return errors(make_error("not valid JSON"));
  }
  JsonLocator locator(text);
  if (const auto& dup = locator.first_duplicate()) {
    std::string path = dup->pointer.substr(1);  // "/prefixes/v4" -> "prefixes.v4"
    for (char& c : path) c = c == '/' ? '.' : c;
    return errors(make_error("line " + std::to_string(dup->second.line) + ": key " +
                             in_quotes(path) + " appears twice (first on line " +
                             std::to_string(dup->first.line) + ")"));
  }
  if (!doc.is_object()) {
    return errors(make_error("expected an object such as " + example + ", got " +
                             json_checks::type_name(doc)));
  }
  return doc;
}

Status read_log_level(const json& doc, LogLevel& out, const ConfigErrors& errors) {
  auto text = json_checks::optional_string(doc, "log_level", "");
  if (!text) return errors(text.error());
  if (!*text) return Status::success();
  if (!parse_log_level(**text, out)) {
    const std::vector<std::string> levels = {"debug", "info", "warn", "error", "off"};
    std::string hint = json_checks::suggestion(**text, levels);
    if (hint.empty()) hint = " (one of debug, info, warn, error, off)";
    return errors.at("log_level", "unknown level " + in_quotes(**text) + hint);
  }
  return Status::success();
}

}  // namespace warren
