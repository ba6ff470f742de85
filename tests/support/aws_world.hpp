#pragma once
// fakecloud and a skyd that uses it as its EC2 endpoint, for integration tests of managed jobs on
// AWS: the fake account's keys, fakecloud's admin API, and the controller log's launches.

#include "reactor/json.hpp"
#include "tests/support/fakecloud_process.hpp"
#include "tests/support/skyd_harness.hpp"

#include <functional>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace skyd::testing {

inline constexpr const char* kAccessKey = "AKIDEXAMPLE";
inline constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

// skyd's settings for fakecloud as its EC2 endpoint.
inline std::map<std::string, std::string> aws_settings(const std::string& endpoint,
                                                       std::map<std::string, std::string> extra) {
  extra.insert({{"aws_enabled", "true"},
                {"aws_endpoint", endpoint},
                {"aws_pricing_endpoint", endpoint},
                {"aws_regions", "us-east-1,us-west-2,eu-west-1"},
                // Buckets stay off the network unless a test names its S3 server.
                {"bucket_store", "local"},
                // The fake account's types and prices (three regions, every price known).
                {"catalog_dir", SKYD_FAKECLOUD_CATALOG_DIR}});
  return extra;
}

// The environment a skyd needs to sign its calls to fakecloud with the fake account's keys.
inline SkydHarness::Environment aws_environment(const std::string& secret = kSecret) {
  return SkydHarness::Environment{{{"AWS_ACCESS_KEY_ID", kAccessKey},
                                   {"AWS_SECRET_ACCESS_KEY", secret},
                                   {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"},
                                   {"AWS_EC2_METADATA_DISABLED", "true"}}};
}

// A call on fakecloud's admin API (curl, outside skyd).
inline std::string fakecloud_admin(const FakeCloudProcess& cloud, const std::string& method,
                                   const std::string& target, const std::string& body = "") {
  std::vector<std::string> argv{"/usr/bin/curl", "-s", "-X", method, cloud.url() + target};
  if (!body.empty()) argv.insert(argv.end(), {"-H", "Content-Type: application/json", "-d", body});
  return run_command(argv).out;
}

struct AwsWorld {
  explicit AwsWorld(std::vector<std::string> cloud_flags = {}, std::string secret = kSecret,
                    std::map<std::string, std::string> settings = {})
      : cloud(dir, std::move(cloud_flags)),
        skyd(aws_settings(cloud.url(), std::move(settings)), aws_environment(secret)) {}
  ~AwsWorld() {
    skyd.sky({"jobs", "cancel", "-u", "-y"});
    skyd.no_machines_left();
  }

  std::string admin(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    return fakecloud_admin(cloud, method, target, body);
  }
  // An EC2 call in us-east-1 made outside skyd, signed by curl's own SigV4 signer with the fake
  // account's keys: `form` is the form-encoded body after Version.
  CommandResult signed_call(const std::string& action, const std::string& form) {
    return run_command({"/usr/bin/curl", "-s", "--aws-sigv4", "aws:amz:us-east-1:ec2", "--user",
                        std::string(kAccessKey) + ":" + kSecret, "-H",
                        "Content-Type: application/x-www-form-urlencoded; charset=utf-8", "--data",
                        "Action=" + action + "&Version=2016-11-15&" + form, cloud.url() + "/"});
  }
  long long live_instances() {
    auto stats = parse_json(admin("GET", "/_admin/stats"));
    return stats && stats->find("live") ? stats->find("live")->as_int().value_or(-1) : -1;
  }
  // Every "launching cluster ... on aws/<region>/<zone>" of the job's controller log, in order.
  std::vector<std::string> launch_zones(long long id) {
    const std::string log =
        skyd.sky({"jobs", "logs", "--controller", "--no-follow", std::to_string(id)}).out;
    std::vector<std::string> zones;
    std::regex launching("launching cluster \\S+ on aws/([a-z0-9-]+/[a-z0-9-]+)");
    for (std::sregex_iterator it(log.begin(), log.end(), launching), end; it != end; ++it)
      zones.push_back((*it)[1]);
    return zones;
  }

  TempDir dir;
  FakeCloudProcess cloud;
  SkydHarness skyd;
};

// The identity `sky daemon status` shows ("skyd" where it shows none).
inline std::string installation_of(SkydHarness& skyd) {
  const std::string status = skyd.sky({"daemon", "status"}).out;
  const std::string label = "installation: ";
  const auto at = status.find(label);
  if (at == std::string::npos) return "skyd";
  const auto from = at + label.size();
  return status.substr(from, status.find('\n', from) - from);
}

// The one number a query on skyd's database returns (-1 when it returns nothing).
inline double sql_number(SkydHarness& skyd, const std::string& query) {
  const std::string text = skyd.sql(query);
  return text.empty() ? -1 : std::stod(text);
}

// The markets a job's runs were in, in order, from the cost ledger ("spot\non-demand\n").
inline std::string markets_of(SkydHarness& skyd, long long id) {
  return skyd.sql("SELECT market FROM attempt_costs WHERE job_id = " + std::to_string(id) +
                  " ORDER BY event_id");
}

// The job's controller log: its decisions, launches and transitions.
inline std::string controller_log_of(SkydHarness& skyd, long long id) {
  return skyd.sky({"jobs", "logs", "--controller", "--no-follow", std::to_string(id)}).out;
}

// Polls `ready` every 50 ms for up to 30 s.
inline bool wait_for(const std::function<bool()>& ready) {
  for (int i = 0; i < 600; ++i) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Waits until fakecloud's stats (`stats_path` of its admin API) count a call named `call`.
template <typename World>
bool wait_for_cloud_call(World& world, const std::string& stats_path, const std::string& call) {
  return wait_for([&] {
    auto stats = parse_json(world.admin("GET", stats_path));
    const Json* calls = stats ? stats->find("calls") : nullptr;
    return calls && calls->find(call);
  });
}

// Waits until jobs 1..`jobs` have each re-attached to their machines after a restart of skyd.
inline bool wait_until_reattached(SkydHarness& skyd, int jobs) {
  for (int id = 1; id <= jobs; ++id) {
    const bool reattached = wait_for([&] {
      return controller_log_of(skyd, id).find("re-attached to cluster") != std::string::npos;
    });
    if (!reattached) return false;
  }
  return true;
}

}  // namespace skyd::testing
