// SkyPilot's own task YAMLs (skeletons in tests/corpus/skypilot) through exactly what
// `sky jobs launch --dryrun FILE` does (`sky jobs pool apply --dryrun FILE` for a pool YAML):
// parse, overrides, the as-submitted check and a plan against the built-in catalog. Every file
// either plans or is refused for a reason listed in tests/corpus/skypilot/refusals.txt, and the
// share that plans stays at or above the floor.

#include "cli/launch_command.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace skyd::cli {
namespace {

namespace fs = std::filesystem;

// Raise it when a change lets more files plan; the test fails when the figure drops below it.
// 0.64: network_tier (EFA on EC2), max_hourly_cost, git workdirs and GCP's node settings are
// honoured. 0.67: the built-in catalog has EC2's P3 (V100) types, n2-standard in every GCP
// region and priced A100 machines on GCP. 0.69: ports on GCP (a firewall rule per cluster).
// 0.76: containers (image_id: docker:IMAGE) on EC2 and GCP nodes. 0.769: job groups
// (execution: parallel). 0.81: Kubernetes (infra: k8s, cloud: kubernetes; one pod per node).
// 0.845: Cloud TPU VMs (tpu-…) and their accelerator_args on GCP, and pool YAMLs with a fixed
// `workers` count, planned as `sky jobs pool apply --dryrun` plans them. 0.862: volumes
// (Kubernetes PersistentVolumeClaims mounted in the task's pods). 0.878: autoscaling pool YAMLs
// (min_workers to max_workers). 0.901: network_tier: best on Kubernetes (the nodes' InfiniBand
// or EFA, found from their labels when the pods are made).
constexpr double kAcceptanceFloor = 0.901;

// Why refusals.txt expects a file to be refused (its sections).
enum class Reason {
  kTrue,     // [refused]: a cloud or feature skyd does not have, a template to fill in
  kCatalog,  // [catalog]: the built-in catalog lacks it; the full catalog will have it
};

// A refusal the corpus expects: a part of the file's error, and why.
struct ExpectedRefusal {
  std::string error_part;
  Reason reason = Reason::kTrue;
};

// refusals.txt: `[refused]` and `[catalog]` sections of `path: part of the error`.
std::map<std::string, ExpectedRefusal> read_refusals(const fs::path& file) {
  const std::map<std::string, Reason> sections = {{"[refused]", Reason::kTrue},
                                                  {"[catalog]", Reason::kCatalog}};
  std::map<std::string, ExpectedRefusal> refusals;
  std::ifstream in(file);
  std::string line;
  Reason reason = Reason::kTrue;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (const auto section = sections.find(line); section != sections.end()) {
      reason = section->second;
      continue;
    }
    const std::size_t colon = line.find(": ");
    if (colon == std::string::npos) {
      ADD_FAILURE() << "refusals.txt: expected `path: part of the error`, got: " << line;
      continue;
    }
    refusals[line.substr(0, colon)] = {line.substr(colon + 2), reason};
  }
  return refusals;
}

// A user fills a blank env or secret from the command line (`--env KEY=VALUE`) as the error asks;
// so does the test. Returns false when the error asks for nothing of the kind.
bool fill_blank(const std::string& error, LaunchOptions& options) {
  for (const auto& [flag, list] : {std::pair{std::string("--env "), &options.envs},
                                   std::pair{std::string("--secret "), &options.secrets}}) {
    const std::size_t at = error.find("pass it with " + flag);
    if (at == std::string::npos) continue;
    const std::size_t key = at + std::string("pass it with ").size() + flag.size();
    const std::size_t end = error.find('=', key);
    if (end == std::string::npos) return false;
    list->push_back(error.substr(key, end - key) + "=skyd-corpus");
    return true;
  }
  return false;
}

// Whether the file is a pool YAML: a top-level `pool:` key, as SkyPilot's users write it.
bool is_pool_yaml(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("pool:")) return true;
  }
  return false;
}

// The error `sky jobs launch --dryrun FILE` (`sky jobs pool apply --dryrun FILE` for a pool
// YAML) would print, or "" when it plans.
std::string dryrun_error(const fs::path& file) {
  LaunchOptions options;
  options.entrypoint = {file.string()};
  options.dryrun = true;
  options.pool_apply = is_pool_yaml(file);
  for (int blanks = 0; blanks < 32; ++blanks) {
    auto launch = prepare_launch(options);
    if (launch) return "";
    if (!fill_blank(launch.error().detail, options)) return launch.error().detail;
  }
  return "too many blank envs";
}

std::string percent(std::size_t count, std::size_t total) {
  const std::size_t tenths = count * 1000 / total;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "%";
}

TEST(SkyPilotCorpus, EveryFilePlansOrIsRefusedForAListedReason) {
  const fs::path corpus = CORPUS_DIR;
  const auto expected = read_refusals(corpus / "refusals.txt");
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
    const auto extension = entry.path().extension();
    if (extension == ".yaml" || extension == ".yml") {
      files.push_back(fs::relative(entry.path(), corpus).string());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_GT(files.size(), 500u) << "the corpus is missing";

  std::size_t accepted = 0;
  std::map<Reason, std::size_t> refused;
  std::vector<std::string> now_planning;
  for (const auto& file : files) {
    const std::string error = dryrun_error(corpus / file);
    const auto listed = expected.find(file);
    if (error.empty()) {
      ++accepted;
      if (listed != expected.end()) now_planning.push_back(file);
      continue;
    }
    if (listed == expected.end()) {
      ADD_FAILURE() << file << " is refused but not listed in refusals.txt:\n  " << error;
      continue;
    }
    ++refused[listed->second.reason];
    EXPECT_NE(error.find(listed->second.error_part), std::string::npos)
        << file << ": refusals.txt expects `" << listed->second.error_part << "`, got:\n  "
        << error;
  }
  for (const auto& [file, refusal] : expected) {
    EXPECT_TRUE(std::binary_search(files.begin(), files.end(), file))
        << "refusals.txt lists " << file << ", which is not in the corpus";
  }
  // A true refusal that plans now must leave the list, so the list stays the truth; a [catalog]
  // entry that plans (a catalog from elsewhere) is reported for removal.
  for (const auto& file : now_planning) {
    if (expected.at(file).reason == Reason::kTrue) {
      ADD_FAILURE() << file << " plans now; remove it from refusals.txt";
    } else {
      std::cout << "note: " << file << " plans now; remove it from refusals.txt\n";
    }
  }

  std::cout << "SkyPilot corpus: " << accepted << " of " << files.size() << " files plan ("
            << percent(accepted, files.size()) << "); refused: " << refused[Reason::kTrue]
            << " for a cloud or feature skyd lacks, " << refused[Reason::kCatalog]
            << " only for the built-in catalog; without the catalog refusals "
            << percent(accepted + refused[Reason::kCatalog], files.size()) << " plan\n";
  EXPECT_GE(static_cast<double>(accepted) / static_cast<double>(files.size()), kAcceptanceFloor);
}

}  // namespace
}  // namespace skyd::cli
