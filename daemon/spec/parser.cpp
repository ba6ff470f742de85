#include "daemon/spec/parser.hpp"

#include "daemon/spec/deadline_text.hpp"
#include "daemon/spec/spec_error.hpp"
#include "daemon/spec/task_json.hpp"
#include "providers/catalog/kubernetes_shape.hpp"
#include "providers/catalog/suggest.hpp"
#include "providers/catalog/tpu.hpp"
#include "reactor/utf8.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

namespace skyd::spec {
namespace {

// Parse failures travel as this exception inside the module and leave as Result errors.
struct Failure {
  SpecErrc code;
  std::string message;
};

// Room for a task with an 8 MiB setup and an 8 MiB run script, several times over.
constexpr std::size_t kMaxInputBytes = 64u << 20;
constexpr int kMaxConfigDepth = 64;
constexpr std::size_t kMaxConfigNodes = 100000;  // aliases can make a small file a huge tree
constexpr std::size_t kMaxCandidates = 256;

// Counts parser events and gives up past a budget proportional to the input: yaml-cpp 0.7 can emit
// events without end on some malformed input (a run of stray `,`), which would hang LoadAll.
class EventBudget final : public YAML::EventHandler {
 public:
  explicit EventBudget(std::size_t budget) : budget_(budget) {}
  bool exhausted() const { return exhausted_; }

  void OnDocumentStart(const YAML::Mark&) override { spend(); }
  void OnDocumentEnd() override { spend(); }
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { spend(); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { spend(); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    spend();
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    spend();
  }
  void OnSequenceEnd() override { spend(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    spend();
  }
  void OnMapEnd() override { spend(); }

 private:
  struct Exhausted {};
  void spend() {
    if (++spent_ > budget_) {
      exhausted_ = true;
      throw Exhausted{};
    }
  }
  std::size_t budget_;
  std::size_t spent_ = 0;
  bool exhausted_ = false;

  friend bool events_within_budget(std::string_view text);
};

// True when every document of `text` parses within the event budget (syntax errors included:
// those are reported by the real load that follows).
bool events_within_budget(std::string_view text) {
  std::istringstream stream{std::string(text)};
  EventBudget budget(64 + 8 * text.size());
  try {
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(budget)) {
    }
  } catch (const EventBudget::Exhausted&) {
    return false;
  } catch (const YAML::Exception&) {
  }
  return true;
}

// SkyPilot clouds that skyd does not run on; named in the error instead of "unknown".
const std::vector<std::string> kOtherSkyPilotClouds = {
    "azure",   "lambda",     "runpod",     "oci",        "ibm",   "scp",
    "vsphere", "cudo",       "fluidstack", "paperspace", "do",    "vast",
    "nebius",  "hyperbolic", "ssh",        "slurm",      "seeweb"};

const std::vector<std::string> kTaskKeys = {"name",    "workdir", "num_nodes",      "resources",
                                            "envs",    "secrets", "file_mounts",    "volumes",
                                            "setup",   "run",     "event_callback", "config",
                                            "service", "inputs",  "outputs",        "pool"};
const std::vector<std::string> kUnsupportedTaskKeys = {"volume_mounts",     "managed_secrets",
                                                       "api_server_access", "file_mounts_mapping",
                                                       "_metadata",         "job_group"};
const std::vector<std::string> kResourceKeys = {
    "infra",         "cloud",        "region",          "zone",
    "instance_type", "cpus",         "memory",          "accelerators",
    "gpus",          "use_spot",     "disk_size",       "disk_tier",
    "ports",         "labels",       "image_id",        "job_recovery",
    "any_of",        "ordered",      "autostop",        "priority",
    "spot_recovery", "network_tier", "max_hourly_cost", "accelerator_args"};
const std::vector<std::string> kUnsupportedResourceKeys = {"ephemeral_storage", "local_disk",
                                                           "priority_class", "volumes"};
// SkyPilot's `accelerator_args` (TPUs): the ones skyd honours, and the one it lacks.
const std::vector<std::string> kAcceleratorArgsKeys = {"runtime_version", "tpu_vm", "tpu_name"};
const std::vector<std::string> kUnsupportedAcceleratorArgsKeys = {"gcp_queued_resource"};
// Why skyd lacks a SkyPilot field, where the field's name does not say it.
const std::map<std::string, std::string> kUnsupportedWhy = {
    {"volumes", "cloud disks as volumes; a task's `volumes:` mounts Kubernetes claims"},
    {"volume_mounts", "the resolved form SkyPilot writes itself; write `volumes:`"},
    {"gcp_queued_resource", "skyd creates TPUs directly, not through GCP's queued resources"},
    {"ephemeral_storage", "skyd's Kubernetes pods do not request ephemeral storage"},
    {"priority_class", "a Kubernetes PriorityClass; use `priority`"},
    {"local_disk", "skyd does not choose instances by local disk"},
    {"managed_secrets", "a SkyPilot API-server secret store"},
    {"api_server_access", "a SkyPilot API-server feature"},
    {"job_group", "skyd does not run job groups"},
};
// SkyPilot's `pool:` section (docs/source/reference/yaml-spec.rst, "pool").
const std::vector<std::string> kPoolKeys = {"workers",
                                            "min_workers",
                                            "max_workers",
                                            "queue_length_threshold",
                                            "upscale_delay_seconds",
                                            "downscale_delay_seconds"};
constexpr int kMaxPoolWorkers = 1000;
// A `volumes` entry written as a mapping; SkyPilot's ephemeral volumes (made and deleted with
// the cluster) are written with the others.
const std::vector<std::string> kVolumeKeys = {"name", "sub_path"};
const std::vector<std::string> kUnsupportedVolumeKeys = {"size", "type", "config", "labels"};
const std::vector<std::string> kAutostopKeys = {"idle_minutes", "down", "wait_for", "hook",
                                                "hook_timeout"};
// SkyPilot's job priorities (sky/skylet/constants.py).
constexpr int kMinPriority = -1000;
constexpr int kMaxPriority = 1000;
const std::vector<std::string> kStorageKeys = {"name", "source",     "store",
                                               "mode", "persistent", "type"};
// SkyPilot's MOUNT_CACHED workload types (sky/data/storage.py, FileMountType): rclone tunings.
const std::vector<std::string> kMountWorkloadTypes = {"MODEL_CHECKPOINT_RO", "MODEL_CHECKPOINT_RW",
                                                      "DATASET_RO", "DATASET_RW"};
const std::vector<std::string> kUnsupportedStorageKeys = {"config", "_force_delete",
                                                          "_is_sky_managed", "_bucket_sub_path"};
const std::vector<std::string> kRecoveryKeys = {
    "strategy", "max_restarts_on_errors", "recover_on_exit_codes", "deadline",
    "work",     "restart_overhead",       "deadline_policy"};
// Read only with `strategy: DEADLINE`.
const std::vector<std::string> kDeadlineKeys = {"deadline", "work", "restart_overhead",
                                                "deadline_policy"};

// Why a candidate cannot run a DEADLINE job as written, or "".
std::string deadline_market_problem(const Resources& resources) {
  const bool deadline = resources.job_recovery && resources.job_recovery->deadline;
  if (!deadline || resources.use_spot.value_or(true)) return "";
  return "`use_spot: false` cannot be combined with job_recovery strategy DEADLINE, which "
         "chooses between spot and on-demand itself; remove use_spot (or use "
         "deadline_policy: on_demand)";
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool is_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool contains_code(const std::vector<int>& codes, int code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

std::optional<double> to_double(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<long long> to_integer(std::string_view text) {
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> to_bool(std::string_view text) {
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return std::nullopt;
}

std::string child_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string index_path(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// Reads one task's YAML (or normalized JSON) and the pipeline around it.
class Parser {
 public:
  Parser(std::string source, const ParseOptions& options)
      : source_(std::move(source)), options_(options) {}

  Pipeline parse_documents(std::string_view text);
  // YAML allows no control characters besides tab and line breaks; yaml-cpp 0.7 can loop
  // forever on a NUL byte, so they are refused before it sees them.
  void check_characters(std::string_view text) const {
    check_control_characters(text);
    if (!events_within_budget(text)) {
      throw Failure{SpecErrc::kSyntax,
                    source_ + ": the YAML parser cannot make sense of this input"};
    }
  }

  // YAML is Unicode text: bytes that are not UTF-8 are refused at their position too.
  void check_control_characters(std::string_view text) const {
    std::size_t line = 1;
    std::size_t column = 1;
    auto refuse = [&](const std::string& what) {
      throw Failure{SpecErrc::kSyntax, source_ + ":" + std::to_string(line) + ":" +
                                           std::to_string(column) + ": " + what};
    };
    for (std::size_t i = 0; i < text.size();) {
      const char c = text[i];
      const auto byte = static_cast<unsigned char>(c);
      if ((byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte == 0x7f) {
        refuse("control character (byte " + std::to_string(byte) + ") is not allowed in YAML");
      }
      std::size_t length = 1;
      if (byte >= 0x80) {
        length = utf8_sequence_length(text.substr(i));
        if (length == 0) {
          refuse("byte " + std::to_string(byte) + " is not UTF-8; YAML files are UTF-8 text");
        }
      }
      i += length;
      ++column;
      if (c == '\n') {
        ++line;
        column = 1;
      }
    }
  }

  // Escapes can still put what no text field may hold into a scalar ("\0", "\u0000", a lone
  // "\ud800"): every key and value is checked, with its path, before any field is read. Aliases
  // can make a small file a large tree, so the walk has a budget proportional to the input.
  void check_scalar_text(const YAML::Node& node, const std::string& path,
                         std::size_t& budget) const {
    if (budget == 0) {
      fail(SpecErrc::kInvalid, node, path, "the document expands to too many values (aliases?)");
    }
    --budget;
    auto check = [&](const YAML::Node& at, const std::string& at_path, std::string_view text,
                     std::string_view what) {
      if (text.find('\0') != std::string_view::npos) {
        fail(SpecErrc::kInvalid, at, at_path,
             std::string(what) + " holds a NUL byte, which no text field may hold");
      }
      if (!is_valid_utf8(text)) {
        fail(SpecErrc::kInvalid, at, at_path, std::string(what) + " is not valid UTF-8");
      }
    };
    if (node.IsScalar()) {
      check(node, path, node.Scalar(), "the value");
    } else if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->first.IsScalar()) continue;  // refused as a key by the field checks
        check(it->first, path, it->first.Scalar(), "a key");
        check_scalar_text(it->second, child_path(path, it->first.Scalar()), budget);
      }
    } else if (node.IsSequence()) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        check_scalar_text(node[i], index_path(path, i), budget);
      }
    }
  }
  static std::size_t scalar_budget(std::string_view text) { return 64 + 16 * text.size(); }
  Pipeline parse_normalized(std::string_view text);

 private:
  // "file:line:col: path: what", as errors and warnings read.
  std::string located(const YAML::Node& at, const std::string& path,
                      const std::string& what) const {
    std::string location = source_;
    const YAML::Mark mark = at.Mark();
    if (!source_.empty() && !mark.is_null()) {
      location += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    }
    if (!location.empty()) location += ": ";
    return location + (path.empty() ? "" : path + ": ") + what;
  }

  [[noreturn]] void fail(SpecErrc code, const YAML::Node& at, const std::string& path,
                         const std::string& what) const {
    throw Failure{code, located(at, path, what)};
  }

  // Accepted, but it will not act as the user may expect: the pipeline carries the sentence.
  void warn(const YAML::Node& at, const std::string& path, const std::string& what) const {
    warnings_.push_back(located(at, path, what));
  }

  // Field checks -----------------------------------------------------------------------------

  // Keys must be distinct strings.
  void check_plain_keys(const YAML::Node& map, const std::string& path) const {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->first.IsScalar()) fail(SpecErrc::kInvalid, it->first, path, "keys must be strings");
      if (!seen.insert(it->first.Scalar()).second) {
        fail(SpecErrc::kInvalid, it->first, child_path(path, it->first.Scalar()), "duplicate key");
      }
    }
  }

