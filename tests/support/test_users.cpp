#include "tests/support/test_users.hpp"

#include "reactor/crypto.hpp"
#include "tests/support/process.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

namespace skyd::testing {

TestUsers::TestUsers() : tag_(random_hex(3)) {}

TestUsers::~TestUsers() {
  for (const auto& user : users_) run_command({"/usr/sbin/userdel", user});
  for (const auto& group : groups_) run_command({"/usr/sbin/groupdel", group});
}

std::string TestUsers::group(const std::string& role) {
  const std::string name = "skyd" + role + tag_;
  auto made = run_command({"/usr/sbin/groupadd", "--system", name});
  if (made.exit_code != 0) throw std::runtime_error("groupadd failed: " + made.err);
  groups_.push_back(name);
  return name;
}

TestUser TestUsers::user(const std::string& role, const std::vector<std::string>& groups,
                         const std::string& parent) {
  TestUser user;
  user.name = "skyd" + role + tag_;
  std::string list;
  for (const auto& group : groups) list += (list.empty() ? "" : ",") + group;
  auto made = run_command({"/usr/sbin/useradd", "--system", "--no-create-home", "--shell",
                           "/bin/bash", "--user-group", "--groups", list, user.name});
  if (made.exit_code != 0) throw std::runtime_error("useradd failed: " + made.err);
  users_.push_back(user.name);
  const passwd* entry = ::getpwnam(user.name.c_str());
  if (!entry) throw std::runtime_error("no passwd entry for " + user.name);
  user.uid = entry->pw_uid;
  user.gid = entry->pw_gid;
  user.home = parent + "/" + user.name;
  std::filesystem::create_directories(user.home);
  ::chown(user.home.c_str(), user.uid, user.gid);
  ::chmod(user.home.c_str(), 0700);
  return user;
}

CommandResult sky_as(const TestUser& user, const std::string& socket,
                     std::vector<std::string> args) {
  std::vector<std::string> argv{"/usr/bin/setpriv",
                                "--reuid=" + std::to_string(user.uid),
                                "--regid=" + std::to_string(user.gid),
                                "--init-groups",
                                "/usr/bin/env",
                                "HOME=" + user.home,
                                binary_path("sky"),
                                "--socket",
                                socket};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {}, std::chrono::seconds(120));
}

}  // namespace skyd::testing
