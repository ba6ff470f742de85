#include "daemon/controller/job_files.hpp"

#include "reactor/blocking.hpp"
#include "reactor/process.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>

namespace skyd::daemon {
namespace fs = std::filesystem;
namespace {

std::string what_of(const UploadRef& ref) {
  return "pipeline.tasks[" + std::to_string(ref.task) + "]." +
         (ref.workdir ? std::string("workdir") : "file_mounts." + ref.destination);
}

// The place of a file mount among its task's mounts.
std::size_t mount_index(const spec::Task& task, const std::string& destination) {
  for (std::size_t i = 0; i < task.file_mounts.size(); ++i)
    if (task.file_mounts[i].destination == destination) return i;
  return task.file_mounts.size();
}

}  // namespace

std::string snapshot_workdir(const std::string& snapshot, int task) {
  return snapshot + "/task-" + std::to_string(task) + "/workdir";
}

std::string snapshot_mount(const std::string& snapshot, int task, std::size_t mount) {
  return snapshot + "/task-" + std::to_string(task) + "/mounts/" + std::to_string(mount);
}

bool hand_over(const std::string& path, const UserIdentity& owner) {
  if (!can_switch_users() || owner.uid == ::geteuid()) return true;
  return ::lchown(path.c_str(), owner.uid, owner.gid) == 0;
}

Task<Result<void>> materialize_uploads(UploadStore& store, UserIdentity owner,
                                       std::vector<UploadRef> uploads, spec::Pipeline pipeline,
                                       std::string snapshot) {
  auto executor = co_await asio::this_coro::executor;
  for (const auto& ref : uploads) {
    auto archive = co_await store.complete_file(owner, ref.digest);
    if (!archive) {
      co_return invalid_argument(what_of(ref) + ": upload " + ref.digest +
                                 " has not arrived whole; send it first (PUT /v1/uploads/" +
                                 ref.digest + ")");
    }
    const auto& task = pipeline.tasks.at(static_cast<std::size_t>(ref.task));
    const std::string target =
        ref.workdir ? snapshot_workdir(snapshot, ref.task)
                    : snapshot_mount(snapshot, ref.task, mount_index(task, ref.destination));
    // A file travels as a one-member archive: it is unpacked beside, then put in place.
    const std::string unpack_dir = ref.kind == UploadRef::Kind::kFile ? target + ".d" : target;
    std::function<std::string()> prepare = [snapshot, unpack_dir, owner] {
      std::error_code ec;
      fs::create_directories(unpack_dir, ec);
      if (ec) return "cannot create " + unpack_dir + ": " + ec.message();
      ::chmod(snapshot.c_str(), 0700);
      if (!hand_over(unpack_dir, owner)) return "cannot give " + unpack_dir + " to its owner";
      return std::string();
    };
    if (auto failed = co_await run_blocking<std::string>(std::move(prepare)); !failed.empty())
      co_return invalid_argument(failed);

    // tar reads the archive from stdin (an fd skyd opened) and writes where it starts: neither
    // path is one the submitter's tar has to reach through skyd's private directories.
    const int fd = ::open(archive->c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) co_return invalid_argument(what_of(ref) + ": cannot open its upload");
    ProcessOptions tar;
    tar.argv = as_identity(owner, {"/bin/tar", "-x", "--no-same-owner", "-f", "-"});
    tar.environment = environment_with({{"LC_ALL", "C"}});
    tar.working_dir = unpack_dir;
    tar.extra_fds = {{0, fd}};
    auto unpacked = co_await run_program(executor, std::move(tar));
    ::close(fd);
    if (!unpacked)
      co_return invalid_argument(what_of(ref) +
                                 ": cannot unpack its upload: " + unpacked.error().detail);

    if (ref.kind == UploadRef::Kind::kFile) {
      std::function<std::string()> place = [unpack_dir, target, what = what_of(ref)] {
        // Exactly one regular file: never a link a later reader would follow.
        std::error_code ec;
        std::vector<fs::path> members;
        for (const auto& entry : fs::directory_iterator(unpack_dir, ec))
          members.push_back(entry.path());
        struct stat info {};
        if (members.size() != 1 || ::lstat(members[0].c_str(), &info) != 0 ||
            !S_ISREG(info.st_mode))
          return what + ": the upload of a file must hold exactly one regular file";
        fs::rename(members[0], target, ec);
        if (ec) return what + ": " + ec.message();
        fs::remove_all(unpack_dir, ec);
        return std::string();
      };
      if (auto failed = co_await run_blocking<std::string>(std::move(place)); !failed.empty())
        co_return invalid_argument(failed);
    }
  }
  co_return Result<void>{};
}

}  // namespace skyd::daemon