  // Keys must also be fields of the schema; SkyPilot fields that skyd lacks are named as such.
  void check_keys(const YAML::Node& map, const std::string& path,
                  const std::vector<std::string>& known,
                  const std::vector<std::string>& unsupported,
                  std::string_view unsupported_why) const {
    check_plain_keys(map, path);
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (contains(known, key)) continue;
      if (contains(unsupported, key)) {
        const auto why = kUnsupportedWhy.find(key);
        fail(SpecErrc::kUnsupported, it->first, child_path(path, key),
             "`" + key + "` is a SkyPilot field that " + std::string(unsupported_why) +
                 (why == kUnsupportedWhy.end() ? "" : " (" + why->second + ")"));
      }
      fail(SpecErrc::kUnknownField, it->first, child_path(path, key),
           "unknown field `" + key + "`" + catalog::did_you_mean(key, known));
    }
  }

  void require_map(const YAML::Node& node, const std::string& path, std::string_view what) const {
    if (!node.IsMap()) fail(SpecErrc::kInvalid, node, path, "expected " + std::string(what));
  }

  std::string string_value(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) fail(SpecErrc::kInvalid, node, path, "expected a string");
    return node.Scalar();
  }

  bool bool_value(const YAML::Node& node, const std::string& path) const {
    std::optional<bool> value;
    if (node.IsScalar()) value = to_bool(node.Scalar());
    if (!value) fail(SpecErrc::kInvalid, node, path, "expected true or false");
    return *value;
  }

  long long int_value(const YAML::Node& node, const std::string& path, long long min,
                      long long max) const {
    std::optional<long long> value;
    if (node.IsScalar()) value = to_integer(node.Scalar());
    if (!value || *value < min || *value > max) {
      fail(SpecErrc::kInvalid, node, path,
           "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return *value;
  }

  // Text that is "none" (any case) resets a field.
  // Where to point for `map[key]`: a null value has no position of its own, so use its key.
  static YAML::Node position_of(const YAML::Node& map, const std::string& key) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) {
        return it->second.IsNull() ? it->first : it->second;
      }
    }
    return map;
  }

  // The key `key` of `map` itself (for messages about a whole field).
  static YAML::Node key_of(const YAML::Node& map, const std::string& key) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->first;
    }
    return map;
  }

  static bool is_none(const YAML::Node& node) {
    return node.IsNull() || (node.IsScalar() && lower(node.Scalar()) == "none");
  }

  // Top-level task fields --------------------------------------------------------------------

  Task parse_task(const YAML::Node& doc, const std::string& path) const;
  PoolSpec parse_pool(const YAML::Node& node, const std::string& path) const;
  void parse_envs(const YAML::Node& node, const std::string& path,
                  std::map<std::string, std::string>& values, std::set<std::string>& unset) const;
  std::vector<FileMount> parse_file_mounts(const YAML::Node& node, const std::string& path,
                                           const std::map<std::string, std::string>& vars) const;
  std::vector<VolumeMount> parse_volumes(const YAML::Node& node, const std::string& path,
                                         const std::map<std::string, std::string>& vars) const;
  FileMount parse_storage(const YAML::Node& node, const std::string& path, std::string destination,
                          const std::map<std::string, std::string>& vars) const;
  // A bucket URL's bucket is a bucket name like any other (the local provider makes it a
  // directory); local paths pass.
  void check_bucket_url(const YAML::Node& at, const std::string& path,
                        const std::string& url) const {
    if (url.find("://") == std::string::npos) return;
    const std::string bucket = bucket_of_url(url);
    const std::string store = store_of_url(url);
    if (const std::string problem = bucket_name_problem(bucket, store); !problem.empty()) {
      fail(SpecErrc::kInvalid, at, path,
           "the bucket `" + bucket + "` of " + url + " " + problem + " (" +
               (store == "gcs" ? "GCS" : "S3") + "'s bucket naming rules)");
    }
  }
  // Every variable reaches the task's processes through execve: one that is too long, or too
  // many together, would fail every start of the task.
  void check_environment_size(const YAML::Node& doc, const std::string& path,
                              const Task& task) const {
    std::size_t total = 0;
    for (const auto* field : {"envs", "secrets"}) {
      const auto& values = std::string_view(field) == "envs" ? task.envs : task.secrets;
      for (const auto& [key, value] : values) {
        const std::size_t bytes = key.size() + 1 + value.size();
        total += bytes;
        if (bytes > kMaxEnvEntryBytes) {
          const YAML::Node section = doc[std::string(field)];
          fail(SpecErrc::kInvalid, section ? position_of(section, key) : doc,
               child_path(child_path(path, field), key),
               "`" + key + "=...` is " + std::to_string(bytes) +
                   " bytes; one variable may be at most " + std::to_string(kMaxEnvEntryBytes) +
                   " bytes (the kernel's limit for one environment string); pass larger data as a "
                   "file");
        }
      }
    }
    if (total > kMaxEnvTotalBytes) {
      fail(SpecErrc::kInvalid, doc, path.empty() ? "envs" : child_path(path, "envs"),
           "envs and secrets hold " + std::to_string(total) + " bytes together; at most " +
               std::to_string(kMaxEnvTotalBytes) + " (1 MiB); pass larger data as a file");
    }
  }
  Json to_config_json(const YAML::Node& node, const std::string& path, int depth) const;
  mutable std::size_t config_nodes_ = 0;

 public:
  // Resources (public: overrides reuse the field parsers) --------------------------------------

  // A resources mapping before any_of/ordered/accelerator expansion.
  struct Partial {
    Resources fields;
    std::vector<catalog::AcceleratorRequest> accelerators;  // empty: not given
    bool accelerators_listed = false;                       // a YAML list: ordered preference
    YAML::Node accelerators_node;
    bool infra_given = false;
    // A SkyPilot cloud skyd lacks (kubernetes, azure, ...): an `any_of`/`ordered` option naming
    // one is skipped when another can be placed, so it is recorded rather than refused here.
    std::optional<std::string> other_cloud;
    YAML::Node other_cloud_node;
    std::string other_cloud_path;
  };

  ResourceSet parse_resources(const YAML::Node& node, const std::string& path) const;
  void parse_resource_field(Partial& partial, const std::string& key, const YAML::Node& value,
                            const std::string& path) const;

 private:
  Partial parse_partial(const YAML::Node& node, const std::string& path, bool top) const;
  // The cloud's catalog name, or nullopt for a SkyPilot cloud skyd lacks (recorded in partial).
  std::optional<std::string> parse_cloud(Partial& partial, const YAML::Node& node,
                                         const std::string& path, std::string_view cloud) const;

 public:
  [[noreturn]] void refuse_other_cloud(const Partial& partial) const {
    fail(SpecErrc::kUnsupported, partial.other_cloud_node, partial.other_cloud_path,
         "cloud `" + *partial.other_cloud +
             "` is not supported by skyd (supported: " + catalog_clouds() + ")");
  }

 private:
  static std::string catalog_clouds() {
    std::string list;
    for (const auto& k : catalog::Catalog::builtin().clouds())
      list += (list.empty() ? "" : ", ") + k;
    return list;
  }
  // Drops the options of a set whose accelerator no catalog cloud offers, when others remain.
  void skip_unoffered_accelerators(ResourceSet& set, const YAML::Node& node) const;
  void parse_infra(Partial& partial, const YAML::Node& node, const std::string& path) const;
  catalog::Quantity parse_quantity(const YAML::Node& node, const std::string& path,
                                   bool memory) const;
  std::vector<catalog::AcceleratorRequest> parse_accelerators(const YAML::Node& node,
                                                              const std::string& path,
                                                              bool& listed) const;
  catalog::AcceleratorRequest parse_accelerator(const YAML::Node& at, const std::string& path,
                                                std::string_view text,
                                                std::optional<double> count) const;
  std::vector<PortRange> parse_ports(const YAML::Node& node, const std::string& path) const;
  AcceleratorArgs parse_accelerator_args(const YAML::Node& node, const std::string& path) const;
  void check_tpu(const Resources& candidate, const YAML::Node& node,
                 const std::string& origin) const;
  int parse_disk_size(const YAML::Node& node, const std::string& path) const;
  GitWorkdir parse_git_workdir(const YAML::Node& node, const std::string& path,
                               const std::map<std::string, std::string>& vars) const;
  std::optional<JobRecovery> parse_job_recovery(const YAML::Node& node,
                                                const std::string& path) const;
  DeadlineSpec parse_deadline(const YAML::Node& node, const std::string& path) const;
  std::chrono::seconds duration_field(const YAML::Node& node, const std::string& path,
                                      bool zero_allowed) const;
  std::optional<ImageId> parse_image_id(const YAML::Node& node, const std::string& path) const;

  void parse_autostop(const YAML::Node& node, const std::string& path) const;
  // The header's job group fields, checked against the tasks (named, each name once).
  void parse_job_group(const YAML::Node& head, Pipeline& pipeline) const;
  std::optional<DataHint> parse_data_hint(const YAML::Node& node, const std::string& path) const;

  std::string source_;
  const ParseOptions& options_;
  mutable std::vector<std::string> warnings_;
};

// Documents and tasks ------------------------------------------------------------------------

// Fields of a job group's header (`execution: parallel`).
const std::vector<std::string> kJobGroupHeaderKeys = {"primary_tasks", "termination_delay"};

bool is_header(const YAML::Node& doc) {
  if (!doc.IsMap() || !doc["name"]) return false;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (!it->first.IsScalar()) return false;
    const std::string key = it->first.Scalar();
    if (key != "name" && key != "execution" && !contains(kJobGroupHeaderKeys, key)) return false;
  }
  return true;
}

Pipeline Parser::parse_documents(std::string_view text) {
  if (text.size() > kMaxInputBytes) {
    throw Failure{SpecErrc::kInvalid, source_ + ": file is larger than 64 MiB"};
  }
  check_characters(text);
  std::vector<YAML::Node> docs;
  std::size_t budget = scalar_budget(text);
  for (const auto& doc : YAML::LoadAll(std::string(text))) {
    if (doc.IsNull()) continue;  // a trailing `---` yields a null document
    check_scalar_text(doc, "", budget);
    docs.push_back(doc);
  }
  if (docs.empty()) throw Failure{SpecErrc::kInvalid, source_ + ": no task in the file"};

  Pipeline pipeline;
  std::size_t first_task = 0;
  const bool header = is_header(docs[0]) && (docs.size() > 1 || docs[0]["execution"]);
  if (header) {
    const YAML::Node& head = docs[0];
    pipeline.name = string_value(head["name"], "name");
    if (!is_valid_job_name(*pipeline.name)) {
      fail(SpecErrc::kInvalid, head["name"], "name", "expected " + std::string(kJobNameRule));
    }
    bool parallel = false;
    if (const YAML::Node execution = head["execution"]) {
      const std::string mode = lower(string_value(execution, "execution"));
      if (mode != "serial" && mode != "parallel") {
        fail(SpecErrc::kInvalid, execution, "execution", "expected `serial` or `parallel`");
      }
      parallel = mode == "parallel";
    }
    for (const auto& key : kJobGroupHeaderKeys) {
      if (head[key] && !parallel) {
        fail(SpecErrc::kInvalid, position_of(head, key), key,
             "`" + key + "` belongs to job groups: it needs `execution: parallel`");
      }
    }
    if (parallel) pipeline.group = JobGroup{};
    first_task = 1;
  }
  std::optional<int> job_priority;
  for (std::size_t i = first_task; i < docs.size(); ++i) {
    pipeline.tasks.push_back(parse_task(docs[i], ""));
    // SkyPilot's rule: tasks that give a priority give the same one.
    const auto& given = pipeline.tasks.back().resources.candidates.front().priority;
    if (given && job_priority && *given != *job_priority) {
      fail(SpecErrc::kInvalid, docs[i]["resources"], "resources.priority",
           "the tasks of a pipeline give different priorities (" + std::to_string(*job_priority) +
               " and " + std::to_string(*given) + "); give it in one task, or the same in each");
    }
    if (given) job_priority = given;
  }
  if (pipeline.tasks.empty()) pipeline.tasks.emplace_back();  // a header-only file
  if (pipeline.group) parse_job_group(docs[0], pipeline);
  pipeline.warnings = std::move(warnings_);
  return pipeline;
}

