#pragma once
// Whose a job is: the uid and groups its submitter had on the API socket (SO_PEERCRED,
// SO_PEERGROUPS). Processes that do a user's work — a job's setup and run on the local provider,
// unpacking what the user uploaded — run with exactly that identity: `as_identity` puts
// util-linux's setpriv in front of their argv when this process may switch users (it runs as
// root) and the identity is not its own.

#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace skyd {

struct UserIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary

  friend bool operator==(const UserIdentity&, const UserIdentity&) = default;
};

// The identity this process runs with.
UserIdentity own_identity();
// True when this process may run programs as another user (it is root).
bool can_switch_users();

// argv to run as `who`: unchanged when `who` is this process's own uid, else prefixed with
// `setpriv --reuid --regid --groups|--clear-groups --`. Callers check can_switch_users() first.
std::vector<std::string> as_identity(const UserIdentity& who, std::vector<std::string> argv);

// "uid=1000 gid=1000 groups=4,27" for messages and logs.
std::string describe(const UserIdentity& who);

// {"uid": n, "gid": n, "groups": [n, ...]} and back (errors name the field).
Json to_json(const UserIdentity& who);
Result<UserIdentity> identity_from_json(const Json& json, const std::string& field);

}  // namespace skyd
