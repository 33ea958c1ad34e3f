#include "nodes/control/registry_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace warren::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Prefix P(const char* text) {
  return *Prefix::parse(text);
}

TEST(RegistryRules, UserNames) {
  EXPECT_TRUE(check_user_name("alice").ok());
  EXPECT_TRUE(check_user_name("a.b_c-9").ok());
  EXPECT_TRUE(check_user_name(std::string(63, 'a')).ok());
  for (const std::string& bad : std::vector<std::string>{"", "Alice", "-alice", ".a", "al ice",
                                                         "al@ce", std::string(64, 'a')}) {
    auto s = check_user_name(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_THAT(s.error().message, HasSubstr("invalid user name"));
  }
}

TEST(RegistryRules, Tags) {
  EXPECT_TRUE(check_tag("tag:server").ok());
  EXPECT_TRUE(check_tag("tag:Web-1").ok());
  for (const char* bad : {"server", "tag:", "tag:-x", "tag:a b", "group:x", "TAG:x"}) {
    auto s = check_tag(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_THAT(s.error().message, HasSubstr("invalid tag"));
  }
  auto tags = normalize_tags({"tag:b", "tag:a", "tag:b"});
  ASSERT_TRUE(tags.ok());
  EXPECT_THAT(*tags, ElementsAre("tag:a", "tag:b"));
  std::vector<std::string> many;
  for (size_t i = 0; i <= kMaxTagsPerKey; ++i) many.push_back("tag:t" + std::to_string(i));
  EXPECT_THAT(normalize_tags(many).error().message, HasSubstr("too many tags"));
}

TEST(RegistryRules, NodeNames) {
  EXPECT_TRUE(check_node_name("laptop-2").ok());
  EXPECT_TRUE(check_node_name("7").ok());
  for (const std::string& bad :
       std::vector<std::string>{"", "-a", "a-", "Laptop", "a.b", "a_b", std::string(64, 'a')}) {
    auto s = check_node_name(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_THAT(s.error().message, HasSubstr("DNS label"));
  }
}

TEST(RegistryRules, LabelsFromHostnames) {
  EXPECT_EQ(dns_label_from_hostname("laptop"), "laptop");
  EXPECT_EQ(dns_label_from_hostname("Alice's MacBook Pro.local"), "alice-s-macbook-pro");
  EXPECT_EQ(dns_label_from_hostname("my_box--1"), "my-box-1");
  EXPECT_EQ(dns_label_from_hostname("--x--"), "x");
  EXPECT_EQ(dns_label_from_hostname(""), "node");
  EXPECT_EQ(dns_label_from_hostname("\xff\xfe"), "node");
  EXPECT_EQ(dns_label_from_hostname(".example.com"), "node");
  std::string label = dns_label_from_hostname(std::string(62, 'a') + "-bc");
  EXPECT_EQ(label, std::string(62, 'a'));  // never ends in '-', never longer than 63
  EXPECT_TRUE(check_node_name(label).ok());
}

TEST(RegistryRules, NumberedNamesStayValidLabels) {
  EXPECT_EQ(numbered_name("laptop", 2), "laptop-2");
  std::string long_name = numbered_name(std::string(63, 'a'), 1234);
  EXPECT_EQ(long_name.size(), 63u);
  EXPECT_TRUE(check_node_name(long_name).ok());
  EXPECT_EQ(long_name.substr(58), "-1234");
}

TEST(RegistryRules, RoutesAreSortedDedupedAndChecked) {
  auto routes = normalize_routes(
      {P("10.0.0.0/24"), P("::/0"), P("0.0.0.0/0"), P("10.0.0.0/24"), P("2001:db8::/32")});
  ASSERT_TRUE(routes.ok());
  ASSERT_EQ(routes->size(), 4u);
  EXPECT_EQ((*routes)[0].to_string(), "0.0.0.0/0");
  EXPECT_TRUE(is_exit_route((*routes)[0]));
  EXPECT_FALSE(is_exit_route(P("10.0.0.0/24")));
  auto mapped = normalize_routes({P("::ffff:10.0.0.0/120")});
  ASSERT_FALSE(mapped.ok());
  EXPECT_THAT(mapped.error().message, HasSubstr("IPv4-mapped"));
  std::vector<Prefix> many;
  for (size_t i = 0; i <= kMaxRoutesPerNode; ++i) {
    many.push_back(*Prefix::make(IpAddress::v4(static_cast<uint32_t>(10u << 24 | i << 8)), 24));
  }
  EXPECT_THAT(normalize_routes(many).error().message, HasSubstr("too many routes"));
}

TEST(RegistryRules, PrintableEscapes) {
  EXPECT_EQ(printable("ok"), "\"ok\"");
  EXPECT_EQ(printable("a\"\n\xff"), "\"a\\x22\\x0a\\xff\"");
  EXPECT_EQ(printable(std::string(100, 'x'), 3), "\"xxx...\"");
}

}  // namespace
}  // namespace warren::control
