#include "reactor/json.hpp"

#include <simdjson.h>

#include <cmath>
#include <cstdio>

namespace skyd {

std::optional<bool> Json::as_bool() const {
  if (auto* value = std::get_if<bool>(&value_)) return *value;
  return std::nullopt;
}

std::optional<std::int64_t> Json::as_int() const {
  if (auto* value = std::get_if<std::int64_t>(&value_)) return *value;
  if (auto* value = std::get_if<double>(&value_); value && std::trunc(*value) == *value) {
    return static_cast<std::int64_t>(*value);
  }
  return std::nullopt;
}

std::optional<double> Json::as_double() const {
  if (auto* value = std::get_if<double>(&value_)) return *value;
  if (auto* value = std::get_if<std::int64_t>(&value_)) return static_cast<double>(*value);
  return std::nullopt;
}

std::optional<std::string_view> Json::as_string() const {
  if (auto* value = std::get_if<std::string>(&value_)) return std::string_view(*value);
  return std::nullopt;
}

const Json* Json::find(std::string_view key) const {
  const auto* members = as_object();
  if (!members) return nullptr;
  for (const auto& [name, value] : *members) {
    if (name == key) return &value;
  }
  return nullptr;
}

Json& Json::set(std::string_view key, Json value) {
  if (!is_object()) value_ = Object{};
  auto& members = std::get<Object>(value_);
  for (auto& [name, existing] : members) {
    if (name == key) return existing = std::move(value);
  }
  return members.emplace_back(std::string(key), std::move(value)).second;
}

void Json::push_back(Json value) {
  if (!is_array()) value_ = Array{};
  std::get<Array>(value_).push_back(std::move(value));
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void Json::dump_to(std::string& out) const {
  struct Writer {
    std::string& out;
    void operator()(std::nullptr_t) const { out += "null"; }
    void operator()(bool value) const { out += value ? "true" : "false"; }
    void operator()(std::int64_t value) const { out += std::to_string(value); }
    void operator()(double value) const {
      if (!std::isfinite(value)) {
        out += "null";
        return;
      }
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%.17g", value);
      out += buffer;
    }
    void operator()(const std::string& value) const { append_json_string(out, value); }
    void operator()(const Array& values) const {
      out.push_back('[');
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out.push_back(',');
        values[i].dump_to(out);
      }
      out.push_back(']');
    }
    void operator()(const Object& members) const {
      out.push_back('{');
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i) out.push_back(',');
        append_json_string(out, members[i].first);
        out.push_back(':');
        members[i].second.dump_to(out);
      }
      out.push_back('}');
    }
  };
  std::visit(Writer{out}, value_);
}

std::string Json::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

namespace {

Json convert(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      return Json(nullptr);
    case simdjson::dom::element_type::BOOL:
      return Json(bool(element.get_bool().value()));
    case simdjson::dom::element_type::INT64:
      return Json(element.get_int64().value());
    case simdjson::dom::element_type::UINT64: {
      const auto value = element.get_uint64().value();
      return value <= static_cast<std::uint64_t>(INT64_MAX) ? Json(static_cast<std::int64_t>(value))
                                                            : Json(static_cast<double>(value));
    }
    case simdjson::dom::element_type::DOUBLE:
      return Json(element.get_double().value());
    case simdjson::dom::element_type::STRING:
      return Json(std::string_view(element.get_string().value()));
    case simdjson::dom::element_type::ARRAY: {
      Json::Array values;
      const simdjson::dom::array items = element.get_array().value();
      for (auto item : items) values.push_back(convert(item));
      return Json(std::move(values));
    }
    case simdjson::dom::element_type::OBJECT: {
      Json::Object members;
      const simdjson::dom::object fields = element.get_object().value();
      for (auto field : fields) {
        members.emplace_back(std::string(field.key), convert(field.value));
      }
      return Json(std::move(members));
    }
  }
  return Json(nullptr);
}

}  // namespace

Result<Json> parse_json(std::string_view text) {
  // One parser per thread: it keeps its buffers between documents.
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (auto error = parser.parse(padded).get(root)) {
    return make_error(NetErrc::kProtocol,
                      std::string("invalid JSON: ") + simdjson::error_message(error));
  }
  return convert(root);
}

}  // namespace skyd
