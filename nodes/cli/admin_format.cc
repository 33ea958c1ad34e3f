#include "nodes/cli/admin_format.h"

#include <algorithm>
#include <ctime>

namespace warren::cli {
namespace {

// Characters as a terminal shows them: UTF-8 continuation bytes take no column.
size_t display_width(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

Result<int64_t> parse_duration_s(const std::string& text) {
  const std::string usage =
      "expected a duration such as 90m, 24h or 7d (units s, m, h, d), got \"" + text + "\"";
  // Ten digits of days is already far beyond any expiry; the bound also keeps the sum exact.
  constexpr size_t kMaxDigits = 10;
  if (text.empty()) return make_error(usage);
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {  // each pass consumes at least one digit and a unit
    size_t digits = 0;
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (++digits > kMaxDigits) return make_error(usage);
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (digits == 0 || i == text.size()) return make_error(usage);
    int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      default:
        return make_error(usage);
    }
    ++i;
    total += n * unit;
  }
  if (total <= 0) return make_error("the duration must be longer than zero, got \"" + text + "\"");
  return total;
}

std::string format_unix_seconds(int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_s);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

void AdminTable::add(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

void AdminTable::print(std::ostream& out, const std::string& empty_message) const {
  if (rows_.empty()) {
    out << empty_message << "\n";
    return;
  }
  std::vector<size_t> width(header_.size());
  for (size_t c = 0; c < header_.size(); ++c) width[c] = display_width(header_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], display_width(row[c]));
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      // No trailing spaces after the last column.
      if (c + 1 < row.size()) line += std::string(width[c] - display_width(row[c]) + 2, ' ');
    }
    out << line << "\n";
  };
  print_row(header_);
  for (const auto& row : rows_) print_row(row);
}

}  // namespace warren::cli
