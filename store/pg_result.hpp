#pragma once
// Statement parameters and results in the project's own types, so no libpq type leaves the
// store's .cpp files. Values travel in PostgreSQL's text format; a missing value is SQL NULL.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skyd::store {

using Param = std::optional<std::string>;

// The parameters $1..$n of one statement. Build them with make_params (a named variable: g++ 12
// rejects a braced std::string list inside a co_await expression).
using Params = std::vector<Param>;

inline Param to_param(std::nullopt_t) {
  return std::nullopt;
}
inline Param to_param(std::string value) {
  return value;
}
inline Param to_param(std::string_view value) {
  return std::string(value);
}
inline Param to_param(const char* value) {
  return std::string(value);
}
inline Param to_param(bool value) {
  return std::string(value ? "t" : "f");
}
inline Param to_param(std::int64_t value) {
  return std::to_string(value);
}
inline Param to_param(int value) {
  return std::to_string(value);
}
inline Param to_param(double value) {
  return std::to_string(value);
}
template <typename T>
Param to_param(std::optional<T> value) {
  if (!value) return std::nullopt;
  return to_param(std::move(*value));
}

template <typename... Args>
Params make_params(Args&&... args) {
  Params params;
  params.reserve(sizeof...(Args));
  (params.push_back(to_param(std::forward<Args>(args))), ...);
  return params;
}

// The rows of one statement, copied out of libpq's result. Column lookups by name throw
// std::out_of_range for a name the statement does not return (a bug in the calling code); the
// typed getters throw std::invalid_argument for NULL or malformed values.
class QueryResult {
 public:
  QueryResult() = default;
  QueryResult(std::vector<std::string> columns, std::vector<std::vector<Param>> rows,
              std::int64_t affected)
      : columns_(std::move(columns)), rows_(std::move(rows)), affected_(affected) {}

  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  // Rows changed by INSERT/UPDATE/DELETE (PQcmdTuples), 0 for other statements.
  std::int64_t affected() const { return affected_; }
  const std::vector<std::string>& columns() const { return columns_; }

  std::size_t column(std::string_view name) const;
  const Param& at(std::size_t row, std::string_view column) const;
  bool is_null(std::size_t row, std::string_view column) const { return !at(row, column); }
  std::string text(std::size_t row, std::string_view column) const;
  std::optional<std::string> optional_text(std::size_t row, std::string_view column) const {
    return at(row, column);
  }
  std::int64_t int64(std::size_t row, std::string_view column) const;
  std::optional<std::int64_t> optional_int64(std::size_t row, std::string_view column) const;
  double float64(std::size_t row, std::string_view column) const;
  bool boolean(std::size_t row, std::string_view column) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<Param>> rows_;
  std::int64_t affected_ = 0;
};

}  // namespace skyd::store
