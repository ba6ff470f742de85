#include "reactor/http_head.hpp"

#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

namespace skyd::http {
namespace {
bool splits_the_message(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

// RFC 9110's token: what a field name may be made of.
bool is_token(std::string_view name) {
  constexpr std::string_view kMarks = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kMarks.find(c) != std::string_view::npos;
  });
}

void append_number(std::string& out, std::size_t number) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
  out.append(digits, end);
}
}  // namespace

bool status_has_body(int status) {
  return status / 100 != 1 && status != 204 && status != 304;
}

bool sendable_header(std::string_view name, std::string_view value) {
  return is_token(name) && !splits_the_message(value);
}

bool frames_the_message(std::string_view name) {
  for (std::string_view framing : {"Content-Length", "Transfer-Encoding", "Connection"}) {
    if (name.size() == framing.size() &&
        std::equal(name.begin(), name.end(), framing.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return true;
  }
  return false;
}

std::optional<std::string> response_head(int status, const Headers& headers, std::size_t body_size,
                                         bool keep_alive) {
  namespace bhttp = boost::beast::http;
  const std::string_view reason = bhttp::obsolete_reason(bhttp::int_to_status(status));
  std::size_t size = 64 + reason.size();
  for (const auto& [name, value] : headers) size += name.size() + value.size() + 4;
  std::string head;
  head.reserve(size);
  head += "HTTP/1.1 ";
  append_number(head, static_cast<std::size_t>(status));
  head += ' ';
  head += reason;
  head += "\r\n";
  for (const auto& [name, value] : headers) {
    if (!sendable_header(name, value)) return std::nullopt;
    if (frames_the_message(name)) continue;
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  if (status_has_body(status)) {
    head += "Content-Length: ";
    append_number(head, body_size);
    head += "\r\n";
  }
  if (!keep_alive) head += "Connection: close\r\n";
  head += "\r\n";
  return head;
}

}  // namespace skyd::http
