#include "reactor/json.hpp"

#include "reactor/utf8.hpp"

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
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) {
      // Output is always valid UTF-8: bytes that are not (a task's binary output, say) become
      // U+FFFD, one per maximal invalid subpart, as Unicode recommends.
      const std::string_view rest = text.substr(i);
      if (const std::size_t length = utf8_sequence_length(rest)) {
        out.append(rest.substr(0, length));
        i += length;
      } else {
        out.append(kUtf8Replacement);
        i += utf8_invalid_length(rest);
      }
      continue;
    }
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
        if (byte < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(byte));
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
    ++i;
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

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Four hex digits at text[at..], or -1.
int hex4(std::string_view text, std::size_t at) {
  if (at + 4 > text.size()) return -1;
  int value = 0;
  for (std::size_t i = at; i < at + 4; ++i) {
    const int digit = hex_digit(text[i]);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

void append_code_point(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string byte_text(unsigned char byte) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", static_cast<unsigned>(byte));
  return text;
}

// Reads the string that starts at text[at] (the opening quote) into `decoded`; returns the offset
// after its closing quote, and the first problem in `what` (left empty when it is clean).
std::size_t scan_string(std::string_view text, std::size_t at, std::string& decoded,
                        std::string& what) {
  std::size_t i = at + 1;
  auto problem = [&](std::string text_of_problem) {
    if (what.empty()) what = std::move(text_of_problem);
  };
  while (i < text.size() && text[i] != '"') {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '\\' && i + 1 < text.size()) {
      const char kind = text[i + 1];
      if (kind != 'u') {
        static constexpr std::string_view kFrom = "\"\\/bfnrt", kTo = "\"\\/\b\f\n\r\t";
        const auto found = kFrom.find(kind);
        decoded.push_back(found == std::string_view::npos ? kind : kTo[found]);
        i += 2;
        continue;
      }
      const int unit = hex4(text, i + 2);
      if (unit < 0) {
        i += 2;
        continue;  // not JSON: the parser says so
      }
      i += 6;
      if (unit == 0) problem("holds a NUL byte (\\u0000)");
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        const int low =
            i + 1 < text.size() && text[i] == '\\' && text[i + 1] == 'u' ? hex4(text, i + 2) : -1;
        if (low >= 0xDC00 && low <= 0xDFFF) {
          append_code_point(decoded, 0x10000 + ((static_cast<std::uint32_t>(unit) - 0xD800) << 10) +
                                         (static_cast<std::uint32_t>(low) - 0xDC00));
          i += 6;
          continue;
        }
        problem("holds an unpaired surrogate escape (a \\ud800-\\udbff without its pair)");
        continue;
      }
      if (unit >= 0xDC00 && unit <= 0xDFFF) {
        problem("holds an unpaired surrogate escape (a \\udc00-\\udfff without its pair)");
        continue;
      }
      append_code_point(decoded, static_cast<std::uint32_t>(unit));
      continue;
    }
    if (byte == 0) problem("holds a NUL byte");
    if (byte != 0 && byte < 0x20)
      problem("holds a raw control character (byte " + byte_text(byte) + "); escape it");
    if (byte < 0x80) {
      decoded.push_back(static_cast<char>(byte));
      ++i;
      continue;
    }
    const std::string_view rest = text.substr(i);
    const std::size_t length = utf8_sequence_length(rest);
    if (length == 0) {
      problem("is not valid UTF-8 (byte " + byte_text(byte) + ")");
      i += utf8_invalid_length(rest);
      continue;
    }
    decoded.append(rest.substr(0, length));
    i += length;
  }
  return i + 1;
}

}  // namespace

std::optional<JsonTextProblem> find_json_text_problem(std::string_view text) {
  struct Frame {
    bool object = false;
    bool expecting_key = true;  // objects: the next string is a key
    std::string key;
    std::size_t index = 0;  // arrays
  };
  std::vector<Frame> stack;
  auto path = [&](std::size_t depth) {
    std::string out;
    for (std::size_t d = 0; d < depth; ++d) {
      const Frame& frame = stack[d];
      if (frame.object) {
        if (!out.empty()) out += '.';
        out += frame.key;
      } else {
        out += "[" + std::to_string(frame.index) + "]";
      }
    }
    return out;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    switch (byte) {
      case '{':
      case '[':
        stack.push_back(Frame{byte == '{', true, {}, 0});
        ++i;
        continue;
      case '}':
      case ']':
        if (!stack.empty()) stack.pop_back();
        ++i;
        continue;
      case ',':
        if (!stack.empty()) {
          if (stack.back().object) {
            stack.back().expecting_key = true;
          } else {
            ++stack.back().index;
          }
        }
        ++i;
        continue;
      case ':':
        if (!stack.empty()) stack.back().expecting_key = false;
        ++i;
        continue;
      default:
        break;
    }
    if (byte == '"') {
      std::string decoded;
      std::string what;
      i = scan_string(text, i, decoded, what);
      const bool key = !stack.empty() && stack.back().object && stack.back().expecting_key;
      if (!what.empty()) {
        return JsonTextProblem{key ? path(stack.size() - 1) : path(stack.size()), key,
                               std::move(what)};
      }
      if (key) stack.back().key = std::move(decoded);
      continue;
    }
    if (byte == 0) return JsonTextProblem{path(stack.size()), false, "holds a NUL byte"};
    if (byte >= 0x80 && utf8_sequence_length(text.substr(i)) == 0) {
      return JsonTextProblem{path(stack.size()), false,
                             "is not valid UTF-8 (byte " + byte_text(byte) + ")"};
    }
    ++i;
  }
  return std::nullopt;
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

std::string string_at(const Json& object, std::string_view key) {
  const Json* value = object.find(key);
  if (!value) return {};
  if (auto text = value->as_string()) return std::string(*text);
  if (auto number = value->as_int()) return std::to_string(*number);
  return {};
}

}  // namespace skyd
