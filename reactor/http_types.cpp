#include "reactor/http_types.hpp"

#include "reactor/numbers.hpp"

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <functional>

namespace skyd::http {

bool PeerCredentials::in_group(gid_t group) const {
  return known && (gid == group || std::find(groups.begin(), groups.end(), group) != groups.end());
}

const std::string* find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return &value;
    }
  }
  return nullptr;
}

std::optional<std::string_view> Request::query_param(std::string_view name) const {
  auto found = query.find(std::string(name));
  if (found == query.end()) return std::nullopt;
  return std::string_view(found->second);
}

std::optional<std::int64_t> Request::query_int(std::string_view name) const {
  auto text = query_param(name);
  if (!text) return std::nullopt;
  return parse_int64(*text);
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

Response Response::json(int status, const Json& body) {
  Response response;
  response.status = status;
  response.body = body.dump();
  response.headers.emplace_back("Content-Type", "application/json");
  return response;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.headers.emplace_back("Content-Type", std::move(content_type));
  return response;
}

Response Response::error(int status, std::string_view code, std::string_view message) {
  Json error = Json::object();
  error.set("code", code);
  error.set("message", message);
  Json body = Json::object();
  body.set("error", std::move(error));
  return json(status, body);
}

std::string error_message_of(const Response& response) {
  if (auto parsed = parse_json(response.body)) {
    if (const Json* error = parsed->find("error")) {
      if (const Json* message = error->find("message"); message && message->as_string()) {
        return std::string(*message->as_string());
      }
    }
  }
  return response.body;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else if (text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::pair<std::string, std::map<std::string, std::string>> split_target(std::string_view target) {
  std::map<std::string, std::string> query;
  const auto question = target.find('?');
  std::string path = percent_decode(target.substr(0, question));
  if (question == std::string_view::npos) return {std::move(path), std::move(query)};
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    if (!key.empty()) query[std::move(key)] = std::move(value);
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {std::move(path), std::move(query)};
}

Result<Endpoint> Endpoint::parse(std::string_view url) {
  Endpoint endpoint;
  std::string_view rest;
  if (url.starts_with("unix:")) {
    endpoint.transport = Transport::kUnix;
    endpoint.unix_path = std::string(url.substr(5));
    if (endpoint.unix_path.starts_with("//")) endpoint.unix_path.erase(0, 2);
    if (endpoint.unix_path.empty())
      return make_error(NetErrc::kBadUrl, "empty unix socket path in '" + std::string(url) + "'");
    return endpoint;
  }
  if (url.starts_with("http://")) {
    endpoint.transport = Transport::kTcp;
    endpoint.port = 80;
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    endpoint.transport = Transport::kTls;
    endpoint.port = 443;
    rest = url.substr(8);
  } else {
    return make_error(NetErrc::kBadUrl, "unsupported URL '" + std::string(url) +
                                            "': expected http://, https:// or unix:");
  }
  rest = rest.substr(0, rest.find('/'));
  std::string_view host = rest;
  if (rest.starts_with('[')) {  // [v6]:port
    const auto close = rest.find(']');
    if (close == std::string_view::npos)
      return make_error(NetErrc::kBadUrl, "bad IPv6 host in '" + std::string(url) + "'");
    host = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return make_error(NetErrc::kBadUrl, "bad host in '" + std::string(url) + "'");
  } else {
    const auto colon = rest.find(':');
    host = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon);
  }
  if (!rest.empty()) {
    std::string_view port = rest.substr(1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return make_error(NetErrc::kBadUrl, "bad port in '" + std::string(url) + "'");
    }
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  if (host.empty()) return make_error(NetErrc::kBadUrl, "no host in '" + std::string(url) + "'");
  endpoint.host = std::string(host);
  return endpoint;
}

Endpoint Endpoint::unix_socket(std::string path) {
  Endpoint endpoint;
  endpoint.transport = Transport::kUnix;
  endpoint.unix_path = std::move(path);
  return endpoint;
}

Endpoint Endpoint::through_command(std::vector<std::string> argv) {
  Endpoint endpoint;
  endpoint.transport = Transport::kCommand;
  endpoint.command = std::move(argv);
  return endpoint;
}

std::string Endpoint::pool_key() const {
  std::string key = to_string();
  if (!pinned_ca_pem.empty()) key += "#" + std::to_string(std::hash<std::string>{}(pinned_ca_pem));
  if (!tls_name.empty()) key += "@" + tls_name;
  return key;
}

std::string Endpoint::to_string() const {
  switch (transport) {
    case Transport::kUnix:
      return "unix:" + unix_path;
    case Transport::kCommand: {
      std::string line = "command:";
      for (const auto& word : command) line += " " + word;
      return line;
    }
    case Transport::kTcp:
      return "http://" + host + ":" + std::to_string(port);
    case Transport::kTls:
      return "https://" + host + ":" + std::to_string(port);
  }
  return {};
}

std::string Endpoint::host_header() const {
  if (transport == Transport::kUnix || transport == Transport::kCommand) return "localhost";
  const std::string name = host.find(':') == std::string::npos ? host : "[" + host + "]";
  const std::uint16_t usual = transport == Transport::kTls ? 443 : 80;
  if (port == 0 || port == usual) return name;
  return name + ":" + std::to_string(port);
}

std::string_view to_string(Endpoint::Transport transport) {
  switch (transport) {
    case Endpoint::Transport::kTcp:
      return "tcp";
    case Endpoint::Transport::kTls:
      return "tls";
    case Endpoint::Transport::kUnix:
      return "unix";
    case Endpoint::Transport::kCommand:
      return "command";
  }
  return "unknown";
}

}  // namespace skyd::http
