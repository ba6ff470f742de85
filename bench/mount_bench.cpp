// Time from an attempt's start request to its run when skylet first makes an S3 bucket ready
// (MOUNT, MOUNT_CACHED, COPY) against a local s3rver, next to attempts with no bucket. One real
// skylet, Debian's rclone, buckets filled with the AWS CLI. Ends with a check that every attempt
// succeeded, its run saw the bucket's objects (count and SHA-256 of their bytes), and no rclone
// process or mount of this run is left. Prints a table. Needs root and /dev/fuse.
//
// usage: mount_bench [--attempts N] [--total-mib N]

#include "reactor/json.hpp"
#include "tests/support/process.hpp"
#include "tests/support/s3_server.hpp"
#include "tests/support/s3_skyd.hpp"
#include "tests/support/skylet_node.hpp"
#include "tests/support/test_support.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace skyd;
using namespace skyd::testing;
namespace fs = std::filesystem;

struct Settings {
  int attempts = 5;
  int total_mib = 64;
};

// What one kind of attempt reads: a bucket of `objects` objects, made ready in `mode` (or no
// bucket at all when `mode` is empty).
struct Case {
  std::string mode;
  int objects = 0;
};

struct Bucket {
  std::string name;
  int objects = 0;
  std::string digest;  // SHA-256 of the objects' bytes, concatenated in name order
};

struct Outcome {
  std::string id;
  std::string phase;
  double to_run_ms = 0;
  std::optional<double> skylet_ms;  // skylet's own "bucket ... ready ... (MODE, N ms)"
  std::string problem;              // what the run saw that it should not have
};

std::string bucket_name(int objects) {
  return "objects-" + std::to_string(objects);
}

void write_random_file(const std::string& path, std::uint64_t bytes, unsigned seed) {
  std::mt19937_64 random(seed);
  std::ofstream out(path, std::ios::binary);
  std::vector<std::uint64_t> block(1 << 14);
  for (std::uint64_t left = bytes; left > 0;) {
    for (auto& word : block) word = random();
    const auto n = std::min<std::uint64_t>(left, block.size() * sizeof(std::uint64_t));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    left -= n;
  }
}

// What the run prints about the directory it is in: the shell's own count and digest.
std::string survey_script() {
  return "echo \"objects $(ls | wc -l)\" && echo \"digest $(cat * | sha256sum | cut -d' ' -f1)\"";
}

std::string last_match(const std::string& text, const std::regex& pattern) {
  std::string found;
  for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it)
    found = (*it)[1];
  return found;
}

// A bucket of `objects` random objects, `total_bytes` in all, uploaded with the AWS CLI.
Bucket fill_bucket(const S3Server& s3, const TempDir& dir, int objects, std::uint64_t total_bytes) {
  Bucket bucket{bucket_name(objects), objects, ""};
  const std::string source = dir.file("source/" + bucket.name);
  fs::create_directories(source);
  for (int i = 0; i < objects; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/f%05d.bin", i);
    write_random_file(source + name, total_bytes / static_cast<std::uint64_t>(objects),
                      static_cast<unsigned>(objects * 7919 + i));
  }
  if (aws_s3(s3, {"s3", "mb", "s3://" + bucket.name}).exit_code != 0)
    throw std::runtime_error("cannot make bucket " + bucket.name);
  const auto copied =
      aws_s3(s3, {"s3", "cp", "--recursive", "--quiet", source, "s3://" + bucket.name},
             std::chrono::minutes(10));
  if (copied.exit_code != 0) throw std::runtime_error("aws s3 cp: " + copied.err);
  // The same survey the runs make, taken where the objects were written.
  const auto here = run_command({"/bin/bash", "-c", "cd \"$0\" && " + survey_script(), source}, {},
                                std::chrono::minutes(2));
  bucket.digest = last_match(here.out, std::regex("digest ([0-9a-f]+)"));
  return bucket;
}

Outcome run_attempt(SkyletNode& node, const TempDir& dir, const S3Server& s3, const Case& what,
                    const std::optional<Bucket>& bucket, int round) {
  Outcome outcome;
  const std::string label = what.mode.empty() ? "none" : what.mode;
  outcome.id = label + "-" + std::to_string(what.objects) + "-" + std::to_string(round);
  std::transform(outcome.id.begin(), outcome.id.end(), outcome.id.begin(),
                 [](unsigned char c) { return c == '_' ? '-' : std::tolower(c); });
  const std::string place = "b-" + outcome.id;  // a fresh destination: a COPY never finds old files
  std::string run = "echo \"ran-at $(date +%s.%N)\"";
  Json body;
  if (bucket) {
    run += " && cd " + dir.file("node/" + place) + " && " + survey_script();
    body = attempt(outcome.id, run,
                   bucket_mount("~/" + place, what.mode, bucket->name, "", s3.endpoint()));
  } else {
    body = attempt(outcome.id, run, Json::object());
    body.set("mounts", Json::array());  // the same attempt with no bucket at all
  }
  const auto requested = std::chrono::system_clock::now();
  node.api().start(body);
  outcome.phase = node.api().wait_finished(outcome.id, std::chrono::minutes(5));
  const std::string log = node.api().log(outcome.id);
  const std::string ran_at = last_match(log, std::regex("ran-at ([0-9.]+)"));
  if (ran_at.empty()) {
    outcome.problem = "the run printed no time";
    return outcome;
  }
  const double requested_s = std::chrono::duration<double>(requested.time_since_epoch()).count();
  outcome.to_run_ms = (std::stod(ran_at) - requested_s) * 1000;
  const std::string ready = last_match(log, std::regex(R"(ready at \S+ \([A-Z_]+, (\d+) ms\))"));
  if (!ready.empty()) outcome.skylet_ms = std::stod(ready);
  if (bucket) {
    const std::string objects = last_match(log, std::regex("objects (\\d+)"));
    const std::string digest = last_match(log, std::regex("digest ([0-9a-f]+)"));
    if (objects != std::to_string(bucket->objects))
      outcome.problem = "saw " + objects + " objects, not " + std::to_string(bucket->objects);
    else if (digest != bucket->digest)
      outcome.problem =
          "objects' digest " + digest + " differs from the uploaded " + bucket->digest;
    else if (!ready.empty() && !contains(log, "(" + what.mode + ", "))
      outcome.problem = "skylet made the bucket ready in another mode";
  }
  return outcome;
}

