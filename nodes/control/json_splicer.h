// Builds a JSON object from keys and values that are already encoded JSON text, so that a value
// encoded once (a peer, a patch) is copied into many messages instead of encoded for each.
// Appends to a caller's buffer (reused across messages, so a message costs no allocation).
// Keys are written as given and must need no escaping (they are our own snake_case names).
#pragma once

#include <string>
#include <string_view>

namespace warren::control {

class JsonSplicer {
 public:
  explicit JsonSplicer(std::string& out) : out_(out) { out_ += '{'; }
  void field(std::string_view key, std::string_view raw_json) {
    write_key(key);
    out_ += raw_json;
  }
  void begin_array(std::string_view key) {
    write_key(key);
    out_ += '[';
    first_item_ = true;
  }
  void item(std::string_view raw_json) {
    if (!first_item_) out_ += ',';
    first_item_ = false;
    out_ += raw_json;
  }
  void end_array() { out_ += ']'; }
  void finish() { out_ += '}'; }

 private:
  void write_key(std::string_view key) {
    if (!first_field_) out_ += ',';
    first_field_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }

  std::string& out_;
  bool first_field_ = true;
  bool first_item_ = true;
};

}  // namespace warren::control
