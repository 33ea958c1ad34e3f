#include "nodes/relay/relay_config.h"

#include <cctype>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nodes/common/config_file.h"
#include "nodes/common/json_checks.h"

namespace warren::relay {
namespace {

using json_checks::in_quotes;
using Rooted = ConfigErrors;
using json_checks::json;

const std::vector<std::string> kTopKeys = {
    "listen",      "stun_listen",   "state_dir",  "control_url", "control_key",
    "mesh_key",    "mesh_key_file", "mesh_peers", "queue_depth", "rate_limit_bytes_per_s",
    "burst_bytes", "max_clients",   "log_level"};

// A region has a handful of relays; a longer list is a pasted relay map, not a mesh.
constexpr size_t kMaxMeshPeers = 64;
// Each queued frame may hold a maximal packet (64 KiB): 1024 of them is 64 MiB for one slow
// client, far past any use (DERP keeps 32).
constexpr int64_t kMaxQueueDepth = 1024;
// A process gets one file descriptor per client; no host gives one process more than this.
constexpr int64_t kMaxClients = 10'000'000;
// URLs are typed by hand; a DNS name is at most 253 characters.
constexpr size_t kMaxUrlBytes = 512;

const char* const kListenExample =
    "expected ADDR:PORT such as \"0.0.0.0:443\", \"[::]:443\" or \"relay.example:443\"";
const char* const kUrlExample = "expected http://HOST:PORT, e.g. http://127.0.0.1:8080";

bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return true;
}

// "0".."65535" without sign or spaces.
std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

// A listening endpoint: an IP literal endpoint, or HOST:PORT for the caller's resolver.
Status check_listen_text(const std::string& text, const std::string& path, const Rooted& rooted) {
  if (Endpoint::parse(text).ok()) return Status::success();
  const std::string example = std::string(kListenExample) + ", got " + in_quotes(text);
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return rooted.at(path, example);
  }
  const std::string port = text.substr(colon + 1);
  if (!parse_port(port)) {
    return rooted.at(path, "port " + in_quotes(port) + " is not a number in 0..65535");
  }
  // A name; anything else (a bracketed v6 that did not parse, a stray ':') is a typo rather
  // than a host we could resolve.
  if (!is_host_name(text.substr(0, colon))) return rooted.at(path, example);
  return Status::success();
}

bool present(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && !it->is_null();
}

Result<std::string> non_empty_string(const json& doc, const char* key, const Rooted& rooted) {
  auto s = json_checks::required_string(doc, key, "");
  if (!s) return rooted(s.error());
  if (s->empty()) return rooted.at(key, "must not be empty");
  return std::move(*s);
}

// A list of strings under `key`; `example` shows the expected form.
Result<std::vector<std::string>> string_list(const json& doc, const char* key,
                                             const std::string& example, const Rooted& rooted) {
  const json& list = doc.at(key);
  if (!list.is_array()) {
    return rooted.at(
        key, "expected a list such as " + example + ", got " + json_checks::type_name(list));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
    if (!list[i].is_string()) {
      return rooted.at(path,
                       std::string("expected a string, got ") + json_checks::type_name(list[i]));
    }
    out.push_back(list[i].get<std::string>());
  }
  return out;
}

// At most this many stream ports: one per address family and interface is what a relay needs.
constexpr size_t kMaxListenEndpoints = 16;

// A list of "ADDR:PORT" under `key`, each checked, none twice, at most `max`.
Result<std::vector<std::string>> endpoint_list(const json& doc, const char* key,
                                               const std::string& example, size_t max,
                                               const Rooted& rooted) {
  auto list = string_list(doc, key, example, rooted);
  if (!list) return list.error();
  if (list->size() > max) {
    return rooted.at(key, "at most " + std::to_string(max) +
                              " endpoints (one per address family and interface)");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string path = std::string(key) + "[" + std::to_string(i) + "]";
    if (Status s = check_listen_text((*list)[i], path, rooted); !s) return s.error();
    if (!seen.insert((*list)[i]).second) {
      return rooted.at(path, in_quotes((*list)[i]) + " is listed twice");
    }
  }
  return list;
}

