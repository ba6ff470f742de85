#pragma once
// A small JSON value for API requests and responses: parsed with simdjson, written by dump().
// Objects keep insertion order, so responses read the way they were built.

#include "reactor/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace skyd {

class Json {
 public:
  using Array = std::vector<Json>;
  using Member = std::pair<std::string, Json>;
  using Object = std::vector<Member>;

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool value) : value_(value) {}
  Json(int value) : value_(static_cast<std::int64_t>(value)) {}
  Json(long value) : value_(static_cast<std::int64_t>(value)) {}
  Json(long long value) : value_(static_cast<std::int64_t>(value)) {}
  Json(unsigned value) : value_(static_cast<std::int64_t>(value)) {}
  Json(unsigned long value) : value_(static_cast<std::int64_t>(value)) {}
  Json(unsigned long long value) : value_(static_cast<std::int64_t>(value)) {}
  Json(double value) : value_(value) {}
  Json(std::string value) : value_(std::move(value)) {}
  Json(std::string_view value) : value_(std::string(value)) {}
  Json(const char* value) : value_(std::string(value)) {}
  Json(Array value) : value_(std::move(value)) {}
  Json(Object value) : value_(std::move(value)) {}

  static Json object() { return Json(Object{}); }
  static Json array() { return Json(Array{}); }

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(value_); }
  bool is_bool() const { return std::holds_alternative<bool>(value_); }
  bool is_int() const { return std::holds_alternative<std::int64_t>(value_); }
  bool is_number() const { return is_int() || std::holds_alternative<double>(value_); }
  bool is_string() const { return std::holds_alternative<std::string>(value_); }
  bool is_array() const { return std::holds_alternative<Array>(value_); }
  bool is_object() const { return std::holds_alternative<Object>(value_); }

  std::optional<bool> as_bool() const;
  std::optional<std::int64_t> as_int() const;
  std::optional<double> as_double() const;
  std::optional<std::string_view> as_string() const;
  const Array* as_array() const { return std::get_if<Array>(&value_); }
  const Object* as_object() const { return std::get_if<Object>(&value_); }

  // Object access: find returns null when absent (or when this is not an object); set replaces.
  const Json* find(std::string_view key) const;
  Json& set(std::string_view key, Json value);
  void push_back(Json value);

  std::string dump() const;
  void dump_to(std::string& out) const;

  friend bool operator==(const Json&, const Json&) = default;

 private:
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> value_;
};

// Appends `text` as a JSON string literal (quoted and escaped). Bytes that are not UTF-8 become
// U+FFFD, so whatever the text held, what dump() writes is valid JSON.
void append_json_string(std::string& out, std::string_view text);

// The first string of a JSON text (a value or a key) that cannot be stored as text: one that holds
// a NUL (raw or \u0000), another raw control character, an unpaired surrogate escape or bytes
// that are not UTF-8. `path` leads to it the way error messages name fields
// ("pipeline.tasks[0].envs.A"; empty for the top-level value; a bad key is named by its object
// and `in_key`). Nothing when every string is clean. Lexical only: it needs no otherwise valid
// JSON, so the field can be named before (or instead of) the parser's generic complaint.
struct JsonTextProblem {
  std::string path;
  bool in_key = false;
  std::string what;  // "holds a NUL byte (\u0000)", "is not valid UTF-8 (byte 0xff)", ...
};
std::optional<JsonTextProblem> find_json_text_problem(std::string_view text);

// Parses a JSON document; a syntax error comes back as an error with simdjson's message.
Result<Json> parse_json(std::string_view text);

// A member of an object as text: a string as it is, an integer in decimal (Google's APIs send
// 64-bit numbers either way), anything else or a missing member as "".
std::string string_at(const Json& object, std::string_view key);

}  // namespace skyd
