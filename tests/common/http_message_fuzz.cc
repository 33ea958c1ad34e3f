// Fuzzes the HTTP head parsers. Never crash; a parsed head consumed exactly its own bytes and
// formats to bytes that parse back to the same values; a parse decision never depends on bytes
// after the head; limits hold.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "nodes/common/http_message.h"

namespace {

using warren::ByteView;
using warren::HttpParseState;

void check(bool ok) {
  if (!ok) std::abort();
}

template <typename Head, typename Parse, typename Format, typename Same>
void exercise(ByteView input, Parse parse, Format format, Same same) {
  auto r = parse(input);
  if (r.state != HttpParseState::parsed) {
    // A prefix of something that is incomplete is incomplete or an error, never parsed.
    if (r.state == HttpParseState::incomplete && input.size() > 0) {
      check(parse(input.sub(0, input.size() - 1)).state != HttpParseState::parsed);
    }
    return;
  }
  check(r.consumed >= 4 && r.consumed <= input.size());
  check(r.consumed <= warren::kHttpMaxHeadBytes);
  check(r.head.headers.fields.size() <= warren::kHttpMaxHeaders);
  // Only the head decides.
  auto alone = parse(input.sub(0, r.consumed));
  check(alone.state == HttpParseState::parsed && alone.consumed == r.consumed);
  // Every strict prefix of the head is incomplete.
  check(parse(input.sub(0, r.consumed - 1)).state == HttpParseState::incomplete);
  const std::string text = format(r.head);
  auto again = parse(ByteView(std::string_view(text)));
  check(again.state == HttpParseState::parsed && again.consumed == text.size());
  check(same(r.head, again.head));
  (void)r.head.headers.content_length();
  for (const auto& f : r.head.headers.fields) {
    check(r.head.headers.find(f.name) != nullptr);
    (void)warren::http_list_contains(f.value, "upgrade");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteView input(data, size);
  exercise<warren::HttpRequestHead>(
      input, [](ByteView b) { return warren::parse_http_request_head(b); },
      [](const warren::HttpRequestHead& h) { return warren::format_http_request_head(h); },
      [](const warren::HttpRequestHead& a, const warren::HttpRequestHead& b) {
        return a.method == b.method && a.target == b.target && a.version_minor == b.version_minor &&
               a.headers == b.headers;
      });
  exercise<warren::HttpResponseHead>(
      input, [](ByteView b) { return warren::parse_http_response_head(b); },
      [](const warren::HttpResponseHead& h) { return warren::format_http_response_head(h); },
      [](const warren::HttpResponseHead& a, const warren::HttpResponseHead& b) {
        return a.status == b.status && a.reason == b.reason && a.version_minor == b.version_minor &&
               a.headers == b.headers;
      });
  return 0;
}