void Parser::parse_job_group(const YAML::Node& head, Pipeline& pipeline) const {
  JobGroup& group = *pipeline.group;
  std::vector<std::string> names;
  for (const auto& task : pipeline.tasks) {
    // Logs, `sky jobs logs JOB TASK` and the other tasks find a task by its name.
    if (!task.name) {
      fail(SpecErrc::kMissingValue, head, "execution", "every task of a job group needs a `name`");
    }
    if (contains(names, *task.name)) {
      fail(SpecErrc::kInvalid, head, "execution",
           "two tasks of the job group are named `" + *task.name + "`; names must be unique");
    }
    names.push_back(*task.name);
  }
  auto known = [&](const YAML::Node& node, const std::string& path, const std::string& name) {
    if (!contains(names, name)) {
      fail(SpecErrc::kInvalid, node, path, "no task of the job group is named `" + name + "`");
    }
  };
  if (const YAML::Node primary = head["primary_tasks"]; primary && !primary.IsNull()) {
    if (!primary.IsSequence() || primary.size() == 0) {
      fail(SpecErrc::kInvalid, primary, "primary_tasks", "expected a non-empty list of task names");
    }
    for (std::size_t i = 0; i < primary.size(); ++i) {
      const std::string path = index_path("primary_tasks", i);
      const std::string name = string_value(primary[i], path);
      known(primary[i], path, name);
      if (!contains(group.primary_tasks, name)) group.primary_tasks.push_back(name);
    }
  }
  if (const YAML::Node delay = head["termination_delay"]; delay && !delay.IsNull()) {
    if (delay.IsMap()) {
      for (auto it = delay.begin(); it != delay.end(); ++it) {
        const std::string key = it->first.Scalar();
        const std::string path = child_path("termination_delay", key);
        const auto seconds = duration_field(it->second, path, true);
        if (key == "default") {
          group.default_delay = seconds;
        } else {
          known(it->first, path, key);
          group.delays[key] = seconds;
        }
      }
    } else {
      group.default_delay = duration_field(delay, "termination_delay", true);
    }
  }
}

Pipeline Parser::parse_normalized(std::string_view text) {
  check_characters(text);
  const YAML::Node root = YAML::Load(std::string(text));
  std::size_t budget = scalar_budget(text);
  check_scalar_text(root, "", budget);
  require_map(root, "", "a normalized pipeline {name, tasks}");
  check_keys(root, "", {"name", "tasks", "job_group"}, {}, "");
  Pipeline pipeline;
  if (const YAML::Node name = root["name"]; name && !name.IsNull()) {
    pipeline.name = string_value(name, "name");
    if (!is_valid_job_name(*pipeline.name)) {
      fail(SpecErrc::kInvalid, name, "name", "expected " + std::string(kJobNameRule));
    }
  }
  const YAML::Node tasks = root["tasks"];
  if (!tasks || !tasks.IsSequence() || tasks.size() == 0) {
    fail(SpecErrc::kInvalid, root, "tasks", "expected a non-empty list of tasks");
  }
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    pipeline.tasks.push_back(parse_task(tasks[i], index_path("tasks", i)));
  }
  if (const YAML::Node group = root["job_group"]; group && !group.IsNull()) {
    require_map(group, "job_group", "a job group {primary_tasks, termination_delay}");
    check_keys(group, "job_group", kJobGroupHeaderKeys, {}, "");
    pipeline.group = JobGroup{};
    parse_job_group(group, pipeline);
  }
  return pipeline;
}

Task Parser::parse_task(const YAML::Node& doc, const std::string& path) const {
  require_map(doc, path, "a mapping of task fields (name, resources, run, ...)");
  check_keys(doc, path, kTaskKeys, kUnsupportedTaskKeys, "skyd's managed jobs do not support");
  Task task;
  if (const YAML::Node node = doc["name"]; node && !node.IsNull()) {
    task.name = string_value(node, child_path(path, "name"));
    if (!is_valid_task_name(*task.name)) {
      fail(SpecErrc::kInvalid, node, child_path(path, "name"),
           "expected " + std::string(kTaskNameRule));
    }
  }
  if (const YAML::Node node = doc["num_nodes"]; node && !node.IsNull()) {
    task.num_nodes = static_cast<int>(int_value(node, child_path(path, "num_nodes"), 1, 10000));
  }
  std::set<std::string> unset_envs;
  std::set<std::string> unset_secrets;
  if (const YAML::Node node = doc["envs"]; node && !node.IsNull()) {
    parse_envs(node, child_path(path, "envs"), task.envs, unset_envs);
  }
  if (const YAML::Node node = doc["secrets"]; node && !node.IsNull()) {
    parse_envs(node, child_path(path, "secrets"), task.secrets, unset_secrets);
  }
  // Overrides are applied before substitution, so they reach file_mounts and workdir.
  for (const auto& [key, value] : options_.env_overrides) {
    if (!task.secrets.contains(key) && !unset_secrets.contains(key)) task.envs[key] = value;
  }
  for (const auto& [key, value] : options_.secret_fallbacks) {
    if (task.secrets.contains(key) || unset_secrets.contains(key)) task.secrets[key] = value;
  }
  for (const auto& [key, value] : options_.secret_overrides) task.secrets[key] = value;
  // A null in the file is a blank the user must fill in from the command line.
  auto check_filled = [&](std::string_view field, const std::set<std::string>& unset,
                          const std::map<std::string, std::string>& values, std::string_view flag) {
    for (const auto& key : unset) {
      if (values.contains(key)) continue;
      fail(SpecErrc::kMissingValue, position_of(doc[std::string(field)], key),
           child_path(child_path(path, field), key),
           "no value given; pass it with " + std::string(flag) + " " + key + "=VALUE");
    }
  };
  check_filled("envs", unset_envs, task.envs, "--env");
  check_filled("secrets", unset_secrets, task.secrets, "--secret");
  for (const auto& [key, value] : task.envs) {
    if (task.secrets.contains(key)) {
      fail(SpecErrc::kInvalid, doc["secrets"], child_path(child_path(path, "secrets"), key),
           "`" + key + "` is also in envs");
    }
  }
  check_environment_size(doc, path, task);
  std::map<std::string, std::string> vars;
  if (options_.substitute) {
    vars = task.envs;
    vars.insert(task.secrets.begin(), task.secrets.end());
  }

  if (const YAML::Node node = doc["workdir"]; node && !node.IsNull()) {
    if (node.IsMap()) {
      task.git_workdir = parse_git_workdir(node, child_path(path, "workdir"), vars);
    } else {
      task.workdir = substitute_vars(string_value(node, child_path(path, "workdir")), vars);
    }
  }
  if (const YAML::Node node = doc["resources"]; node && !node.IsNull()) {
    task.resources = parse_resources(node, child_path(path, "resources"));
    for (const auto& candidate : task.resources.candidates) {
      const auto& accelerator = candidate.accelerator;
      if (task.num_nodes > 1 && accelerator && catalog::is_tpu_name(accelerator->name)) {
        fail(SpecErrc::kInvalid, doc["num_nodes"], child_path(path, "num_nodes"),
             "a TPU slice's hosts are the task's nodes (as in SkyPilot): ask for one slice "
             "(num_nodes: 1), a bigger slice for more hosts (`" +
                 accelerator->name + "` has " +
                 std::to_string(
                     catalog::tpu_slice(accelerator->name).value_or(catalog::TpuSlice{}).hosts) +
                 ")");
      }
    }
  }
  if (const YAML::Node node = doc["file_mounts"]; node && !node.IsNull()) {
    task.file_mounts = parse_file_mounts(node, child_path(path, "file_mounts"), vars);
    for (const auto& mount : task.file_mounts) {
      if (task.workdir &&
          (mount.destination == "~/sky_workdir" || mount.destination == "~/sky_workdir/")) {
        fail(SpecErrc::kInvalid, node, child_path(path, "file_mounts"),
             "~/sky_workdir cannot be a destination when workdir is set");
      }
    }
  }
  if (const YAML::Node node = doc["volumes"]; node && !node.IsNull()) {
    task.volumes = parse_volumes(node, child_path(path, "volumes"), vars);
    for (const auto& volume : task.volumes) {
      const bool also_mounted =
          std::any_of(task.file_mounts.begin(), task.file_mounts.end(),
                      [&](const FileMount& mount) { return mount.destination == volume.path; });
      if (also_mounted) {
        fail(SpecErrc::kInvalid, node, child_path(child_path(path, "volumes"), volume.path),
             "also a file_mounts destination; mount one thing at a path");
      }
    }
  }
  for (std::string_view key : {"setup", "run", "event_callback"}) {
    const YAML::Node node = doc[std::string(key)];
    if (!node || node.IsNull()) continue;
    std::string text = string_value(node, child_path(path, key));
    if (const std::string problem = script_size_problem(task.name.value_or(""), text.size());
        !problem.empty()) {
      fail(SpecErrc::kInvalid, node, child_path(path, key), problem);
    }
    if (key == "setup") task.setup = std::move(text);
    if (key == "run") task.run = std::move(text);
    if (key == "event_callback") {
      task.event_callback = std::move(text);
      warn(key_of(doc, "event_callback"), child_path(path, "event_callback"),
           "kept with the task, not run: skyd runs no user script on the controller (SkyPilot runs "
           "it there at each status change); watch `sky jobs queue` or the job_transitions view");
    }
  }
  if (const YAML::Node node = doc["config"]; node && !node.IsNull()) {
    require_map(node, child_path(path, "config"), "a mapping of config overrides");
    task.config = to_config_json(node, child_path(path, "config"), 0);
    std::string keys;
    for (auto it = node.begin(); it != node.end(); ++it) {
      keys += (keys.empty() ? "`" : ", `") + it->first.Scalar() + "`";
    }
    warn(key_of(doc, "config"), child_path(path, "config"),
         "kept with the task, not applied: skyd takes no per-task config overrides (" + keys +
             " here); its own config is the daemon's");
  }
  if (const YAML::Node node = doc["service"]) {
    // As SkyPilot's `sky jobs launch`: a task written for SkyPilot Serve runs as a job.
    if (!node.IsNull()) require_map(node, child_path(path, "service"), "a service mapping");
    warn(key_of(doc, "service"), child_path(path, "service"),
         "ignored: `service` configures SkyPilot Serve; a managed job runs the task without it");
  }
  task.inputs = parse_data_hint(doc["inputs"], child_path(path, "inputs"));
  task.outputs = parse_data_hint(doc["outputs"], child_path(path, "outputs"));
  if (const YAML::Node node = doc["pool"]; node && !node.IsNull()) {
    task.pool = parse_pool(node, child_path(path, "pool"));
    task.pool->where = located(key_of(doc, "pool"), child_path(path, "pool"), "");
    if (task.pool->where.ends_with(": ")) task.pool->where.resize(task.pool->where.size() - 2);
    if (task.run) {
      warn(key_of(doc, "run"), child_path(path, "run"),
           "ignored in a pool: each job launched with `--pool` brings its own `run`");
    }
  }
  return task;
}

