#include "store/pg_result.hpp"

#include <charconv>
#include <stdexcept>

namespace skyd::store {

std::size_t QueryResult::column(std::string_view name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i] == name) return i;
  }
  throw std::out_of_range("no column " + std::string(name) + " in the result");
}

const Param& QueryResult::at(std::size_t row, std::string_view name) const {
  return rows_.at(row).at(column(name));
}

std::string QueryResult::text(std::size_t row, std::string_view name) const {
  const Param& value = at(row, name);
  if (!value) throw std::invalid_argument("column " + std::string(name) + " is NULL");
  return *value;
}

std::int64_t QueryResult::int64(std::size_t row, std::string_view name) const {
  const std::string value = text(row, name);
  std::int64_t parsed = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (ec != std::errc() || end != value.data() + value.size()) {
    throw std::invalid_argument("column " + std::string(name) + " is not an integer: " + value);
  }
  return parsed;
}

std::optional<std::int64_t> QueryResult::optional_int64(std::size_t row,
                                                        std::string_view name) const {
  if (is_null(row, name)) return std::nullopt;
  return int64(row, name);
}

double QueryResult::float64(std::size_t row, std::string_view name) const {
  const std::string value = text(row, name);
  try {
    std::size_t used = 0;
    double parsed = std::stod(value, &used);
    if (used == value.size()) return parsed;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("column " + std::string(name) + " is not a number: " + value);
}

bool QueryResult::boolean(std::size_t row, std::string_view name) const {
  const std::string value = text(row, name);
  if (value == "t") return true;
  if (value == "f") return false;
  throw std::invalid_argument("column " + std::string(name) + " is not a boolean: " + value);
}

}  // namespace skyd::store
