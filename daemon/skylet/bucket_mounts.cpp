#include "daemon/skylet/bucket_mounts.hpp"

#include "daemon/skylet/uploads.hpp"
#include "reactor/blocking.hpp"
#include "reactor/crypto.hpp"
#include "reactor/http_client.hpp"
#include "reactor/log.hpp"
#include "reactor/sleep.hpp"
#include "reactor/small_files.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace skyd::skylet {
namespace fs = std::filesystem;
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kDrainPollInterval = std::chrono::milliseconds(500);
constexpr auto kExitGrace = std::chrono::seconds(5);
constexpr std::size_t kOutputKept = 16 * 1024;

// The tail of a file rclone writes its output to (bounded: rclone may log a lot on errors).
std::string tail_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - std::streamoff(kOutputKept));
  in.seekg(from);
  std::string text(static_cast<std::size_t>(size - from), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  return text;
}

std::string head_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(kOutputKept, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

Error mount_failure(const BucketMount& mount, const std::string& reason) {
  return make_error(NetErrc::kProtocol,
                    "bucket " + mount.bucket + " at " + mount.destination + ": " + reason);
}

// Unmounts the rclone mount at `mountpoint` with fusermount3 -u (or -uz, lazily, when `lazy`);
// true once no rclone mount is there. Never touches a mount of another kind: under the rclone
// mount may lie the private root's bind of the destination, which must stay.
Task<bool> fusermount(asio::any_io_executor executor, std::string mountpoint, bool lazy) {
  if (!has_rclone_mount(read_small_file("/proc/self/mountinfo"), mountpoint)) co_return true;
  ProcessOptions options;
  options.argv = {"/usr/bin/fusermount3", lazy ? "-uz" : "-u", mountpoint};
  options.environment = environment_with({});
  auto done = co_await run_program(executor, std::move(options));
  co_return done.has_value();
}

// Whether `pid` is an rclone that serves `mountpoint` (not a stranger that reused the pid).
bool is_rclone_mount_of(pid_t pid, const std::string& mountpoint) {
  const std::string cmdline = read_small_file("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> argv;
  std::size_t start = 0;
  while (start < cmdline.size()) {
    const auto end = cmdline.find('\0', start);
    argv.push_back(cmdline.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return argv.size() > 3 && argv[0].ends_with("rclone") && argv[1] == "mount" &&
         argv[3] == mountpoint;
}

}  // namespace

struct AttemptMounts::Live {
  BucketMount mount;
  std::string mountpoint;
  std::string record;       // its file in records_dir
  std::string output_file;  // rclone's output
  std::unique_ptr<Process> rclone;
  std::optional<RcloneRemoteControl> control;  // MOUNT_CACHED
  std::optional<std::uint16_t> rc_port;
};

AttemptMounts::AttemptMounts(asio::any_io_executor executor, const MountOptions& options,
                             std::string attempt_id, std::string attempt_dir,
                             std::optional<UserIdentity> user, AttemptLog& log)
    : executor_(executor),
      options_(options),
      attempt_id_(std::move(attempt_id)),
      attempt_dir_(std::move(attempt_dir)),
      user_(std::move(user)),
      log_(log) {}

AttemptMounts::~AttemptMounts() = default;

std::vector<std::string> AttemptMounts::environment(
    const BucketMount& mount, const std::optional<RcloneRemoteControl>& control) const {
  return rclone_environment(mount, options_.credentials, attempt_dir_ + "/rclone.conf",
                            environment_with({}), control);
}

void AttemptMounts::interrupt() {
  interrupted_ = true;
  if (running_) ::kill(-running_, SIGKILL);
}

Task<Result<std::string>> AttemptMounts::run_rclone(std::vector<std::string> argv,
                                                    const BucketMount& mount,
                                                    std::optional<Duration> limit) {
  using namespace asio::experimental::awaitable_operators;
  ProcessOptions options;
  options.argv = std::move(argv);
  options.environment = environment(mount, std::nullopt);
  auto spawned = Process::spawn(executor_, std::move(options));
  if (!spawned) co_return spawned.error();
  auto& process = **spawned;
  running_ = process.pid();
  std::string output;
  auto collect = [](Process& child, std::string& out) -> Task<int> {
    for (;;) {
      std::string piece = co_await child.read_output();
      if (piece.empty()) break;
      out += piece;
      if (out.size() > kOutputKept) out.erase(0, out.size() - kOutputKept);
    }
    co_return co_await child.wait();
  };
  std::optional<int> status;
  if (limit) {
    auto outcome = co_await (collect(process, output) || sleep_for(*limit));
    if (outcome.index() == 0) status = std::get<0>(outcome);
  } else {
    status = co_await collect(process, output);
  }
  running_ = 0;
  if (!status) {
    process.signal_group(SIGKILL);
    co_await process.wait();
    co_return make_error(
        NetErrc::kTimedOut,
        "no answer within " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*limit).count()) +
            " s");
  }
  if (interrupted_)
    co_return make_error(NetErrc::kProtocol, "interrupted: the attempt was cancelled");
  if (*status != 0) co_return make_error(NetErrc::kProtocol, last_reason(output));
  co_return output;
}

Task<Result<void>> AttemptMounts::establish(std::vector<BucketMount> mounts) {
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    if (interrupted_) co_return mount_failure(mounts[i], "interrupted: the attempt was cancelled");
    const auto started = std::chrono::steady_clock::now();
    auto done = co_await establish_one(mounts[i], i);
    if (!done) {
      log_.append("[skylet: " + done.error().detail + "]\n");
      logger("skylet")->error(
          "bucket mount failed attempt={} bucket={} destination={} error=\"{}\"", attempt_id_,
          mounts[i].bucket, mounts[i].destination, done.error().detail);
      co_return done.error();
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    log_.append("[skylet: bucket " + mounts[i].bucket + " ready at " + mounts[i].destination +
                " (" + std::string(to_string(mounts[i].mode)) + ", " +
                std::to_string(took.count()) + " ms)]\n");
    logger("skylet")->info("bucket ready attempt={} bucket={} destination={} mode={} ms={}",
                           attempt_id_, mounts[i].bucket, mounts[i].destination,
                           to_string(mounts[i].mode), took.count());
  }
  co_return Result<void>{};
}

Task<Result<void>> AttemptMounts::establish_one(const BucketMount& mount, std::size_t index) {
  const std::string target = resolve_on_node(mount.destination, options_.home);
  if (mount.store == Store::kGcs && !options_.credentials.has_gcs()) {
    co_return mount_failure(mount,
                            "no GCS credentials on this node: skylet has neither "
                            "--gcs-credentials (a service-account key) nor a GCE metadata server "
                            "(--metadata-url with --metadata-flavor gce)");
  }
  // The bucket answers with these credentials: a missing bucket or a refused key fails here, with
  // S3's reason, instead of as an empty or broken mount.
  auto checked =
      co_await run_rclone(check_argv(options_.rclone, mount), mount, options_.mount_timeout);
  if (!checked) co_return mount_failure(mount, checked.error().detail);

  std::function<std::string()> make_dir = [target, user = user_] {
    std::error_code ec;
    fs::create_directories(target, ec);
    if (ec) return "cannot make " + target + ": " + ec.message();
    if (user && ::chown(target.c_str(), user->uid, user->gid) != 0)
      return "cannot give " + target + " to uid " + std::to_string(user->uid);
    return std::string();
  };
  if (auto made = co_await run_blocking<std::string>(std::move(make_dir)); !made.empty())
    co_return mount_failure(mount, made);

  if (mount.mode != MountMode::kCopy) co_return co_await start_mount(mount, index, target);

  auto copied = co_await run_rclone(copy_argv(options_.rclone, mount, target), mount, std::nullopt);
  if (!copied) co_return mount_failure(mount, copied.error().detail);
  if (user_) {
    // rclone wrote as root: the copy is the task user's, as an upload would be.
    std::function<std::string()> give = [target, user = *user_] {
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(target, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (::lchown(it->path().c_str(), user.uid, user.gid) != 0)
          return "cannot give " + it->path().string() + " to uid " + std::to_string(user.uid);
      }
      return ec ? "cannot walk " + target + ": " + ec.message() : std::string();
    };
    if (auto given = co_await run_blocking<std::string>(std::move(give)); !given.empty())
      co_return mount_failure(mount, given);
  }
  co_return Result<void>{};
}

Task<Result<void>> AttemptMounts::start_mount(const BucketMount& mount, std::size_t index,
                                              const std::string& mountpoint) {
  auto live = std::make_unique<Live>();
  live->mount = mount;
  live->mountpoint = mountpoint;
  live->output_file = attempt_dir_ + "/rclone-" + std::to_string(index) + ".log";
  live->record = options_.records_dir + "/" + attempt_id_ + "." + std::to_string(index);
  if (mount.mode == MountMode::kMountCached)
    live->control = RcloneRemoteControl{"skylet", random_hex(24)};

  MountOwner owner;
  const UserIdentity self = own_identity();
  owner.uid = user_ ? user_->uid : self.uid;
  owner.gid = user_ ? user_->gid : self.gid;
  owner.other_than_rclone = owner.uid != self.uid;
  ProcessOptions options;
  const bool over_mount_point = has_mount(read_small_file("/proc/self/mountinfo"), mountpoint);
  options.argv = mount_argv(options_.rclone, mount, mountpoint, owner,
                            attempt_dir_ + "/cache-" + std::to_string(index), over_mount_point);
  options.environment = environment(mount, live->control);
  options.capture_output = false;
  options.output_file = live->output_file;
  auto spawned = Process::spawn(executor_, std::move(options));
  if (!spawned) co_return mount_failure(mount, spawned.error().message());
  live->rclone = std::move(*spawned);
  // Recorded before anything can go wrong: a skylet killed from here on finds it on restart.
  auto recorded = write_small_file(live->record,
                                   std::to_string(live->rclone->pid()) + "\n" + mountpoint + "\n");
  if (!options_.pgid_file.empty())
    std::ofstream(options_.pgid_file, std::ios::app) << live->rclone->pid() << "\n";
  Live& mounting = *live;
  live_.push_back(std::move(live));
  if (!recorded)
    co_return mount_failure(mount, "cannot record the mount: " + recorded.error().detail);

  // The mount is there when the kernel lists it; a cached mount also needs its remote control.
  const auto deadline = std::chrono::steady_clock::now() + options_.mount_timeout;
  for (;;) {
    const bool mounted = has_rclone_mount(read_small_file("/proc/self/mountinfo"), mountpoint);
    if (mounting.control && !mounting.rc_port)
      mounting.rc_port = rc_port_in(head_of(mounting.output_file));
    if (mounted && (!mounting.control || mounting.rc_port)) co_return Result<void>{};
    std::string reason;
    if (interrupted_) {
      reason = "interrupted: the attempt was cancelled";
    } else if (mounting.rclone->exited()) {
      reason = last_reason(tail_of(mounting.output_file));
      if (reason.empty())
        reason = "rclone exited with status " + std::to_string(*mounting.rclone->exit_status());
    } else if (std::chrono::steady_clock::now() >= deadline) {
      reason =
          "the mount did not appear within " +
          std::to_string(
              std::chrono::duration_cast<std::chrono::seconds>(options_.mount_timeout).count()) +
          " s";
      if (const auto said = last_reason(tail_of(mounting.output_file)); !said.empty())
        reason += " (rclone: " + said + ")";
    }
    if (!reason.empty()) co_return mount_failure(mount, reason);
    // Notices the exit between polls too (the pidfd reaps it).
    using namespace asio::experimental::awaitable_operators;
    co_await (mounting.rclone->wait() || sleep_for(kPollInterval));
  }
}

Task<void> AttemptMounts::drain(Live& live) {
  http::Client client(executor_);
  http::Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = *live.rc_port;
  const auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
  const auto started = std::chrono::steady_clock::now();
  // A file closed as its task was killed reaches rclone a moment later: two quiet answers in a row.
  int quiet = 0;
  std::optional<PendingUploads> last;
  while (std::chrono::steady_clock::now() < deadline && !live.rclone->exited()) {
    http::Request request;
    request.method = "POST";
    request.target = "/vfs/stats";
    request.headers.emplace_back("Authorization", basic_authorization(*live.control));
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = "{}";
    auto response = co_await client.request(endpoint, request, {std::chrono::seconds(5)});
    if (response && response->status == 200) {
      last = parse_vfs_stats(response->body);
      quiet = last && last->none() ? quiet + 1 : 0;
      if (quiet >= 2) break;
    }
    co_await sleep_for(kDrainPollInterval);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (quiet >= 2) {
    log_.append("[skylet: bucket " + live.mount.bucket + " at " + live.mount.destination +
                ": cache drained in " + std::to_string(took.count()) + " ms]\n");
    logger("skylet")->info("bucket cache drained attempt={} bucket={} ms={}", attempt_id_,
                           live.mount.bucket, took.count());
  } else {
    const std::string pending =
        last ? std::to_string(last->queued + last->in_progress) + " uploads still pending"
             : "no answer from rclone";
    log_.append("[skylet: bucket " + live.mount.bucket + " at " + live.mount.destination +
                ": cache NOT drained (" + pending + ") after " + std::to_string(took.count()) +
                " ms; unmounting]\n");
    logger("skylet")->error("bucket cache not drained attempt={} bucket={} pending=\"{}\"",
                            attempt_id_, live.mount.bucket, pending);
  }
}

Task<void> AttemptMounts::unmount(Live& live) {
  using namespace asio::experimental::awaitable_operators;
  // Unmounted, rclone exits by itself; busy (a process still in the mount), lazily.
  if (!co_await fusermount(executor_, live.mountpoint, false))
    co_await fusermount(executor_, live.mountpoint, true);
  if (!live.rclone->exited()) {
    live.rclone->signal_group(SIGTERM);
    co_await (live.rclone->wait() || sleep_for(kExitGrace));
    if (!live.rclone->exited()) live.rclone->signal_group(SIGKILL);
    co_await live.rclone->wait();
  }
  std::error_code ignored;
  fs::remove(live.record, ignored);
  logger("skylet")->info("bucket unmounted attempt={} bucket={} destination={}", attempt_id_,
                         live.mount.bucket, live.mount.destination);
}

Task<void> AttemptMounts::release() {
  // The last mounted first: a mount inside another's destination goes before it.
  while (!live_.empty()) {
    std::unique_ptr<Live> live = std::move(live_.back());
    live_.pop_back();
    if (live->control && live->rc_port && !live->rclone->exited()) co_await drain(*live);
    co_await unmount(*live);
  }
}

Task<void> sweep_leftover_mounts(asio::any_io_executor executor, std::string records_dir) {
  std::error_code ec;
  fs::create_directories(records_dir, ec);
  std::vector<fs::path> records;
  for (const auto& entry : fs::directory_iterator(records_dir, ec)) records.push_back(entry.path());
  for (const auto& record : records) {
    const std::string text = read_small_file(record.string());
    const auto newline = text.find('\n');
    const pid_t pid = static_cast<pid_t>(std::atol(text.substr(0, newline).c_str()));
    std::string mountpoint =
        newline == std::string::npos ? std::string() : text.substr(newline + 1);
    while (!mountpoint.empty() && mountpoint.back() == '\n') mountpoint.pop_back();
    if (!mountpoint.empty()) co_await fusermount(executor, mountpoint, true);
    if (pid > 0 && is_rclone_mount_of(pid, mountpoint)) {
      ::kill(-pid, SIGKILL);  // it led its own group
      ::kill(pid, SIGKILL);
    }
    fs::remove(record, ec);
    logger("skylet")->warn("leftover bucket mount removed mountpoint={} rclone_pid={}", mountpoint,
                           pid);
  }
}

}  // namespace skyd::skylet
