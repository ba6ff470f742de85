#pragma once
// A real skylet on loopback for tests and benchmarks (SkyletNode), its HTTP API over curl as the
// controller speaks it (SkyletApi), and the pieces of an attempt with bucket mounts.

#include "reactor/json.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace skyd::testing {

// The bearer token every SkyletNode is started with.
inline constexpr const char* kSkyletToken = "bucket-mounts-test-token-0123456789";

// A mount of this process's namespace, as /proc/self/mountinfo lists it.
struct MountEntry {
  std::string point;  // the fifth field
  std::string type;   // the first field after " - ", e.g. fuse.rclone
};

inline std::vector<MountEntry> current_mounts() {
  std::vector<MountEntry> mounts;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, device, root;
    MountEntry mount;
    fields >> id >> parent >> device >> root >> mount.point;
    const auto separator = line.find(" - ");
    if (separator != std::string::npos)
      std::istringstream(line.substr(separator + 3)) >> mount.type;
    mounts.push_back(std::move(mount));
  }
  return mounts;
}

inline bool mounted_at(const std::string& path) {
  const auto mounts = current_mounts();
  return std::any_of(mounts.begin(), mounts.end(),
                     [&](const MountEntry& mount) { return mount.point == path; });
}

// The skylet API over curl, as the controller speaks it (bearer token, JSON).
class SkyletApi {
 public:
  SkyletApi(const TempDir& dir, std::string url) : dir_(dir), url_(std::move(url)) {}

  Json call(const std::string& method, const std::string& target, const std::string& body = "") {
    std::vector<std::string> argv = {
        "/usr/bin/curl", "-s", "-X",
        method,          "-H", std::string("Authorization: Bearer ") + kSkyletToken};
    if (!body.empty()) {
      const std::string file = dir_.file("request.json");
      std::ofstream(file, std::ios::trunc) << body;
      argv.insert(argv.end(),
                  {"-H", "Content-Type: application/json", "--data-binary", "@" + file});
    }
    argv.push_back(url_ + target);
    const auto answer = run_command(argv, {}, std::chrono::minutes(3));
    auto json = parse_json(answer.out);
    return json ? *json : Json();
  }
  Json start(const Json& attempt) { return call("POST", "/tasks", attempt.dump()); }
  Json status(const std::string& id) { return call("GET", "/tasks/" + id); }
  Json cancel(const std::string& id) { return call("POST", "/tasks/" + id + "/signal", "{}"); }
  std::string log(const std::string& id) {
    return run_command({"/usr/bin/curl", "-s", "-H",
                        std::string("Authorization: Bearer ") + kSkyletToken,
                        url_ + "/tasks/" + id + "/logs?offset=0"})
        .out;
  }
  // A GET whose answer keeps its headers (curl -D -), for the long polls' X- headers.
  CommandResult get_with_headers(const std::string& target) {
    return run_command({"/usr/bin/curl", "-s", "-D", "-", "-H",
                        std::string("Authorization: Bearer ") + kSkyletToken, url_ + target},
                       {}, std::chrono::minutes(2));
  }
  std::string phase(const std::string& id) {
    const Json body = status(id);
    const Json* phase = body.find("phase");
    return phase && phase->as_string() ? std::string(*phase->as_string()) : std::string();
  }
  // Polls until the attempt's phase is one of `phases`; the phase it ended with.
  std::string wait_phase(const std::string& id, const std::vector<std::string>& phases,
                         std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::string now;
    const bool reached = poll_until(
        [&] {
          now = phase(id);
          return std::find(phases.begin(), phases.end(), now) != phases.end();
        },
        limit);
    return reached ? now : "timed out in " + now;
  }
  std::string wait_finished(const std::string& id,
                            std::chrono::seconds limit = std::chrono::seconds(60)) {
    return wait_phase(id, {"SUCCEEDED", "FAILED", "FAILED_SETUP", "FAILED_MOUNT", "CANCELLED"},
                      limit);
  }
  bool wait_log(const std::string& id, const std::string& text,
                std::chrono::seconds limit = std::chrono::seconds(30)) {
    return poll_until([&] { return contains(log(id), text); }, limit);
  }

