#include "daemon/skylet/attempt.hpp"

#include "providers/container_record.hpp"

#include "daemon/skylet/line_prefix.hpp"
#include "daemon/skylet/progress_file.hpp"
#include "daemon/skylet/uploads.hpp"
#include "reactor/blocking.hpp"
#include "reactor/file_names.hpp"
#include "reactor/log.hpp"
#include "reactor/process.hpp"
#include "reactor/sleep.hpp"
#include "reactor/small_files.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <utility>

namespace skyd::skylet {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool has_nul(std::string_view text) {
  return text.find('\0') != std::string_view::npos;
}

// Environment variables reach execve as "KEY=VALUE" C strings: a key must be a name there.
Result<std::map<std::string, std::string>> string_map(const Json* value, const char* field) {
  std::map<std::string, std::string> out;
  if (!value || value->is_null()) return out;
  if (!value->is_object())
    return make_error(NetErrc::kProtocol, std::string(field) + " must be an object");
  for (const auto& [key, item] : *value->as_object()) {
    if (key.empty() || key.find('=') != std::string::npos || has_nul(key))
      return make_error(NetErrc::kProtocol,
                        std::string(field) + ": a key must be a name without '=' or NUL");
    if (!item.as_string())
      return make_error(NetErrc::kProtocol, std::string(field) + "." + key + " must be a string");
    if (has_nul(*item.as_string()))
      return make_error(NetErrc::kProtocol, std::string(field) + "." + key + " holds a NUL byte");
    out[key] = std::string(*item.as_string());
  }
  return out;
}

Result<std::string> string_field(const Json& body, const char* field) {
  const Json* value = body.find(field);
  if (!value || value->is_null()) return std::string();
  if (!value->as_string())
    return make_error(NetErrc::kProtocol, std::string(field) + " must be a string");
  if (has_nul(*value->as_string()))
    return make_error(NetErrc::kProtocol, std::string(field) + " holds a NUL byte");
  return std::string(*value->as_string());
}

// Forwards output to the log until the pipe closes, each line prefixed when a prefix is given.
Task<void> pump(Process& process, AttemptLog& log, std::optional<LinePrefixer> prefixer) {
  for (;;) {
    std::string piece = co_await process.read_output();
    if (piece.empty()) co_return;
    log.append(prefixer ? prefixer->apply(piece) : piece);
  }
}

// A background process may keep the pipe open after the script exits: give the output a moment
// to finish after the exit, then stop reading.
Task<void> linger_after_exit(Process& process) {
  co_await process.wait();
  co_await sleep_for(std::chrono::seconds(2));
}

std::string attempt_dir(const NodePaths& paths, const std::string& attempt_id) {
  return paths.attempts_dir + "/" + attempt_id;
}

std::string prepare_log_path(const NodePaths& paths, const std::string& attempt_id) {
  const std::string dir = attempt_dir(paths, attempt_id);
  std::filesystem::create_directories(dir);
  return dir + "/output.log";
}

}  // namespace

