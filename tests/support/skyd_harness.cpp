#include "tests/support/skyd_harness.hpp"

#include "reactor/http_client.hpp"
#include "reactor/json.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace skyd::testing {
namespace fs = std::filesystem;

namespace {

// The process groups the local machines' skylets started for their tasks (each sandbox's
// work/pgids): they live in sessions of their own, so killing a skylet does not end them.
void kill_task_groups(const std::string& clusters_dir) {
  std::error_code ec;
  for (const auto& cluster : fs::directory_iterator(clusters_dir, ec)) {
    for (const auto& node : fs::directory_iterator(cluster.path(), ec)) {
      std::ifstream groups(node.path() / "work" / "pgids");
      pid_t group = 0;
      while (groups >> group) {
        if (group > 1) ::kill(-group, SIGKILL);
      }
    }
  }
}

}  // namespace

SkydHarness::SkydHarness(std::map<std::string, std::string> settings, Environment environment)
    : environment_(std::move(environment.variables)) {
  // 0755 so the embedded PostgreSQL (run as `postgres` when the tests are root) keeps its data
  // here.
  ::chmod(dir_.path().c_str(), 0755);
  state_dir_ = dir_.file("state");
  fs::create_directories(state_dir_);
  ::chmod(state_dir_.c_str(), 0755);
  std::map<std::string, std::string> config = {{"shards", "2"},
                                               {"log_level", "info"},
                                               {"launch_backoff", "200ms"},
                                               {"node_lost_after", "2s"},
                                               {"failure_check_grace", "200ms"},
                                               {"local_preemption_grace", "1s"},
                                               {"skylet_binary", binary_path("skylet")}};
  for (const auto& [key, value] : settings) config[key] = value;
  std::string text;
  for (const auto& [key, value] : config) text += key + ": \"" + value + "\"\n";
  config_ = write_file("skyd.yaml", text);
  start();
}

SkydHarness::~SkydHarness() {
  if (skyd_) {
    // Cancel whatever is still open so no machine outlives the test, then stop.
    sky({"jobs", "cancel", "-u", "-y"}, std::chrono::seconds(30));
    for (int i = 0; i < 300 && !running_skylets().empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop();
  }
  // After a crash of skyd nothing stopped the machines: the test does, tasks included.
  for (int pid : running_skylets()) ::kill(pid, SIGKILL);
  kill_task_groups(state_dir_ + "/local/clusters");
  // A skyd that crashed leaves its PostgreSQL running; its data directory goes with the test.
  if (const int postmaster = postmaster_pid(); process_alive(postmaster))
    ::kill(postmaster, SIGQUIT);
}

void SkydHarness::start() {
  notify_ = std::make_unique<NotifyListener>(dir_.file("notify-" + std::to_string(starts_)));
  auto environment = environment_;
  environment["NOTIFY_SOCKET"] = notify_->path();
  skyd_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{binary_path("skyd"), "--state-dir", state_dir_, "--config", config_},
      environment, dir_.file("skyd-" + std::to_string(starts_++) + ".log"));
  if (!notify_->wait_for("READY=1", std::chrono::seconds(60))) {
    throw std::runtime_error("skyd did not become ready; see " + dir_.path());
  }
}

std::optional<int> SkydHarness::stop() {
  if (!skyd_) return std::nullopt;
  skyd_->signal(SIGTERM);
  auto status = skyd_->wait(std::chrono::seconds(60));
  skyd_.reset();
  return status;
}

int SkydHarness::pid() const {
  return skyd_ ? skyd_->pid() : -1;
}

int SkydHarness::postmaster_pid() const {
  const std::string text = read_text(state_dir_ + "/postgres/data/postmaster.pid");
  const int pid = std::atoi(text.c_str());
  return pid > 0 ? pid : -1;
}

void SkydHarness::kill() {
  if (!skyd_) return;
  skyd_->signal(SIGKILL);
  skyd_->wait(std::chrono::seconds(30));
  skyd_.reset();
}

CommandResult SkydHarness::sky(const std::vector<std::string>& args,
                               std::chrono::milliseconds limit) {
  std::vector<std::string> argv{binary_path("sky"), "--socket", socket()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {}, limit);
}

namespace {
Task<Result<http::Response>> call_api(http::Endpoint endpoint, http::Request request) {
  // The executor first: a defaulted ClientOptions next to a co_await is destroyed twice by g++ 12.
  auto executor = co_await asio::this_coro::executor;
  http::Client client(executor);
  const http::RequestOptions options{std::chrono::seconds(60)};
  co_return co_await client.request(std::move(endpoint), std::move(request), options);
}
}  // namespace

