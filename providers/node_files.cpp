#include "providers/node_files.hpp"

#include "reactor/backoff.hpp"
#include "reactor/blocking.hpp"
#include "reactor/crypto.hpp"
#include "reactor/json.hpp"
#include "reactor/log.hpp"
#include "reactor/process.hpp"
#include "reactor/task_group.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>

namespace skyd::providers {
namespace fs = std::filesystem;
namespace {

// One upload as it travels: the bytes to send and how the node puts them in place.
struct Package {
  std::string name;
  std::string path;  // the archive, or the source file itself
  std::string kind;  // "tar" or "file"
  std::string destination;
  std::uint64_t size = 0;
  std::string digest;  // SHA-256 of the bytes sent: resumes and the node's check go by it
};

// `size` bytes of `path` from `offset` (the chunk being sent); empty on a read failure.
std::string read_chunk(const std::string& path, std::uint64_t offset, std::size_t size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string bytes(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, bytes.data() + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  bytes.resize(got);
  return bytes;
}

// Sends to one node. It owns copies of what it needs: a cancelled shipment unwinds its caller while
// the senders are still finishing.
class NodeShipper {
 public:
  NodeShipper(http::Client& client, Node node, std::string token, ShipOptions options)
      : client_(client),
        node_(std::move(node)),
        token_(std::move(token)),
        options_(std::move(options)) {}

  // Sends the package and unpacks it; retried from what the node already holds. A refusal
  // (kInvalid) is final.
  Task<Result<void>> ship(const Package& package) {
    BackoffPolicy policy{std::chrono::milliseconds(250), 2.0, std::chrono::seconds(5), 0.2,
                         options_.attempts_per_node};
    auto once = [this, &package] { return ship_once(package); };
    auto worth_retrying = [](const Error& error) {
      return error.code != make_error_code(ProviderErrc::kInvalid);
    };
    co_return co_await retry<void>(policy, once, worth_retrying);
  }

  // True when the node has this upload in place already (an adopted cluster).
  Task<bool> has(std::string name) {
    auto state = co_await call("GET", "/files/" + name, std::string());
    co_return state&& unpacked(*state);
  }

  std::uint64_t bytes_sent() const { return bytes_sent_; }

 private:
  static bool unpacked(const Json& state) {
    const Json* flag = state.find("unpacked");
    return flag && flag->as_bool().value_or(false);
  }
  static std::uint64_t size_in(const Json& state) {
    const Json* size = state.find("size");
    return size ? static_cast<std::uint64_t>(std::max<std::int64_t>(0, size->as_int().value_or(0)))
                : 0;
  }

  Task<Result<void>> ship_once(const Package& package) {
    const std::string target = "/files/" + package.name;
    auto state = co_await call("GET", target, std::string());
    if (!state) co_return state.error();
    if (unpacked(*state)) co_return Result<void>{};
    // Resume only bytes of this very content (the node may hold part of an older version).
    std::uint64_t offset = 0;
    const Json* held = state->find("digest");
    if (held && held->as_string() == std::optional<std::string_view>(package.digest))
      offset = size_in(*state);
    if (offset > package.size) offset = 0;
    bool first = true;
    while (offset < package.size || first) {
      first = false;
      const std::size_t length = static_cast<std::size_t>(
          std::min<std::uint64_t>(options_.chunk_bytes, package.size - offset));
      std::function<std::string()> read = [path = package.path, offset, length] {
        return read_chunk(path, offset, length);
      };
      std::string chunk = co_await run_blocking<std::string>(std::move(read));
      if (chunk.size() != length) {
        co_return make_error(ProviderErrc::kInvalid,
                             "cannot read " + package.path + " (it changed while shipping)");
      }
      const std::string chunk_target =
          target + "?offset=" + std::to_string(offset) + "&digest=" + package.digest;
      bytes_sent_ += length;
      auto sent = co_await call("PUT", chunk_target, std::move(chunk));
      if (!sent) co_return sent.error();
      if (unpacked(*sent)) co_return Result<void>{};
      offset = size_in(*sent);
    }
    Json unpack = Json::object();
    unpack.set("kind", package.kind);
    unpack.set("destination", package.destination);
    unpack.set("size", static_cast<long long>(package.size));
    const std::string unpack_target = target + "/unpack";
    auto placed = co_await call("POST", unpack_target, unpack.dump());
    if (!placed) co_return placed.error();
    co_return Result<void>{};
  }

  // One skylet call; 2xx bodies are JSON. A refusal by the node is kInvalid (retrying or another
  // machine would not help), a failure to reach it kTransient.
  Task<Result<Json>> call(std::string method, std::string target, std::string body) {
    http::Request request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.headers.emplace_back("Authorization", "Bearer " + token_);
    if (!body.empty() || request.method == "PUT") {
      request.headers.emplace_back("Content-Type", request.method == "PUT"
                                                       ? "application/octet-stream"
                                                       : "application/json");
    }
    request.body = std::move(body);
    const http::RequestOptions limit{options_.call_timeout};
    auto response = co_await client_.request(node_.skylet, std::move(request), limit);
    if (!response) {
      if (is_cancellation(response.error().code)) co_return response.error();
      co_return make_error(ProviderErrc::kTransient, "shipping files to node " +
                                                         std::to_string(node_.rank) + ": " +
                                                         response.error().message());
    }
    const int status = response->status;
    // 409: the node's copy was incomplete or corrupt and is dropped; sending again fixes it.
    if (status == 409 || status == 429 || status == 502 || status == 503 || status == 504) {
      co_return make_error(ProviderErrc::kTransient,
                           "node " + std::to_string(node_.rank) + " answered " +
                               std::to_string(response->status) + ": " + response->body);
    }
    if (response->status >= 300) {
      co_return make_error(ProviderErrc::kInvalid, "node " + std::to_string(node_.rank) +
                                                       " refused the files: " + response->body);
    }
    auto parsed = parse_json(response->body);
    if (!parsed) co_return make_error(ProviderErrc::kTransient, "node answered something not JSON");
    co_return std::move(*parsed);
  }

  http::Client& client_;  // the provider's, which outlives every launch
  const Node node_;
  const std::string token_;
  const ShipOptions options_;
  std::uint64_t bytes_sent_ = 0;
};

// Turns an upload into what travels: a directory becomes a tar archive in the scratch directory.
Task<Result<Package>> package(const NodeUpload& upload, const std::string& scratch_dir) {
  Package out{upload.name, upload.source, "file", upload.destination, 0, {}};
  std::error_code ec;
  const auto status = fs::status(upload.source, ec);
  if (fs::is_directory(status)) {
    // Archives of users' files: a directory made here is readable by skyd only.
    if (fs::create_directories(scratch_dir, ec))
      fs::permissions(scratch_dir, fs::perms::owner_all, ec);
    out.kind = "tar";
    out.path = scratch_dir + "/" + upload.name + "-" + random_hex(6) + ".tar";
    ProcessOptions tar;
    tar.argv = {"/bin/tar", "--create", "--file", out.path, "--directory", upload.source, "."};
    tar.environment = environment_with({});
    auto executor = co_await asio::this_coro::executor;
    auto made = co_await run_program(executor, std::move(tar));
    if (!made) {
      fs::remove(out.path, ec);
      co_return make_error(ProviderErrc::kInvalid,
                           "cannot archive " + upload.source + ": " + made.error().detail);
    }
  } else if (!fs::is_regular_file(status)) {
    co_return make_error(ProviderErrc::kInvalid, "cannot ship " + upload.source +
                                                     ": not a file or directory skyd can read");
  }
  out.size = fs::file_size(out.path, ec);
  std::function<std::string()> hash = [path = out.path] { return sha256_file_hex(path); };
  out.digest = co_await run_blocking<std::string>(std::move(hash));
  if (ec || out.digest.empty()) {
    co_return make_error(ProviderErrc::kInvalid, "cannot read " + out.path);
  }
  co_return out;
}

}  // namespace

std::vector<NodeUpload> uploads_for(const LaunchRequest& request) {
  std::vector<NodeUpload> uploads;
  if (!request.workdir_snapshot.empty())
    uploads.push_back({"workdir", request.workdir_snapshot, std::string(kCloudWorkdir)});
  int index = 0;
  for (const auto& mount : request.mounts) {
    ++index;
    if (mount.source.empty()) continue;  // a bucket: not shipped through skylet
    uploads.push_back({"mount-" + std::to_string(index), mount.source, mount.destination});
  }
  return uploads;
}

Task<Result<std::uint64_t>> ship_files(http::Client& client, std::vector<Node> nodes,
                                       std::string token, std::vector<NodeUpload> uploads,
                                       ShipOptions options) {
  std::vector<std::shared_ptr<NodeShipper>> shippers;
  for (const auto& node : nodes)
    shippers.push_back(std::make_shared<NodeShipper>(client, node, token, options));
  for (const auto& upload : uploads) {
    // An adopted cluster has its files already; its sources may be gone by now.
    bool everywhere = true;
    for (auto& shipper : shippers) {
      const bool there = co_await shipper->has(upload.name);
      if (!there) {
        everywhere = false;
        break;
      }
    }
    if (everywhere) continue;
    auto made = co_await package(upload, options.scratch_dir);
    if (!made) co_return made.error();
    auto ready = std::make_shared<const Package>(std::move(*made));
    struct RemoveArchive {  // also when a cancelled launch unwinds from here
      std::string path;
      ~RemoveArchive() {
        std::error_code ignored;
        if (!path.empty()) fs::remove(path, ignored);
      }
    } remove_archive{ready->kind == "tar" ? ready->path : std::string()};
    std::vector<std::shared_ptr<Result<void>>> results;
    std::function<Task<void>(TaskGroup&)> send = [&](TaskGroup& senders) {
      for (const auto& shipper : shippers) {
        results.push_back(std::make_shared<Result<void>>());
        senders.spawn([](std::shared_ptr<NodeShipper> to, std::shared_ptr<const Package> what,
                         std::shared_ptr<Result<void>> out) -> Task<void> {
          *out = co_await to->ship(*what);
        }(shipper, ready, results.back()));
      }
      return senders.wait();
    };
    co_await TaskGroup::scoped("uploads", std::move(send));
    for (const auto& result : results)
      if (!*result) co_return result->error();
    logger("provider")
        ->info("shipped name={} bytes={} nodes={} to={}", ready->name, ready->size, nodes.size(),
               ready->destination);
  }
  std::uint64_t sent = 0;
  for (const auto& shipper : shippers) sent += shipper->bytes_sent();
  co_return sent;
}

}  // namespace skyd::providers