std::string_view to_string(Phase phase) {
  switch (phase) {
    case Phase::kSettingUp:
      return "SETTING_UP";
    case Phase::kReady:
      return "READY";
    case Phase::kRunning:
      return "RUNNING";
    case Phase::kSucceeded:
      return "SUCCEEDED";
    case Phase::kFailed:
      return "FAILED";
    case Phase::kFailedSetup:
      return "FAILED_SETUP";
    case Phase::kFailedMount:
      return "FAILED_MOUNT";
    case Phase::kFailedContainer:
      return "FAILED_CONTAINER";
    case Phase::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

bool is_finished(Phase phase) {
  return phase != Phase::kSettingUp && phase != Phase::kReady && phase != Phase::kRunning;
}

Result<AttemptSpec> AttemptSpec::from_json(const Json& body) {
  AttemptSpec spec;
  auto id = string_field(body, "attempt_id");
  if (!id) return id.error();
  spec.id = std::move(*id);
  if (spec.id.empty()) return make_error(NetErrc::kProtocol, "attempt_id is required");
  // The id names the attempt's directory.
  if (!is_plain_file_name(spec.id, kMaxAttemptIdLength)) {
    return make_error(NetErrc::kProtocol,
                      "attempt_id must be 1-" + std::to_string(kMaxAttemptIdLength) +
                          " of letters, digits, '-', '_' and '.', not starting with '.'");
  }
  for (auto [field, target] :
       {std::pair{"setup", &spec.setup}, std::pair{"run", &spec.run},
        std::pair{"workdir", &spec.workdir}, std::pair{"log_label", &spec.log_label},
        std::pair{"log_ip", &spec.log_ip}}) {
    auto text = string_field(body, field);
    if (!text) return text.error();
    *target = std::move(*text);
  }
  if (const Json* hold = body.find("hold_run")) spec.hold_run = hold->as_bool().value_or(false);
  if (const Json* user = body.find("user"); user && !user->is_null()) {
    auto who = identity_from_json(*user, "user");
    if (!who) return who.error();
    if (!can_switch_users() && who->uid != ::geteuid()) {
      return make_error(NetErrc::kProtocol,
                        "user: this skylet runs as uid " + std::to_string(::geteuid()) +
                            " and cannot run a task as uid " + std::to_string(who->uid));
    }
    spec.user = std::move(*who);
  }
  auto env = string_map(body.find("env"), "env");
  if (!env) return env.error();
  spec.env = std::move(*env);
  auto setup_env = string_map(body.find("setup_env"), "setup_env");
  if (!setup_env) return setup_env.error();
  spec.setup_env = std::move(*setup_env);
  auto image = string_field(body, "container_image");
  if (!image) return image.error();
  // An image reference is one argv word: no option-like start, no whitespace.
  if (image->starts_with("-") || image->find_first_of(" \t\n\r") != std::string::npos) {
    return make_error(NetErrc::kProtocol, "container_image: `" + *image + "` is not an image name");
  }
  spec.container_image = std::move(*image);
  auto mounts = bucket_mounts_from_json(body.find("mounts"));
  if (!mounts) return mounts.error();
  spec.mounts = std::move(*mounts);
  return spec;
}

Attempt::Attempt(asio::any_io_executor executor, AttemptSpec spec, const NodePaths& paths,
                 std::uint64_t log_cap)
    : executor_(executor),
      spec_(std::move(spec)),
      paths_(paths),
      log_(executor, prepare_log_path(paths, spec_.id), log_cap),
      mounts_(executor, paths.mounts, spec_.id, attempt_dir(paths, spec_.id), spec_.user, log_),
      finished_(executor),
      released_(executor),
      started_at_ms_(now_ms()) {
  if (!spec_.hold_run) released_.set();
}

std::string Attempt::progress_path() const {
  return attempt_dir(paths_, spec_.id) + "/progress";
}

std::string Attempt::script_path(bool is_setup) const {
  return attempt_dir(paths_, spec_.id) + (is_setup ? "/setup.sh" : "/run.sh");
}

Task<bool> Attempt::prepare() {
  // Scripts run from files in the attempt's directory, not as `bash -c SCRIPT`: an argument may
  // be at most 128 KiB (MAX_ARG_STRLEN), a script up to 8 MiB. Written off the shard, before
  // run(), so the first step starts without waiting once run() is spawned.
  std::vector<std::pair<std::string, std::string>> files;
  if (!spec_.setup.empty()) files.emplace_back(script_path(true), spec_.setup);
  if (!spec_.run.empty()) files.emplace_back(script_path(false), spec_.run);
  // Empty until the task reports a checkpoint; the task writes it as its own user.
  files.emplace_back(progress_path(), std::string());
  std::function<std::string()> write = [files, user = spec_.user] {
    for (const auto& [path, script] : files) {
      if (auto written = write_small_file(path, script); !written) return written.error().message();
      // The task reads its script as its own user; nobody else can.
      if (user && ::chown(path.c_str(), user->uid, user->gid) != 0)
        return "cannot give " + path + " to uid " + std::to_string(user->uid);
    }
    return std::string();
  };
  const std::string failed = co_await run_blocking<std::string>(std::move(write));
  if (failed.empty()) co_return true;
  log_.append("[skylet: cannot write the task's scripts: " + failed + "]\n");
  phase_ = Phase::kFailed;
  exit_code_ = 127;
  ended_at_ms_ = now_ms();
  log_.close();
  finished_.set();
  logger("skylet")->error("attempt not started id={} error=\"{}\"", spec_.id, failed);
  co_return false;
}

Task<std::optional<int>> Attempt::run_step(bool is_setup) {
  using namespace asio::experimental::awaitable_operators;
  if (cancel_requested_) co_return std::nullopt;  // cancelled before it started: never runs
  auto env = paths_.base_env;
  for (const auto& [key, value] : spec_.env) env[key] = value;
  env["SKYPILOT_PROGRESS_FILE"] = progress_path();
  if (is_setup) {
    for (const auto& [key, value] : spec_.setup_env) env[key] = value;
  }
  std::vector<std::string> environment;
  ProcessOptions options;
  if (spec_.container_image.empty()) {
    for (const auto& [key, value] : env) environment.push_back(key + "=" + value);
    // $0 is the script file's path; there are no positional arguments.
    options.argv = {"/bin/bash", script_path(is_setup)};
    if (spec_.user) options.argv = as_identity(*spec_.user, std::move(options.argv));
  } else {
    // The container gets the task's own variables, not the node's (its PATH, HOME are the
    // image's). Their values reach the runtime through its environment (`-e NAME`), never its
    // command line; a name the runtime reads itself keeps skylet's value there and goes as
    // `-e NAME=VALUE`.
    std::map<std::string, std::string> task_env = spec_.env;
    task_env["SKYPILOT_PROGRESS_FILE"] = progress_path();
    if (is_setup) {
      for (const auto& [key, value] : spec_.setup_env) task_env[key] = value;
    }
    auto runtime_env = paths_.base_env;
    ContainerRun run;
    run.runtime = runtime_;
    run.image = image_;
    run.name = container_name(is_setup);
    run.user = spec_.user ? *spec_.user : own_identity();
    run.workdir = spec_.workdir;
    run.binds.push_back(attempt_dir(paths_, spec_.id));
    for (const auto& mount : spec_.mounts) {
      run.binds.push_back(resolve_on_node(mount.destination, paths_.mounts.home));
    }
    run.script = script_path(is_setup);
    run.keep_id = !can_switch_users() && std::filesystem::path(runtime_).filename() == "podman";
    run.gpus = paths_.container_gpus;
    run.before_command = registry_auth_.before_command;
    run.after_command = registry_auth_.after_command;
    for (const auto& [key, value] : task_env) {
      if (is_runtime_variable(key)) {
        run.env_literal[key] = value;
      } else {
        run.env_names.push_back(key);
        runtime_env[key] = value;
      }
    }
    for (const auto& [key, value] : runtime_env) environment.push_back(key + "=" + value);
    options.argv = container_run_argv(run);
    running_container_ = run.name;
    if (!paths_.containers_file.empty())
      std::ofstream(paths_.containers_file, std::ios::app) << runtime_ << "\t" << run.name << "\n";
  }
  options.environment = std::move(environment);
  options.working_dir = spec_.workdir;
  auto spawned = Process::spawn(executor_, std::move(options));
  if (!spawned) {
    log_.append("[skylet: " + spawned.error().message() + "]\n");
    running_container_.clear();
    co_return 127;
  }
  auto& process = **spawned;
  current_group_ = process.pid();
  std::ofstream(paths_.pgid_file, std::ios::app) << process.pid() << "\n";
  std::optional<LinePrefixer> prefixer;
  if (!spec_.log_label.empty()) {
    prefixer.emplace(node_log_prefix(spec_.log_label, process.pid(), spec_.log_ip, is_setup));
  }
  co_await (pump(process, log_, std::move(prefixer)) || linger_after_exit(process));
  const int code = co_await process.wait();
  // Whatever the script left running in its group ends with it: no orphans.
  if (process_group_alive(process.pid())) ::kill(-process.pid(), SIGKILL);
  current_group_ = 0;
  if (!running_container_.empty()) {
    // `--rm` removes a container that ended; one whose runtime client was killed (a cancel)
    // may still run: it goes too, so nothing outlives the step.
    const std::string name = std::exchange(running_container_, std::string());
    co_await remove_container(name);
  }
  co_return code;
}

std::string Attempt::container_name(bool is_setup) const {
  return "skyd-" + spec_.id + (is_setup ? "-setup" : "-run");
}

Task<void> Attempt::remove_container(std::string name) {
  std::vector<std::string> environment;
  for (const auto& [key, value] : paths_.base_env) environment.push_back(key + "=" + value);
  // Fails harmlessly when `--rm` already removed it.
  RecordedContainer container{runtime_, std::move(name)};
  auto removed = co_await remove_recorded_container(executor_, container, environment);
  if (!removed)
    logger("skylet")->debug("container rm id={} error=\"{}\"", spec_.id, removed.error().detail);
}

Task<Phase> Attempt::run_steps() {
  if (!spec_.setup.empty()) {
    phase_ = Phase::kSettingUp;
    setup_exit_code_ = co_await run_step(true);
    if (cancel_requested_) co_return Phase::kCancelled;
    if (*setup_exit_code_ != 0) co_return Phase::kFailedSetup;
  }
  if (!released_.is_set()) {
    phase_ = Phase::kReady;
    logger("skylet")->info("attempt ready, its run waits to be released id={}", spec_.id);
    co_await released_.wait();
    if (cancel_requested_) co_return Phase::kCancelled;
  }
  phase_ = Phase::kRunning;
  exit_code_ = spec_.run.empty() ? 0 : co_await run_step(false);
  if (cancel_requested_) co_return Phase::kCancelled;
  co_return *exit_code_ == 0 ? Phase::kSucceeded : Phase::kFailed;
}

Task<std::string> Attempt::prepare_container() {
  std::string why = "skylet has no container runtime configured";
  if (paths_.containers) {
    auto found = co_await paths_.containers->find(executor_);
    if (found)
      runtime_ = *found;
    else
      why = found.error().detail;
  }
  const std::string field = "resources.image_id: docker:" + spec_.container_image;
  if (runtime_.empty()) {
    co_return field + " needs a container runtime (docker or podman) on the node; none found (" +
        why + ")";
  }
  image_ = spec_.container_image;
  auto login = registry_login_from(spec_.env);
  if (!login) co_return field + ": " + login.error().detail;
  if (!*login) co_return std::string();
  image_ = image_on_server(image_, (*login)->server);
  if ((*login)->password.empty()) co_return std::string();  // the node's own credentials pull
  const std::string failed = co_await log_in(std::move(**login));
  if (!failed.empty()) co_return field + ": " + failed;
  co_return std::string();
}

Task<std::string> Attempt::log_in(RegistryLogin login) {
  registry_dir_ = attempt_dir(paths_, spec_.id) + "/registry";
  const std::string dir = registry_dir_;
  std::function<std::string()> make = [dir] {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (!ec) std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    return ec ? "cannot make " + dir + ": " + ec.message() : std::string();
  };
  const std::string unmade = co_await run_blocking<std::string>(std::move(make));
  if (!unmade.empty()) co_return unmade;
  registry_auth_ = registry_auth(runtime_, registry_dir_);
  std::vector<std::string> environment;
  for (const auto& [key, value] : paths_.base_env) environment.push_back(key + "=" + value);
  const std::string server = login.server;
  auto logged_in = co_await log_in_to_registry(executor_, runtime_, registry_auth_,
                                               std::move(login), environment);
  if (!logged_in) co_return logged_in.error().detail;
  log_.append("[skylet: logged in to " + server + "]\n");
  co_return std::string();
}

Task<void> Attempt::run() {
  logger("skylet")->info("attempt started id={}", spec_.id);
  std::optional<Phase> outcome;
  if (!spec_.mounts.empty()) {
    auto mounted = co_await mounts_.establish(spec_.mounts);
    if (!mounted && cancel_requested_) {
      outcome = Phase::kCancelled;
    } else if (!mounted) {
      outcome = Phase::kFailedMount;
      mount_error_ = mounted.error().detail;
    }
  }
  if (!outcome && !spec_.container_image.empty()) {
    container_error_ = co_await prepare_container();
    if (!container_error_.empty()) {
      // Never on the node itself instead: the task asked for its image.
      log_.append("[skylet: " + container_error_ + "]\n");
      logger("skylet")->error("attempt cannot run its container id={} error=\"{}\"", spec_.id,
                              container_error_);
      outcome = Phase::kFailedContainer;
    }
  }
  if (!outcome) outcome = co_await run_steps();
  if (!registry_dir_.empty()) {
    // The login is this attempt's alone: it goes with the attempt's last step.
    std::function<bool()> forget = [dir = registry_dir_] {
      std::error_code ec;
      return std::filesystem::remove_all(dir, ec) > 0;
    };
    co_await run_blocking<bool>(std::move(forget));
  }
  // The attempt has ended only once its buckets hold what it wrote: a controller that sees the end
  // may stop the machine at once.
  releasing_mounts_ = true;
  co_await mounts_.release();
  releasing_mounts_ = false;
  phase_ = *outcome;
  ended_at_ms_ = now_ms();
  log_.close();
  finished_.set();
  logger("skylet")->info("attempt ended id={} phase={}", spec_.id, to_string(phase_));
}

Task<void> Attempt::cancel(Duration grace) {
  using namespace asio::experimental::awaitable_operators;
  if (is_finished(phase_)) co_return;
  cancel_requested_ = true;
  released_.set();  // a held run never starts
  mounts_.interrupt();
  if (current_group_) ::kill(-current_group_, SIGTERM);
  if (!running_container_.empty()) {
    // The runtime client passes SIGTERM on, but a shell that is the container's first process
    // ignores it: the runtime stops the container (TERM, then KILL after the grace).
    const std::string name = running_container_;
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(grace).count();
    ProcessOptions stop;
    stop.argv = {runtime_, "stop", "-t", std::to_string(std::max<long long>(seconds, 1)), name};
    for (const auto& [key, value] : paths_.base_env) stop.environment.push_back(key + "=" + value);
    auto stopped = co_await run_program(executor_, std::move(stop));
    if (!stopped)
      logger("skylet")->debug("container stop id={} error=\"{}\"", spec_.id,
                              stopped.error().detail);
  }
  asio::steady_timer timer(executor_, grace);
  co_await (finished_.wait() || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (!is_finished(phase_) && current_group_) ::kill(-current_group_, SIGKILL);
  co_await finished_.wait();
}

void Attempt::signal(int number) {
  if (!is_finished(phase_) && current_group_) ::kill(-current_group_, number);
}

std::optional<std::int64_t> Attempt::reported_progress() const {
  const ProgressRead read = read_progress_file(progress_path());
  if (read.kind == ProgressRead::Kind::kSeconds) {
    if (reported_progress_ != read.seconds)
      logger("skylet")->info("progress reported id={} work_seconds={}", spec_.id, read.seconds);
    reported_progress_ = read.seconds;
    progress_problem_.clear();
  } else if (read.kind == ProgressRead::Kind::kBad && read.why != progress_problem_) {
    logger("skylet")->warn("progress file ignored id={} path={} why=\"{}\"", spec_.id,
                           progress_path(), read.why);
    progress_problem_ = read.why;
  }
  return reported_progress_;
}

Json Attempt::status() const {
  Json body = Json::object();
  body.set("attempt_id", spec_.id);
  body.set("phase", to_string(phase_));
  body.set("setup_exit_code", setup_exit_code_ ? Json(*setup_exit_code_) : Json(nullptr));
  body.set("exit_code", exit_code_ ? Json(*exit_code_) : Json(nullptr));
  body.set("log_bytes", static_cast<long long>(log_.size()));
  if (auto progress = reported_progress())
    body.set("progress_seconds", static_cast<long long>(*progress));
  if (!mount_error_.empty()) body.set("mount_error", mount_error_);
  if (!container_error_.empty() && phase_ == Phase::kFailedContainer)
    body.set("container_error", container_error_);
  // The task has ended; its buckets are being drained and unmounted before the attempt ends.
  if (releasing_mounts_) body.set("releasing_mounts", true);
  body.set("started_at_ms", static_cast<long long>(started_at_ms_));
  body.set("ended_at_ms",
           ended_at_ms_ ? Json(static_cast<long long>(ended_at_ms_)) : Json(nullptr));
  body.set("process_group",
           current_group_ ? Json(static_cast<long long>(current_group_)) : Json(nullptr));
  return body;
}

}  // namespace skyd::skylet
