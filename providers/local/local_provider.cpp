#include "providers/local/local_provider.hpp"

#include "providers/container_record.hpp"

#include "providers/local/stale_mounts.hpp"

#include "reactor/blocking.hpp"
#include "reactor/file_names.hpp"
#include "reactor/http_client.hpp"
#include "reactor/json.hpp"
#include "reactor/log.hpp"
#include "reactor/numbers.hpp"
#include "reactor/small_files.hpp"
#include "reactor/timeout.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace skyd::providers {
namespace fs = std::filesystem;

struct LocalProvider::NodeRecord {
  int rank = 0;
  std::string instance_id;
  std::string ip;
  std::uint16_t port = 0;
  pid_t pid = 0;
  std::string sandbox;
  std::string workdir;
};

struct LocalProvider::ClusterRecord {
  std::string name;
  std::string idempotency_token;
  std::string skylet_token;
  bool use_spot = false;
  std::vector<NodeRecord> nodes;

  Json to_json() const {
    Json out = Json::object();
    out.set("name", name);
    out.set("idempotency_token", idempotency_token);
    out.set("use_spot", use_spot);
    Json list = Json::array();
    for (const auto& node : nodes) {
      Json item = Json::object();
      item.set("rank", node.rank);
      item.set("instance_id", node.instance_id);
      item.set("ip", node.ip);
      item.set("port", static_cast<int>(node.port));
      item.set("pid", static_cast<long long>(node.pid));
      item.set("sandbox", node.sandbox);
      item.set("workdir", node.workdir);
      list.push_back(std::move(item));
    }
    out.set("nodes", std::move(list));
    return out;
  }
};

namespace {

std::string text_of(const Json& json, const char* key) {
  const Json* value = json.find(key);
  return value && value->as_string() ? std::string(*value->as_string()) : std::string();
}

std::int64_t number_of(const Json& json, const char* key) {
  const Json* value = json.find(key);
  return value && value->as_int() ? *value->as_int() : 0;
}

// Provider state must land: a failure here is exceptional (the disk is full or gone).
void write_file(const std::string& path, const std::string& text) {
  write_small_file(path, text).value();
}

// True when pid is alive and is a skylet (a recycled pid is not ours).
bool is_running_skylet(pid_t pid) {
  if (!process_alive(pid)) return false;
  const std::string cmdline = read_small_file("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline.find("skylet") != std::string::npos;
}

// The process groups a node's skylet started (one per task step), from its pgid file.
std::vector<pid_t> task_groups(const std::string& sandbox) {
  std::vector<pid_t> groups;
  std::ifstream in(sandbox + "/work/pgids");
  pid_t pgid = 0;
  while (in >> pgid) groups.push_back(pgid);
  return groups;
}

void kill_everything(pid_t skylet_pid, const std::string& sandbox) {
  if (is_running_skylet(skylet_pid)) ::kill(skylet_pid, SIGKILL);
  for (pid_t group : task_groups(sandbox)) ::kill(-group, SIGKILL);
}

// Waits (without blocking the shard) for a process that need not be our child to end.
Task<bool> wait_for_exit(pid_t pid, Duration limit) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) co_return true;  // already gone
  asio::posix::stream_descriptor exited(co_await asio::this_coro::executor, pidfd);
  auto outcome = co_await with_timeout(
      [](asio::posix::stream_descriptor& d) -> Task<Result<void>> {
        co_await d.async_wait(asio::posix::descriptor_base::wait_read, asio::use_awaitable);
        co_return Result<void>{};
      }(exited),
      limit, "waiting for exit");
  co_return outcome.has_value();
}