 private:
  const TempDir& dir_;
  std::string url_;

  // skylet has no push for phases or log lines: asks every 100 ms until `done` or `limit`.
  static bool poll_until(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
};

// A skylet on loopback with its own work directory; restartable on the same directory.
class SkyletNode {
 public:
  SkyletNode(const TempDir& dir, std::string name, std::vector<std::string> extra = {})
      : dir_(dir), name_(std::move(name)), extra_(std::move(extra)) {
    std::filesystem::create_directories(dir.file(name_));
    std::ofstream(dir.file(name_ + "/token")) << kSkyletToken;
    start();
  }

  void start() {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> argv = {binary_path("skylet"),
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--token-file",
                                     dir_.file(name_ + "/token"),
                                     "--work-dir",
                                     dir_.file(name_ + "/work"),
                                     "--ready-fd",
                                     std::to_string(fds[1]),
                                     "--cancel-grace-ms",
                                     "300",
                                     "--mount-timeout-ms",
                                     "15000"};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    child_.reset();
    child_ = std::make_unique<ChildProcess>(
        argv, std::map<std::string, std::string>{{"HOME", dir_.file(name_)}},
        dir_.file(name_ + "/skylet.log"));
    ::close(fds[1]);
    pollfd ready{fds[0], POLLIN, 0};
    ::poll(&ready, 1, 20000);
    char buffer[32] = {};
    const auto n = ::read(fds[0], buffer, sizeof buffer - 1);
    ::close(fds[0]);
    const int port = n > 0 ? std::atoi(buffer) : 0;
    if (port == 0) throw std::runtime_error("skylet did not start (see " + name_ + "/skylet.log)");
    api_ = std::make_unique<SkyletApi>(dir_, "http://127.0.0.1:" + std::to_string(port));
  }
  // The machine goes with everything on it: skylet, then whatever tasks a killed skylet left.
  ~SkyletNode() {
    child_.reset();
    std::ifstream groups(dir_.file(name_ + "/work/pgids"));
    for (pid_t group = 0; groups >> group;)
      if (group > 0) ::kill(-group, SIGKILL);
  }
  SkyletNode(const SkyletNode&) = delete;
  SkyletNode& operator=(const SkyletNode&) = delete;

  void stop() {
    child_->signal(SIGTERM);
    child_->wait(std::chrono::minutes(2));
  }
  void kill_hard() {
    child_->signal(SIGKILL);
    child_->wait(std::chrono::seconds(10));
  }
  SkyletApi& api() { return *api_; }
  std::string log() { return read_text(dir_.file(name_ + "/skylet.log")); }

 private:
  const TempDir& dir_;
  std::string name_;
  std::vector<std::string> extra_;
  std::unique_ptr<ChildProcess> child_;
  std::unique_ptr<SkyletApi> api_;
};

inline Json bucket_mount(const std::string& destination, const std::string& mode,
                         const std::string& bucket, const std::string& prefix,
                         const std::string& endpoint) {
  Json mount = Json::object();
  mount.set("destination", destination);
  mount.set("mode", mode);
  mount.set("store", "s3");
  mount.set("bucket", bucket);
  mount.set("prefix", prefix);
  mount.set("endpoint", endpoint);
  mount.set("region", "us-east-1");
  return mount;
}

inline Json attempt(const std::string& id, const std::string& run, const Json& mount,
                    const std::string& setup = "") {
  Json body = Json::object();
  body.set("attempt_id", id);
  body.set("setup", setup);
  body.set("run", run);
  Json mounts = Json::array();
  mounts.push_back(mount);
  body.set("mounts", std::move(mounts));
  return body;
}

// The S3 keys skylet is given privately: a 0600 file in AWS's shared-credentials format.
inline std::string credentials_file(const TempDir& dir, const std::string& name,
                                    const std::string& key, const std::string& secret) {
  const std::string path = dir.file(name);
  std::ofstream(path) << "[default]\naws_access_key_id = " << key
                      << "\naws_secret_access_key = " << secret << "\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

}  // namespace skyd::testing
