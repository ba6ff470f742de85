#include "reactor/identity.hpp"

#include <unistd.h>

#include <cstdint>

namespace skyd {

UserIdentity own_identity() {
  UserIdentity self;
  self.uid = ::geteuid();
  self.gid = ::getegid();
  const int count = ::getgroups(0, nullptr);
  if (count > 0) {
    self.groups.resize(static_cast<std::size_t>(count));
    const int got = ::getgroups(count, self.groups.data());
    self.groups.resize(static_cast<std::size_t>(got < 0 ? 0 : got));
  }
  return self;
}

bool can_switch_users() {
  return ::geteuid() == 0;
}

std::vector<std::string> as_identity(const UserIdentity& who, std::vector<std::string> argv) {
  if (who.uid == ::geteuid() && who.gid == ::getegid()) return argv;
  std::vector<std::string> wrapped{"/usr/bin/setpriv", "--reuid=" + std::to_string(who.uid),
                                   "--regid=" + std::to_string(who.gid)};
  if (who.groups.empty()) {
    wrapped.emplace_back("--clear-groups");
  } else {
    std::string groups = "--groups=";
    for (std::size_t i = 0; i < who.groups.size(); ++i)
      groups += (i ? "," : "") + std::to_string(who.groups[i]);
    wrapped.push_back(std::move(groups));
  }
  wrapped.emplace_back("--");
  wrapped.insert(wrapped.end(), std::make_move_iterator(argv.begin()),
                 std::make_move_iterator(argv.end()));
  return wrapped;
}

std::string describe(const UserIdentity& who) {
  std::string out = "uid=" + std::to_string(who.uid) + " gid=" + std::to_string(who.gid);
  if (!who.groups.empty()) {
    out += " groups=";
    for (std::size_t i = 0; i < who.groups.size(); ++i)
      out += (i ? "," : "") + std::to_string(who.groups[i]);
  }
  return out;
}

Json to_json(const UserIdentity& who) {
  Json out = Json::object();
  out.set("uid", static_cast<long long>(who.uid));
  out.set("gid", static_cast<long long>(who.gid));
  Json groups = Json::array();
  for (gid_t group : who.groups) groups.push_back(static_cast<long long>(group));
  out.set("groups", std::move(groups));
  return out;
}

Result<UserIdentity> identity_from_json(const Json& json, const std::string& field) {
  auto id = [&](const Json* value) -> std::optional<std::uint32_t> {
    const auto number = value && value->is_int() ? value->as_int() : std::nullopt;
    if (!number || *number < 0 || *number > 0xfffffffe) return std::nullopt;
    return static_cast<std::uint32_t>(*number);
  };
  auto bad = [&](const std::string& what) {
    return make_error(NetErrc::kProtocol, field + what + ": expected a user or group id");
  };
  if (!json.is_object()) return bad("");
  UserIdentity who;
  const auto uid = id(json.find("uid"));
  const auto gid = id(json.find("gid"));
  if (!uid) return bad(".uid");
  if (!gid) return bad(".gid");
  who.uid = *uid;
  who.gid = *gid;
  if (const Json* groups = json.find("groups"); groups && !groups->is_null()) {
    if (!groups->as_array()) return bad(".groups");
    for (const auto& group : *groups->as_array()) {
      const auto value = id(&group);
      if (!value) return bad(".groups");
      who.groups.push_back(*value);
    }
  }
  return who;
}

}  // namespace skyd
