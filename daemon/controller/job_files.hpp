#pragma once
// A job's local files, from what its submitter uploaded (daemon/upload_store.hpp) to the job's
// snapshot (`snapshots/<job>/task-<t>/workdir` and `.../mounts/<n>`, n the mount's place in the
// task's file_mounts). Archives are unpacked by tar running with the submitter's identity (when
// skyd may switch users), in a directory of theirs inside skyd's private tree, so what a crafted
// archive can reach is only what its submitter could reach anyway. Later edits of the user's files
// never change a job.

#include "daemon/api_validation.hpp"
#include "daemon/upload_store.hpp"
#include "reactor/identity.hpp"

#include <string>
#include <vector>

namespace skyd::daemon {

// Where task `task`'s workdir and its n-th file mount live inside a job's snapshot.
std::string snapshot_workdir(const std::string& snapshot, int task);
std::string snapshot_mount(const std::string& snapshot, int task, std::size_t mount);

// Unpacks every upload into `snapshot` (made here). Errors (invalid_argument) name the upload
// that has not arrived whole, or what could not be unpacked; nothing is left behind then.
Task<Result<void>> materialize_uploads(UploadStore& store, UserIdentity owner,
                                       std::vector<UploadRef> uploads, spec::Pipeline pipeline,
                                       std::string snapshot);

// Makes `path` (made by skyd) belong to `owner` when skyd may switch users; false if it cannot.
bool hand_over(const std::string& path, const UserIdentity& owner);

}  // namespace skyd::daemon
