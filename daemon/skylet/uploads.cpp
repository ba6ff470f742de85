#include "daemon/skylet/uploads.hpp"

#include "reactor/blocking.hpp"
#include "reactor/crypto.hpp"
#include "reactor/log.hpp"
#include "reactor/process.hpp"
#include "reactor/small_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

namespace skyd::skylet {
namespace fs = std::filesystem;
namespace {

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

std::uint64_t size_of(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

Json upload_state(std::uint64_t size, bool unpacked, const std::string& digest = {}) {
  Json body = Json::object();
  body.set("size", static_cast<long long>(size));
  if (!digest.empty()) body.set("digest", digest);
  body.set("unpacked", unpacked);
  return body;
}

std::string read_line_of(const std::string& path) {
  const std::string text = read_small_file(path);
  return text.substr(0, text.find('\n'));
}

bool valid_digest(std::string_view digest) {
  return digest.size() == 64 && digest.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Writes `bytes` at `offset`, dropping whatever the file held from there on. Empty on success.
std::string write_at(const std::string& path, std::uint64_t offset, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
  std::string failure;
  if (::ftruncate(fd, static_cast<off_t>(offset)) != 0) failure = std::strerror(errno);
  std::size_t written = 0;
  while (failure.empty() && written < bytes.size()) {
    const ssize_t n = ::pwrite(fd, bytes.data() + written, bytes.size() - written,
                               static_cast<off_t>(offset + written));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failure = std::strerror(errno);
    if (n > 0) written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return failure.empty() ? std::string() : "cannot write " + path + ": " + failure;
}

// Moves a single shipped file into place (its parents made as needed). Empty on success.
std::string place_file(const std::string& part, const std::string& destination) {
  std::error_code ec;
  fs::create_directories(fs::path(destination).parent_path(), ec);
  if (ec) return "cannot create the parents of " + destination + ": " + ec.message();
  fs::rename(part, destination, ec);
  if (!ec) return {};
  // Another filesystem: copy, then drop the upload.
  fs::copy_file(part, destination, fs::copy_options::overwrite_existing, ec);
  if (ec) return "cannot place " + destination + ": " + ec.message();
  fs::remove(part, ec);
  return {};
}

}  // namespace

std::string resolve_on_node(const std::string& path, const std::string& home) {
  if (path == "~") return home;
  if (path.starts_with("~/")) return home + path.substr(1);
  if (path.starts_with("/")) return path;
  return home + "/" + path;
}

Uploads::Uploads(asio::any_io_executor executor, std::string dir, std::string home)
    : executor_(executor), dir_(std::move(dir)), home_(std::move(home)) {
  fs::create_directories(dir_);
}

std::string Uploads::part_path(const std::string& name) const {
  return dir_ + "/" + name + ".part";
}

std::string Uploads::done_path(const std::string& name) const {
  return dir_ + "/" + name + ".done";
}

std::string Uploads::digest_path(const std::string& name) const {
  return dir_ + "/" + name + ".digest";
}

Task<http::Response> Uploads::status(http::Request& request) {
  const std::string name = request.path_params.at("name");
  if (!valid_name(name))
    co_return http::Response::error(400, "bad_request", "an upload name is 1-64 of [A-Za-z0-9_-]");
  const bool unpacked = fs::exists(done_path(name));
  const std::string digest = unpacked ? std::string() : read_line_of(digest_path(name));
  co_return http::Response::json(
      200, upload_state(digest.empty() ? 0 : size_of(part_path(name)), unpacked, digest));
}

Task<http::Response> Uploads::put(http::Request& request) {
  const std::string name = request.path_params.at("name");
  if (!valid_name(name))
    co_return http::Response::error(400, "bad_request", "an upload name is 1-64 of [A-Za-z0-9_-]");
  if (fs::exists(done_path(name))) co_return http::Response::json(200, upload_state(0, true));
  const std::string digest(request.query_param("digest").value_or(""));
  if (!valid_digest(digest))
    co_return http::Response::error(400, "bad_request", "digest must be a hex SHA-256");
  const std::string path = part_path(name);
  // The bytes held so far count only if they belong to this very content.
  const bool same_content = read_line_of(digest_path(name)) == digest;
  const std::uint64_t have = same_content ? size_of(path) : 0;
  const auto asked = request.query_int("offset");
  if (!asked || *asked < 0)
    co_return http::Response::error(400, "bad_request", "offset must be a number");
  const auto offset = static_cast<std::uint64_t>(*asked);
  if (offset > have) {
    co_return http::Response::error(
        416, "bad_offset",
        "upload " + name + " has " + std::to_string(have) + " bytes; a chunk cannot start after");
  }
  if (!same_content) std::ofstream(digest_path(name), std::ios::trunc) << digest << "\n";
  auto bytes = std::make_shared<std::string>(std::move(request.body));
  std::function<std::string()> write = [path, offset, bytes] {
    return write_at(path, offset, *bytes);
  };
  const std::string failed = co_await run_blocking<std::string>(std::move(write));
  if (!failed.empty()) co_return http::Response::error(500, "io_error", failed);
  co_return http::Response::json(200, upload_state(offset + bytes->size(), false, digest));
}

Task<http::Response> Uploads::unpack(http::Request& request) {
  const std::string name = request.path_params.at("name");
  if (!valid_name(name))
    co_return http::Response::error(400, "bad_request", "an upload name is 1-64 of [A-Za-z0-9_-]");
  auto body = parse_json(request.body);
  const Json* kind = body ? body->find("kind") : nullptr;
  const Json* destination = body ? body->find("destination") : nullptr;
  const Json* size = body ? body->find("size") : nullptr;
  if (!kind || !kind->as_string() || !destination || !destination->as_string() ||
      destination->as_string()->empty() || !size || !size->as_int() || *size->as_int() < 0) {
    co_return http::Response::error(400, "bad_request",
                                    "unpack needs \"kind\", \"destination\" and \"size\"");
  }
  if (destination->as_string()->find('\0') != std::string_view::npos) {
    co_return http::Response::error(400, "bad_request", "destination holds a NUL byte");
  }
  const std::string target = resolve_on_node(std::string(*destination->as_string()), home_);
  Json answer = Json::object();
  answer.set("path", target);
  if (fs::exists(done_path(name))) co_return http::Response::json(200, answer);

  // A retry that arrives while the first unpack still runs (a large archive) waits its turn.
  if (!unpacking_.insert(name).second) {
    co_return http::Response::error(409, "busy", "upload " + name + " is being unpacked");
  }
  struct Done {
    std::set<std::string>& unpacking;
    std::string name;
    ~Done() { unpacking.erase(name); }
  } done{unpacking_, name};
  const std::string part = part_path(name);
  const auto have = size_of(part);
  if (have != static_cast<std::uint64_t>(*size->as_int())) {
    co_return http::Response::error(409, "incomplete",
                                    "upload " + name + " has " + std::to_string(have) + " of " +
                                        std::to_string(*size->as_int()) + " bytes");
  }
  // End to end: what arrived is what was sent, or it is dropped and sent again.
  const std::string expected = read_line_of(digest_path(name));
  std::function<std::string()> hash = [part] { return sha256_file_hex(part); };
  const std::string actual = co_await run_blocking<std::string>(std::move(hash));
  if (actual.empty() || actual != expected) {
    std::error_code ignored;
    fs::remove(part, ignored);
    fs::remove(digest_path(name), ignored);
    co_return http::Response::error(409, "corrupt",
                                    "upload " + name + " does not match its digest; send it again");
  }
  if (*kind->as_string() == std::string_view("tar")) {
    std::error_code ec;
    fs::create_directories(target, ec);
    if (ec) {
      co_return http::Response::error(500, "io_error",
                                      "cannot create " + target + ": " + ec.message());
    }
    ProcessOptions tar;
    tar.argv = {"/bin/tar", "--extract", "--file", part, "--directory", target, "--no-same-owner"};
    tar.environment = environment_with({});
    auto extracted = co_await run_program(executor_, std::move(tar));
    if (!extracted) co_return http::Response::error(500, "io_error", extracted.error().detail);
    fs::remove(part, ec);
  } else if (*kind->as_string() == std::string_view("file")) {
    std::function<std::string()> place = [part, target] { return place_file(part, target); };
    const std::string failed = co_await run_blocking<std::string>(std::move(place));
    if (!failed.empty()) co_return http::Response::error(500, "io_error", failed);
  } else {
    co_return http::Response::error(400, "bad_request", "kind is \"tar\" or \"file\"");
  }
  std::ofstream(done_path(name)) << target << "\n";
  std::error_code ignored;
  fs::remove(digest_path(name), ignored);
  logger("skylet")->info("upload unpacked name={} path={} bytes={}", name, target, have);
  co_return http::Response::json(200, answer);
}

}  // namespace skyd::skylet
