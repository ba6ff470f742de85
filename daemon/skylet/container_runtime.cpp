#include "daemon/skylet/container_runtime.hpp"

#include "providers/container_record.hpp"
#include "reactor/log.hpp"
#include "reactor/process.hpp"
#include "reactor/small_files.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace skyd::skylet {
namespace {

constexpr auto kProbeTimeout = std::chrono::seconds(20);

// The program's path: itself when it names a path, else the first executable on PATH.
std::optional<std::string> program_path(const std::string& name, const std::string& path_list) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  std::stringstream dirs(path_list.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_list);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// Whether `PROGRAM version` exits 0 within the probe's time; else why not.
Task<std::string> probe(asio::any_io_executor executor, const std::string& program,
                        std::vector<std::string> environment) {
  using namespace asio::experimental::awaitable_operators;
  ProcessOptions options;
  options.argv = {program, "version"};
  options.environment = std::move(environment);
  auto spawned = Process::spawn(executor, std::move(options));
  if (!spawned) co_return spawned.error().message();
  auto& process = **spawned;
  std::string output;
  auto read_all = [&]() -> Task<void> {
    for (;;) {
      std::string piece = co_await process.read_output();
      if (piece.empty()) co_return;
      if (output.size() < 4096) output += piece;
    }
  };
  asio::steady_timer timer(executor, kProbeTimeout);
  auto outcome = co_await (read_all() || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (outcome.index() == 1) {
    process.signal_group(SIGKILL);
    co_await process.wait();
    co_return "`" + program + " version` did not answer within 20 s";
  }
  const int code = co_await process.wait();
  if (code == 0) co_return std::string();
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  if (output.size() > 300) output = output.substr(output.size() - 300);
  co_return "`" + program + " version` exited " + std::to_string(code) + ": " + output;
}

}  // namespace

Task<Result<std::string>> ContainerRuntime::find(asio::any_io_executor executor) {
  if (found_) co_return *found_;
  std::vector<std::string> names;
  if (name_.empty()) {
    names = {"docker", "podman"};
  } else {
    names = {name_};
  }
  std::vector<std::string> environment;
  for (const auto& [key, value] : environment_) environment.push_back(key + "=" + value);
  const auto path_entry = environment_.find("PATH");
  const std::string path_list = path_entry == environment_.end() ? "" : path_entry->second;
  std::string tried;
  for (const auto& name : names) {
    const auto program = program_path(name, path_list);
    std::string why;
    if (!program) {
      why = name + " is not installed";
    } else {
      why = co_await probe(executor, *program, environment);
      if (why.empty()) {
        logger("skylet")->info("container runtime found program={}", *program);
        found_ = *program;
        co_return *program;
      }
    }
    tried += (tried.empty() ? "" : "; ") + why;
  }
  co_return make_error(NetErrc::kProtocol, tried);
}

std::vector<std::string> container_run_argv(const ContainerRun& run) {
  std::vector<std::string> argv = {run.runtime};
  argv.insert(argv.end(), run.before_command.begin(), run.before_command.end());
  argv.push_back("run");
  argv.insert(argv.end(), run.after_command.begin(), run.after_command.end());
  argv.insert(argv.end(),
              {"--rm", "--name", run.name,
               // A local image is used as it is; another is pulled once.
               "--pull=missing",
               // As the task on the host would: the node's network.
               "--network", "host",
               // Never root on behalf of a user.
               "--user", std::to_string(run.user.uid) + ":" + std::to_string(run.user.gid)});
  if (run.keep_id) argv.push_back("--userns=keep-id");
  if (run.gpus && std::filesystem::path(run.runtime).filename() == "podman") {
    argv.insert(argv.end(), {"--device", "nvidia.com/gpu=all"});
  } else if (run.gpus) {
    argv.insert(argv.end(), {"--gpus", "all"});
  }
  for (const gid_t group : run.user.groups) {
    if (group == run.user.gid) continue;
    argv.insert(argv.end(), {"--group-add", std::to_string(group)});
  }
  if (!run.workdir.empty()) {
    argv.insert(argv.end(), {"-v", run.workdir + ":" + run.workdir, "-w", run.workdir});
  }
  for (const auto& path : run.binds) argv.insert(argv.end(), {"-v", path + ":" + path});
  for (const auto& name : run.env_names) argv.insert(argv.end(), {"-e", name});
  for (const auto& [name, value] : run.env_literal) {
    argv.insert(argv.end(), {"-e", name + "=" + value});
  }
  argv.push_back(run.image);
  // bash when the image has it (task scripts are written for bash), else the POSIX shell. The
  // line is constant: the script's path arrives as $0, never inside it.
  argv.insert(
      argv.end(),
      {"/bin/sh", "-c", "if [ -x /bin/bash ]; then exec /bin/bash \"$0\"; fi; exec /bin/sh \"$0\"",
       run.script});
  return argv;
}

bool is_runtime_variable(const std::string& name) {
  static const std::vector<std::string> exact = {
      "PATH", "HOME", "TMPDIR", "USER", "LOGNAME", "SHELL", "LANG", "REGISTRY_AUTH_FILE"};
  for (const auto& entry : exact)
    if (name == entry) return true;
  return name.starts_with("XDG_") || name.starts_with("CONTAINERS_") ||
         name.starts_with("DOCKER_") || name.starts_with("LC_");
}

Task<void> sweep_leftover_containers(asio::any_io_executor executor, std::string record,
                                     std::map<std::string, std::string> environment) {
  std::vector<std::string> entries;
  for (const auto& [key, value] : environment) entries.push_back(key + "=" + value);
  const std::string text = read_small_file(record);
  for (const auto& leftover : parse_container_record(text)) {
    // Already gone (removed with its step) is the usual case.
    auto removed = co_await remove_recorded_container(executor, leftover, entries);
    if (removed) logger("skylet")->info("leftover container removed name={}", leftover.name);
  }
  std::ofstream(record, std::ios::trunc);
}

bool valid_runtime_name(const std::string& name) {
  if (name.empty()) return false;
  if (name.front() == '/') return name.find('\0') == std::string::npos;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace skyd::skylet