// Where a file_mounts destination's content is prepared in a node's sandbox: under its home for
// `~/x` and `x`; for an absolute path, in the sandbox, to be bind-mounted at that path inside the
// machine's private mount namespace (which needs root).
Result<std::string> resolve_destination(const std::string& home, const std::string& sandbox,
                                        std::size_t index, const std::string& provider_root,
                                        const std::string& destination) {
  std::string relative = destination;
  if (relative.starts_with("~/")) relative = relative.substr(2);
  if (relative == "~" || relative.empty())
    return make_error(ProviderErrc::kInvalid, "a file mount needs a destination below ~");
  if (relative.starts_with("/")) {
    const fs::path absolute = fs::path(relative).lexically_normal();
    if (::geteuid() != 0) {
      return make_error(
          ProviderErrc::kInvalid,
          "file_mounts destination " + destination +
              " is an absolute path: the local provider gives such a machine a private mount "
              "namespace, which needs skyd to run as root; it never writes to the host's " +
              destination + ". Use a path under ~ instead");
    }
    const std::string top = "/" + (++absolute.begin())->string();
    if (absolute == "/" || provider_root == top || provider_root.starts_with(top + "/")) {
      return make_error(ProviderErrc::kInvalid,
                        "file_mounts destination " + destination +
                            " would cover the local provider's own directory " + provider_root +
                            "; use another path");
    }
    return sandbox + "/mounts/" + std::to_string(index);
  }
  const fs::path resolved = (fs::path(home) / relative).lexically_normal();
  if (!resolved.string().starts_with(home)) {
    return make_error(ProviderErrc::kInvalid,
                      "file_mounts destination " + destination + " leaves the machine's home");
  }
  return resolved.string();
}

// Gives `path` and everything below it to `owner` (when skyd may switch users and it is someone
// else); an empty string on success.
std::string give_tree(const std::string& path, const std::optional<UserIdentity>& owner) {
  if (!owner || !can_switch_users() || owner->uid == ::geteuid()) return {};
  std::error_code ec;
  if (::lchown(path.c_str(), owner->uid, owner->gid) != 0)
    return "cannot give " + path + " to uid " + std::to_string(owner->uid);
  for (auto it = fs::recursive_directory_iterator(path, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (::lchown(it->path().c_str(), owner->uid, owner->gid) != 0)
      return "cannot give " + it->path().string() + " to uid " + std::to_string(owner->uid);
  }
  return {};
}

// A bucket belongs to the user whose job made it: made now for `owner`, or refused when it is
// someone else's. An empty string when the owner may use it.
std::string claim_bucket(const std::string& bucket, const std::optional<UserIdentity>& owner) {
  std::error_code ec;
  fs::create_directories(fs::path(bucket).parent_path(), ec);
  ::chmod(fs::path(bucket).parent_path().c_str(), 0711);
  const bool made = fs::create_directory(bucket, ec);
  if (ec) return "cannot create bucket directory " + bucket + ": " + ec.message();
  if (!owner || !can_switch_users() || owner->uid == ::geteuid()) return {};
  if (made) {
    ::chmod(bucket.c_str(), 0700);
    return give_tree(bucket, owner);
  }
  struct stat info {};
  if (::lstat(bucket.c_str(), &info) != 0 || !S_ISDIR(info.st_mode) || info.st_uid != owner->uid)
    return "bucket " + fs::path(bucket).filename().string() + " belongs to another user";
  return {};
}

std::string new_instance_id(std::mt19937_64& random) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "local-%012llx",
                static_cast<unsigned long long>(random() & 0xffffffffffffULL));
  return buffer;
}

}  // namespace

Task<Result<void>> LocalProvider::copy_as(std::optional<UserIdentity> owner, Copy copy) {
  // cp starts inside the source (set before it drops to the owner's identity), so it never has
  // to pass through skyd's private directories; the destination is the owner's own.
  const fs::path from(copy.from);
  ProcessOptions cp;
  std::vector<std::string> argv = {"/bin/cp", "-a", "-T"};
  std::error_code ec;
  if (fs::is_directory(from, ec)) {
    cp.working_dir = from.string();
    argv.emplace_back(".");
  } else {
    cp.working_dir = from.parent_path().string();
    argv.push_back(from.filename().string());
  }
  argv.push_back(copy.to);
  cp.argv = owner ? as_identity(*owner, std::move(argv)) : std::move(argv);
  cp.environment = environment_with({{"LC_ALL", "C"}});
  auto copied = co_await run_program(executor_, std::move(cp));
  if (!copied) co_return copied.error();
  co_return Result<void>{};
}

