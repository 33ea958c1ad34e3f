#include "nodes/common/http_message.h"

#include <functional>

namespace warren {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_tchar(uint8_t c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != 0 &&
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// A byte that may appear in a field value or reason phrase: VCHAR, obs-text, SP, HTAB.
bool is_text(uint8_t c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(static_cast<uint8_t>(c))) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Result<int> parse_version(std::string_view v) {
  if (v == "HTTP/1.1") return 1;
  if (v == "HTTP/1.0") return 0;
  if (v.substr(0, 5) == "HTTP/") {
    return make_error("unsupported HTTP version; warren speaks HTTP/1.1");
  }
  return make_error("not an HTTP/1.x message (no HTTP version where one belongs)");
}

Status parse_request_line(std::string_view line, HttpRequestHead& head) {
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return make_error("request line must be METHOD SP TARGET SP HTTP-VERSION");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!is_token(method)) return make_error("request method is not a token");
  if (target.empty()) return make_error("request target is empty");
  for (char c : target) {
    const auto u = static_cast<uint8_t>(c);
    if (u < 0x21 || u > 0x7e) return make_error("request target has a non-visible character");
  }
  auto version = parse_version(line.substr(sp2 + 1));
  if (!version.ok()) return version.error();
  head.method = std::string(method);
  head.target = std::string(target);
  head.version_minor = *version;
  return Status::success();
}

Status parse_status_line(std::string_view line, HttpResponseHead& head) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) {
    return make_error("status line must be HTTP-VERSION SP STATUS [SP REASON]");
  }
  auto version = parse_version(line.substr(0, sp1));
  if (!version.ok()) return version.error();
  const std::string_view rest = line.substr(sp1 + 1);
  if (rest.size() < 3 || (rest.size() > 3 && rest[3] != ' ')) {
    return make_error("status code must be three digits");
  }
  int status = 0;
  for (size_t i = 0; i < 3; ++i) {
    if (rest[i] < '0' || rest[i] > '9') return make_error("status code must be three digits");
    status = status * 10 + (rest[i] - '0');
  }
  if (status < 100 || status > 599) return make_error("status code out of range 100..599");
  const std::string_view reason = rest.size() > 3 ? rest.substr(4) : std::string_view();
  for (char c : reason) {
    if (!is_text(static_cast<uint8_t>(c))) {
      return make_error("reason phrase has a control character");
    }
  }
  head.version_minor = *version;
  head.status = status;
  head.reason = std::string(reason);
  return Status::success();
}