// `pool: {workers: N}`, or SkyPilot's autoscaling pool: `min_workers` (or `workers`) to
// `max_workers`, with its queue threshold and delays, which only an autoscaling pool takes.
PoolSpec Parser::parse_pool(const YAML::Node& node, const std::string& path) const {
  require_map(node, path, "a pool mapping (workers: N)");
  check_keys(node, path, kPoolKeys, {}, "");
  auto given = [&](const char* key) {
    const YAML::Node value = node[key];
    return value && !value.IsNull();
  };
  auto number = [&](const char* key, long long min) {
    return static_cast<int>(int_value(node[key], child_path(path, key), min, kMaxPoolWorkers));
  };
  const bool autoscaling = given("max_workers");
  if (!given("workers") && !given("min_workers")) {
    fail(SpecErrc::kMissingValue, node, child_path(path, "workers"),
         "a pool needs its number of workers (workers: N), or min_workers and max_workers");
  }
  PoolSpec pool;
  pool.min_workers =
      given("min_workers") ? number("min_workers", autoscaling ? 0 : 1) : number("workers", 1);
  if (autoscaling) pool.max_workers = number("max_workers", std::max(pool.min_workers, 1));
  // Both given: the pool starts with `workers`, within what it may scale to.
  pool.workers = given("workers") ? number("workers", pool.min_workers) : pool.min_workers;
  if (!autoscaling && given("workers") && given("min_workers") &&
      pool.workers != pool.min_workers) {
    fail(SpecErrc::kInvalid, node["min_workers"], child_path(path, "min_workers"),
         "a pool without max_workers keeps a fixed size: `workers` and `min_workers` must agree "
         "(or add max_workers)");
  }
  if (pool.max_workers && pool.workers > *pool.max_workers) {
    fail(SpecErrc::kInvalid, node["workers"], child_path(path, "workers"),
         "expected at most max_workers (" + std::to_string(*pool.max_workers) + ")");
  }
  for (const auto& [key, field, min] :
       {std::tuple{"queue_length_threshold", &PoolSpec::queue_length_threshold, 1},
        {"upscale_delay_seconds", &PoolSpec::upscale_delay_seconds, 0},
        {"downscale_delay_seconds", &PoolSpec::downscale_delay_seconds, 0}}) {
    if (!given(key)) continue;
    if (!autoscaling) {
      fail(SpecErrc::kInvalid, node[key], child_path(path, key),
           "set only for an autoscaling pool: add max_workers");
    }
    pool.*field = static_cast<int>(int_value(node[key], child_path(path, key), min, 86400));
  }
  return pool;
}

// `inputs: {s3://bucket/data: 100}`: one location and its estimated size in GB.
std::optional<DataHint> Parser::parse_data_hint(const YAML::Node& node,
                                                const std::string& path) const {
  if (!node || node.IsNull()) return std::nullopt;
  const char* expected = "expected one location and its estimated size in GB ({s3://bucket: 100})";
  if (!node.IsMap() || node.size() != 1) fail(SpecErrc::kInvalid, node, path, expected);
  check_plain_keys(node, path);
  const auto entry = *node.begin();
  const std::string location = entry.first.Scalar();
  std::optional<double> size;
  if (entry.second.IsScalar()) size = to_double(entry.second.Scalar());
  if (location.empty() || !size || *size < 0) fail(SpecErrc::kInvalid, node, path, expected);
  warn(node, path,
       "kept with the task, not used: skyd's optimizer does not price data transfer, so the size "
       "does not change where the task is placed");
  return DataHint{location, *size};
}

void Parser::parse_envs(const YAML::Node& node, const std::string& path,
                        std::map<std::string, std::string>& values,
                        std::set<std::string>& unset) const {
  if (node.IsSequence()) {
    fail(SpecErrc::kUnsupported, node, path,
         "managed secret references are not supported; give a mapping NAME: value");
  }
  require_map(node, path, "a mapping NAME: value");
  check_plain_keys(node, path);
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (!is_env_name(key)) {
      fail(SpecErrc::kInvalid, it->first, child_path(path, key),
           "expected a variable name (a letter or `_`, then letters, digits or `_`)");
    }
    if (it->second.IsNull()) {
      unset.insert(key);
      continue;
    }
    // Numbers and booleans are taken as the text written (123 -> "123").
    if (!it->second.IsScalar()) {
      fail(SpecErrc::kInvalid, it->second, child_path(path, key), "expected a string value");
    }
    values[key] = it->second.Scalar();
  }
}

bool is_bucket_url(std::string_view text) {
  return text.find("://") != std::string_view::npos;
}

std::vector<FileMount> Parser::parse_file_mounts(
    const YAML::Node& node, const std::string& path,
    const std::map<std::string, std::string>& vars) const {
  require_map(node, path, "a mapping of destination: source");
  check_plain_keys(node, path);
  std::vector<FileMount> mounts;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string destination = substitute_vars(it->first.Scalar(), vars);
    const std::string entry_path = child_path(path, it->first.Scalar());
    if (destination.empty() || is_bucket_url(destination)) {
      fail(SpecErrc::kInvalid, it->first, entry_path,
           "a destination must be a path on the node, not a bucket URL");
    }
    if (std::any_of(mounts.begin(), mounts.end(),
                    [&](const FileMount& m) { return m.destination == destination; })) {
      fail(SpecErrc::kInvalid, it->first, entry_path, "duplicate destination " + destination);
    }
    const YAML::Node value = it->second;  // a copy: `it->` yields a temporary
    if (value.IsMap()) {
      mounts.push_back(parse_storage(value, entry_path, destination, vars));
      continue;
    }
    if (!value.IsScalar() || value.Scalar().empty()) {
      fail(SpecErrc::kInvalid, value, entry_path,
           "expected a local path, a bucket URL, or a storage mapping {name, source, store, mode}");
    }
    FileMount mount;
    mount.destination = destination;
    mount.sources.push_back(substitute_vars(value.Scalar(), vars));
    mount.kind =
        is_bucket_url(mount.sources[0]) ? FileMount::Kind::kBucketUrl : FileMount::Kind::kLocalPath;
    if (mount.kind == FileMount::Kind::kBucketUrl) {
      check_bucket_url(value, entry_path, mount.sources[0]);
      mount.mode = MountMode::kCopy;  // SkyPilot copies what a bare bucket URL holds
    }
    mounts.push_back(std::move(mount));
  }
  std::sort(mounts.begin(), mounts.end(),
            [](const FileMount& a, const FileMount& b) { return a.destination < b.destination; });
  return mounts;
}

// `volumes: {/mnt/data: NAME}` or `{/mnt/data: {name: NAME, sub_path: DIR}}`: claims that already
// exist, mounted in each of the task's pods.
std::vector<VolumeMount> Parser::parse_volumes(
    const YAML::Node& node, const std::string& path,
    const std::map<std::string, std::string>& vars) const {
  require_map(node, path, "a mapping of mount path: volume name");
  check_plain_keys(node, path);
  std::vector<VolumeMount> volumes;
  for (auto it = node.begin(); it != node.end(); ++it) {
    VolumeMount volume;
    volume.path = substitute_vars(it->first.Scalar(), vars);
    const std::string entry_path = child_path(path, it->first.Scalar());
    if (!volume.path.starts_with('/')) {
      fail(SpecErrc::kInvalid, it->first, entry_path,
           "expected an absolute path in the pod (/mnt/data)");
    }
    // The pod's root, and where skylet lives in it, cannot be a claim.
    if (volume.path.find_first_not_of('/') == std::string::npos || volume.path == "/opt" ||
        volume.path.starts_with("/opt/skyd")) {
      fail(SpecErrc::kInvalid, it->first, entry_path,
           "`" + volume.path + "` is the pod's root or skylet's own directory");
    }
    if (std::any_of(volumes.begin(), volumes.end(),
                    [&](const VolumeMount& v) { return v.path == volume.path; })) {
      fail(SpecErrc::kInvalid, it->first, entry_path, "duplicate path " + volume.path);
    }
    const YAML::Node value = it->second;  // a copy: `it->` yields a temporary
    YAML::Node name = value;
    std::string name_path = entry_path;
    if (value.IsMap()) {
      check_keys(value, entry_path, kVolumeKeys, kUnsupportedVolumeKeys,
                 "skyd's volumes do not support (an ephemeral volume, made and deleted with the "
                 "cluster: skyd mounts claims that exist)");
      name.reset(value["name"]);  // rebinds: `=` would write into the entry itself
      name_path = child_path(entry_path, "name");
      if (const YAML::Node sub_path = value["sub_path"]; sub_path && !sub_path.IsNull()) {
        const std::string where = child_path(entry_path, "sub_path");
        volume.sub_path = substitute_vars(string_value(sub_path, where), vars);
        if (const std::string problem = relative_path_problem(volume.sub_path); !problem.empty())
          fail(SpecErrc::kInvalid, sub_path, where, problem);
      }
    }
    if (!name || name.IsNull() || (name.IsScalar() && name.Scalar().empty())) {
      fail(SpecErrc::kMissingValue, name ? name : value, name_path,
           "the volume's name is blank; name an existing PersistentVolumeClaim");
    }
    volume.claim = substitute_vars(string_value(name, name_path), vars);
    if (!is_claim_name(volume.claim)) {
      fail(SpecErrc::kInvalid, name, name_path,
           "volume `" + volume.claim +
               "`: expected a PersistentVolumeClaim's name (lower-case letters, digits, `-` and "
               "`.`, beginning and ending with a letter or digit, at most 253 characters)");
    }
    volumes.push_back(std::move(volume));
  }
  std::sort(volumes.begin(), volumes.end(),
            [](const VolumeMount& a, const VolumeMount& b) { return a.path < b.path; });
  return volumes;
}