LocalProvider::LocalProvider(asio::any_io_executor executor, LocalProviderOptions options)
    : executor_(executor), options_(std::move(options)), background_(executor, "local-provider") {
  fs::create_directories(options_.root_dir + "/clusters");
  fs::create_directories(options_.root_dir + "/buckets");
  // A machine's owner finds its home by path through these; nobody lists them.
  for (const auto& dir :
       {options_.root_dir, options_.root_dir + "/clusters", options_.root_dir + "/buckets"})
    ::chmod(dir.c_str(), 0711);
  // Continue the address sequence after the clusters a previous run left.
  for (const auto& entry : fs::directory_iterator(options_.root_dir + "/clusters")) {
    if (auto record = load(entry.path().filename().string()))
      next_address_ += static_cast<std::uint32_t>(record->nodes.size());
  }
}

LocalProvider::~LocalProvider() = default;

std::string LocalProvider::cluster_dir(const std::string& cluster_name) const {
  return options_.root_dir + "/clusters/" + cluster_name;
}

std::string LocalProvider::bucket_dir(const std::string& bucket) const {
  return options_.root_dir + "/buckets/" + bucket;
}

std::string LocalProvider::next_ip() {
  // 127.0.0.1 stays the host's own; machines get 127.0.x.y from .2 on.
  const std::uint32_t n = 2 + (next_address_++ % (65536 - 258));
  return "127.0." + std::to_string(n / 256) + "." + std::to_string(n % 256 == 0 ? 1 : n % 256);
}

Result<LocalProvider::ClusterRecord> LocalProvider::load(const std::string& cluster_name) const {
  const std::string path = cluster_dir(cluster_name) + "/cluster.json";
  if (!fs::exists(path))
    return make_error(ProviderErrc::kNotFound, "no local cluster " + cluster_name);
  auto json = parse_json(read_small_file(path));
  if (!json)
    return make_error(ProviderErrc::kTransient, "unreadable " + path + ": " + json.error().detail);
  ClusterRecord record;
  record.name = text_of(*json, "name");
  record.idempotency_token = text_of(*json, "idempotency_token");
  record.use_spot = json->find("use_spot") && json->find("use_spot")->as_bool().value_or(false);
  record.skylet_token = read_small_file(cluster_dir(cluster_name) + "/token");
  if (const Json* nodes = json->find("nodes"); nodes && nodes->as_array()) {
    for (const auto& item : *nodes->as_array()) {
      NodeRecord node;
      node.rank = static_cast<int>(number_of(item, "rank"));
      node.instance_id = text_of(item, "instance_id");
      node.ip = text_of(item, "ip");
      node.port = static_cast<std::uint16_t>(number_of(item, "port"));
      node.pid = static_cast<pid_t>(number_of(item, "pid"));
      node.sandbox = text_of(item, "sandbox");
      node.workdir = text_of(item, "workdir");
      record.nodes.push_back(std::move(node));
    }
  }
  return record;
}

