#pragma once
// Real users and groups made for one test (useradd/groupadd; needs root) and removed after it.

#include <sys/types.h>

#include "tests/support/process.hpp"

#include <string>
#include <vector>

namespace skyd::testing {

struct TestUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;  // a directory of theirs in the test's temp dir
};

class TestUsers {
 public:
  TestUsers();
  ~TestUsers();
  TestUsers(const TestUsers&) = delete;
  TestUsers& operator=(const TestUsers&) = delete;

  // A new system group; its name ends in this set's tag.
  std::string group(const std::string& role);
  // A new user with bash as its shell, in `groups`, owning a private directory under `parent`.
  TestUser user(const std::string& role, const std::vector<std::string>& groups,
                const std::string& parent);

 private:
  std::string tag_;
  std::vector<std::string> users_;
  std::vector<std::string> groups_;
};

// `sky ARGS...` as `user`, with the groups the system gives them, against skyd at `socket`.
CommandResult sky_as(const TestUser& user, const std::string& socket,
                     std::vector<std::string> args);

}  // namespace skyd::testing