ApiReply http_request(const http::Endpoint& endpoint, const std::string& method,
                      const std::string& target, const std::string& body) {
  http::Request request;
  request.method = method;
  request.target = target;
  request.body = body;
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  const auto started = std::chrono::steady_clock::now();
  auto response = run_co<Result<http::Response>>([&] { return call_api(endpoint, request); },
                                                 std::chrono::seconds(90));
  ApiReply reply;
  reply.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (!response) {
    reply.message = response.error().message();
    return reply;
  }
  reply.status = response->status;
  reply.body = response->body;
  reply.message = http::error_message_of(*response);
  for (const auto& [name, value] : response->headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[lower] = value;
  }
  return reply;
}

ApiReply SkydHarness::api(const std::string& method, const std::string& target,
                          const std::string& body) {
  return http_request(http::Endpoint::unix_socket(socket()), method, target, body);
}

std::string SkydHarness::write_file(const std::string& name, const std::string& text) const {
  const std::string path = dir_.file(name);
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
  return path;
}

std::string SkydHarness::job_json(long long id) {
  auto reply = api("GET", "/v1/jobs/" + std::to_string(id));
  return reply.status == 200 ? reply.body : std::string();
}

std::optional<std::string> SkydHarness::job_status(long long id) {
  auto job = parse_json(job_json(id));
  if (!job || !job->find("status")) return std::nullopt;
  return std::string(*job->find("status")->as_string());
}

CommandResult SkydHarness::preempt(long long id) {
  wait_for_status(id, {"RUNNING"});
  return sky({"jobs", "preempt", std::to_string(id)});
}

bool SkydHarness::wait_for_status(long long id, const std::vector<std::string>& statuses,
                                  std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto status = job_status(id)) {
      for (const auto& wanted : statuses) {
        if (*status == wanted) return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::map<long long, std::string> SkydHarness::job_statuses() {
  std::map<long long, std::string> statuses;
  auto reply = parse_json(api("GET", "/v1/jobs?limit=1000000").body);
  const Json* listed = reply ? reply->find("jobs") : nullptr;
  if (!listed || !listed->as_array()) return statuses;
  for (const auto& job : *listed->as_array()) {
    const Json* id = job.find("id");
    const Json* status = job.find("status");
    if (id && id->as_int() && status)
      statuses[*id->as_int()] = std::string(status->as_string().value_or(""));
  }
  return statuses;
}

bool SkydHarness::wait_for_all_jobs(std::size_t count, const std::string& status,
                                    std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto statuses = job_statuses();
    bool all = statuses.size() == count;
    for (const auto& [id, seen] : statuses) all = all && seen == status;
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

JobGates::JobGates(std::string dir) : dir_(std::move(dir)) {
  fs::create_directories(dir_);
}

JobGates::~JobGates() {
  for (const auto& [name, fd] : held_) ::close(fd);
}

void JobGates::close(const std::string& name) {
  const int fd = ::open((dir_ + "/" + name).c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0666);
  if (fd < 0 || ::flock(fd, LOCK_EX) != 0) throw std::runtime_error("cannot lock gate " + name);
  held_[name] = fd;
}

void JobGates::open(const std::string& name) {
  ::close(held_.at(name));
  held_.erase(name);
}

bool SkydHarness::wait_for_file(const std::string& path, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

bool SkydHarness::no_machines_left(std::chrono::milliseconds limit) const {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!running_skylets().empty()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

std::string SkydHarness::sql(const std::string& query) const {
  auto rows = run_command({program_on_path("psql"), "-h", state_dir_ + "/postgres", "-U",
                           "postgres", "-d", "skyd", "-AtF", " ", "-c", query});
  EXPECT_EQ(rows.exit_code, 0) << query << ": " << rows.err;
  return rows.out;
}

std::vector<int> SkydHarness::running_skylets() const {
  // A local machine's skylet carries SKYD_LOCAL_MACHINE and its sandbox under our state dir.
  std::vector<int> pids;
  const std::string root = state_dir_ + "/local/";
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::string text;
    try {  // the process may end while we read it
      std::ifstream cmdline(entry.path() / "cmdline");
      text.assign(std::istreambuf_iterator<char>(cmdline), std::istreambuf_iterator<char>());
    } catch (const std::exception&) {
      continue;
    }
    if (text.find("skylet") == std::string::npos || text.find(root) == std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string stat_text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = stat_text.rfind(')');
    if (close != std::string::npos && close + 2 < stat_text.size() && stat_text[close + 2] == 'Z')
      continue;
    pids.push_back(std::stoi(name));
  }
  return pids;
}

std::string slow_skylet(const TempDir& dir, int seconds) {
  const std::string path = dir.file("slow-skylet.sh");
  std::ofstream(path) << "#!/bin/sh\nsleep " << seconds << "\nexec " << binary_path("skylet")
                      << " \"$@\"\n";
  ::chmod(path.c_str(), 0755);
  ::chmod(dir.path().c_str(), 0755);
  return path;
}

}  // namespace skyd::testing