Task<Result<std::pair<Node, pid_t>>> LocalProvider::start_node(const LaunchRequest& request,
                                                               int rank, std::string ip) {
  const std::string sandbox = cluster_dir(request.cluster_name) + "/node-" + std::to_string(rank);
  const std::string home = sandbox + "/home";
  const std::string workdir = home + "/sky_workdir";
  std::vector<std::pair<std::string, MountRequest>> mounts;
  std::vector<std::string> binds;  // skylet arguments: --bind SOURCE DESTINATION
  for (const auto& mount : request.mounts) {
    auto destination =
        resolve_destination(home, sandbox, mounts.size(), options_.root_dir, mount.destination);
    if (!destination)
      co_return Result<std::pair<Node, pid_t>>(boost::system::in_place_error, destination.error());
    if (mount.destination.starts_with("/"))
      binds.insert(binds.end(), {"--bind", *destination, mount.destination});
    mounts.emplace_back(*destination, mount);
  }

  // The sandbox is made off the shard; the copies run as the machine's owner (a user's files are
  // read and written with that user's rights only).
  const std::string buckets = options_.root_dir + "/buckets";
  const std::optional<UserIdentity> owner = request.owner;
  std::vector<Copy> copies;
  if (!request.workdir_snapshot.empty()) copies.push_back({request.workdir_snapshot, workdir});
  const std::string cluster = cluster_dir(request.cluster_name);
  // Named, not a temporary in the co_await expression: g++ 12 destroys such temporaries twice.
  std::function<std::string()> build_sandbox = [=, &copies] {
    std::error_code ec;
    fs::create_directories(workdir, ec);
    fs::create_directories(sandbox + "/work", ec);
    if (ec) return "cannot create sandbox " + sandbox + ": " + ec.message();
    // Others may pass through (a task finds its home by path), only the owner may look inside.
    for (const auto& dir : {cluster, sandbox, sandbox + "/work"}) ::chmod(dir.c_str(), 0711);
    ::chmod(home.c_str(), 0700);
    for (const auto& [destination, mount] : mounts) {
      fs::create_directories(fs::path(destination).parent_path(), ec);
      std::string bucket;
      if (!mount.bucket.empty()) {
        bucket = buckets + "/" + mount.bucket;
        if (auto mine = claim_bucket(bucket, owner); !mine.empty()) return mine;
      }
      if (mount.mode == MountRequest::Mode::kByNode) {
        // skylet mounts the bucket here at each attempt: an empty directory to mount over.
        fs::create_directories(destination, ec);
      } else if (mount.mode == MountRequest::Mode::kMount) {
        // A bucket mount is the persistent bucket directory itself: what one attempt writes (a
        // checkpoint) the next one finds.
        fs::remove_all(destination, ec);
        fs::create_directory_symlink(bucket, destination, ec);
      } else {
        copies.push_back({!mount.source.empty() ? mount.source : bucket, destination});
      }
      if (ec) return "cannot prepare file mount " + mount.destination + ": " + ec.message();
    }
    // What was made so far is the owner's: the home, and where absolute destinations are bound.
    for (const auto& dir : {home, sandbox + "/mounts"}) {
      if (!fs::exists(dir, ec)) continue;
      if (auto given = give_tree(dir, owner); !given.empty()) return given;
    }
    return std::string();
  };
  auto prepared = co_await run_blocking<std::string>(std::move(build_sandbox));
  if (!prepared.empty()) co_return make_error(ProviderErrc::kTransient, prepared);
  for (const auto& copy : copies) {
    auto copied = co_await copy_as(owner, copy);
    if (!copied) co_return make_error(ProviderErrc::kTransient, copied.error().detail);
  }

  int ready_pipe[2];
  if (::pipe2(ready_pipe, O_CLOEXEC) != 0)
    co_return make_error(ProviderErrc::kTransient, "pipe failed");
  ProcessOptions spawn;
  spawn.argv = {options_.skylet_binary, "--listen", ip + ":0", "--token-file",
                cluster_dir(request.cluster_name) + "/token", "--work-dir", sandbox + "/work",
                "--ready-fd", "3",
                // skylet writes it before anything else: a skyd killed before the cluster record
                // is written still finds this machine when it terminates the cluster.
                "--pid-file", sandbox + "/skylet.pid", "--log-cap-bytes",
                std::to_string(options_.log_cap_bytes), "--cancel-grace-ms",
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   options_.skylet_cancel_grace)
                                   .count())};
  if (!options_.notice_signal.empty()) {
    spawn.argv.insert(spawn.argv.end(), {"--notice-signal", options_.notice_signal});
  }
  if (!options_.storage_credentials.empty()) {
    spawn.argv.insert(spawn.argv.end(), {"--storage-credentials", options_.storage_credentials});
  }
  if (!binds.empty()) {
    spawn.argv.insert(spawn.argv.end(), {"--private-root", sandbox});
    spawn.argv.insert(spawn.argv.end(), binds.begin(), binds.end());
  }
  spawn.environment = environment_with(
      {{"HOME", home}, {"SKYD_LOCAL_MACHINE", request.cluster_name + "/" + std::to_string(rank)}},
      {"NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC", "WATCHDOG_PID"});
  spawn.capture_output = false;
  spawn.output_file = sandbox + "/skylet.log";
  spawn.new_session = true;  // machines outlive a skyd restart
  spawn.kill_on_destroy = false;
  spawn.extra_fds = {{3, ready_pipe[1]}};
  auto process = Process::spawn(executor_, std::move(spawn));
  ::close(ready_pipe[1]);
  asio::posix::stream_descriptor ready(executor_, ready_pipe[0]);
  if (!process) co_return make_error(ProviderErrc::kTransient, process.error().message());

  // skylet writes its port once it listens: await that instead of polling its health.
  std::string announced;
  auto read_port = [](asio::posix::stream_descriptor& pipe,
                      std::string& out) -> Task<Result<void>> {
    auto [ec, n] = co_await asio::async_read_until(pipe, asio::dynamic_buffer(out), '\n',
                                                   asio::as_tuple(asio::use_awaitable));
    if (ec) co_return make_error(ProviderErrc::kTransient, "skylet exited before it listened");
    co_return Result<void>{};
  };
  auto listening = co_await with_timeout(read_port(ready, announced), options_.launch_timeout,
                                         "starting skylet");
  const pid_t pid = (*process)->pid();
  children_[pid] = std::move(*process);
  background_.spawn([](LocalProvider* self, pid_t child) -> Task<void> {
    co_await self->children_.at(child)->wait();  // reap it whenever it ends
    self->children_.erase(child);
  }(this, pid));
  if (!listening) {
    ::kill(pid, SIGKILL);
    co_return make_error(ProviderErrc::kTransient,
                         listening.error().detail + " (see " + sandbox + "/skylet.log)");
  }
  Node node;
  node.rank = rank;
  node.ip = ip;
  node.instance_id = new_instance_id(random_);
  node.skylet.transport = http::Endpoint::Transport::kTcp;
  node.skylet.host = ip;
  // One line: the port skylet listens on.
  const std::string line = announced.substr(0, announced.find('\n'));
  const auto port = parse_int64(line);
  if (!port || *port < 1 || *port > 65535) {
    ::kill(pid, SIGKILL);
    co_return make_error(
        ProviderErrc::kTransient,
        "skylet announced `" + line + "`, not a port (see " + sandbox + "/skylet.log)");
  }
  node.skylet.port = static_cast<std::uint16_t>(*port);
  node.workdir = workdir;
  logger("local")->info("machine up cluster={} rank={} ip={} port={} pid={}", request.cluster_name,
                        rank, ip, node.skylet.port, pid);
  co_return std::pair{std::move(node), pid};
}