std::pair<double, double> median_and_max(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {median, values.back()};
}

// fuse.rclone mounts whose mount point lies under `root`.
std::vector<std::string> rclone_mounts_under(const std::string& root) {
  std::vector<std::string> found;
  for (const MountEntry& mount : current_mounts())
    if (mount.type == "fuse.rclone" && mount.point.starts_with(root + "/"))
      found.push_back(mount.point);
  return found;
}

// rclone processes whose command line names something under `root` (this run's skylet's).
std::vector<std::string> rclone_processes_under(const std::string& root) {
  std::vector<std::string> found;
  std::istringstream pids(run_command({"/usr/bin/pgrep", "-x", "rclone"}).out);
  for (std::string pid; pids >> pid;) {
    std::string cmdline = read_text("/proc/" + pid + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (contains(cmdline, root + "/")) found.push_back(pid + ": " + cmdline);
  }
  return found;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = i + 1 < argc ? std::atoi(argv[i + 1]) : 0;
    if (flag == "--attempts" && value > 0)
      settings.attempts = value;
    else if (flag == "--total-mib" && value > 0)
      settings.total_mib = value;
    else {
      std::cerr << "usage: mount_bench [--attempts N] [--total-mib N]\n";
      return 2;
    }
  }
  if (::access("/dev/fuse", R_OK | W_OK) != 0 || ::geteuid() != 0) {
    std::cerr << "mount_bench: FUSE mounts need root and /dev/fuse\n";
    return 2;
  }
  try {
    TempDir dir;
    S3Server s3(dir);
    const std::string keys =
        credentials_file(dir, "s3-keys", S3Server::kAccessKey, S3Server::kSecretKey);
    SkyletNode node(dir, "node", {"--storage-credentials", keys});
    const std::uint64_t total_bytes = static_cast<std::uint64_t>(settings.total_mib) << 20;
    std::map<int, Bucket> buckets;
    for (int objects : {1, 100, 1000})
      buckets[objects] = fill_bucket(s3, dir, objects, total_bytes);

    const std::vector<Case> cases = {{"", 0},     {"MOUNT", 100}, {"MOUNT_CACHED", 100},
                                     {"COPY", 1}, {"COPY", 100},  {"COPY", 1000}};
    std::vector<Outcome> all;
    std::printf(
        "| bucket | objects (%d MiB in all) | attempts | start → run, median ms | max ms | "
        "skylet's ready, median ms | max ms |\n",
        settings.total_mib);
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
    for (const Case& what : cases) {
      std::optional<Bucket> bucket;
      if (!what.mode.empty()) bucket = buckets.at(what.objects);
      std::vector<double> to_run, skylet;
      for (int round = 1; round <= settings.attempts; ++round) {
        Outcome outcome = run_attempt(node, dir, s3, what, bucket, round);
        to_run.push_back(outcome.to_run_ms);
        if (outcome.skylet_ms) skylet.push_back(*outcome.skylet_ms);
        all.push_back(std::move(outcome));
      }
      const auto [median, max] = median_and_max(to_run);
      std::string ready = "| – | –";
      if (!skylet.empty()) {
        const auto [ready_median, ready_max] = median_and_max(skylet);
        char cells[64];
        std::snprintf(cells, sizeof cells, "| %.0f | %.0f", ready_median, ready_max);
        ready = cells;
      }
      std::printf("| %s | %s | %d | %.0f | %.0f %s |\n",
                  what.mode.empty() ? "none (baseline)" : what.mode.c_str(),
                  what.mode.empty() ? "–" : std::to_string(what.objects).c_str(), settings.attempts,
                  median, max, ready.c_str());
      std::fflush(stdout);
    }

    int wrong = 0;
    for (const Outcome& outcome : all) {
      if (outcome.phase != "SUCCEEDED" || !outcome.problem.empty()) {
        std::printf("WRONG: attempt %s ended %s %s\n", outcome.id.c_str(), outcome.phase.c_str(),
                    outcome.problem.c_str());
        ++wrong;
      }
    }
    const auto mounts = rclone_mounts_under(dir.path());
    const auto processes = rclone_processes_under(dir.path());
    for (const auto& mount : mounts) std::printf("LEFT: fuse.rclone mount at %s\n", mount.c_str());
    for (const auto& process : processes) std::printf("LEFT: rclone %s\n", process.c_str());
    wrong += static_cast<int>(mounts.size() + processes.size());
    std::printf(
        "\ncorrectness: %zu attempts, each to end SUCCEEDED with its bucket's objects (count and "
        "SHA-256 of their bytes); %zu rclone mounts and %zu rclone processes left: %s\n",
        all.size(), mounts.size(), processes.size(), wrong == 0 ? "ok" : "WRONG");
    return wrong == 0 ? 0 : 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "mount_bench: %s\n", error.what());
    return 1;
  }
}
