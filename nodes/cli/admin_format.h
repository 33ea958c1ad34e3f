// Text in and out of the admin commands (`warren control ...`): durations as people type them,
// times as people read them, and plain-text tables.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "nodes/net/result.h"

namespace warren::cli {

// "90m", "24h", "7d", "1h30m", "45s" -> seconds (units s, m, h, d; at most 10 digits per
// number). Zero, a missing unit or anything else is an error that shows what is accepted.
Result<int64_t> parse_duration_s(const std::string& text);

// Unix seconds as "2026-01-01 12:00:00Z" (UTC).
std::string format_unix_seconds(int64_t unix_s);

// A header row and left-aligned columns separated by two spaces, each as wide as its widest
// cell (in UTF-8 characters); no trailing spaces.
class AdminTable {
 public:
  explicit AdminTable(std::vector<std::string> header) : header_(std::move(header)) {}
  // Rows shorter than the header are padded with empty cells; longer ones are cut.
  void add(std::vector<std::string> row);
  // Prints the table, or `empty_message` alone when there are no rows.
  void print(std::ostream& out, const std::string& empty_message) const;
  size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace warren::cli
