#include "nodes/common/json_locator.h"

#include <set>

namespace warren {
namespace {

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Walks the text byte by byte, keeping line and column (in code points) up to date.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  size_t offset() const { return pos_; }
  TextPosition position() const { return {line_, column_}; }

  void advance() {
    if (done()) return;
    char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if (!is_continuation_byte(c)) {
      ++column_;
    }
  }
  void skip_whitespace() {
    while (!done()) {
      char c = peek();
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      advance();
    }
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Reads four hex digits after "\u"; -1 if malformed.
int64_t read_hex4(Cursor& c) {
  int64_t v = 0;
  for (int i = 0; i < 4; ++i) {
    int h = hex_value(c.peek());
    if (h < 0) return -1;
    v = v * 16 + h;
    c.advance();
  }
  return v;
}

// Scans a string starting at its opening quote; decodes it into `out` when given. False on a
// malformed string (the scan stops there).
bool scan_string(Cursor& c, std::string* out) {
  c.advance();  // opening quote
  while (!c.done()) {
    char ch = c.peek();
    if (ch == '"') {
      c.advance();
      return true;
    }
    if (static_cast<unsigned char>(ch) < 0x20) return false;
    if (ch != '\\') {
      if (out) *out += ch;
      c.advance();
      continue;
    }
    c.advance();
    char e = c.peek();
    c.advance();
    switch (e) {
      case '"':
      case '\\':
      case '/':
        if (out) *out += e;
        break;
      case 'b':
        if (out) *out += '\b';
        break;
      case 'f':
        if (out) *out += '\f';
        break;
      case 'n':
        if (out) *out += '\n';
        break;
      case 'r':
        if (out) *out += '\r';
        break;
      case 't':
        if (out) *out += '\t';
        break;
      case 'u': {
        int64_t cp = read_hex4(c);
        if (cp < 0) return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          // A high surrogate must be followed by "\u" and a low surrogate.
          if (c.peek() != '\\') return false;
          c.advance();
          if (c.peek() != 'u') return false;
          c.advance();
          int64_t low = read_hex4(c);
          if (low < 0xDC00 || low > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return false;
        }
        if (out) append_utf8(*out, static_cast<uint32_t>(cp));
        break;
      }
      default:
        return false;
    }
  }
  return false;
}

// Numbers and the literals true/false/null: their syntax is nlohmann's to check; we only need
// to step over them.
bool scan_scalar(Cursor& c) {
  size_t start = c.offset();
  while (!c.done()) {
    char ch = c.peek();
    bool part = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || ch == '-' || ch == '+' ||
                ch == '.' || ch == 'E';
    if (!part) break;
    c.advance();
  }
  return c.offset() > start;
}

// Splits "/a/b~1c" into {"a", "b/c"}; nullopt for a malformed pointer.
std::optional<std::vector<std::string>> pointer_tokens(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/') return std::nullopt;
  size_t i = 1;
  std::string token;
  for (;; ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(token);
      token.clear();
      if (i == pointer.size()) break;
      continue;
    }
    if (pointer[i] == '~') {
      if (i + 1 >= pointer.size()) return std::nullopt;
      char n = pointer[++i];
      if (n == '0') {
        token += '~';
      } else if (n == '1') {
        token += '/';
      } else {
        return std::nullopt;
      }
      continue;
    }
    token += pointer[i];
  }
  return tokens;
}

}  // namespace

TextPosition position_of_offset(std::string_view text, size_t offset) {
  Cursor c(text);
  while (!c.done() && c.offset() < offset) c.advance();
  return c.position();
}

std::string hujson_to_json(std::string_view text) {
  std::string out(text);
  size_t i = 0;
  // Where the last comma outside strings and comments is, if it followed a value and only
  // blanks and comments follow it so far: a '}' or ']' next makes it a trailing comma.
  size_t pending_comma = std::string::npos;
  bool after_value = false;  // the last significant character ended a value
  while (i < out.size()) {
    char ch = out[i];
    if (ch == '"') {
      pending_comma = std::string::npos;
      after_value = true;
      ++i;
      while (i < out.size() && out[i] != '"') i += (out[i] == '\\') ? 2 : 1;
      ++i;
      continue;
    }
    if (ch == '/' && i + 1 < out.size() && out[i + 1] == '/') {
      while (i < out.size() && out[i] != '\n') out[i++] = ' ';
      continue;
    }
    if (ch == '/' && i + 1 < out.size() && out[i + 1] == '*') {
      size_t end = out.find("*/", i + 2);
      if (end == std::string::npos) return out;  // unterminated: the parser reports it
      for (size_t j = i; j < end + 2; ++j) {
        if (out[j] != '\n') out[j] = ' ';
      }
      i = end + 2;
      continue;
    }
    if (ch == ',') {
      // A comma after a comma or an opening bracket is an error the parser should see.
      pending_comma = after_value ? i : std::string::npos;
      after_value = false;
    } else if (ch == '}' || ch == ']') {
      if (pending_comma != std::string::npos) out[pending_comma] = ' ';
      pending_comma = std::string::npos;
      after_value = true;
    } else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
      pending_comma = std::string::npos;
      after_value = ch != '{' && ch != '[' && ch != ':';
    }
    ++i;
  }
  return out;
}

