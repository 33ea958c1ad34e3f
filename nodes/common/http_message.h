// HTTP/1.1 message heads (RFC 9112) from untrusted bytes: just enough HTTP for the secure
// channel's GET /key and Upgrade exchange, and for a reverse proxy in front of it.
//
//   request-head  = method SP request-target SP HTTP-version CRLF *( field-line CRLF ) CRLF
//   response-head = HTTP-version SP 3DIGIT SP [ reason-phrase ] CRLF *( field-line CRLF ) CRLF
//   field-line    = field-name ":" OWS field-value OWS
//
// Parsing contract (parse_http_request_head / parse_http_response_head):
//   - Call with every byte received so far. `incomplete` until the empty line (CRLFCRLF);
//     `parsed` with `consumed` = the head's length (what follows is body or another protocol);
//     `error` with a message saying what is wrong.
//   - Limits: the head, terminator included, is at most kHttpMaxHeadBytes and has at most
//     kHttpMaxHeaders fields; beyond either it is an error (even before the terminator).
//   - Strict, because what we accept a proxy might read differently: every line ends in CRLF
//     (a bare CR or LF is an error), no whitespace before the colon, no obsolete line folding,
//     no control characters, field names and methods are tokens, the version is HTTP/1.0 or
//     HTTP/1.1, the request target is visible ASCII, the status is 100..599.
//   - Field names keep their case; lookup is case-insensitive. Values are trimmed of
//     surrounding spaces and tabs. Duplicate fields are kept in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nodes/net/bytes.h"
#include "nodes/net/result.h"

namespace warren {

// What browsers and common servers accept for a whole head is larger, but nothing we exchange
// comes close; 8 KiB bounds the buffer an unauthenticated peer can make us hold.
constexpr size_t kHttpMaxHeadBytes = 8 * 1024;
// Likewise: our requests carry about five fields; a proxy adds a few more.
constexpr size_t kHttpMaxHeaders = 64;

struct HttpHeader {
  std::string name;
  std::string value;
  bool operator==(const HttpHeader& o) const { return name == o.name && value == o.value; }
};

struct HttpHeaders {
  std::vector<HttpHeader> fields;

  // The first field named `name` (ASCII case-insensitive), or nullptr.
  const std::string* find(std::string_view name) const;
  size_t count(std::string_view name) const;
  void add(std::string name, std::string value) {
    fields.push_back({std::move(name), std::move(value)});
  }
  // Content-Length as a number: nullopt when absent; an error when malformed or when
  // several fields disagree. Transfer-Encoding is not supported (an error if present).
  Result<std::optional<uint64_t>> content_length() const;
  bool operator==(const HttpHeaders& o) const { return fields == o.fields; }
};

struct HttpRequestHead {
  std::string method;     // case-sensitive, e.g. "GET"
  std::string target;     // e.g. "/key"
  int version_minor = 1;  // HTTP/1.<version_minor>, 0 or 1
  HttpHeaders headers;
};

struct HttpResponseHead {
  int version_minor = 1;
  int status = 200;
  std::string reason;  // may be empty
  HttpHeaders headers;
};

enum class HttpParseState { incomplete, parsed, error };

template <typename Head>
struct HttpParseResult {
  HttpParseState state = HttpParseState::incomplete;
  Head head;
  size_t consumed = 0;  // bytes of the head, when parsed
  std::string error;    // when error
};

HttpParseResult<HttpRequestHead> parse_http_request_head(ByteView data);
HttpParseResult<HttpResponseHead> parse_http_response_head(ByteView data);

// The head as bytes, ending in the empty line. Fields are written as given; the caller keeps
// names and values free of CR/LF (the formatter drops any that slip through).
std::string format_http_request_head(const HttpRequestHead& head);
std::string format_http_response_head(const HttpResponseHead& head);

// The standard reason phrase for the statuses warren sends ("Not Found"); "" if unknown.
const char* http_reason_phrase(int status);

// True if a comma-separated field value (Connection, Upgrade) lists `token`, ignoring ASCII
// case and surrounding whitespace: ("keep-alive, Upgrade", "upgrade") is true.
bool http_list_contains(std::string_view value, std::string_view token);
bool http_iequals(std::string_view a, std::string_view b);

}  // namespace warren
