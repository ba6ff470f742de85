#pragma once
// A plain text table as SkyPilot prints them: a header row, left-aligned columns separated by two
// spaces, no borders, no trailing spaces.

#include <string>
#include <vector>

namespace skyd::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

  // Missing cells render empty; extra cells are an error of the caller and are dropped.
  void add_row(std::vector<std::string> cells);
  std::size_t rows() const { return rows_.size(); }

  // The table, each line ending in '\n'.
  std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Cell formatting shared by the commands' tables.
std::string format_number(double value);               // "%g": 8, 0.5, 1024
std::string format_fixed(double value, int decimals);  // 3.06 with decimals = 2
std::string to_upper(std::string text);                // "aws" -> "AWS"
// Ascending ids as runs: {1,2,3,7,9,10} -> "1-3,7,9-10" (a --num-jobs batch's ids on one line).
std::string format_id_ranges(const std::vector<long long>& ids);

}  // namespace skyd::cli