FileMount Parser::parse_storage(const YAML::Node& node, const std::string& path,
                                std::string destination,
                                const std::map<std::string, std::string>& vars) const {
  check_keys(node, path, kStorageKeys, kUnsupportedStorageKeys,
             "skyd's storage mounts do not support");
  FileMount mount;
  mount.destination = std::move(destination);
  mount.kind = FileMount::Kind::kStorage;
  if (const YAML::Node name = node["name"]) {
    if (name.IsNull() || (name.IsScalar() && name.Scalar().empty())) {
      fail(SpecErrc::kMissingValue, position_of(node, "name"), child_path(path, "name"),
           "the bucket name is blank; fill in the name of a bucket to create or reuse");
    }
    mount.bucket_name = substitute_vars(string_value(name, child_path(path, "name")), vars);
  }
  if (const YAML::Node source = node["source"]; source && !source.IsNull()) {
    const std::string source_path = child_path(path, "source");
    if (source.IsSequence()) {
      if (source.size() == 0) fail(SpecErrc::kInvalid, source, source_path, "expected sources");
      for (std::size_t i = 0; i < source.size(); ++i) {
        mount.sources.push_back(
            substitute_vars(string_value(source[i], index_path(source_path, i)), vars));
        check_bucket_url(source[i], index_path(source_path, i), mount.sources.back());
      }
    } else {
      mount.sources.push_back(substitute_vars(string_value(source, source_path), vars));
      check_bucket_url(source, source_path, mount.sources.back());
    }
  }
  if (!mount.bucket_name && mount.sources.empty()) {
    fail(SpecErrc::kMissingValue, node, path, "a storage mount needs a `name` or a `source`");
  }
  if (const YAML::Node store = node["store"]; store && !store.IsNull()) {
    const std::string text =
        lower(substitute_vars(string_value(store, child_path(path, "store")), vars));
    static const std::vector<std::pair<std::string, StoreType>> kStores = {
        {"s3", StoreType::kS3}, {"gcs", StoreType::kGcs}, {"azure", StoreType::kAzure},
        {"r2", StoreType::kR2}, {"ibm", StoreType::kIbm}, {"oci", StoreType::kOci}};
    auto found = std::find_if(kStores.begin(), kStores.end(),
                              [&](const auto& entry) { return entry.first == text; });
    if (found == kStores.end()) {
      const bool skypilot_store =
          text == "volume" || text == "nebius" || text == "coreweave" || text == "vastdata";
      fail(skypilot_store ? SpecErrc::kUnsupported : SpecErrc::kInvalid, store,
           child_path(path, "store"), "expected one of S3, GCS, AZURE, R2, IBM, OCI");
    }
    mount.store = found->second;
  }
  // A name follows its store's rules (GCS's with `store: gcs`, S3's otherwise).
  if (const YAML::Node name = node["name"]; mount.bucket_name) {
    const bool gcs = mount.store == StoreType::kGcs;
    if (const std::string problem = bucket_name_problem(*mount.bucket_name, gcs ? "gcs" : "s3");
        !problem.empty()) {
      fail(SpecErrc::kInvalid, name, child_path(path, "name"),
           "bucket name `" + *mount.bucket_name + "` " + problem + " (" + (gcs ? "GCS" : "S3") +
               "'s bucket naming rules)");
    }
  }
  if (const YAML::Node mode = node["mode"]; mode && !mode.IsNull()) {
    const std::string text =
        lower(substitute_vars(string_value(mode, child_path(path, "mode")), vars));
    if (text == "mount") {
      mount.mode = MountMode::kMount;
    } else if (text == "copy") {
      mount.mode = MountMode::kCopy;
    } else if (text == "mount_cached") {
      mount.mode = MountMode::kMountCached;
    } else {
      fail(SpecErrc::kInvalid, mode, child_path(path, "mode"),
           "expected MOUNT, COPY or MOUNT_CACHED");
    }
  }
  if (const YAML::Node type = node["type"]; type && !type.IsNull()) {
    std::string text = string_value(type, child_path(path, "type"));
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (!contains(kMountWorkloadTypes, text)) {
      fail(SpecErrc::kInvalid, type, child_path(path, "type"),
           "expected MODEL_CHECKPOINT_RO, MODEL_CHECKPOINT_RW, DATASET_RO or DATASET_RW");
    }
    warn(type, child_path(path, "type"),
         "ignored: a workload type tunes SkyPilot's rclone cache; skyd's mounts keep their own "
         "settings (and a _RO type does not make the mount read-only)");
  }
  if (const YAML::Node persistent = node["persistent"]; persistent && !persistent.IsNull()) {
    const std::string persistent_path = child_path(path, "persistent");
    const std::optional<bool> value =
        to_bool(substitute_vars(string_value(persistent, persistent_path), vars));
    if (!value) fail(SpecErrc::kInvalid, persistent, persistent_path, "expected true or false");
    mount.persistent = *value;
  }
  return mount;
}

Json Parser::to_config_json(const YAML::Node& node, const std::string& path, int depth) const {
  if (depth > kMaxConfigDepth) fail(SpecErrc::kInvalid, node, path, "nested too deeply");
  if (++config_nodes_ > kMaxConfigNodes) fail(SpecErrc::kInvalid, node, path, "too large");
  if (node.IsMap()) {
    check_plain_keys(node, path);
    Json object = Json::object();
    for (auto it = node.begin(); it != node.end(); ++it) {
      object.set(it->first.Scalar(),
                 to_config_json(it->second, child_path(path, it->first.Scalar()), depth + 1));
    }
    return object;
  }
  if (node.IsSequence()) {
    Json array = Json::array();
    for (std::size_t i = 0; i < node.size(); ++i) {
      array.push_back(to_config_json(node[i], index_path(path, i), depth + 1));
    }
    return array;
  }
  if (node.IsNull()) return Json(nullptr);
  const std::string& text = node.Scalar();
  if (node.Tag() != "!") {  // plain (unquoted) scalars are typed as YAML types them
    if (auto value = to_bool(text)) return Json(*value);
    if (auto value = to_integer(text)) return Json(*value);
    if (auto value = to_double(text)) return Json(*value);
  }
  return Json(text);
}

// Resources ----------------------------------------------------------------------------------

Resources merge(Resources base, const Resources& item) {
  auto take = [](auto& to, const auto& from) {
    if (from) to = from;
  };
  take(base.cloud, item.cloud);
  take(base.region, item.region);
  take(base.zone, item.zone);
  take(base.instance_type, item.instance_type);
  take(base.cpus, item.cpus);
  take(base.memory, item.memory);
  take(base.accelerator, item.accelerator);
  take(base.use_spot, item.use_spot);
  take(base.disk_size, item.disk_size);
  take(base.disk_tier, item.disk_tier);
  take(base.network_tier, item.network_tier);
  take(base.accelerator_args, item.accelerator_args);
  take(base.max_hourly_cost, item.max_hourly_cost);
  take(base.image_id, item.image_id);
  take(base.job_recovery, item.job_recovery);
  take(base.priority, item.priority);
  if (!item.ports.empty()) base.ports = item.ports;
  for (const auto& [key, value] : item.labels) base.labels[key] = value;
  return base;
}

ResourceSet Parser::parse_resources(const YAML::Node& node, const std::string& path) const {
  require_map(node, path, "a mapping of resource fields");
  Partial base = parse_partial(node, path, true);
  const YAML::Node any_of = node["any_of"];
  const YAML::Node ordered = node["ordered"];
  if (any_of && ordered) {
    fail(SpecErrc::kInvalid, ordered, child_path(path, "ordered"),
         "`any_of` and `ordered` cannot be used together");
  }
  const YAML::Node items_node = any_of ? any_of : ordered;
  if (!items_node && base.other_cloud) refuse_other_cloud(base);
  const std::string items_path = child_path(path, any_of ? "any_of" : "ordered");

  struct Item {
    Partial partial;
    std::string origin;
  };
  std::vector<Item> items;
  if (items_node) {
    if (!items_node.IsSequence() || items_node.size() == 0) {
      fail(SpecErrc::kInvalid, items_node, items_path, "expected a non-empty list of resources");
    }
    for (std::size_t i = 0; i < items_node.size(); ++i) {
      const std::string item_path = index_path(items_path, i);
      require_map(items_node[i], item_path, "a mapping of resource fields");
      Partial item = parse_partial(items_node[i], item_path, false);
      Partial merged = base;
      merged.fields = merge(base.fields, item.fields);
      if (!item.accelerators.empty()) {
        merged.accelerators = item.accelerators;
        merged.accelerators_listed = item.accelerators_listed;
        merged.accelerators_node = item.accelerators_node;
      }
      if (item.infra_given || item.fields.cloud || item.fields.region || item.fields.zone ||
          item.other_cloud) {
        // A location in an item replaces the base location as a whole.
        merged.fields.cloud = item.fields.cloud;
        merged.fields.region = item.fields.region;
        merged.fields.zone = item.fields.zone;
        merged.other_cloud = item.other_cloud;
        merged.other_cloud_node = item.other_cloud_node;
        merged.other_cloud_path = item.other_cloud_path;
      }
      items.push_back({std::move(merged), item_path});
    }
    // Options on clouds skyd lacks are skipped while another option remains (SkyPilot would
    // place them elsewhere first, too); with none left, the first is refused by name.
    std::vector<Item> placeable;
    std::string skipped;
    for (auto& item : items) {
      if (!item.partial.other_cloud) {
        placeable.push_back(std::move(item));
        continue;
      }
      skipped +=
          (skipped.empty() ? "" : ", ") + item.origin + " (" + *item.partial.other_cloud + ")";
    }
    if (placeable.empty()) refuse_other_cloud(items.front().partial);
    if (!skipped.empty()) {
      warn(items_node, items_path,
           "skipped the options on clouds skyd does not support: " + skipped +
               " (supported: " + catalog_clouds() + ")");
    }
    items = std::move(placeable);
  } else {
    items.push_back({std::move(base), path});
  }

  ResourceSet set;
  set.candidates.clear();
  set.origins.clear();
  set.ordered = static_cast<bool>(ordered);
  for (auto& [partial, origin] : items) {
    if (partial.accelerators.empty()) {
      set.candidates.push_back(partial.fields);
      set.origins.push_back(origin);
      continue;
    }
    if (partial.accelerators.size() > 1) {
      const std::string accel_path = origin + ".accelerators";
      if (ordered) {
        fail(SpecErrc::kInvalid, partial.accelerators_node, accel_path,
             "several accelerators cannot be combined with `ordered`; list the choices in "
             "`ordered` instead");
      }
      if (partial.accelerators_listed && any_of) {
        fail(SpecErrc::kInvalid, partial.accelerators_node, accel_path,
             "an accelerator list (an ordered preference) cannot be combined with `any_of`; use a "
             "mapping {A: n, B: m}");
      }
      if (partial.accelerators_listed) set.ordered = true;
    }
    if (set.candidates.size() + partial.accelerators.size() > kMaxCandidates) {
      fail(SpecErrc::kInvalid, node, path,
           "more than " + std::to_string(kMaxCandidates) + " resource candidates");
    }
    for (const auto& accelerator : partial.accelerators) {
      Resources candidate = partial.fields;
      candidate.accelerator = accelerator;
      set.candidates.push_back(std::move(candidate));
      set.origins.push_back(origin);
    }
  }
  if (set.candidates.size() > kMaxCandidates) {
    fail(SpecErrc::kInvalid, node, path,
         "more than " + std::to_string(kMaxCandidates) + " resource candidates");
  }
  skip_unoffered_accelerators(set, node);
  if (set.candidates.size() == 1) set.ordered = false;
  // Names are checked against the catalog here, where the file position is still known.
  for (std::size_t i = 0; i < set.candidates.size(); ++i) {
    check_tpu(set.candidates[i], node, set.origins[i]);
    if (set.candidates[i].priority != set.candidates.front().priority) {
      fail(SpecErrc::kInvalid, node, set.origins[i] + ".priority",
           "every resource option of a task must have the same priority (as in SkyPilot)");
    }
    if (const std::string problem = deadline_market_problem(set.candidates[i]); !problem.empty())
      fail(SpecErrc::kInvalid, node, set.origins[i] + ".use_spot", problem);
    if (auto valid =
            catalog::validate_request(*catalog::current(), to_resource_request(set.candidates[i]));
        !valid) {
      fail(SpecErrc::kInvalid, node, set.origins[i], valid.error().detail);
    }
  }
  return set;
}