std::string json_pointer_token(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char ch : key) {
    if (ch == '~') {
      out += "~0";
    } else if (ch == '/') {
      out += "~1";
    } else {
      out += ch;
    }
  }
  return out;
}

JsonLocator::JsonLocator(std::string_view text) {
  Cursor c(text);
  // The open containers, innermost last, with the keys each object has seen so far.
  struct Open {
    size_t entry;
    std::set<std::string> keys;
    bool expect_first = true;  // just after '{' or '['
  };
  std::vector<Open> stack;

  // Records a value starting at the cursor as a child of the innermost container; returns
  // false to stop the scan.
  auto scan_value = [&](std::string key, TextPosition key_at) -> bool {
    c.skip_whitespace();
    if (c.done()) return false;
    size_t index = entries_.size();
    Entry entry;
    entry.key = std::move(key);
    entry.parent = stack.empty() ? index : stack.back().entry;
    entry.value_at = c.position();
    entry.key_at = key_at.line ? key_at : entry.value_at;
    char ch = c.peek();
    entry.is_object = ch == '{';
    entry.is_array = ch == '[';
    if (!stack.empty()) entries_[stack.back().entry].children.push_back(index);
    entries_.push_back(std::move(entry));
    if (ch == '{' || ch == '[') {
      if (stack.size() >= kMaxJsonDepth) {
        too_deep_ = true;
        too_deep_at_ = c.position();
        return false;
      }
      c.advance();
      stack.push_back(Open{index, {}, true});
      return true;
    }
    if (ch == '"') return scan_string(c, nullptr);
    return scan_scalar(c);
  };

  if (!scan_value("", {})) return;
  while (!stack.empty()) {
    c.skip_whitespace();
    Open& top = stack.back();
    Entry& container = entries_[top.entry];
    char ch = c.peek();
    if ((container.is_object && ch == '}') || (container.is_array && ch == ']')) {
      c.advance();
      stack.pop_back();
      continue;
    }
    if (!top.expect_first) {
      if (ch != ',') return;
      c.advance();
      c.skip_whitespace();
      ch = c.peek();
    }
    top.expect_first = false;
    if (container.is_array) {
      if (!scan_value("", {})) return;
      continue;
    }
    if (ch != '"') return;
    TextPosition key_at = c.position();
    std::string key;
    if (!scan_string(c, &key)) return;
    c.skip_whitespace();
    if (c.peek() != ':') return;
    c.advance();
    if (!top.keys.insert(key).second && !duplicate_) {
      Duplicate d{key, pointer_of(top.entry) + "/" + json_pointer_token(key), key_at, key_at};
      for (size_t child : entries_[top.entry].children) {
        if (entries_[child].key == key) {
          d.first = entries_[child].key_at;
          break;
        }
      }
      duplicate_ = std::move(d);
    }
    if (!scan_value(std::move(key), key_at)) return;
  }
}

std::string JsonLocator::pointer_of(size_t index) const {
  std::vector<size_t> chain;
  for (size_t e = index; e != entries_[e].parent; e = entries_[e].parent) chain.push_back(e);
  std::string pointer;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Entry& parent = entries_[entries_[*it].parent];
    if (parent.is_array) {
      size_t pos = 0;
      while (parent.children[pos] != *it) ++pos;
      pointer += "/" + std::to_string(pos);
    } else {
      pointer += "/" + json_pointer_token(entries_[*it].key);
    }
  }
  return pointer;
}

std::optional<size_t> JsonLocator::find(std::string_view pointer) const {
  if (entries_.empty()) return std::nullopt;
  auto tokens = pointer_tokens(pointer);
  if (!tokens) return std::nullopt;
  size_t at = 0;
  for (const std::string& token : *tokens) {
    const Entry& e = entries_[at];
    if (e.is_array) {
      if (token.empty() || token.size() > 18) return std::nullopt;
      size_t index = 0;
      for (char ch : token) {
        if (ch < '0' || ch > '9') return std::nullopt;
        index = index * 10 + static_cast<size_t>(ch - '0');
      }
      if (index >= e.children.size()) return std::nullopt;
      at = e.children[index];
    } else if (e.is_object) {
      // Duplicates resolve to the last occurrence, as nlohmann keeps the last value.
      std::optional<size_t> found;
      for (size_t child : e.children) {
        if (entries_[child].key == token) found = child;
      }
      if (!found) return std::nullopt;
      at = *found;
    } else {
      return std::nullopt;
    }
  }
  return at;
}

std::optional<TextPosition> JsonLocator::value_position(std::string_view pointer) const {
  auto at = find(pointer);
  if (!at) return std::nullopt;
  return entries_[*at].value_at;
}

std::optional<TextPosition> JsonLocator::key_position(std::string_view pointer) const {
  auto at = find(pointer);
  if (!at) return std::nullopt;
  return entries_[*at].key_at;
}

int JsonLocator::line_of(std::string_view pointer) const {
  std::string p(pointer);
  for (;;) {
    if (auto at = find(p)) return entries_[*at].key_at.line;
    size_t slash = p.rfind('/');
    if (slash == std::string::npos) return 1;
    p.resize(slash);
  }
}

}  // namespace warren
