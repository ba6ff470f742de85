#include "cli/uploads.hpp"

#include "cli/ignore_rules.hpp"
#include "reactor/crypto.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

extern char** environ;

namespace skyd::cli {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kChunkBytes = 4u << 20;

Error failed(std::string detail) {
  return make_error(NetErrc::kProtocol, std::move(detail));
}

// A private scratch directory, removed with this object.
struct Scratch {
  Scratch() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/sky-upload.XXXXXX";
    if (::mkdtemp(pattern.data())) path = pattern;
  }
  ~Scratch() {
    std::error_code ignored;
    if (!path.empty()) fs::remove_all(path, ignored);
  }
  std::string path;
};

// Runs a program (argv, no shell) to its end; its stderr on failure.
Result<void> run_tool(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return failed("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  std::string errors;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;)
    if (errors.size() < 65536) errors.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  if (spawned != 0) return failed(argv[0] + " cannot be started: " + std::strerror(spawned));
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  while (!errors.empty() && errors.back() == '\n') errors.pop_back();
  return failed(errors.empty() ? argv[0] + " failed" : errors);
}

struct Packed {
  std::string archive;
  std::string digest;
  std::uint64_t size = 0;
  bool directory = true;
};

// A directory as a tar archive of its contents (sorted, so the same files give the same digest),
// a file as a one-member archive: permissions travel with them.
Result<Packed> pack(const std::string& path, const std::string& archive) {
  std::error_code ec;
  const fs::path source = fs::absolute(expand_home(path), ec);
  const auto status = fs::status(source, ec);
  if (ec || !fs::exists(status))
    return failed(path + " does not exist or cannot be read by this user");
  Packed packed;
  packed.archive = archive;
  packed.directory = fs::is_directory(status);
  std::vector<std::string> tar = {"/bin/tar", "-c", "-f", archive, "--sort=name"};
  if (packed.directory) {
    auto excluded = exclusions_for(source, archive + ".excluded");
    if (!excluded) return excluded.error();
    for (const auto& warning : excluded->warnings) std::cerr << "Warning: " << warning << "\n";
    tar.insert(tar.end(), excluded->tar_options.begin(), excluded->tar_options.end());
    tar.insert(tar.end(), {"-C", source.string(), "."});
  } else {
    tar.insert(tar.end(), {"-C", source.parent_path().string(), source.filename().string()});
  }
  if (auto made = run_tool(tar); !made)
    return failed("cannot read " + path + ": " + made.error().detail);
  fs::remove(archive + ".excluded", ec);
  packed.digest = sha256_file_hex(archive);
  packed.size = fs::file_size(archive, ec);
  if (packed.digest.empty() || ec) return failed("cannot read the archive of " + path);
  return packed;
}

std::string upload_target(const Packed& packed, std::uint64_t offset) {
  return "/v1/uploads/" + packed.digest + "?size=" + std::to_string(packed.size) +
         "&offset=" + std::to_string(offset);
}

// How many bytes skyd holds, from an answer to GET or PUT.
Result<Json> answer_of(Result<http::Response> response) {
  if (!response) return response.error();
  if (response->status != 200) return failed(http::error_message_of(*response));
  return parse_json(response->body);
}

Result<void> send(DaemonClient& client, const Packed& packed, const std::string& what) {
  auto state = answer_of(client.call("GET", upload_target(packed, 0)));
  if (!state) return failed("cannot upload " + what + ": " + state.error().detail);
  if (const Json* complete = state->find("complete");
      complete && complete->as_bool().value_or(false))
    return {};  // sent before: skyd keeps uploads for a while
  auto offset = static_cast<std::uint64_t>(state->find("received")->as_int().value_or(0));
  std::ifstream in(packed.archive, std::ios::binary);
  const bool loud = packed.size > kChunkBytes;
  // On a terminal one line shows the progress; elsewhere (logs, scripts) a line per chunk.
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  if (loud) std::cerr << "Uploading " << what << " (" << (packed.size >> 20) << " MiB)\n";
  for (int stalls = 0; offset < packed.size;) {
    std::string chunk(std::min<std::uint64_t>(kChunkBytes, packed.size - offset), '\0');
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())))
      return failed("cannot read the archive of " + what);
    auto sent = client.call("PUT", upload_target(packed, offset), std::move(chunk),
                            std::chrono::minutes(5));
    auto answer = answer_of(std::move(sent));
    if (!answer) {
      // Where skyd's copy stands decides where to go on (a lost answer, a busy writer).
      if (++stalls > 5) return failed("cannot upload " + what + ": " + answer.error().detail);
      auto again = answer_of(client.call("GET", upload_target(packed, 0)));
      if (!again) return failed("cannot upload " + what + ": " + again.error().detail);
      answer = std::move(again);
    }
    offset = static_cast<std::uint64_t>(answer->find("received")->as_int().value_or(0));
    if (loud)
      std::cerr << (terminal ? "\r  " : "  ") << (offset >> 20) << " / " << (packed.size >> 20)
                << " MiB (" << offset * 100 / packed.size << "%)" << (terminal ? "" : "\n")
                << std::flush;
  }
  if (loud && terminal) std::cerr << "\n";
  return {};
}

Json reference(int task, const std::optional<std::string>& destination, const Packed& packed) {
  Json ref = Json::object();
  ref.set("task", task);
  if (destination) {
    ref.set("destination", *destination);
  } else {
    ref.set("workdir", true);
  }
  ref.set("digest", packed.digest);
  ref.set("kind", packed.directory ? "directory" : "file");
  return ref;
}

}  // namespace

std::string expand_home(const std::string& path) {
  if (!path.starts_with("~")) return path;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + path.substr(1);
}

Result<Json> upload_local_files(DaemonClient& client, const spec::Pipeline& pipeline) {
  Json uploads = Json::array();
  Scratch scratch;
  if (scratch.path.empty()) return failed("cannot make a scratch directory for the uploads");
  int archives = 0;
  auto upload = [&](int task, const std::optional<std::string>& destination,
                    const std::string& path, const std::string& what) -> Result<void> {
    auto packed = pack(path, scratch.path + "/" + std::to_string(archives++) + ".tar");
    if (!packed)
      return failed("task " + std::to_string(task) + " " + what + ": " + packed.error().detail);
    if (!destination && !packed->directory)
      return failed("task " + std::to_string(task) + " workdir " + path + " is not a directory");
    if (auto sent = send(client, *packed, what + " " + path); !sent) return sent.error();
    uploads.push_back(reference(task, destination, *packed));
    std::error_code ignored;
    fs::remove(packed->archive, ignored);
    return {};
  };
  for (std::size_t t = 0; t < pipeline.tasks.size(); ++t) {
    const auto& task = pipeline.tasks[t];
    const int index = static_cast<int>(t);
    if (task.workdir) {
      if (auto sent = upload(index, std::nullopt, *task.workdir, "workdir"); !sent)
        return sent.error();
    }
    for (const auto& mount : task.file_mounts) {
      const auto source = spec::uploaded_source(mount);
      if (!source) continue;
      if (auto sent = upload(index, mount.destination, *source, "file_mounts." + mount.destination);
          !sent)
        return sent.error();
    }
  }
  return uploads;
}

}  // namespace skyd::cli
