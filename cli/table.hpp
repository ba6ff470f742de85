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

}  // namespace skyd::cli