void Parser::skip_unoffered_accelerators(ResourceSet& set, const YAML::Node& node) const {
  if (set.candidates.size() < 2) return;  // a single option is checked, and refused, as written
  const auto offered = catalog::Catalog::builtin().accelerators();
  ResourceSet kept;
  kept.candidates.clear();
  kept.origins.clear();
  kept.ordered = set.ordered;
  std::vector<std::string> skipped;
  std::string skipped_path;
  for (std::size_t i = 0; i < set.candidates.size(); ++i) {
    const auto& accelerator = set.candidates[i].accelerator;
    const bool kubernetes = set.candidates[i].cloud == catalog::kKubernetesCloud;
    if (!accelerator || kubernetes || contains(offered, accelerator->name)) {
      kept.candidates.push_back(set.candidates[i]);
      kept.origins.push_back(set.origins[i]);
      continue;
    }
    if (!contains(skipped, accelerator->name)) skipped.push_back(accelerator->name);
    if (skipped_path.empty()) skipped_path = set.origins[i] + ".accelerators";
  }
  if (skipped.empty()) return;
  std::string names;
  for (const auto& name : skipped) names += (names.empty() ? "`" : ", `") + name + "`";
  if (kept.candidates.empty()) {
    fail(SpecErrc::kInvalid, node, skipped_path,
         "no enabled cloud (" + catalog_clouds() + ") offers any of the accelerators " + names);
  }
  warn(node, skipped_path,
       "skipped " + names + ": no enabled cloud (" + catalog_clouds() + ") offers " +
           (skipped.size() == 1 ? "it" : "them"));
  set = std::move(kept);
}

Parser::Partial Parser::parse_partial(const YAML::Node& node, const std::string& path,
                                      bool top) const {
  check_keys(node, path, kResourceKeys, kUnsupportedResourceKeys,
             "skyd's managed jobs do not support");
  Partial partial;
  if (node["accelerators"] && node["gpus"]) {
    fail(SpecErrc::kInvalid, node["gpus"], child_path(path, "gpus"),
         "`gpus` is an alias of `accelerators`; give only one");
  }
  if (node["spot_recovery"] && node["job_recovery"]) {
    fail(SpecErrc::kInvalid, node["spot_recovery"], child_path(path, "spot_recovery"),
         "`spot_recovery` is the old name of `job_recovery`; give only one");
  }
  if (node["infra"] && (node["cloud"] || node["region"] || node["zone"])) {
    fail(SpecErrc::kInvalid, node["infra"], child_path(path, "infra"),
         "`infra` cannot be combined with `cloud`, `region` or `zone`");
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (key == "any_of" || key == "ordered") {
      if (!top) {
        fail(SpecErrc::kInvalid, it->first, child_path(path, key),
             "`" + key + "` cannot be nested inside `any_of` or `ordered`");
      }
      continue;
    }
    parse_resource_field(partial, key, it->second, child_path(path, key));
  }
  return partial;
}

void Parser::parse_resource_field(Partial& partial, const std::string& key, const YAML::Node& value,
                                  const std::string& path) const {
  Resources& fields = partial.fields;
  const bool none = is_none(value);
  const bool wildcard = value.IsScalar() && value.Scalar() == "*";
  if (key == "infra") {
    partial.infra_given = true;
    fields.cloud.reset();
    fields.region.reset();
    fields.zone.reset();
    partial.other_cloud.reset();
    if (!none) parse_infra(partial, value, path);
  } else if (key == "cloud") {
    fields.cloud.reset();
    partial.other_cloud.reset();
    if (!none && !wildcard) {
      fields.cloud = parse_cloud(partial, value, path, string_value(value, path));
    }
  } else if (key == "region" || key == "zone") {
    auto& target = key == "region" ? fields.region : fields.zone;
    target.reset();
    if (!none && !wildcard) target = string_value(value, path);
  } else if (key == "instance_type") {
    fields.instance_type.reset();
    if (!none) fields.instance_type = string_value(value, path);
  } else if (key == "cpus" || key == "memory") {
    auto& target = key == "cpus" ? fields.cpus : fields.memory;
    target.reset();
    if (!none) target = parse_quantity(value, path, key == "memory");
  } else if (key == "accelerators" || key == "gpus") {
    fields.accelerator.reset();
    partial.accelerators.clear();
    partial.accelerators_listed = false;
    partial.accelerators_node = value;
    if (!none) partial.accelerators = parse_accelerators(value, path, partial.accelerators_listed);
  } else if (key == "use_spot") {
    fields.use_spot.reset();
    if (!value.IsNull()) fields.use_spot = bool_value(value, path);
  } else if (key == "disk_size") {
    fields.disk_size.reset();
    if (!none) fields.disk_size = parse_disk_size(value, path);
  } else if (key == "disk_tier") {
    fields.disk_tier.reset();
    if (none) return;
    const std::string text = lower(string_value(value, path));
    static const std::vector<std::pair<std::string, DiskTier>> kTiers = {
        {"low", DiskTier::kLow},
        {"medium", DiskTier::kMedium},
        {"high", DiskTier::kHigh},
        {"ultra", DiskTier::kUltra},
        {"best", DiskTier::kBest}};
    auto found = std::find_if(kTiers.begin(), kTiers.end(),
                              [&](const auto& entry) { return entry.first == text; });
    if (found == kTiers.end()) {
      fail(SpecErrc::kInvalid, value, path, "expected low, medium, high, ultra or best");
    }
    fields.disk_tier = found->second;
  } else if (key == "network_tier") {
    fields.network_tier.reset();
    if (none) return;
    const std::string text = lower(string_value(value, path));
    if (text != "standard" && text != "best")
      fail(SpecErrc::kInvalid, value, path, "expected standard or best");
    fields.network_tier = text == "best" ? NetworkTier::kBest : NetworkTier::kStandard;
  } else if (key == "accelerator_args") {
    fields.accelerator_args.reset();
    if (!value.IsNull()) fields.accelerator_args = parse_accelerator_args(value, path);
  } else if (key == "max_hourly_cost") {
    fields.max_hourly_cost.reset();
    if (none) return;
    const auto cap = value.IsScalar() ? to_double(value.Scalar()) : std::nullopt;
    if (!cap || !(*cap > 0))
      fail(SpecErrc::kInvalid, value, path, "expected a positive price in USD per hour");
    fields.max_hourly_cost = cap;
  } else if (key == "ports") {
    fields.ports.clear();
    if (!none) fields.ports = parse_ports(value, path);
  } else if (key == "labels") {
    fields.labels.clear();
    if (value.IsNull()) return;
    require_map(value, path, "a mapping of label: value");
    check_plain_keys(value, path);
    for (auto it = value.begin(); it != value.end(); ++it) {
      fields.labels[it->first.Scalar()] =
          string_value(it->second, child_path(path, it->first.Scalar()));
    }
  } else if (key == "image_id") {
    fields.image_id = parse_image_id(value, path);
  } else if (key == "job_recovery") {
    fields.job_recovery = parse_job_recovery(value, path);
  } else if (key == "spot_recovery") {
    warn(value, path, "`spot_recovery` is deprecated; read as `job_recovery`, its new name");
    fields.job_recovery = parse_job_recovery(value, path);
  } else if (key == "priority") {
    fields.priority.reset();
    if (!value.IsNull()) {
      fields.priority = static_cast<int>(int_value(value, path, kMinPriority, kMaxPriority));
    }
  } else if (key == "autostop") {
    parse_autostop(value, path);
  } else {
    fail(SpecErrc::kUnknownField, value, path,
         "unknown field `" + key + "`" + catalog::did_you_mean(key, kResourceKeys));
  }
}

// SkyPilot's autostop forms (true/false, idle minutes, "30m", or {idle_minutes, down, wait_for,
// hook, hook_timeout}) are checked, then ignored: a managed job's cluster is torn down when the
// job ends, as SkyPilot's jobs controller does whatever autostop says.
void Parser::parse_autostop(const YAML::Node& node, const std::string& path) const {
  if (node.IsNull()) return;
  if (node.IsMap()) {
    check_keys(node, path, kAutostopKeys, {}, "");
    if (const YAML::Node minutes = node["idle_minutes"]) {
      int_value(minutes, child_path(path, "idle_minutes"), 0, 1 << 30);
    }
    if (const YAML::Node down = node["down"]) bool_value(down, child_path(path, "down"));
    if (const YAML::Node timeout = node["hook_timeout"]) {
      int_value(timeout, child_path(path, "hook_timeout"), 1, 1 << 30);
    }
    for (const char* key : {"wait_for", "hook"}) {
      if (const YAML::Node text = node[key]) string_value(text, child_path(path, key));
    }
  } else {
    const std::string text = string_value(node, path);
    const bool number = to_integer(text).has_value();
    const bool duration = text.size() > 1 && to_integer(text.substr(0, text.size() - 1)) &&
                          std::string_view("smhdw").find(text.back()) != std::string_view::npos;
    if (!to_bool(text) && !number && !duration) {
      fail(SpecErrc::kInvalid, node, path,
           "expected true/false, idle minutes (10), a duration (\"30m\", \"1h\") or a mapping "
           "{idle_minutes, down, wait_for, hook, hook_timeout}");
    }
  }
  warn(node, path,
       "ignored: a managed job's machines are torn down when the job ends (as in SkyPilot, whose "
       "jobs controller does the same), so autostop never applies");
}

std::optional<std::string> Parser::parse_cloud(Partial& partial, const YAML::Node& node,
                                               const std::string& path,
                                               std::string_view cloud) const {
  std::string name = lower(cloud);
  const auto known = catalog::current()->clouds();
  if (contains(known, name)) return name;
  if (auto kubernetes = catalog::kubernetes_cloud_name(name)) return kubernetes;
  if (contains(kOtherSkyPilotClouds, name)) {
    partial.other_cloud = name;
    partial.other_cloud_node = node;
    partial.other_cloud_path = path;
    return std::nullopt;
  }
  fail(SpecErrc::kInvalid, node, path,
       "unknown cloud `" + name + "`" + catalog::did_you_mean(name, known) +
           " (supported: " + catalog_clouds() + ")");
}

void Parser::parse_infra(Partial& partial, const YAML::Node& node, const std::string& path) const {
  const std::string text = string_value(node, path);
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (parts.size() > 3 ||
      std::any_of(parts.begin(), parts.end(), [](auto& p) { return p.empty(); })) {
    fail(SpecErrc::kInvalid, node, path,
         "expected cloud[/region[/zone]] (e.g. aws/us-east-1), `*`, or `local`");
  }
  if (parts[0] != "*") {
    partial.fields.cloud = parse_cloud(partial, node, path, parts[0]);
    if (!partial.fields.cloud) return;  // a cloud skyd lacks: its regions mean nothing here
  }
  if (parts.size() > 1 && parts[1] != "*") partial.fields.region = parts[1];
  if (parts.size() > 2 && parts[2] != "*") partial.fields.zone = parts[2];
}

catalog::Quantity Parser::parse_quantity(const YAML::Node& node, const std::string& path,
                                         bool memory) const {
  const char* expected = memory ? "expected memory in GB: a number, \"N+\" (at least), a size with "
                                  "units (\"32GB\", \"1TB+\"), or \"Nx\" (N GB per vCPU)"
                                : "expected a vCPU count: a number or \"N+\" (at least N)";
  if (!node.IsScalar()) fail(SpecErrc::kInvalid, node, path, expected);
  std::string text = node.Scalar();
  catalog::Quantity quantity;
  if (!text.empty() && text.back() == '+') {
    quantity.at_least = true;
    text.pop_back();
  }
  double scale = 1;
  if (memory) {
    const std::string upper = [&] {
      std::string out = text;
      for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return out;
    }();
    static const std::vector<std::pair<std::string, double>> kUnits = {{"KB", 1.0 / (1024 * 1024)},
                                                                       {"MB", 1.0 / 1024},
                                                                       {"GB", 1},
                                                                       {"TB", 1024},
                                                                       {"PB", 1024.0 * 1024},
                                                                       {"X", 0}};
    for (const auto& [unit, factor] : kUnits) {
      if (upper.size() > unit.size() && upper.ends_with(unit)) {
        text.resize(text.size() - unit.size());
        if (unit == "X") {
          quantity.per_vcpu = true;
        } else {
          scale = factor;
        }
        break;
      }
    }
  }
  auto value = to_double(text);
  if (!value || *value <= 0) fail(SpecErrc::kInvalid, node, path, expected);
  quantity.value = *value * scale;
  return quantity;
}

