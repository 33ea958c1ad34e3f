#include "topologies/topology_loader.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <unordered_set>

#include "topologies/load_state.h"

namespace warren::topo {
namespace {

using nlohmann::json;

// Tracks where the parser is, so a key given twice can be reported with its JSON path.
class DuplicateKeyFinder {
 public:
  bool on_event(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        frames_.emplace_back();
        break;
      case json::parse_event_t::array_start:
        frames_.emplace_back();
        frames_.back().array = true;
        break;
      case json::parse_event_t::key:
        if (!frames_.empty() && parsed.is_string()) {
          Frame& f = frames_.back();
          f.key = parsed.get<std::string>();
          if (!f.keys.insert(f.key).second && found_.empty()) {
            found_ = path() + ": key \"" + f.key +
                     "\" appears twice in one object (a JSON "
                     "parser keeps only one of them; remove the other)";
          }
        }
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        next_element();
        break;
      case json::parse_event_t::value:
        next_element();
        break;
    }
    return true;
  }
  const std::string& found() const { return found_; }

 private:
  struct Frame {
    bool array = false;
    size_t index = 0;
    std::string key;
    std::unordered_set<std::string> keys;  // membership only; never iterated
  };
  void next_element() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }
  std::string path() const {
    std::string p;
    for (const Frame& f : frames_) {
      if (f.array) {
        p += "[" + std::to_string(f.index) + "]";
      } else if (&f != &frames_.back()) {
        p += (p.empty() ? "" : ".") + f.key;
      }
    }
    return p.empty() ? "top level" : p;
  }

  std::vector<Frame> frames_;
  std::string found_;
};

}  // namespace

Result<Topology> parse_topology(const json& doc, std::string_view source_name) {
  try {
    auto state = detail::parse_structure(doc, source_name);
    if (!state) return state.error();
    if (Status st = detail::assign_realms(*state); !st) return st.error();
    if (Status st = detail::assign_addresses(*state); !st) return st.error();
    detail::compute_routes(*state);
    return std::move(state->topology);
  } catch (const std::exception& e) {
    // The stages check types before reading; this only turns a missed case into a message.
    return make_error(std::string(source_name) + ": cannot load topology: " + e.what());
  }
}

Result<Topology> parse_topology_text(std::string_view text, std::string_view source_name) {
  DuplicateKeyFinder duplicates;
  json doc;
  try {
    doc = json::parse(text.begin(), text.end(),
                      [&](int /*depth*/, json::parse_event_t event, json& parsed) {
                        return duplicates.on_event(event, parsed);
                      });
  } catch (const json::exception& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix; keep line and column.
    if (size_t end = what.find("] ");
        what.rfind("[json.exception", 0) == 0 && end != std::string::npos) {
      what = what.substr(end + 2);
    }
    return make_error(std::string(source_name) + ": not valid JSON: " + what);
  }
  if (!duplicates.found().empty()) {
    return make_error(std::string(source_name) + ": " + duplicates.found());
  }
  return parse_topology(doc, source_name);
}

Result<Topology> load_topology_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(path + ": cannot open topology file: " + std::strerror(errno));
  }
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxTopologyFileBytes) {
      return make_error(path + ": larger than " + std::to_string(kMaxTopologyFileBytes >> 20) +
                        " MiB; not a topology file?");
    }
  }
  if (in.bad()) return make_error(path + ": cannot read topology file: " + std::strerror(errno));
  return parse_topology_text(text, path);
}

}  // namespace warren::topo
