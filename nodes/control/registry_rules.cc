#include "nodes/control/registry_rules.h"

#include <algorithm>
#include <cstdio>

namespace warren::control {
namespace {

bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool alnum(char c) {
  return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

}  // namespace

std::string printable(std::string_view text, size_t max_chars) {
  std::string out = "\"";
  size_t shown = 0;
  for (char c : text) {
    if (shown == max_chars) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    }
    ++shown;
  }
  return out + "\"";
}

Status check_user_name(std::string_view name) {
  const std::string rule =
      "user names are 1-63 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or "
      "digit";
  if (name.empty() || name.size() > kMaxUserNameChars || !lower_alnum(name[0])) {
    return make_error("invalid user name " + printable(name) + ": " + rule);
  }
  for (char c : name) {
    if (!lower_alnum(c) && c != '.' && c != '_' && c != '-') {
      return make_error("invalid user name " + printable(name) + ": " + rule);
    }
  }
  return Status::success();
}

Status check_tag(std::string_view tag) {
  const std::string rule =
      "tags are \"tag:\" followed by 1-63 letters, digits, '.', '_' or '-', starting with a "
      "letter or digit (e.g. tag:server)";
  constexpr std::string_view kTagPrefix = "tag:";
  if (tag.size() <= kTagPrefix.size() || tag.substr(0, kTagPrefix.size()) != kTagPrefix) {
    return make_error("invalid tag " + printable(tag) + ": " + rule);
  }
  std::string_view name = tag.substr(kTagPrefix.size());
  if (name.size() > kMaxDnsLabelChars || !alnum(name[0])) {
    return make_error("invalid tag " + printable(tag) + ": " + rule);
  }
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') {
      return make_error("invalid tag " + printable(tag) + ": " + rule);
    }
  }
  return Status::success();
}

Result<std::vector<std::string>> normalize_tags(std::vector<std::string> tags) {
  for (const std::string& t : tags) {
    Status s = check_tag(t);
    if (!s) return s.error();
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  if (tags.size() > kMaxTagsPerKey) {
    return make_error("too many tags (" + std::to_string(tags.size()) + "; at most " +
                      std::to_string(kMaxTagsPerKey) + ")");
  }
  return tags;
}

Status check_node_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxDnsLabelChars && name.front() != '-' &&
            name.back() != '-';
  for (char c : name) ok = ok && (lower_alnum(c) || c == '-');
  if (!ok) {
    return make_error("invalid node name " + printable(name) +
                      ": names are DNS labels, 1-63 characters of a-z, 0-9 and '-', not starting "
                      "or ending with '-'");
  }
  return Status::success();
}

std::string dns_label_from_hostname(std::string_view hostname) {
  std::string_view first = hostname.substr(0, hostname.find('.'));
  std::string out;
  bool dash = false;
  for (char c : first) {
    char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower_alnum(l)) {
      bool sep = dash && !out.empty();
      if (out.size() + (sep ? 2 : 1) > kMaxDnsLabelChars) break;
      if (sep) out += '-';
      dash = false;
      out += l;
    } else {
      dash = true;
    }
  }
  return out.empty() ? "node" : out;
}

std::string numbered_name(const std::string& base, uint64_t n) {
  std::string suffix = "-" + std::to_string(n);
  std::string head = base.substr(0, kMaxDnsLabelChars - suffix.size());
  while (!head.empty() && head.back() == '-') head.pop_back();
  if (head.empty()) head = "node";
  return head + suffix;
}

bool is_exit_route(const Prefix& prefix) {
  return prefix.length() == 0;
}

Result<std::vector<Prefix>> normalize_routes(std::vector<Prefix> routes) {
  for (const Prefix& p : routes) {
    if (p.family() == Family::ipv6 && p.length() >= 96 && p.network().is_v4_mapped()) {
      return make_error("route " + p.to_string() +
                        " is an IPv4-mapped IPv6 prefix: advertise the IPv4 prefix instead");
    }
  }
  std::sort(routes.begin(), routes.end());
  routes.erase(std::unique(routes.begin(), routes.end()), routes.end());
  if (routes.size() > kMaxRoutesPerNode) {
    return make_error("too many routes (" + std::to_string(routes.size()) + "; at most " +
                      std::to_string(kMaxRoutesPerNode) + " per node)");
  }
  return routes;
}

}  // namespace warren::control
