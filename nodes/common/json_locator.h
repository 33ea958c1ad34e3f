// Where things are in a JSON text, so that errors about hand-written files can say "line 12"
// instead of "acls[2].dst[0]". nlohmann::json keeps no positions; this scanner walks the same
// text once and records, for every value, its RFC 6901 JSON pointer ("/acls/2/dst/0") and the
// 1-based line and column where the value (and, for object members, its key) starts.
//
// - Columns count characters (UTF-8 code points), as editors show them; tabs count as one.
// - The scanner never fails: at the first syntax error it stops and keeps what it has (let
//   nlohmann report the error; `position_of_offset` turns its byte offset into line/column).
// - Nesting deeper than kMaxJsonDepth stops the scan too (`too_deep()`), so hostile input cannot
//   make it use unbounded memory or time beyond one pass over the text.
// - Duplicate keys, which nlohmann silently collapses to the last one, are recorded.
// - `hujson_to_json` accepts the HuJSON that Tailscale policy files use (// and /* */ comments,
//   trailing commas) by blanking those bytes, so offsets, lines and columns stay the same.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warren {

// Hand-written configuration is a few levels deep; 128 is far beyond any real file and keeps
// the scanner's stack small.
constexpr size_t kMaxJsonDepth = 128;

struct TextPosition {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based, in characters
  bool operator==(const TextPosition& o) const { return line == o.line && column == o.column; }
};

// The position of the byte at `offset` (0-based) in `text`; an offset past the end gives the
// position just after the last character.
TextPosition position_of_offset(std::string_view text, size_t offset);

// Same length as `text`; comments and trailing commas outside strings become spaces (newlines
// inside block comments are kept). Unterminated comments are left for the parser to reject.
std::string hujson_to_json(std::string_view text);

// RFC 6901 pointer token for an object key ("a/b" -> "a~1b").
std::string json_pointer_token(std::string_view key);

class JsonLocator {
 public:
  explicit JsonLocator(std::string_view text);

  // Where the value at `pointer` starts ("" is the whole document); nullopt if not recorded.
  std::optional<TextPosition> value_position(std::string_view pointer) const;
  // Where the key of the object member at `pointer` starts (its opening quote); for array
  // elements and the root, the value's position.
  std::optional<TextPosition> key_position(std::string_view pointer) const;
  // The line to quote in an error about `pointer`: its key's line, or else the line of the
  // nearest recorded ancestor; 1 if nothing was recorded.
  int line_of(std::string_view pointer) const;

  bool too_deep() const { return too_deep_; }
  TextPosition too_deep_at() const { return too_deep_at_; }

  struct Duplicate {
    std::string key;      // decoded
    std::string pointer;  // of the second occurrence
    TextPosition first;   // key of the first occurrence
    TextPosition second;  // key of the second occurrence
  };
  // The first duplicate key in document order, if any.
  const std::optional<Duplicate>& first_duplicate() const { return duplicate_; }

 private:
  struct Entry {
    std::string key;    // member name (decoded); empty for array elements and the root
    size_t parent = 0;  // index into entries_; the root is its own parent
    bool is_object = false;
    bool is_array = false;
    TextPosition key_at;
    TextPosition value_at;
    std::vector<size_t> children;  // members in document order, or array elements
  };
  std::optional<size_t> find(std::string_view pointer) const;
  std::string pointer_of(size_t index) const;

  std::vector<Entry> entries_;
  bool too_deep_ = false;
  TextPosition too_deep_at_;
  std::optional<Duplicate> duplicate_;
};

}  // namespace warren