Status parse_field_line(std::string_view line, HttpHeaders& headers) {
  if (line.front() == ' ' || line.front() == '\t') {
    return make_error("obsolete line folding (a header line starting with whitespace)");
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return make_error("header line without ':'");
  const std::string_view name = line.substr(0, colon);
  if (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
    return make_error("whitespace between a header name and ':'");
  }
  if (!is_token(name)) return make_error("header name is not a token");
  const std::string_view value = trim_ows(line.substr(colon + 1));
  for (char c : value) {
    if (!is_text(static_cast<uint8_t>(c))) {
      return make_error("header value has a control character");
    }
  }
  if (headers.fields.size() >= kHttpMaxHeaders) {
    return make_error("more than " + std::to_string(kHttpMaxHeaders) + " header fields");
  }
  headers.add(std::string(name), std::string(value));
  return Status::success();
}

// The shared line loop. `start_line` parses line 0; `headers` receives the fields.
template <typename Head>
HttpParseResult<Head> parse_head(ByteView data,
                                 const std::function<Status(std::string_view, Head&)>& start_line,
                                 HttpHeaders Head::*headers) {
  HttpParseResult<Head> r;
  auto fail = [&r](size_t line_number, const std::string& message) {
    r.state = HttpParseState::error;
    r.error = "malformed HTTP head, line " + std::to_string(line_number + 1) + ": " + message;
    return r;
  };
  const std::string_view text = data.as_string();
  size_t pos = 0;
  // Bounded by kHttpMaxHeadBytes: every iteration consumes at least the two bytes of a CRLF.
  for (size_t line = 0;; ++line) {
    size_t end = pos;
    while (end < text.size() && text[end] != '\r' && text[end] != '\n') {
      const auto c = static_cast<uint8_t>(text[end]);
      if (c < 0x20 && c != '\t') return fail(line, "control character");
      if (c == 0x7f) return fail(line, "control character");
      ++end;
    }
    if (end + 2 > kHttpMaxHeadBytes) {  // this line's CRLF cannot fit any more
      r.state = HttpParseState::error;
      r.error = "HTTP head is larger than " + std::to_string(kHttpMaxHeadBytes) + " bytes";
      return r;
    }
    if (end == text.size() || end + 1 == text.size()) {
      if (end < text.size() && text[end] == '\n') return fail(line, "line ends in a bare LF");
      return r;  // incomplete
    }
    if (text[end] == '\n') return fail(line, "line ends in a bare LF, not CRLF");
    if (text[end + 1] != '\n') return fail(line, "bare CR inside a line");
    const std::string_view content = text.substr(pos, end - pos);
    pos = end + 2;
    if (line == 0) {
      if (content.empty()) return fail(line, "empty start line");
      Status s = start_line(content, r.head);
      if (!s.ok()) return fail(line, s.error().message);
      continue;
    }
    if (content.empty()) {
      r.state = HttpParseState::parsed;
      r.consumed = pos;
      return r;
    }
    Status s = parse_field_line(content, r.head.*headers);
    if (!s.ok()) return fail(line, s.error().message);
  }
}

void append_clean(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
}

void append_fields(std::string& out, const HttpHeaders& headers) {
  for (const HttpHeader& f : headers.fields) {
    append_clean(out, f.name);
    out += ": ";
    append_clean(out, f.value);
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace

bool http_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool http_list_contains(std::string_view value, std::string_view token) {
  // Bounded by the value's length: each pass consumes one element and its comma.
  while (true) {
    const size_t comma = value.find(',');
    if (http_iequals(trim_ows(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) return false;
    value.remove_prefix(comma + 1);
  }
}

const std::string* HttpHeaders::find(std::string_view name) const {
  for (const HttpHeader& f : fields) {
    if (http_iequals(f.name, name)) return &f.value;
  }
  return nullptr;
}

size_t HttpHeaders::count(std::string_view name) const {
  size_t n = 0;
  for (const HttpHeader& f : fields) n += http_iequals(f.name, name) ? 1 : 0;
  return n;
}

Result<std::optional<uint64_t>> HttpHeaders::content_length() const {
  if (find("Transfer-Encoding") != nullptr) {
    return make_error("Transfer-Encoding is not supported; send a Content-Length");
  }
  std::optional<uint64_t> length;
  for (const HttpHeader& f : fields) {
    if (!http_iequals(f.name, "Content-Length")) continue;
    // 18 digits cannot overflow u64 and far exceed any length we would accept.
    if (f.value.empty() || f.value.size() > 18) return make_error("invalid Content-Length");
    uint64_t v = 0;
    for (char c : f.value) {
      if (c < '0' || c > '9') return make_error("invalid Content-Length");
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (length && *length != v) return make_error("conflicting Content-Length fields");
    length = v;
  }
  return length;
}

HttpParseResult<HttpRequestHead> parse_http_request_head(ByteView data) {
  return parse_head<HttpRequestHead>(data, parse_request_line, &HttpRequestHead::headers);
}

HttpParseResult<HttpResponseHead> parse_http_response_head(ByteView data) {
  return parse_head<HttpResponseHead>(data, parse_status_line, &HttpResponseHead::headers);
}

std::string format_http_request_head(const HttpRequestHead& head) {
  std::string out;
  append_clean(out, head.method);
  out += ' ';
  append_clean(out, head.target);
  out += head.version_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
  append_fields(out, head.headers);
  return out;
}

std::string format_http_response_head(const HttpResponseHead& head) {
  std::string out = head.version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(head.status);
  out += ' ';
  append_clean(out, head.reason);
  out += "\r\n";
  append_fields(out, head.headers);
  return out;
}

const char* http_reason_phrase(int status) {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 426:
      return "Upgrade Required";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "";
  }
}

}  // namespace warren
