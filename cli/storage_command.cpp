#include "cli/storage_command.hpp"

#include "cli/jobs_commands.hpp"
#include "cli/replies.hpp"
#include "cli/table.hpp"

#include <chrono>
#include <iostream>

namespace skyd::cli {
namespace {

constexpr const char* kUsage =
    "usage: sky storage ls [-o table|json]\n"
    "       sky storage delete NAME... | -a [-y]\n"
    "\n"
    "The buckets task file_mounts use. `ls` lists them with their store, size, owner, the job\n"
    "that first used them and whether they outlive it. `delete` empties and deletes a bucket\n"
    "skyd made; one that existed before skyd used it is only forgotten, never deleted. A bucket\n"
    "an open job uses is not deleted.\n"
    "\n"
    "options:\n"
    "  -o, --output table|json  ls: how to print (default table)\n"
    "  -a, --all                delete: every bucket you own\n"
    "  -y, --yes                delete: do not ask\n"
    "  -h, --help               this text\n";

std::string format_size(const Json& bucket) {
  const Json* size = bucket.find("size_bytes");
  if (!size || !size->as_double()) return "-";
  double bytes = *size->as_double();
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return (unit == 0 ? format_number(bytes) : format_fixed(bytes, 1)) + " " + units[unit];
}

Result<Json> list(DaemonClient& client) {
  return call_json(client, "GET", "/v1/storage");
}

int ls(const std::vector<std::string>& args, const std::string& socket) {
  int failed = 0;
  const auto wants_json = json_output_of(args, kUsage, failed);
  if (!wants_json) return failed;
  DaemonClient client(socket);
  const auto reply = listing(client, "/v1/storage", "buckets", *wants_json, "storage", failed);
  if (!reply) return failed;
  const Json::Array& buckets = *reply->find("buckets")->as_array();
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  Table table(
      {"NAME", "STORE", "SIZE", "OWNER", "JOB", "PERSISTENT", "CREATED BY", "UPDATED", "STATUS"});
  for (const Json& bucket : buckets) {
    const Json* job = bucket.find("job_id");
    const Json* made = bucket.find("created_by_skyd");
    const Json* persistent = bucket.find("persistent");
    table.add_row(
        {text(bucket, "name"), to_upper(text(bucket, "store")), format_size(bucket),
         text(bucket, "owner"), job && job->as_double() ? format_number(*job->as_double()) : "-",
         persistent && persistent->as_bool().value_or(true) ? "yes" : "no",
         made && made->as_bool().value_or(false) ? "skyd" : "(existed)",
         format_age(now - number(bucket, "updated_at_us") / 1e6), to_upper(text(bucket, "state"))});
  }
  std::cout << table.render();
  return 0;
}

int remove(const std::vector<std::string>& args, const std::string& socket) {
  std::vector<std::string> names;
  bool all = false;
  bool yes = false;
  for (const auto& arg : args) {
    if (arg == "-a" || arg == "--all") {
      all = true;
    } else if (arg == "-y" || arg == "--yes") {
      yes = true;
    } else if (arg.starts_with("-")) {
      return usage_error("unknown option '" + arg + "'", kUsage);
    } else {
      names.push_back(arg);
    }
  }
  if (all == !names.empty()) return usage_error("give bucket names or -a, not both", kUsage);
  DaemonClient client(socket);
  if (all) {
    auto reply = list(client);
    if (!reply) {
      std::cerr << "Error: " << reply.error().detail << "\n";
      return 1;
    }
    auto health = call_json(client, "GET", "/v1/health");
    const double me = health ? number(*health, "caller_uid", -1) : -1;
    const Json* listed = reply->find("buckets");
    if (const Json::Array* buckets = listed ? listed->as_array() : nullptr) {
      for (const Json& bucket : *buckets) {
        if (number(bucket, "owner_uid", -2) == me) names.push_back(text(bucket, "name"));
      }
    }
    if (names.empty()) {
      std::cout << "No existing storage.\n";
      return 0;
    }
  }
  if (!yes) {
    std::string listed;
    for (const auto& name : names) listed += (listed.empty() ? "" : ", ") + name;
    if (!confirm("Deleting storage: " + listed + ". Proceed?")) return 0;
  }
  int failed = 0;
  for (const auto& name : names) {
    auto reply = call_json(client, "DELETE", "/v1/storage/" + name);
    if (!reply) {
      std::cerr << "Error: " << name << ": " << reply.error().detail << "\n";
      ++failed;
      continue;
    }
    if (text(*reply, "outcome") == "forgotten") {
      std::cout << "Forgot storage " << name
                << " (skyd did not create it, so the bucket and its objects stay).\n";
    } else {
      std::cout << "Deleted storage " << name << ".\n";
    }
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

int storage_command(const std::vector<std::string>& args, const std::string& socket) {
  if (auto code = subcommand_usage(args, kUsage)) return *code;
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "ls") return ls(rest, socket);
  if (args[0] == "delete") return remove(rest, socket);
  return usage_error("unknown storage command '" + args[0] + "'", kUsage);
}

}  // namespace skyd::cli