catalog::AcceleratorRequest Parser::parse_accelerator(const YAML::Node& at, const std::string& path,
                                                      std::string_view text,
                                                      std::optional<double> count) const {
  const char* expected = "expected NAME or NAME:COUNT (e.g. V100 or \"A100:8\")";
  std::string name(text);
  if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0])) &&
      lower(name).find("gb") != std::string::npos) {
    fail(SpecErrc::kUnsupported, at, path,
         "accelerator memory forms (\"80GB+\") are not supported; name the accelerator");
  }
  const std::size_t colon = name.find(':');
  if (colon != std::string::npos) {
    if (count || name.find(':', colon + 1) != std::string::npos) {
      fail(SpecErrc::kInvalid, at, path, expected);
    }
    count = to_double(std::string_view(name).substr(colon + 1));
    if (!count) fail(SpecErrc::kInvalid, at, path, expected);
    name.resize(colon);
  }
  if (name.empty() || !std::all_of(name.begin(), name.end(),
                                   [](char c) { return is_alnum(c) || c == '-' || c == '_'; })) {
    fail(SpecErrc::kInvalid, at, path, expected);
  }
  double value = count.value_or(1);
  if (!(value > 0) || value > 1024) {
    fail(SpecErrc::kInvalid, at, path, "the accelerator count must be above 0");
  }
  // Other spellings of a TPU slice (`tpu-v5e-8`, GKE's `tpu-v5-lite-podslice:4`) name the
  // catalog's slice, one of it.
  if (auto alias = catalog::tpu_alias(name, value)) {
    name = *alias;
    value = 1;
  }
  // The catalog's spelling wins ("v100" -> "V100"); unknown names are reported by the caller.
  const auto in_use = catalog::current();  // held: the names live in it
  for (const auto& known : in_use->accelerators()) {
    if (lower(known) == lower(name)) name = known;
  }
  return {name, value};
}

std::vector<catalog::AcceleratorRequest> Parser::parse_accelerators(const YAML::Node& node,
                                                                    const std::string& path,
                                                                    bool& listed) const {
  std::vector<catalog::AcceleratorRequest> result;
  auto add = [&](catalog::AcceleratorRequest accelerator, const YAML::Node& at) {
    // One accelerator at several counts ({A100:4, A100:8}) is several choices; only the same
    // choice twice is a mistake.
    if (std::any_of(result.begin(), result.end(), [&](auto& a) {
          return a.name == accelerator.name && a.count == accelerator.count;
        })) {
      fail(SpecErrc::kInvalid, at, path,
           "accelerator " + catalog::to_string(accelerator) + " is listed twice");
    }
    result.push_back(std::move(accelerator));
  };
  // {V100: 1} or the YAML set {V100:1} (a key with a null value).
  auto add_entry = [&](const YAML::Node& key, const YAML::Node& value, const std::string& at_path) {
    std::optional<double> count;
    if (!value.IsNull()) {
      if (!value.IsScalar() || !(count = to_double(value.Scalar()))) {
        fail(SpecErrc::kInvalid, value, at_path, "expected an accelerator count");
      }
    }
    add(parse_accelerator(key, at_path, string_value(key, at_path), count), key);
  };
  if (node.IsScalar()) {
    add(parse_accelerator(node, path, node.Scalar(), std::nullopt), node);
  } else if (node.IsMap()) {
    check_plain_keys(node, path);
    for (auto it = node.begin(); it != node.end(); ++it) add_entry(it->first, it->second, path);
  } else if (node.IsSequence()) {
    listed = true;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const std::string item_path = index_path(path, i);
      if (item.IsMap() && item.size() == 1) {
        add_entry(item.begin()->first, item.begin()->second, item_path);
      } else if (item.IsScalar()) {
        add(parse_accelerator(item, item_path, item.Scalar(), std::nullopt), item);
      } else {
        fail(SpecErrc::kInvalid, item, item_path, "expected NAME or NAME:COUNT");
      }
    }
  } else {
    fail(SpecErrc::kInvalid, node, path,
         "expected NAME[:COUNT], a mapping {NAME: COUNT, ...} or a list [NAME:COUNT, ...]");
  }
  if (result.empty()) fail(SpecErrc::kInvalid, node, path, "expected at least one accelerator");
  return result;
}

AcceleratorArgs Parser::parse_accelerator_args(const YAML::Node& node,
                                               const std::string& path) const {
  require_map(node, path, "a mapping of TPU arguments (runtime_version, tpu_vm, tpu_name)");
  check_keys(node, path, kAcceleratorArgsKeys, kUnsupportedAcceleratorArgsKeys,
             "skyd does not support");
  AcceleratorArgs args;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    const std::string at = child_path(path, key);
    const YAML::Node value = it->second;
    if (value.IsNull()) continue;
    if (key == "tpu_vm") {
      if (!bool_value(value, at)) {
        fail(SpecErrc::kUnsupported, value, at,
             "false asks for a TPU node (a TPU with a separate host VM, Google's older "
             "architecture), which skyd does not run; it runs TPU VMs (tpu_vm: true, the "
             "default)");
      }
      continue;
    }
    std::string text = string_value(value, at);
    const auto name_char = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    };
    if (key == "runtime_version") {
      const auto version_char = [](char c) {
        return is_alnum(c) || c == '-' || c == '.' || c == '_';
      };
      if (text.empty() || text.size() > 100 || !std::all_of(text.begin(), text.end(), version_char))
        fail(SpecErrc::kInvalid, value, at,
             "expected a TPU VM software version such as tpu-vm-base or v2-alpha-tpuv6e");
      args.runtime_version = std::move(text);
    } else if (key == "tpu_name") {
      if (text.empty() || text.size() > 63 || !(text.front() >= 'a' && text.front() <= 'z') ||
          text.back() == '-' || !std::all_of(text.begin(), text.end(), name_char))
        fail(SpecErrc::kInvalid, value, at,
             "a TPU name is 1 to 63 lowercase letters, digits or '-', starting with a letter and "
             "not ending with '-'");
      args.tpu_name = std::move(text);
    }
  }
  return args;
}

// A TPU is a slice of Google's Cloud TPU VMs: its hosts come with it (no instance_type), and every
// host is a node of the task, so the task asks for one slice. accelerator_args means something only
// for a TPU.
void Parser::check_tpu(const Resources& candidate, const YAML::Node& node,
                       const std::string& origin) const {
  const auto& accelerator = candidate.accelerator;
  const bool tpu = accelerator && catalog::is_tpu_name(accelerator->name);
  if (!tpu) {
    if (candidate.accelerator_args) {
      warn(node, origin + ".accelerator_args",
           "ignored: accelerator_args are TPU settings and this option asks for no TPU");
    }
    return;
  }
  if (candidate.instance_type) {
    fail(SpecErrc::kInvalid, node, origin + ".instance_type",
         "a TPU VM's host comes with the TPU (`" + accelerator->name +
             "`); drop instance_type (SkyPilot refuses it too)");
  }
  if (candidate.cloud && *candidate.cloud != "gcp") {
    fail(SpecErrc::kInvalid, node, origin + ".cloud",
         "TPUs (`" + accelerator->name + "`) are sold only on gcp");
  }
  if (accelerator->count != 1) {
    fail(SpecErrc::kInvalid, node, origin + ".accelerators",
         "a TPU is asked for as one slice (`" + accelerator->name + "` or `" + accelerator->name +
             ":1`); a bigger slice is a bigger name (tpu-v4-32)");
  }
}

std::vector<PortRange> Parser::parse_ports(const YAML::Node& node, const std::string& path) const {
  std::vector<PortRange> ranges;
  auto add = [&](const YAML::Node& item, const std::string& item_path) {
    const char* expected = "expected a port (1-65535) or a range \"10000-10010\"";
    if (!item.IsScalar()) fail(SpecErrc::kInvalid, item, item_path, expected);
    const std::string& text = item.Scalar();
    const std::size_t dash = text.find('-');
    auto first = to_integer(std::string_view(text).substr(0, dash));
    auto last =
        dash == std::string::npos ? first : to_integer(std::string_view(text).substr(dash + 1));
    if (!first || !last || *first < 1 || *last > 65535 || *first > *last) {
      fail(SpecErrc::kInvalid, item, item_path, expected);
    }
    ranges.push_back({static_cast<int>(*first), static_cast<int>(*last)});
  };
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) add(node[i], index_path(path, i));
  } else {
    add(node, path);
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const PortRange& a, const PortRange& b) { return a.first < b.first; });
  std::vector<PortRange> merged;
  for (const auto& range : ranges) {
    if (!merged.empty() && range.first <= merged.back().last + 1) {
      merged.back().last = std::max(merged.back().last, range.last);
    } else {
      merged.push_back(range);
    }
  }
  return merged;
}

GitWorkdir Parser::parse_git_workdir(const YAML::Node& node, const std::string& path,
                                     const std::map<std::string, std::string>& vars) const {
  check_keys(node, path, {"url", "ref"}, {}, "");
  const YAML::Node url = node["url"];
  if (!url || url.IsNull())
    fail(SpecErrc::kInvalid, node, child_path(path, "url"), "a git workdir needs a url");
  GitWorkdir git;
  git.url = substitute_vars(string_value(url, child_path(path, "url")), vars);
  if (const std::string problem = git_url_problem(git.url); !problem.empty())
    fail(SpecErrc::kInvalid, url, child_path(path, "url"), problem);
  if (const YAML::Node ref = node["ref"]; ref && !ref.IsNull()) {
    git.ref = substitute_vars(string_value(ref, child_path(path, "ref")), vars);
    if (const std::string problem = git_ref_problem(*git.ref); !problem.empty())
      fail(SpecErrc::kInvalid, ref, child_path(path, "ref"), problem);
  }
  return git;
}

int Parser::parse_disk_size(const YAML::Node& node, const std::string& path) const {
  const char* expected = "expected a disk size in GB (256) or with units (\"256GB\", \"1TB\")";
  if (!node.IsScalar()) fail(SpecErrc::kInvalid, node, path, expected);
  std::string text = lower(node.Scalar());
  long long scale = 1;
  if (text.ends_with("tb")) {
    scale = 1024;
    text.resize(text.size() - 2);
  } else if (text.ends_with("gb")) {
    text.resize(text.size() - 2);
  }
  auto value = to_integer(text);
  if (!value || *value <= 0 || *value > 1024 * 1024 / scale) {
    fail(SpecErrc::kInvalid, node, path, expected);
  }
  return static_cast<int>(*value * scale);
}

