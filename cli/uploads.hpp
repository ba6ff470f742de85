#pragma once
// Sends a pipeline's local files to skyd before the job is submitted: each workdir and each
// local-path file mount is packed (a directory as a tar archive of its contents, a file as a
// one-member archive), read with the rights of the user running `sky`, named by its SHA-256 and
// sent by offset (PUT /v1/uploads/{digest}), resuming where skyd's copy stands. skyd never opens
// the paths the pipeline names; the submit names the uploads instead.

#include "cli/daemon_client.hpp"
#include "daemon/spec/task.hpp"
#include "reactor/json.hpp"

namespace skyd::cli {

// The submit body's "uploads" list, once every file has arrived. Errors name the task and field
// whose path cannot be read or sent.
Result<Json> upload_local_files(DaemonClient& client, const spec::Pipeline& pipeline);

// ~ at the start of a path is the user's home.
std::string expand_home(const std::string& path);

}  // namespace skyd::cli