Status parse_endpoints(const json& doc, RelayConfigFile& config, const Rooted& rooted) {
  // "listen" is one endpoint, or a list of them (IPv6 listeners are IPv6-only, so a relay for
  // both families lists "0.0.0.0:443" and "[::]:443").
  auto it = doc.find("listen");
  if (it != doc.end() && it->is_array()) {
    auto listen = endpoint_list(doc, "listen", "[\"0.0.0.0:443\", \"[::]:443\"]",
                                kMaxListenEndpoints, rooted);
    if (!listen) return listen.error();
    if (listen->empty()) return rooted.at("listen", "must list at least one endpoint");
    config.listen_text = listen->front();
    config.additional_listen_text.assign(listen->begin() + 1, listen->end());
  } else {
    auto listen = non_empty_string(doc, "listen", rooted);
    if (!listen) return listen.error();
    if (Status s = check_listen_text(*listen, "listen", rooted); !s) return s;
    config.listen_text = std::move(*listen);
  }

  if (doc.find("stun_listen") == doc.end()) {
    return rooted(make_error(
        "missing \"stun_listen\": list the STUN ports, e.g. [\"0.0.0.0:3478\", \"[::]:3478\"], "
        "or [] for none"));
  }
  auto stun = endpoint_list(doc, "stun_listen", "[\"0.0.0.0:3478\", \"[::]:3478\"]",
                            StunServer::kMaxListenSockets, rooted);
  if (!stun) return stun.error();
  config.stun_listen_text = std::move(*stun);
  return Status::success();
}

Status parse_control(const json& doc, RelayConfigFile& config, const Rooted& rooted) {
  if (present(doc, "control_url")) {
    auto text = non_empty_string(doc, "control_url", rooted);
    if (!text) return text.error();
    auto target = parse_http_target(*text, "control_url");
    if (!target) return rooted(target.error());
    config.control_url = std::move(*target);
  }
  if (present(doc, "control_key")) {
    if (!config.control_url) {
      return rooted.at("control_key",
                       "set \"control_url\" too: the key pins the control server at that URL");
    }
    auto text = non_empty_string(doc, "control_key", rooted);
    if (!text) return text.error();
    auto key = public_key_from_base64(*text);
    if (!key) {
      return rooted.at("control_key",
                       key.error().message +
                           " (use the public key `warren control serve` prints when it starts)");
    }
    config.control_key = *key;
  }
  return Status::success();
}

Status parse_mesh(const json& doc, RelayConfigFile& config, const Rooted& rooted) {
  const bool inline_key = present(doc, "mesh_key");
  const bool key_file = present(doc, "mesh_key_file");
  if (inline_key && key_file) {
    return rooted(make_error(
        "set either \"mesh_key\" or \"mesh_key_file\", not both (they are the same key)"));
  }
  if (inline_key) {
    auto text = non_empty_string(doc, "mesh_key", rooted);
    if (!text) return text.error();
    auto key = parse_mesh_key(*text);
    if (!key) return rooted.at("mesh_key", key.error().message);
    config.mesh_key_text = std::move(*text);
  }
  if (key_file) {
    auto path = non_empty_string(doc, "mesh_key_file", rooted);
    if (!path) return path.error();
    config.mesh_key_file = std::move(*path);
  }
  if (!present(doc, "mesh_peers")) return Status::success();
  auto peers = string_list(
      doc, "mesh_peers", "[\"http://relay1.example:443\", \"http://relay2.example:443\"]", rooted);
  if (!peers) return peers.error();
  if (peers->size() > kMaxMeshPeers) {
    return rooted.at("mesh_peers", "at most " + std::to_string(kMaxMeshPeers) +
                                       " relays (the relays of one region)");
  }
  if (!peers->empty() && !inline_key && !key_file) {
    return rooted.at("mesh_peers",
                     "needs \"mesh_key\" or \"mesh_key_file\": the region's shared mesh key "
                     "(64 hex digits, the same on every relay of the region)");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < peers->size(); ++i) {
    const std::string path = "mesh_peers[" + std::to_string(i) + "]";
    auto target = parse_http_target((*peers)[i], path);
    if (!target) return rooted(target.error());
    if (!seen.insert(target->host_port).second) {
      return rooted.at(path, in_quotes((*peers)[i]) + " is listed twice");
    }
    config.mesh_peers.push_back(std::move(*target));
  }
  return Status::success();
}

