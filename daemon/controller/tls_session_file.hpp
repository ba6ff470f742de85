#pragma once
// Each shard's TLS sessions with its nodes, kept in a file of the state directory so that a
// restarted controller resumes them: ten thousand nodes re-attached with full handshakes cost
// seconds of CPU that resumptions do not (docs/architecture.md, "Restart"). The file holds
// resumption secrets: it is made 0600 in a 0700 directory, written whole beside the old one and
// renamed over it, and only off the reactor.

#include "reactor/coro.hpp"
#include "reactor/http_client.hpp"

#include <string>

namespace skyd::daemon {

// The file of a shard's sessions under `state_dir`.
std::string tls_session_path(const std::string& state_dir, std::size_t shard);

// Saves `client`'s sessions now (encoded on the shard, written by write_small_file on the
// blocking pool). The saved file is read at start with read_small_file, before the shards run.
Task<void> save_tls_sessions(http::Client& client, std::string path);

// Saves every 5 s while the sessions change; after 10 minutes, drops the loaded sessions no
// connection took (their nodes are gone). Runs until cancelled.
Task<void> keep_tls_sessions(http::Client& client, std::string path);

}  // namespace skyd::daemon
