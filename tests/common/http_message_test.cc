#include "nodes/common/http_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace warren {
namespace {

using ::testing::HasSubstr;

HttpParseResult<HttpRequestHead> request(const std::string& text) {
  return parse_http_request_head(ByteView(std::string_view(text)));
}
HttpParseResult<HttpResponseHead> response(const std::string& text) {
  return parse_http_response_head(ByteView(std::string_view(text)));
}

TEST(HttpMessageTest, ParsesAnUpgradeRequestAndSaysWhereTheHeadEnds) {
  const std::string head =
      "POST /control?x=1 HTTP/1.1\r\nHost: control.example\r\nUpgrade: warren-control/1\r\n"
      "connection:   keep-alive, Upgrade \t\r\nX-Warren-Handshake: AAAA\r\n\r\n";
  auto r = request(head + "\x02\x00\x30trailing");
  ASSERT_EQ(r.state, HttpParseState::parsed) << r.error;
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_EQ(r.head.method, "POST");
  EXPECT_EQ(r.head.target, "/control?x=1");
  EXPECT_EQ(r.head.version_minor, 1);
  ASSERT_EQ(r.head.headers.fields.size(), 4u);
  ASSERT_NE(r.head.headers.find("CONNECTION"), nullptr);
  EXPECT_EQ(*r.head.headers.find("Connection"), "keep-alive, Upgrade");  // OWS trimmed
  EXPECT_EQ(r.head.headers.fields[2].name, "connection");                // case kept
  EXPECT_TRUE(http_list_contains(*r.head.headers.find("connection"), "upgrade"));
  EXPECT_EQ(r.head.headers.find("Content-Length"), nullptr);
}

TEST(HttpMessageTest, IsIncompleteUntilTheEmptyLineWhicheverWayTheBytesArrive) {
  const std::string head = "GET /key HTTP/1.0\r\nHost: h\r\nAccept: */*\r\n\r\n";
  for (size_t n = 0; n < head.size(); ++n) {
    auto r = request(head.substr(0, n));
    EXPECT_EQ(r.state, HttpParseState::incomplete) << n << ": " << r.error;
  }
  auto r = request(head);
  ASSERT_EQ(r.state, HttpParseState::parsed);
  EXPECT_EQ(r.head.version_minor, 0);
  EXPECT_EQ(r.consumed, head.size());
}

TEST(HttpMessageTest, DuplicateFieldsAreKeptInOrder) {
  auto r = request("GET / HTTP/1.1\r\nA: 1\r\na: 2\r\nB:\r\n\r\n");
  ASSERT_EQ(r.state, HttpParseState::parsed) << r.error;
  EXPECT_EQ(r.head.headers.count("A"), 2u);
  EXPECT_EQ(*r.head.headers.find("a"), "1");
  EXPECT_EQ(*r.head.headers.find("b"), "");
}

struct BadCase {
  const char* text;
  const char* message;
};

TEST(HttpMessageTest, RejectsWhatAProxyCouldReadDifferently) {
  const BadCase cases[] = {
      {"GET / HTTP/1.1\nHost: h\r\n\r\n", "bare LF"},
      {"GET / HTTP/1.1\r\nHost: h\rX\r\n\r\n", "bare CR"},
      {"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "obsolete line folding"},
      {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", "whitespace between a header name"},
      {"GET / HTTP/1.1\r\nHo(st: h\r\n\r\n", "header name is not a token"},
      {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", "without ':'"},
      {"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", "control character"},
      {"GET / HTTP/2.0\r\n\r\n", "unsupported HTTP version"},
      {"GET / FTP/1.1\r\n\r\n", "not an HTTP/1.x message"},
      {"GET  / HTTP/1.1\r\n\r\n", "request line must be"},
      {"GET / HTTP/1.1 x\r\n\r\n", "request line must be"},
      {"G(T / HTTP/1.1\r\n\r\n", "method is not a token"},
      {"\r\nGET / HTTP/1.1\r\n\r\n", "empty start line"},
  };
  for (const BadCase& c : cases) {
    auto r = request(c.text);
    EXPECT_EQ(r.state, HttpParseState::error) << c.text;
    EXPECT_THAT(r.error, HasSubstr(c.message)) << c.text;
    EXPECT_THAT(r.error, HasSubstr("malformed HTTP head, line")) << c.text;
  }
}

TEST(HttpMessageTest, NonHttpBytesFailAtOnceInsteadOfWaitingForATerminator) {
  // The first bytes of a TLS ClientHello: a control character on line 1.
  auto r = request(std::string("\x16\x03\x01\x02\x00", 5));
  EXPECT_EQ(r.state, HttpParseState::error);
  auto bare = request("GET / HTTP/1.1\n");
  EXPECT_EQ(bare.state, HttpParseState::error);
}

TEST(HttpMessageTest, HeadSizeLimitIsEightKibIncludingTheTerminator) {
  const std::string start = "GET / HTTP/1.1\r\nX: ";
  const std::string end = "\r\n\r\n";
  const std::string exact =
      start + std::string(kHttpMaxHeadBytes - start.size() - end.size(), 'a') + end;
  ASSERT_EQ(exact.size(), kHttpMaxHeadBytes);
  EXPECT_EQ(request(exact).state, HttpParseState::parsed);
  const std::string over =
      start + std::string(kHttpMaxHeadBytes - start.size() - end.size() + 1, 'a') + end;
  auto r = request(over);
  EXPECT_EQ(r.state, HttpParseState::error);
  EXPECT_THAT(r.error, HasSubstr("larger than 8192 bytes"));
  // Without any terminator, the limit still ends the wait.
  auto endless = request(start + std::string(kHttpMaxHeadBytes, 'a'));
  EXPECT_EQ(endless.state, HttpParseState::error);
}

TEST(HttpMessageTest, AtMostSixtyFourFields) {
  std::string text = "GET / HTTP/1.1\r\n";
  for (size_t i = 0; i < kHttpMaxHeaders; ++i) text += "F" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(request(text + "\r\n").state, HttpParseState::parsed);
  auto r = request(text + "One-Too-Many: v\r\n\r\n");
  EXPECT_EQ(r.state, HttpParseState::error);
  EXPECT_THAT(r.error, HasSubstr("more than 64 header fields"));
}

TEST(HttpMessageTest, ParsesStatusLines) {
  auto r = response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: w/1\r\n\r\n");
  ASSERT_EQ(r.state, HttpParseState::parsed) << r.error;
  EXPECT_EQ(r.head.status, 101);
  EXPECT_EQ(r.head.reason, "Switching Protocols");
  auto no_reason = response("HTTP/1.1 204\r\n\r\n");
  ASSERT_EQ(no_reason.state, HttpParseState::parsed) << no_reason.error;
  EXPECT_EQ(no_reason.head.status, 204);
  EXPECT_EQ(no_reason.head.reason, "");
  EXPECT_EQ(response("HTTP/1.1 20x OK\r\n\r\n").state, HttpParseState::error);
  EXPECT_EQ(response("HTTP/1.1 2000 OK\r\n\r\n").state, HttpParseState::error);
  EXPECT_EQ(response("HTTP/1.1 600 Odd\r\n\r\n").state, HttpParseState::error);
  EXPECT_EQ(response("HTTP/1.1 099 Odd\r\n\r\n").state, HttpParseState::error);
  EXPECT_EQ(response("SSH-2.0-OpenSSH\r\n\r\n").state, HttpParseState::error);
}

TEST(HttpMessageTest, ContentLength) {
  auto length = [](const std::string& fields) {
    auto r = response("HTTP/1.1 200 OK\r\n" + fields + "\r\n");
    EXPECT_EQ(r.state, HttpParseState::parsed) << r.error;
    return r.head.headers.content_length();
  };
  auto absent = length("");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
  auto five = length("Content-Length: 5\r\ncontent-length: 5\r\n");
  ASSERT_TRUE(five.ok());
  EXPECT_EQ(**five, 5u);
  EXPECT_THAT(length("Content-Length: 5\r\nContent-Length: 6\r\n").error().message,
              HasSubstr("conflicting"));
  EXPECT_FALSE(length("Content-Length: -1\r\n").ok());
  EXPECT_FALSE(length("Content-Length: 5, 5\r\n").ok());
  EXPECT_FALSE(length("Content-Length: 9999999999999999999999\r\n").ok());
  EXPECT_THAT(length("Transfer-Encoding: chunked\r\n").error().message, HasSubstr("not supported"));
}

TEST(HttpMessageTest, FormattedHeadsParseBackToTheSameValues) {
  HttpRequestHead req;
  req.method = "POST";
  req.target = "/control";
  req.headers.add("Host", "example");
  req.headers.add("Upgrade", "warren-control/1");
  const std::string text = format_http_request_head(req);
  EXPECT_EQ(text, "POST /control HTTP/1.1\r\nHost: example\r\nUpgrade: warren-control/1\r\n\r\n");
  auto back = request(text);
  ASSERT_EQ(back.state, HttpParseState::parsed);
  EXPECT_EQ(back.head.method, req.method);
  EXPECT_EQ(back.head.target, req.target);
  EXPECT_EQ(back.head.headers, req.headers);

  HttpResponseHead resp;
  resp.status = 426;
  resp.reason = http_reason_phrase(426);
  resp.headers.add("Injected", "a\r\nEvil: yes");  // CR/LF cannot split the head
  const std::string rtext = format_http_response_head(resp);
  auto rback = response(rtext);
  ASSERT_EQ(rback.state, HttpParseState::parsed) << rback.error;
  EXPECT_EQ(rback.head.status, 426);
  EXPECT_EQ(rback.head.reason, "Upgrade Required");
  EXPECT_EQ(rback.head.headers.count("Evil"), 0u);
  EXPECT_EQ(rback.consumed, rtext.size());
}

TEST(HttpMessageTest, ListContains) {
  EXPECT_TRUE(http_list_contains("Upgrade", "upgrade"));
  EXPECT_TRUE(http_list_contains("keep-alive ,  UPGRADE", "upgrade"));
  EXPECT_FALSE(http_list_contains("upgraded", "upgrade"));
  EXPECT_FALSE(http_list_contains("", "upgrade"));
  EXPECT_TRUE(http_list_contains("a,,b", "b"));
}

}  // namespace
}  // namespace warren