Result<void> check_local_settings(const NodeSettings& settings, const std::string& root_dir,
                                  int nodes) {
  if (auto refused = refuse_volumes(settings, "local"); !refused) return refused;
  // A container image is no machine image: skylet runs the task in it on the host's runtime.
  if (!machine_image(settings).empty()) {
    return make_error(ProviderErrc::kInvalid,
                      "resources.image_id: local machines are processes on this host and boot "
                      "no image (" +
                          settings.image_id + ")");
  }
  if (settings.disk_tier) {
    return make_error(ProviderErrc::kInvalid,
                      "resources.disk_tier: a local machine's disk is this host's, whose speed "
                      "skyd cannot choose");
  }
  if (settings.best_network) {
    return make_error(ProviderErrc::kInvalid,
                      "resources.network_tier: best: local machines share this host's network");
  }
  if (!settings.labels.empty()) {
    return make_error(ProviderErrc::kInvalid,
                      "resources.labels: local machines are not cloud resources and carry no "
                      "labels (label `" +
                          settings.labels.begin()->first + "`)");
  }
  if (settings.disk_size_gb) {
    struct statvfs disk {};
    if (::statvfs(root_dir.c_str(), &disk) != 0) {
      return make_error(ProviderErrc::kTransient,
                        "resources.disk_size: cannot read the free space under " + root_dir);
    }
    const double free_gb = static_cast<double>(disk.f_bavail) * disk.f_frsize / 1e9;
    const double wanted_gb = static_cast<double>(*settings.disk_size_gb) * nodes;
    if (free_gb < wanted_gb) {
      char have[32];
      std::snprintf(have, sizeof have, "%.1f", free_gb);
      return make_error(ProviderErrc::kInvalid,
                        "resources.disk_size: " + std::to_string(*settings.disk_size_gb) +
                            " GB for each of " + std::to_string(nodes) +
                            " local node(s), and the disk under " + root_dir + " has " + have +
                            " GB free");
    }
  }
  return {};
}