Status parse_tunables(const json& doc, RelayConfigFile& config, const Rooted& rooted) {
  RelayServerOptions& server = config.server;
  auto queue = json_checks::optional_integer(doc, "queue_depth", "", 1, kMaxQueueDepth);
  if (!queue) return rooted(queue.error());
  if (*queue) server.queue_depth = static_cast<size_t>(**queue);
  auto rate = json_checks::optional_integer(doc, "rate_limit_bytes_per_s", "", 0, UINT32_MAX);
  if (!rate) return rooted(rate.error());
  if (*rate) server.rate_bytes_per_s = static_cast<uint32_t>(**rate);
  auto burst = json_checks::optional_integer(doc, "burst_bytes", "", 0, UINT32_MAX);
  if (!burst) return rooted(burst.error());
  if (*burst) server.burst_bytes = static_cast<uint32_t>(**burst);
  auto clients = json_checks::optional_integer(doc, "max_clients", "", 1, kMaxClients);
  if (!clients) return rooted(clients.error());
  if (*clients) server.max_clients = static_cast<size_t>(**clients);

  return read_log_level(doc, config.log_level, rooted);
}

}  // namespace

Result<HttpTarget> parse_http_target(const std::string& url, const std::string& what) {
  auto fail = [&](const std::string& why) {
    return make_error(what + ": " + in_quotes(url) + ": " + why);
  };
  if (url.size() > kMaxUrlBytes) {
    return make_error(what + ": longer than " + std::to_string(kMaxUrlBytes) + " characters; " +
                      kUrlExample);
  }
  // Schemes are case-insensitive (RFC 3986 3.1).
  std::string scheme;
  const size_t sep = url.find("://");
  if (sep != std::string::npos) {
    for (size_t i = 0; i < sep; ++i) {
      scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(url[i])));
    }
  }
  if (scheme == "https") {
    return fail(
        "https is not supported yet; use http://HOST:PORT (TLS belongs to a reverse proxy in "
        "front of the server)");
  }
  if (scheme != "http") return fail(kUrlExample);
  std::string rest = url.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty()) return fail("no host; " + std::string(kUrlExample));
  if (rest.find_first_of("/?#") != std::string::npos) {
    return fail("expected http://HOST:PORT without a path");
  }
  if (rest.find('@') != std::string::npos) {
    return fail("expected http://HOST:PORT without a user name");
  }

  HttpTarget target;
  target.text = url;
  std::string port_text;
  bool v6 = false;
  if (rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos) return fail("unbalanced '[' in the host");
    target.host = rest.substr(1, close - 1);
    auto address = IpAddress::parse(target.host);
    if (!address || !address->is_v6()) {
      return fail("\"[" + target.host + "]\" is not an IPv6 address");
    }
    v6 = true;
    const std::string after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("expected :PORT after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) return fail("no port after ':'");
    }
  } else {
    const size_t colon = rest.find(':');
    if (colon != std::string::npos && rest.find(':', colon + 1) != std::string::npos) {
      return fail("put an IPv6 address in brackets: http://[ADDR]:PORT");
    }
    target.host = rest.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) return fail("no port after ':'");
    }
    if (target.host.empty()) return fail("no host; " + std::string(kUrlExample));
    if (!is_host_name(target.host)) {
      return fail(in_quotes(target.host) + " is not a host name or an IP address");
    }
  }
  if (!port_text.empty()) {
    auto port = parse_port(port_text);
    if (!port || *port == 0) {
      return fail("port " + in_quotes(port_text) + " is not a number in 1..65535");
    }
    target.port = *port;
  }
  target.host_port =
      (v6 ? "[" + target.host + "]" : target.host) + ":" + std::to_string(target.port);
  return target;
}

Result<RelayConfigFile> parse_relay_config(std::string_view json_text, const std::string& source) {
  const Rooted rooted(source);
  auto parsed = parse_config_document(
      json_text, kMaxRelayConfigBytes, "relay",
      "{\"listen\": \"0.0.0.0:443\", \"stun_listen\": [\"0.0.0.0:3478\"]}", rooted);
  if (!parsed) return parsed.error();
  const json& doc = *parsed;
  if (Status s = json_checks::check_keys(doc, "", kTopKeys); !s) return rooted(s.error());

  RelayConfigFile config;
  if (Status s = parse_endpoints(doc, config, rooted); !s) return s.error();
  if (present(doc, "state_dir")) {
    auto dir = non_empty_string(doc, "state_dir", rooted);
    if (!dir) return dir.error();
    config.state_dir = std::move(*dir);
  }
  if (Status s = parse_control(doc, config, rooted); !s) return s.error();
  if (Status s = parse_mesh(doc, config, rooted); !s) return s.error();
  if (Status s = parse_tunables(doc, config, rooted); !s) return s.error();
  return config;
}

}  // namespace warren::relay
