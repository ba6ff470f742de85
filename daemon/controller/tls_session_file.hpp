#pragma once
// Each shard's TLS sessions with its nodes, kept in a file of the state directory so that a
// restarted controller resumes them: ten thousand nodes re-attached with full handshakes cost
// seconds of CPU that resumptions do not (docs/architecture.md, "Restart"). The file holds
// resumption secrets: it is made 0600 in a 0700 directory, written whole beside the old one and
// renamed over it, and only off the reactor.

#include "reactor/coro.hpp"
#include "reactor/http_client.hpp"

#include <chrono>
#include <string>

namespace skyd::daemon {

// The file of a shard's sessions under `state_dir`.
std::string tls_session_path(const std::string& state_dir, std::size_t shard);

// Reads a saved file (blocking: at start, before the shards run); empty when there is none, it is
// not a regular file, or it is larger than any save.
std::string read_tls_sessions(const std::string& path);

// Saves `client`'s sessions now (the encoding on the shard, the write on the blocking pool).
Task<void> save_tls_sessions(http::Client& client, std::string path);

// Saves every `every` while the sessions change; after `unused_after`, drops the loaded sessions
// no connection took (their nodes are gone). Runs until cancelled.
Task<void> keep_tls_sessions(http::Client& client, std::string path, Duration every,
                             Duration unused_after);

}  // namespace skyd::daemon