Task<Result<Cluster>> LocalProvider::launch(LaunchRequest request) {
  if (request.owner && request.owner->uid != ::geteuid() && !can_switch_users()) {
    // Not this job's cloud: the next candidate may be another's.
    co_return make_error(ProviderErrc::kAuth,
                         "the local provider runs a job as its submitter (uid " +
                             std::to_string(request.owner->uid) + "), and this skyd runs as uid " +
                             std::to_string(::geteuid()) +
                             " without the right to switch users; run skyd as root to serve "
                             "several users on local machines");
  }
  if (request.nodes < 1)
    co_return make_error(ProviderErrc::kInvalid, "a cluster needs at least one node");
  if (request.skylet_token.size() < 16)
    co_return make_error(ProviderErrc::kInvalid, "the skylet token is too short");
  // Both names become directories under root_dir; whatever checked them before, nothing here may
  // reach outside it.
  if (!is_plain_file_name(request.cluster_name, kMaxFileNameLength)) {
    co_return make_error(ProviderErrc::kInvalid,
                         "cluster name `" + request.cluster_name + "` is not a plain file name");
  }
  for (const auto& mount : request.mounts) {
    if (!mount.bucket.empty() && !is_plain_file_name(mount.bucket, kMaxFileNameLength)) {
      co_return make_error(ProviderErrc::kInvalid,
                           "bucket `" + mount.bucket + "` (file_mounts " + mount.destination +
                               ") is not a plain directory name; it would leave " +
                               options_.root_dir + "/buckets");
    }
  }
  if (auto settled = check_local_settings(request.settings, options_.root_dir, request.nodes);
      !settled) {
    co_return settled.error();
  }
  const std::string dir = cluster_dir(request.cluster_name);

  if (auto existing = load(request.cluster_name)) {
    bool all_alive = true;
    for (const auto& node : existing->nodes) all_alive = all_alive && is_running_skylet(node.pid);
    if (existing->idempotency_token == request.idempotency_token && all_alive &&
        static_cast<int>(existing->nodes.size()) == request.nodes) {
      Cluster adopted{request.cluster_name, "local", "local", "local-a", request.instance_type,
                      existing->use_spot,   {}};
      for (const auto& record : existing->nodes) {
        Node node{record.instance_id, record.rank, record.ip, {}, record.workdir};
        node.skylet.host = record.ip;
        node.skylet.port = record.port;
        adopted.nodes.push_back(std::move(node));
      }
      logger("local")->info("cluster adopted name={} token={}", request.cluster_name,
                            request.idempotency_token);
      co_return adopted;
    }
    co_await terminate(request.cluster_name);  // a half-made or different cluster: start over
  } else if (fs::exists(dir)) {
    // A launch cut short before its record: its machines are found by their pid files.
    co_await terminate(request.cluster_name);
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    co_return make_error(ProviderErrc::kTransient, "cannot create " + dir + ": " + ec.message());
  write_file(dir + "/token", request.skylet_token);

  ClusterRecord record{
      request.cluster_name, request.idempotency_token, request.skylet_token, request.use_spot, {}};
  Cluster cluster{request.cluster_name,  "local",          "local", "local-a",
                  request.instance_type, request.use_spot, {}};
  for (int rank = 0; rank < request.nodes; ++rank) {
    auto node = co_await start_node(request, rank, next_ip());
    if (!node) {
      write_file(dir + "/cluster.json", record.to_json().dump());
      co_await terminate(request.cluster_name);
      co_return node.error();
    }
    auto& [started, pid] = *node;
    record.nodes.push_back(NodeRecord{
        rank, started.instance_id, started.ip, started.skylet.port, pid,
        cluster_dir(request.cluster_name) + "/node-" + std::to_string(rank), started.workdir});
    write_file(dir + "/cluster.json", record.to_json().dump());
    cluster.nodes.push_back(std::move(started));
  }
  co_return cluster;
}

Task<Result<std::vector<InstanceStatus>>> LocalProvider::describe(
    std::vector<std::string> cluster_names) {
  std::vector<InstanceStatus> statuses;
  for (const auto& name : cluster_names) {
    auto record = load(name);
    if (!record) continue;
    const bool preempted = fs::exists(cluster_dir(name) + "/preempted");
    for (const auto& node : record->nodes) {
      InstanceStatus status;
      status.instance_id = node.instance_id;
      status.cluster_name = name;
      const bool alive = is_running_skylet(node.pid);
      status.state = alive ? InstanceState::kRunning : InstanceState::kTerminated;
      status.preempted = !alive && preempted;
      status.reason = alive ? "" : preempted ? "spot preemption" : "machine stopped";
      statuses.push_back(std::move(status));
    }
  }
  co_return statuses;
}

Task<void> LocalProvider::stop_node(const NodeRecord& node, bool graceful) {
  if (graceful && is_running_skylet(node.pid)) {
    ::kill(node.pid, SIGTERM);  // skylet cancels its attempts (TERM, grace, KILL) and exits
    co_await wait_for_exit(node.pid, options_.skylet_cancel_grace + std::chrono::seconds(5));
  }
  kill_everything(node.pid, node.sandbox);
  // A container outlives its killed runtime client: removed here (gone already after a graceful
  // stop, and then the removal fails harmlessly).
  const std::string record = read_small_file(node.sandbox + "/work/containers");
  for (const auto& container : parse_container_record(record)) {
    auto removed = co_await remove_recorded_container(executor_, container, environment_with({}));
    if (removed)
      logger("local")->info("container removed sandbox={}", node.sandbox);
    else
      logger("local")->debug("container rm error=\"{}\"", removed.error().detail);
  }
}

Task<Result<void>> LocalProvider::terminate(std::string cluster_name) {
  auto record = load(cluster_name);
  const std::string dir = cluster_dir(cluster_name);
  if (!record && fs::exists(dir)) record = ClusterRecord{cluster_name, "", "", false, {}};
  if (record) {
    // Machines started but not yet in the record (a launch cut short) are found by their pid files.
    for (int rank = static_cast<int>(record->nodes.size());; ++rank) {
      const std::string sandbox = dir + "/node-" + std::to_string(rank);
      if (!fs::exists(sandbox)) break;
      NodeRecord node;
      node.rank = rank;
      node.sandbox = sandbox;
      node.pid = static_cast<pid_t>(std::atol(read_small_file(sandbox + "/skylet.pid").c_str()));
      record->nodes.push_back(std::move(node));
    }
    for (const auto& node : record->nodes) co_await stop_node(node, true);
    for (const auto& node : record->nodes) {
      for (pid_t group : task_groups(node.sandbox)) {
        if (process_group_alive(group)) {
          co_return make_error(ProviderErrc::kTransient,
                               "processes of " + cluster_name + " are still running");
        }
      }
    }
  }
  std::function<bool()> remove_sandbox = [dir] {
    if (const int detached = detach_mounts_under(dir); detached > 0)
      logger("local")->warn("stale mounts detached dir={} count={}", dir, detached);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return !ec;
  };
  const auto removed = co_await run_blocking<bool>(std::move(remove_sandbox));
  if (!removed) co_return make_error(ProviderErrc::kTransient, "cannot remove " + dir);
  logger("local")->info("cluster terminated name={}", cluster_name);
  co_return Result<void>{};
}

Task<Result<std::vector<std::string>>> LocalProvider::list_clusters() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(options_.root_dir + "/clusters")) {
    names.push_back(entry.path().filename().string());
  }
  co_return names;
}

