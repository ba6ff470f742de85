#pragma once
// fakecloud as both EC2 and Compute Engine, and a skyd that uses both clouds there, for
// integration tests of managed jobs on GCP (and on AWS and GCP together): fakecloud's admin API,
// its Compute Engine counts, and the controller log's launches.

#include "reactor/json.hpp"
#include "tests/support/aws_world.hpp"

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace skyd::testing {

inline constexpr const char* kProject = "skyd-test-project";

inline std::string admin_call(const FakeCloudProcess& cloud, const std::string& method,
                              const std::string& target, const std::string& body = "") {
  std::vector<std::string> argv{"/usr/bin/curl", "-s", "-X", method, cloud.url() + target};
  if (!body.empty()) argv.insert(argv.end(), {"-H", "Content-Type: application/json", "-d", body});
  return run_command(argv).out;
}

// A token fakecloud's Compute Engine accepts (as its token endpoint would issue it).
inline std::string issued_token(const FakeCloudProcess& cloud) {
  auto reply = parse_json(admin_call(cloud, "POST", "/_admin/gcp/tokens?lifetime_s=7200"));
  const Json* token = reply ? reply->find("access_token") : nullptr;
  return token && token->as_string() ? std::string(*token->as_string()) : "no-token";
}

// skyd with both clouds at fakecloud.
inline std::map<std::string, std::string> both_clouds(const FakeCloudProcess& cloud,
                                                      std::map<std::string, std::string> extra) {
  extra.insert({{"gcp_enabled", "true"},
                {"gcp_project", kProject},
                {"gcp_endpoint", cloud.url()},
                {"gcp_tpu_endpoint", cloud.url()},
                {"gcp_access_token", issued_token(cloud)}});
  return aws_settings(cloud.url(), std::move(extra));
}

struct CloudsWorld {
  explicit CloudsWorld(std::map<std::string, std::string> settings = {})
      : cloud(dir), skyd(both_clouds(cloud, std::move(settings)), aws_environment()) {}
  ~CloudsWorld() {
    skyd.sky({"jobs", "cancel", "-u", "-y"});
    skyd.no_machines_left();
  }
  std::string admin(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    return admin_call(cloud, method, target, body);
  }
  long long stat(const std::string& path, const char* key) {
    auto stats = parse_json(admin("GET", path));
    const Json* value = stats ? stats->find(key) : nullptr;
    return value ? value->as_int().value_or(-1) : -1;
  }
  long long live_gce() { return stat("/_admin/gcp/stats", "live"); }
  // A Compute Engine instance is deleted a moment after it stops running (its delete operation
  // ends later): wait for that, not only for nothing to be live.
  bool all_gce_deleted(long long at_least) {
    return wait_for(
        [&] { return live_gce() == 0 && stat("/_admin/gcp/stats", "deleted") >= at_least; });
  }
  // Every Compute Engine instance fakecloud ever made, whatever it is now.
  long long made_gce() {
    long long made = 0;
    for (const char* status :
         {"provisioning", "staging", "running", "stopping", "terminated", "deleted"})
      made += stat("/_admin/gcp/stats", status);
    return made;
  }
  long long live_ec2() { return stat("/_admin/stats", "live"); }
  // Every "launching cluster ... on <cloud>/<region>/<zone>" of the job's controller log.
  std::vector<std::string> launches(long long id) {
    const std::string log =
        skyd.sky({"jobs", "logs", "--controller", "--no-follow", std::to_string(id)}).out;
    std::vector<std::string> out;
    std::regex launching("launching cluster \\S+ on ([a-z]+/[a-z0-9-]+/[a-z0-9-]+)");
    for (std::sregex_iterator it(log.begin(), log.end(), launching), end; it != end; ++it)
      out.push_back((*it)[1]);
    return out;
  }

  TempDir dir;
  FakeCloudProcess cloud;
  SkydHarness skyd;
};

}  // namespace skyd::testing