std::optional<JobRecovery> Parser::parse_job_recovery(const YAML::Node& node,
                                                      const std::string& path) const {
  if (node.IsNull()) return std::nullopt;
  JobRecovery recovery;
  auto strategy = [&](const YAML::Node& at, const std::string& at_path) {
    const std::string text = string_value(at, at_path);
    const std::string upper = [&] {
      std::string out = text;
      for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return out;
    }();
    // `none` clears the field, and jobs launch fills in the default again (as SkyPilot does).
    if (upper == "EAGER_NEXT_REGION" || upper == "NONE") {
      recovery.strategy = RecoveryStrategy::kEagerNextRegion;
    } else if (upper == "FAILOVER") {
      recovery.strategy = RecoveryStrategy::kFailover;
    } else if (upper == "DEADLINE") {
      recovery.strategy = RecoveryStrategy::kDeadline;
    } else {
      fail(SpecErrc::kInvalid, at, at_path, "expected EAGER_NEXT_REGION, FAILOVER or DEADLINE");
    }
  };
  if (node.IsScalar()) {
    strategy(node, path);
    if (recovery.strategy == RecoveryStrategy::kDeadline) {
      fail(SpecErrc::kMissingValue, node, path,
           "strategy DEADLINE needs a mapping {strategy: DEADLINE, deadline, work}");
    }
    return recovery;
  }
  require_map(node, path,
              "a strategy name or {strategy, max_restarts_on_errors, recover_on_exit_codes}");
  check_keys(node, path, kRecoveryKeys, {}, "");
  if (const YAML::Node value = node["strategy"]; value && !value.IsNull()) {
    strategy(value, child_path(path, "strategy"));
  }
  if (const YAML::Node value = node["max_restarts_on_errors"]; value && !value.IsNull()) {
    recovery.max_restarts_on_errors =
        static_cast<int>(int_value(value, child_path(path, "max_restarts_on_errors"), 0, 1000000));
  }
  if (const YAML::Node value = node["recover_on_exit_codes"]; value && !value.IsNull()) {
    const std::string codes_path = child_path(path, "recover_on_exit_codes");
    if (value.IsSequence()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        const int code = static_cast<int>(int_value(value[i], index_path(codes_path, i), 0, 255));
        if (contains_code(recovery.recover_on_exit_codes, code)) {
          fail(SpecErrc::kInvalid, value[i], index_path(codes_path, i), "duplicate exit code");
        }
        recovery.recover_on_exit_codes.push_back(code);
      }
    } else {
      recovery.recover_on_exit_codes.push_back(
          static_cast<int>(int_value(value, codes_path, 0, 255)));
    }
  }
  if (recovery.strategy == RecoveryStrategy::kDeadline) {
    recovery.deadline = parse_deadline(node, path);
  } else {
    for (const auto& key : kDeadlineKeys) {
      if (const YAML::Node value = node[key]; value && !value.IsNull()) {
        fail(SpecErrc::kInvalid, value, child_path(path, key),
             "`" + key + "` is read only with `strategy: DEADLINE`");
      }
    }
  }
  return recovery;
}

std::chrono::seconds Parser::duration_field(const YAML::Node& node, const std::string& path,
                                            bool zero_allowed) const {
  std::optional<std::chrono::seconds> duration;
  if (node.IsScalar()) duration = parse_duration_text(node.Scalar());
  if (!duration || (!zero_allowed && duration->count() == 0)) {
    fail(SpecErrc::kInvalid, node, path,
         std::string("expected a duration like 36h, 1h30m, 10m or 45s") +
             (zero_allowed ? "" : ", more than 0s"));
  }
  return *duration;
}

DeadlineSpec Parser::parse_deadline(const YAML::Node& node, const std::string& path) const {
  DeadlineSpec deadline;
  auto required = [&](const char* key) {
    const YAML::Node value = node[key];
    if (!value || value.IsNull()) {
      fail(SpecErrc::kMissingValue, value ? position_of(node, key) : node, child_path(path, key),
           std::string("strategy DEADLINE needs `") + key + "`" +
               (std::string_view(key) == "deadline"
                    ? ": an instant (2026-12-24T12:00:00Z) or a time after submission (36h)"
                    : ": the run time the task needs (24h)"));
    }
    return value;
  };
  const YAML::Node by = required("deadline");
  const std::string by_path = child_path(path, "deadline");
  const std::string by_text = string_value(by, by_path);
  if (looks_like_instant(by_text)) {
    deadline.at = parse_instant_text(by_text);
    if (!deadline.at) {
      fail(SpecErrc::kInvalid, by, by_path,
           "expected an RFC 3339 time with its zone, like 2026-12-24T12:00:00Z or "
           "2026-12-24T13:00+01:00");
    }
  } else {
    deadline.after_submission = duration_field(by, by_path, false);
  }
  const YAML::Node work = required("work");
  deadline.work = duration_field(work, child_path(path, "work"), false);
  if (deadline.after_submission && deadline.work > *deadline.after_submission) {
    fail(SpecErrc::kInvalid, work, child_path(path, "work"),
         format_duration_text(deadline.work) + " of work cannot finish within the deadline, " +
             format_duration_text(*deadline.after_submission) + " after submission");
  }
  if (const YAML::Node value = node["restart_overhead"]; value && !value.IsNull()) {
    deadline.restart_overhead = duration_field(value, child_path(path, "restart_overhead"), true);
  }
  if (const YAML::Node value = node["deadline_policy"]; value && !value.IsNull()) {
    const std::string policy_path = child_path(path, "deadline_policy");
    const std::string text = lower(string_value(value, policy_path));
    if (text == "uniform_progress") {
      deadline.policy = DeadlinePolicy::kUniformProgress;
    } else if (text == "greedy") {
      deadline.policy = DeadlinePolicy::kGreedy;
    } else if (text == "on_demand") {
      deadline.policy = DeadlinePolicy::kOnDemand;
    } else {
      fail(SpecErrc::kInvalid, value, policy_path,
           "expected uniform_progress, greedy or on_demand");
    }
  }
  return deadline;
}

std::optional<ImageId> Parser::parse_image_id(const YAML::Node& node,
                                              const std::string& path) const {
  if (is_none(node)) return std::nullopt;
  // A container image becomes one word of the runtime's command line on the node: never an
  // option (`docker:--privileged`), never empty, no whitespace.
  auto checked = [&](const YAML::Node& at, const std::string& at_path, std::string id) {
    constexpr std::string_view kDocker = "docker:";
    if (!id.starts_with(kDocker)) return id;
    const std::string_view reference = std::string_view(id).substr(kDocker.size());
    const bool control = std::any_of(reference.begin(), reference.end(),
                                     [](unsigned char c) { return c <= ' ' || c == 0x7f; });
    if (reference.empty() || reference.front() == '-' || control)
      fail(SpecErrc::kInvalid, at, at_path,
           "expected docker:IMAGE with an image reference (such as docker:ubuntu:22.04), not `" +
               id + "`");
    return id;
  };
  ImageId image;
  if (node.IsScalar()) {
    image.any_region = checked(node, path, node.Scalar());
    return image;
  }
  require_map(node, path, "an image id, or a mapping region: image id");
  check_plain_keys(node, path);
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string region_path = child_path(path, it->first.Scalar());
    image.per_region[it->first.Scalar()] =
        checked(it->second, region_path, string_value(it->second, region_path));
  }
  if (image.per_region.empty())
    fail(SpecErrc::kInvalid, node, path, "expected at least one region");
  return image;
}

// Runs a parse step, turning yaml-cpp's exceptions and ours into errors.
template <typename Step>
auto guarded(const std::string& source, Step step) -> Result<decltype(step())> {
  try {
    return step();
  } catch (const Failure& failure) {
    return make_error(failure.code, failure.message);
  } catch (const YAML::ParserException& e) {
    return make_error(SpecErrc::kSyntax, source + ":" + std::to_string(e.mark.line + 1) + ":" +
                                             std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const YAML::Exception& e) {
    return make_error(SpecErrc::kSyntax, source + ": " + e.what());
  } catch (const std::exception& e) {
    return make_error(SpecErrc::kInvalid, source + ": " + e.what());
  }
}

}  // namespace

Result<Pipeline> parse_pipeline(std::string_view yaml_text, std::string_view source_name,
                                const ParseOptions& options) {
  const std::string source(source_name);
  return guarded(source, [&] { return Parser(source, options).parse_documents(yaml_text); });
}

Result<Pipeline> pipeline_from_json(std::string_view json_text, std::string_view source_name) {
  const std::string source(source_name);
  ParseOptions options;
  options.substitute = false;
  return guarded(source, [&] { return Parser(source, options).parse_normalized(json_text); });
}

Result<Pipeline> load_pipeline_file(const std::string& path, const ParseOptions& options) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return make_error(SpecErrc::kIo, path + ": cannot open the file");
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) return make_error(SpecErrc::kIo, path + ": cannot read the file");
  return parse_pipeline(text.str(), path, options);
}

Result<void> apply_overrides(Task& task, const TaskOverrides& overrides) {
  if (overrides.name) {
    if (!is_valid_task_name(*overrides.name)) {
      return make_error(
          SpecErrc::kInvalid,
          "--name: `" + *overrides.name + "` is not valid; expected " + std::string(kTaskNameRule));
    }
    task.name = overrides.name;
  }
  if (overrides.workdir) {
    task.workdir = overrides.workdir;
    task.git_workdir.reset();  // --workdir DIR replaces a git workdir, as SkyPilot's does
  }
  if (overrides.num_nodes) {
    if (*overrides.num_nodes < 1) {
      return make_error(SpecErrc::kInvalid, "--num-nodes: expected a positive integer");
    }
    task.num_nodes = *overrides.num_nodes;
  }
  const ParseOptions options;
  auto applied = guarded("", [&] {
    const Parser parser("", options);
    ResourceSet& set = task.resources;
    for (const auto& override_value : overrides.resources) {
      const std::string& text = override_value.value;
      // `*` would be a YAML alias, and most values are plain words: only flow collections
      // ("[8080, 8081]", "{V100: 1}") need the YAML reader.
      const YAML::Node node =
          !text.empty() && (text[0] == '[' || text[0] == '{') ? YAML::Load(text) : YAML::Node(text);
      for (auto& candidate : set.candidates) {
        Parser::Partial partial;
        partial.fields = candidate;
        parser.parse_resource_field(partial, override_value.field, node, override_value.flag);
        if (partial.other_cloud) parser.refuse_other_cloud(partial);
        if (override_value.field == "accelerators") {
          if (partial.accelerators.size() > 1) {
            throw Failure{SpecErrc::kInvalid,
                          override_value.flag + ": expected one accelerator (NAME[:COUNT])"};
          }
          partial.fields.accelerator.reset();
          if (!partial.accelerators.empty()) partial.fields.accelerator = partial.accelerators[0];
        }
        candidate = partial.fields;
      }
    }
    // Overrides can make candidates identical (--gpus over an accelerator set): keep the first.
    ResourceSet unique;
    unique.candidates.clear();
    unique.origins.clear();
    unique.ordered = set.ordered;
    for (std::size_t i = 0; i < set.candidates.size(); ++i) {
      if (std::find(unique.candidates.begin(), unique.candidates.end(), set.candidates[i]) !=
          unique.candidates.end()) {
        continue;
      }
      auto valid =
          catalog::validate_request(*catalog::current(), to_resource_request(set.candidates[i]));
      if (!valid) throw Failure{SpecErrc::kInvalid, set.origins[i] + ": " + valid.error().detail};
      if (const std::string problem = deadline_market_problem(set.candidates[i]); !problem.empty())
        throw Failure{SpecErrc::kInvalid, set.origins[i] + ".use_spot: " + problem};
      unique.candidates.push_back(set.candidates[i]);
      unique.origins.push_back(set.origins[i]);
    }
    set = std::move(unique);
    return true;
  });
  if (!applied) return applied.error();
  return {};
}

std::string substitute_vars(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i++];
      continue;
    }
    const bool braced = text[i + 1] == '{';
    std::size_t start = i + (braced ? 2 : 1);
    std::size_t end = start;
    while (end < text.size() && (is_alnum(text[end]) || text[end] == '_')) ++end;
    const std::string name(text.substr(start, end - start));
    const bool closed = !braced || (end < text.size() && text[end] == '}');
    auto found = vars.find(name);
    if (name.empty() || !is_env_name(name) || !closed || found == vars.end()) {
      out += text[i++];  // not a known variable: keep the text as written
      continue;
    }
    out += found->second;
    i = end + (braced ? 1 : 0);
  }
  return out;
}

}  // namespace skyd::spec