Task<Result<void>> LocalProvider::preempt(std::string cluster_name, std::optional<Duration> grace) {
  auto record = load(cluster_name);
  if (!record) co_return record.error();
  if (!record->use_spot)
    co_return make_error(ProviderErrc::kInvalid,
                         cluster_name + " is on-demand: only spot machines are preempted");
  write_file(cluster_dir(cluster_name) + "/preempted", "");
  const Duration window = grace.value_or(options_.preemption_grace);
  logger("local")->warn("preempting cluster={} grace_ms={}", cluster_name,
                        std::chrono::duration_cast<std::chrono::milliseconds>(window).count());
  http::Client client(executor_);
  Json notice = Json::object();
  notice.set("kind", "spot_notice");
  notice.set("source", "local-provider");
  Json detail = Json::object();
  detail.set("action", "terminate");
  detail.set("grace_ms",
             static_cast<long long>(
                 std::chrono::duration_cast<std::chrono::milliseconds>(window).count()));
  notice.set("detail", std::move(detail));
  for (const auto& node : record->nodes) {
    http::Request request;
    request.method = "POST";
    request.target = "/events";
    request.body = notice.dump();
    request.headers.emplace_back("Authorization", "Bearer " + record->skylet_token);
    http::Endpoint endpoint;
    endpoint.host = node.ip;
    endpoint.port = node.port;
    co_await client.request(endpoint, request, {std::chrono::seconds(2)});
  }
  asio::steady_timer timer(executor_, window);
  co_await timer.async_wait(asio::use_awaitable);
  // Only the machines that got the notice go: a replacement may already stand under the same name.
  auto current = load(cluster_name);
  if (!current || current->idempotency_token != record->idempotency_token) co_return Result<void>{};
  for (const auto& node : record->nodes) kill_everything(node.pid, node.sandbox);
  // Gone when this returns, as a reclaimed VM is: whoever describes the cluster next sees it so.
  for (const auto& node : record->nodes)
    if (is_running_skylet(node.pid)) co_await wait_for_exit(node.pid, std::chrono::seconds(5));
  co_return Result<void>{};
}

Result<void> LocalProvider::start_preemption(const std::string& cluster_name,
                                             std::optional<Duration> grace) {
  auto record = load(cluster_name);
  if (!record) return record.error();
  if (!record->use_spot)
    return make_error(ProviderErrc::kInvalid,
                      cluster_name + " is on-demand: only spot machines are preempted");
  background_.spawn(
      [](LocalProvider* self, std::string name, std::optional<Duration> window) -> Task<void> {
        co_await self->preempt(name, window);
      }(this, cluster_name, grace));
  return {};
}

Result<void> LocalProvider::kill_node(const std::string& cluster_name, int rank) {
  auto record = load(cluster_name);
  if (!record) return record.error();
  for (const auto& node : record->nodes) {
    if (node.rank == rank) {
      kill_everything(node.pid, node.sandbox);
      return {};
    }
  }
  return make_error(ProviderErrc::kNotFound, cluster_name + " has no node " + std::to_string(rank));
}

Task<void> LocalProvider::run_random_preemptions() {
  if (!options_.preemption_mean_interval) co_return;
  const double mean = std::chrono::duration<double>(*options_.preemption_mean_interval).count();
  std::exponential_distribution<double> gap(1.0 / mean);
  asio::steady_timer timer(executor_);
  for (;;) {
    timer.expires_after(
        std::chrono::duration_cast<Duration>(std::chrono::duration<double>(gap(random_))));
    co_await timer.async_wait(asio::use_awaitable);
    std::vector<std::string> spot;
    for (const auto& entry : fs::directory_iterator(options_.root_dir + "/clusters")) {
      auto record = load(entry.path().filename().string());
      if (record && record->use_spot && !fs::exists(cluster_dir(record->name) + "/preempted"))
        spot.push_back(record->name);
    }
    if (spot.empty()) continue;
    const auto& victim =
        spot[std::uniform_int_distribution<std::size_t>(0, spot.size() - 1)(random_)];
    co_await preempt(victim, std::nullopt);
  }
}

Task<void> LocalProvider::shutdown() {
  background_.cancel_all();
  co_await background_.wait();
}

}  // namespace skyd::providers
