#include "daemon/spec/parser.hpp"
#include "daemon/spec/spec_error.hpp"
#include "daemon/spec/task_json.hpp"

#include <gtest/gtest.h>

namespace skyd::spec {
namespace {

Pipeline parse_ok(std::string_view yaml, const ParseOptions& options = {}) {
  auto parsed = parse_pipeline(yaml, "task.yaml", options);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().detail);
  return parsed ? *parsed : Pipeline{};
}

Task task_ok(std::string_view yaml, const ParseOptions& options = {}) {
  auto pipeline = parse_ok(yaml, options);
  EXPECT_EQ(pipeline.tasks.size(), 1u);
  return pipeline.tasks.empty() ? Task{} : pipeline.tasks[0];
}

Error parse_error(std::string_view yaml, const ParseOptions& options = {}) {
  auto parsed = parse_pipeline(yaml, "task.yaml", options);
  EXPECT_FALSE(parsed) << "parsed unexpectedly: " << yaml;
  return parsed ? Error{} : parsed.error();
}

// The error of one resource override on a minimal task ("" when it is accepted).
std::string override_error(const ResourceOverride& resource) {
  Task task = task_ok("run: x\n");
  TaskOverrides overrides;
  overrides.resources = {resource};
  auto applied = apply_overrides(task, overrides);
  EXPECT_FALSE(applied);
  return applied ? "" : applied.error().detail;
}

// The one warning of a parsed pipeline ("", and a test failure, unless there is exactly one).
std::string only_warning(const Pipeline& pipeline) {
  EXPECT_EQ(pipeline.warnings.size(), 1u);
  return pipeline.warnings.size() == 1 ? pipeline.warnings[0] : "";
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST(Parser, MinimalTaskHasDefaults) {
  Task task = task_ok("run: echo hi\n");
  EXPECT_EQ(task.run, "echo hi");
  EXPECT_EQ(task.num_nodes, 1);
  ASSERT_EQ(task.resources.candidates.size(), 1u);
  EXPECT_EQ(task.resources.candidates[0], Resources{});
}

TEST(Parser, TopLevelFields) {
  Task task = task_ok(R"(
name: train
workdir: /tmp/work
num_nodes: 2
setup: pip install x
run: python train.py
event_callback: echo done
config:
  docker:
    run_options: ["--shm-size=1g"]
  retries: 3
)");
  EXPECT_EQ(task.name, "train");
  EXPECT_EQ(task.workdir, "/tmp/work");
  EXPECT_EQ(task.num_nodes, 2);
  EXPECT_EQ(task.setup, "pip install x");
  EXPECT_EQ(task.event_callback, "echo done");
  ASSERT_TRUE(task.config);
  EXPECT_EQ(task.config->dump(), R"({"docker":{"run_options":["--shm-size=1g"]},"retries":3})");
}

TEST(Parser, AnEventCallbackIsKeptWithAWarningThatItIsNotRun) {
  auto pipeline = parse_ok("run: x\nevent_callback: notify.sh\n");
  EXPECT_EQ(pipeline.tasks[0].event_callback, "notify.sh");
  EXPECT_CONTAINS(only_warning(pipeline),
                  "task.yaml:2:1: event_callback: kept with the task, not run");
}

TEST(Parser, ConfigOverridesAreKeptWithAWarningThatTheyAreNotApplied) {
  auto pipeline = parse_ok("run: x\nconfig:\n  kubernetes:\n    pod_config: {}\n  docker: {}\n");
  EXPECT_CONTAINS(only_warning(pipeline),
                  "task.yaml:2:1: config: kept with the task, not applied: skyd takes no per-task "
                  "config overrides (`kubernetes`, `docker` here)");
}

TEST(Parser, UnknownKeySuggestsClosest) {
  auto error = parse_error("num_node: 2\n");
  EXPECT_EQ(error.code, SpecErrc::kUnknownField);
  EXPECT_CONTAINS(error.detail, "task.yaml:1:1: num_node: unknown field `num_node`");
  EXPECT_CONTAINS(error.detail, "did you mean `num_nodes`?");
}

TEST(Parser, UnsupportedSkyPilotFieldsAreRefusedByName) {
  for (const char* field : {"volume_mounts"}) {
    auto error = parse_error(std::string(field) + ":\n  x: 1\nrun: echo\n");
    EXPECT_EQ(error.code, SpecErrc::kUnsupported) << field;
    EXPECT_CONTAINS(error.detail, std::string("`") + field + "` is a SkyPilot field");
  }
  auto error = parse_error("resources:\n  priority_class: high\n");
  EXPECT_EQ(error.code, SpecErrc::kUnsupported);
  EXPECT_CONTAINS(error.detail,
                  "resources.priority_class: `priority_class` is a SkyPilot field that skyd's "
                  "managed jobs do not support (a Kubernetes PriorityClass; use `priority`)");
}

TEST(Parser, VolumesNameClaimsByNameOrWithASubPathAndReadBackTheSame) {
  ParseOptions options;
  options.env_overrides = {{"CLAIM", "team-ckpt"}};
  const Pipeline pipeline = parse_ok(
      "envs:\n  CLAIM: placeholder\nvolumes:\n  /mnt/models:\n    name: shared.models\n"
      "    sub_path: models/v1\n  /checkpoint: ${CLAIM}\nrun: echo\n",
      options);
  const Task& task = pipeline.tasks.front();
  ASSERT_EQ(task.volumes.size(), 2u);
  EXPECT_EQ(task.volumes[0], (VolumeMount{"/checkpoint", "team-ckpt", ""}));
  EXPECT_EQ(task.volumes[1], (VolumeMount{"/mnt/models", "shared.models", "models/v1"}));
  // The normalized form the daemon receives parses back to the same volumes.
  const std::string json = to_json(pipeline, SecretMode::kInclude).dump();
  EXPECT_CONTAINS(json, R"("volumes":{"/checkpoint":"team-ckpt","/mnt/models":)"
                        R"({"name":"shared.models","sub_path":"models/v1"}})");
  auto back = pipeline_from_json(json, "");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->tasks.front().volumes, task.volumes);
  EXPECT_TRUE(to_plan_request(task).options.front().node_fields.volumes);
  EXPECT_FALSE(to_plan_request(task_ok("run: echo\n")).options.front().node_fields.volumes);
}

TEST(Parser, AVolumeThatCannotBeMountedIsRefusedWithItsLine) {
  struct Case {
    const char* yaml;
    SpecErrc code;
    const char* error;
  };
  const Case cases[] = {
      {"volumes:\n  mnt/data: ckpt\n", SpecErrc::kInvalid,
       "task.yaml:2:3: volumes.mnt/data: expected an absolute path in the pod (/mnt/data)"},
      {"volumes:\n  /data: My_Claim\n", SpecErrc::kInvalid,
       "task.yaml:2:10: volumes./data: volume `My_Claim`: expected a PersistentVolumeClaim's "
       "name"},
      {"volumes:\n  /data:\n    name: ckpt\n    sub_path: ../etc\n", SpecErrc::kInvalid,
       "task.yaml:4:15: volumes./data.sub_path: `..` would leave the volume"},
      {"volumes:\n  /data:\n    name: ckpt\n    sub_path: /abs\n", SpecErrc::kInvalid,
       "volumes./data.sub_path: expected a path relative to the volume's root"},
      {"volumes:\n  /data:\n    size: 100Gi\n", SpecErrc::kUnsupported,
       "task.yaml:3:5: volumes./data.size: `size` is a SkyPilot field that skyd's volumes do not "
       "support (an ephemeral volume, made and deleted with the cluster: skyd mounts claims that "
       "exist)"},
      {"volumes:\n  /data:\n    name: ckpt\n    mode: ro\n", SpecErrc::kUnknownField,
       "volumes./data.mode: unknown field `mode`"},
      {"volumes:\n  /data: ~\n", SpecErrc::kMissingValue,
       "volumes./data: the volume's name is blank; name an existing PersistentVolumeClaim"},
      {"volumes:\n  /data: ckpt\nfile_mounts:\n  /data: ./here\n", SpecErrc::kInvalid,
       "volumes./data: also a file_mounts destination"},
      {"volumes:\n  /opt/skyd/bin: ckpt\n", SpecErrc::kInvalid,
       "volumes./opt/skyd/bin: `/opt/skyd/bin` is the pod's root or skylet's own directory"},
      {"volumes:\n  /: ckpt\n", SpecErrc::kInvalid, "volumes./: `/` is the pod's root"},
      {"volumes: [/data]\n", SpecErrc::kInvalid,
       "volumes: expected a mapping of mount path: volume name"},
  };
  for (const auto& c : cases) {
    auto error = parse_error(std::string(c.yaml) + "run: echo\n");
    EXPECT_EQ(error.code, c.code) << c.yaml << error.detail;
    EXPECT_CONTAINS(error.detail, c.error);
  }
}

TEST(Parser, PoolSectionGivesItsWorkersAndWhereItIsWritten) {
  Task task = task_ok("resources:\n  cpus: 2\npool:\n  workers: 3\nsetup: pip install x\n");
  ASSERT_TRUE(task.pool);
  EXPECT_EQ(task.pool->workers, 3);
  EXPECT_EQ(task.pool->where, "task.yaml:3:1: pool");
  // It travels with the task to skyd.
  auto back = pipeline_from_json(
      to_json(parse_ok("pool:\n  workers: 2\n"), SecretMode::kInclude).dump(), "");
  ASSERT_TRUE(back) << back.error().detail;
  ASSERT_TRUE(back->tasks[0].pool);
  EXPECT_EQ(back->tasks[0].pool->workers, 2);
}

TEST(Parser, AnAutoscalingPoolGoesFromItsFewestWorkersToMaxWorkers) {
  Task task = task_ok(
      "pool:\n  min_workers: 0\n  max_workers: 10\n  queue_length_threshold: 1\n"
      "  upscale_delay_seconds: 60\n  downscale_delay_seconds: 120\n");
  ASSERT_TRUE(task.pool);
  EXPECT_EQ(task.pool->workers, 0);
  EXPECT_EQ(task.pool->max_workers, 10);
  EXPECT_EQ(task.pool->queue_length_threshold, 1);
  EXPECT_EQ(task.pool->upscale_delay_seconds, 60);
  EXPECT_EQ(task.pool->downscale_delay_seconds, 120);
  auto back = pipeline_from_json(
      to_json(parse_ok("pool:\n  min_workers: 0\n  max_workers: 10\n  queue_length_threshold: "
                       "1\n  upscale_delay_seconds: 60\n  downscale_delay_seconds: 120\n"),
              SecretMode::kInclude)
          .dump(),
      "");
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back->tasks[0].pool, *task.pool);
  // `workers` with max_workers is the fewest, as min_workers is; with both, what it starts with.
  Task fewest = task_ok("pool:\n  workers: 2\n  max_workers: 8\n");
  EXPECT_EQ(fewest.pool->min_workers, 2);
  EXPECT_EQ(fewest.pool->max_workers, 8);
  const std::string both = "pool:\n  workers: 2\n  min_workers: 1\n  max_workers: 8\n";
  Task starting = task_ok(both);
  EXPECT_EQ(starting.pool->workers, 2);
  EXPECT_EQ(starting.pool->min_workers, 1);
  auto starting_back = pipeline_from_json(to_json(parse_ok(both), SecretMode::kInclude).dump(), "");
  ASSERT_TRUE(starting_back) << starting_back.error().detail;
  EXPECT_EQ(*starting_back->tasks[0].pool, *starting.pool);
  // min_workers alone is a fixed size.
  Task fixed = task_ok("pool:\n  min_workers: 3\n");
  EXPECT_FALSE(fixed.pool->max_workers);
  EXPECT_EQ(fixed.pool->workers, 3);
}

TEST(Parser, AnAutoscalingPoolsSettingsAreCheckedAtTheirLine) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"pool:\n  workers: 9\n  min_workers: 1\n  max_workers: 4\n",
       "task.yaml:2:12: pool.workers: expected at most max_workers (4)"},
      {"pool:\n  workers: 1\n  min_workers: 2\n  max_workers: 4\n",
       "task.yaml:2:12: pool.workers: expected an integer from 2 to 1000"},
      {"pool:\n  min_workers: 5\n  max_workers: 4\n",
       "task.yaml:3:16: pool.max_workers: expected an integer from 5 to 1000"},
      {"pool:\n  min_workers: 0\n", "pool.min_workers: expected an integer from 1 to 1000"},
      {"pool:\n  workers: 3\n  min_workers: 1\n",
       "task.yaml:3:16: pool.min_workers: a pool without max_workers keeps a fixed size"},
      {"pool:\n  workers: 2\n  queue_length_threshold: 3\n",
       "task.yaml:3:27: pool.queue_length_threshold: set only for an autoscaling pool: add "
       "max_workers"},
      {"pool:\n  min_workers: 1\n  max_workers: 4\n  queue_length_threshold: 0\n",
       "pool.queue_length_threshold: expected an integer from 1 to 86400"},
      {"pool:\n  max_workers: 4\n",
       "pool.workers: a pool needs its number of workers (workers: N), or min_workers and "
       "max_workers"},
  };
  for (const auto& c : cases) EXPECT_CONTAINS(parse_error(c.yaml).detail, c.error) << c.yaml;
}

TEST(Parser, PoolNeedsAWholeNumberOfWorkers) {
  EXPECT_CONTAINS(parse_error("pool: {}\n").detail,
                  "pool.workers: a pool needs its number of workers (workers: N)");
  EXPECT_CONTAINS(parse_error("pool:\n  workers: 0\n").detail,
                  "task.yaml:2:12: pool.workers: expected an integer from 1 to 1000");
  EXPECT_CONTAINS(parse_error("pool:\n  workerz: 2\n").detail, "did you mean `workers`?");
}

TEST(Parser, RunBesideAPoolIsIgnoredWithAWarning) {
  auto pipeline = parse_ok("pool:\n  workers: 1\nrun: echo hi\n");
  EXPECT_CONTAINS(only_warning(pipeline), "task.yaml:3:1: run: ignored in a pool");
}

TEST(Parser, ServiceIsIgnoredForAJobWithAWarningAtItsLine) {
  auto pipeline = parse_ok("run: serve\nservice:\n  readiness_probe: /health\n  replicas: 2\n");
  EXPECT_CONTAINS(only_warning(pipeline), "task.yaml:2:1: service: ignored");
  EXPECT_EQ(pipeline.tasks[0].run, "serve");
  EXPECT_CONTAINS(parse_error("service: 3\n").detail, "service: expected a service mapping");
}

TEST(Parser, AutostopIsCheckedThenIgnoredWithAWarning) {
  for (const char* form : {"10", "\"30m\"", "false", "{idle_minutes: 5, down: true}"}) {
    auto pipeline = parse_ok(std::string("resources:\n  autostop: ") + form + "\n");
    EXPECT_CONTAINS(only_warning(pipeline),
                    "resources.autostop: ignored: a managed job's machines");
  }
  EXPECT_CONTAINS(parse_error("resources:\n  autostop: soon\n").detail,
                  "resources.autostop: expected true/false, idle minutes");
  EXPECT_CONTAINS(parse_error("resources:\n  autostop: {idle: 5}\n").detail,
                  "unknown field `idle`");
}

TEST(Parser, AcceleratorSetSkipsNamesNoCloudOffersAndSaysWhich) {
  auto pipeline = parse_ok("resources:\n  accelerators: {L4:1, A10G:1, A10:1, A100:1, Foo:1}\n");
  const auto& set = pipeline.tasks[0].resources;
  ASSERT_EQ(set.candidates.size(), 3u);
  for (const auto& candidate : set.candidates) EXPECT_NE(candidate.accelerator->name, "A10");
  EXPECT_CONTAINS(only_warning(pipeline), "skipped `A10`, `Foo`: no enabled cloud");
}

TEST(Parser, AcceleratorSetWithNoOfferedNameIsRefused) {
  EXPECT_CONTAINS(parse_error("resources:\n  accelerators: {A10:1, Foo:1}\n").detail,
                  "offers any of the accelerators `A10`, `Foo`");
  // One name alone is checked as written, with a suggestion.
  EXPECT_CONTAINS(parse_error("resources:\n  accelerators: A10:1\n").detail,
                  "unknown accelerator `A10`");
}

TEST(Parser, AnyOfOptionsOnCloudsSkydLacksAreSkippedWithAWarning) {
  auto pipeline = parse_ok(
      "resources:\n  any_of:\n    - infra: lambda\n      accelerators: A100:1\n"
      "    - infra: azure/eastus\n    - infra: aws\n      accelerators: A100:8\n");
  const auto& set = pipeline.tasks[0].resources;
  ASSERT_EQ(set.candidates.size(), 1u);
  EXPECT_EQ(set.candidates[0].cloud, "aws");
  EXPECT_CONTAINS(only_warning(pipeline),
                  "resources.any_of: skipped the options on clouds skyd does not support: "
                  "resources.any_of[0] (lambda), resources.any_of[1] (azure)");
}

TEST(Parser, KubernetesIsACloudByEitherNameWithItsContextAsTheRegion) {
  auto r = task_ok("resources:\n  infra: k8s/my-context\n  accelerators: MI300:2\n")
               .resources.candidates[0];
  EXPECT_EQ(r.cloud, "kubernetes");
  EXPECT_EQ(r.region, "my-context");
  EXPECT_EQ(task_ok("resources:\n  cloud: Kubernetes\n").resources.candidates[0].cloud,
            "kubernetes");
  EXPECT_EQ(task_ok("resources:\n  infra: kubernetes\n").resources.candidates[0].cloud,
            "kubernetes");
  auto pipeline = parse_ok(
      "resources:\n  any_of:\n    - infra: k8s\n      cpus: 4\n    - infra: aws\n"
      "      cpus: 4\n");
  ASSERT_EQ(pipeline.tasks[0].resources.candidates.size(), 2u);
  EXPECT_EQ(pipeline.tasks[0].resources.candidates[0].cloud, "kubernetes");
  EXPECT_CONTAINS(parse_error("resources:\n  infra: k8s/ctx/zone-a\n").detail,
                  "kubernetes has contexts, not zones");
}

TEST(Parser, OptionsAllOnCloudsSkydLacksAreRefusedByName) {
  auto error = parse_error("resources:\n  ordered:\n    - infra: lambda\n    - cloud: azure\n");
  EXPECT_EQ(error.code, SpecErrc::kUnsupported);
  EXPECT_CONTAINS(error.detail,
                  "task.yaml:3:14: resources.ordered[0].infra: cloud `lambda` is not");
  EXPECT_CONTAINS(parse_error("resources:\n  cloud: azure\n").detail,
                  "resources.cloud: cloud `azure` is not supported by skyd");
  // A base cloud skyd lacks is replaced by an option's own location.
  EXPECT_EQ(task_ok("resources:\n  cloud: azure\n  any_of:\n    - cloud: gcp\n")
                .resources.candidates[0]
                .cloud,
            "gcp");
  EXPECT_CONTAINS(override_error({"cloud", "azure", "--cloud"}),
                  "--cloud: cloud `azure` is not supported by skyd");
}

TEST(Parser, TpusAreAcceleratorsWithTheirArguments) {
  Task task = task_ok(
      "resources:\n  accelerators: tpu-v6e-8\n  accelerator_args:\n"
      "    runtime_version: v2-alpha-tpuv6e\n    tpu_vm: true\n    tpu_name: my-tpu\n");
  const Resources& resources = task.resources.candidates.at(0);
  ASSERT_TRUE(resources.accelerator);
  EXPECT_EQ(resources.accelerator->name, "tpu-v6e-8");
  ASSERT_TRUE(resources.accelerator_args);
  EXPECT_EQ(resources.accelerator_args->runtime_version, "v2-alpha-tpuv6e");
  EXPECT_EQ(resources.accelerator_args->tpu_name, "my-tpu");
  // Through the task's JSON (what skyd receives) and back.
  Pipeline pipeline;
  pipeline.tasks.push_back(task);
  auto back = pipeline_from_json(to_json(pipeline, SecretMode::kInclude).dump(), "");
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->tasks.at(0).resources.candidates.at(0).accelerator_args,
            resources.accelerator_args);
}

TEST(Parser, TpuAliasesNameTheCatalogsSlice) {
  EXPECT_EQ(task_ok("resources:\n  accelerators: tpu-v5e-8\n").resources.candidates[0].accelerator,
            (catalog::AcceleratorRequest{"tpu-v5litepod-8", 1}));
  EXPECT_EQ(task_ok("resources:\n  accelerators: tpu-v5-lite-podslice:4\n")
                .resources.candidates[0]
                .accelerator,
            (catalog::AcceleratorRequest{"tpu-v5litepod-4", 1}));
}

TEST(Parser, TpuNodesAreRefusedByName) {
  const Error error =
      parse_error("resources:\n  accelerators: tpu-v2-8\n  accelerator_args:\n    tpu_vm: False\n");
  EXPECT_CONTAINS(error.detail,
                  "task.yaml:4:13: resources.accelerator_args.tpu_vm: false asks "
                  "for a TPU node");
}

TEST(Parser, UnknownAcceleratorArgsAreRefusedByName) {
  EXPECT_CONTAINS(parse_error("resources:\n  accelerators: tpu-v2-8\n  accelerator_args:\n"
                              "    runtime_versoin: x\n")
                      .detail,
                  "task.yaml:4:5: resources.accelerator_args.runtime_versoin: unknown field "
                  "`runtime_versoin`");
  EXPECT_CONTAINS(parse_error("resources:\n  accelerators: tpu-v2-8\n  accelerator_args:\n"
                              "    gcp_queued_resource: true\n")
                      .detail,
                  "resources.accelerator_args.gcp_queued_resource: `gcp_queued_resource` is a "
                  "SkyPilot field");
  EXPECT_CONTAINS(parse_error("resources:\n  accelerators: tpu-v2-8\n  accelerator_args:\n"
                              "    tpu_name: My_TPU\n")
                      .detail,
                  "resources.accelerator_args.tpu_name: a TPU name is 1 to 63 lowercase");
}

TEST(Parser, TpuShapesSkyPilotRefusesAreRefused) {
  EXPECT_CONTAINS(
      parse_error("resources:\n  accelerators: tpu-v2-8\n  instance_type: n1-highmem-8\n").detail,
      "resources.instance_type: a TPU VM's host comes with the TPU");
  EXPECT_CONTAINS(parse_error("num_nodes: 2\nresources:\n  accelerators: tpu-v4-32\n").detail,
                  "num_nodes: a TPU slice's hosts are the task's nodes");
  EXPECT_CONTAINS(parse_error("resources:\n  accelerators: tpu-v2-8\n  cloud: aws\n").detail,
                  "TPUs (`tpu-v2-8`) are sold only on gcp");
}

TEST(Parser, AcceleratorArgsWithoutATpuAreIgnoredWithAWarning) {
  auto pipeline = parse_ok("resources:\n  accelerator_args:\n    runtime_version: tpu-vm-base\n");
  EXPECT_CONTAINS(only_warning(pipeline), "accelerator_args are TPU settings");
}

TEST(Parser, FileMountStoreModeAndPersistentAreSubstituted) {
  ParseOptions options;
  options.env_overrides = {{"MODE", "copy"}, {"KEEP", "false"}};
  Task task = task_ok(
      "envs:\n  STORE: gcs\n  BUCKET: my-bucket\nfile_mounts:\n  /data:\n    name: $BUCKET\n"
      "    store: ${STORE}\n    mode: $MODE\n    persistent: $KEEP\n",
      options);
  ASSERT_EQ(task.file_mounts.size(), 1u);
  EXPECT_EQ(task.file_mounts[0].bucket_name, "my-bucket");
  EXPECT_EQ(task.file_mounts[0].store, StoreType::kGcs);
  EXPECT_EQ(task.file_mounts[0].mode, MountMode::kCopy);
  EXPECT_FALSE(task.file_mounts[0].persistent);
}

TEST(Parser, StorageWorkloadTypeIsCheckedThenIgnoredWithAWarning) {
  auto pipeline = parse_ok(
      "file_mounts:\n  /w:\n    source: s3://weights\n    mode: MOUNT_CACHED\n"
      "    type: model_checkpoint_ro\n");
  EXPECT_CONTAINS(only_warning(pipeline), "task.yaml:5:11: file_mounts./w.type: ignored");
  EXPECT_CONTAINS(parse_error("file_mounts:\n  /w:\n    source: s3://www\n    type: FAST\n").detail,
                  "file_mounts./w.type: expected MODEL_CHECKPOINT_RO");
}

TEST(Parser, InputsAndOutputsAreCarriedInTheTaskJson) {
  auto parsed = parse_ok("inputs:\n  s3://bucket/data: 100\noutputs: {gs://out: 0.5}\nrun: x\n");
  ASSERT_EQ(parsed.warnings.size(), 2u);
  EXPECT_CONTAINS(parsed.warnings[0], "task.yaml:2:3: inputs: kept with the task, not used");
  const Task task = parsed.tasks[0];
  EXPECT_EQ(task.inputs, (DataHint{"s3://bucket/data", 100}));
  EXPECT_EQ(task.outputs, (DataHint{"gs://out", 0.5}));
  Pipeline pipeline;
  pipeline.tasks.push_back(task);
  auto back = pipeline_from_json(to_json(pipeline, SecretMode::kInclude).dump(), "");
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(back->tasks[0].inputs, task.inputs);
  EXPECT_EQ(back->tasks[0].outputs, task.outputs);
  EXPECT_CONTAINS(parse_error("inputs: {s3://a: 1, s3://b: 2}\n").detail,
                  "inputs: expected one location and its estimated size in GB");
  EXPECT_CONTAINS(parse_error("outputs: {s3://a: lots}\n").detail, "outputs: expected one");
}

TEST(Parser, PriorityIsReadCheckedAndCarried) {
  auto pipeline = parse_ok(
      "resources:\n  priority: 900\n  any_of:\n    - cloud: aws\n"
      "    - cloud: gcp\n");
  EXPECT_EQ(pipeline.tasks[0].resources.candidates[1].priority, 900);
  EXPECT_EQ(priority(pipeline), 900);
  EXPECT_EQ(priority(parse_ok("run: x\n")), std::nullopt);
  auto back = pipeline_from_json(to_json(pipeline, SecretMode::kInclude).dump(), "");
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(priority(*back), 900);
  EXPECT_CONTAINS(parse_error("resources:\n  priority: 1001\n").detail,
                  "resources.priority: expected an integer from -1000 to 1000");
  EXPECT_CONTAINS(
      parse_error("resources:\n  any_of:\n    - priority: 1\n    - priority: 2\n").detail,
      "every resource option of a task must have the same priority");
}

TEST(Parser, PipelineTasksMustAgreeOnPriority) {
  auto pipeline = parse_ok("name: p\n---\nrun: a\n---\nresources:\n  priority: -5\n");
  EXPECT_EQ(priority(pipeline), -5);
  EXPECT_CONTAINS(parse_error("name: p\n---\nresources:\n  priority: 1\n---\nresources:\n"
                              "  priority: 2\n")
                      .detail,
                  "the tasks of a pipeline give different priorities (1 and 2)");
}

TEST(Parser, SpotRecoveryIsReadAsJobRecoveryWithAWarning) {
  auto pipeline = parse_ok("resources:\n  spot_recovery: FAILOVER\n");
  EXPECT_EQ(pipeline.tasks[0].resources.candidates[0].job_recovery->strategy,
            RecoveryStrategy::kFailover);
  EXPECT_CONTAINS(only_warning(pipeline), "`spot_recovery` is deprecated");
  EXPECT_CONTAINS(
      parse_error("resources:\n  spot_recovery: FAILOVER\n  job_recovery: FAILOVER\n").detail,
      "give only one");
}

TEST(Parser, JobGroupHeaderIsReadAndCarried) {
  auto pipeline = parse_ok(
      "name: g\nexecution: parallel\nprimary_tasks: [trainer]\n"
      "termination_delay:\n  default: 30s\n  buffer: 1m\n---\nname: trainer\nrun: x\n"
      "---\nname: buffer\nrun: y\n---\nname: server\nrun: z\n");
  ASSERT_TRUE(pipeline.group);
  EXPECT_EQ(pipeline.name, "g");
  EXPECT_EQ(pipeline.tasks.size(), 3u);
  EXPECT_EQ(pipeline.group->primary_tasks, std::vector<std::string>{"trainer"});
  EXPECT_TRUE(is_primary(*pipeline.group, pipeline.tasks[0]));
  EXPECT_FALSE(is_primary(*pipeline.group, pipeline.tasks[1]));
  EXPECT_EQ(termination_delay(*pipeline.group, pipeline.tasks[1]), std::chrono::minutes(1));
  EXPECT_EQ(termination_delay(*pipeline.group, pipeline.tasks[2]), std::chrono::seconds(30));
  // The normalized form keeps the group: the daemon reads it back as the same pipeline.
  auto again = pipeline_from_json(to_json(pipeline, SecretMode::kInclude).dump(), "job 1");
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(*again, pipeline);
  EXPECT_EQ(again->group, pipeline.group);
}

TEST(Parser, JobGroupWithoutPrimaryTasksMakesEveryTaskPrimary) {
  auto pipeline = parse_ok(
      "name: g\nexecution: parallel\ntermination_delay: 5s\n---\nname: a\n"
      "run: x\n---\nname: b\nrun: y\n");
  ASSERT_TRUE(pipeline.group);
  EXPECT_TRUE(is_primary(*pipeline.group, pipeline.tasks[1]));
  EXPECT_EQ(pipeline.group->default_delay, std::chrono::seconds(5));
  EXPECT_FALSE(parse_ok("name: p\nexecution: serial\n---\nrun: x\n").group);
}

TEST(Parser, JobGroupMistakesAreRefused) {
  EXPECT_CONTAINS(parse_error("name: g\nprimary_tasks: [a]\n---\nname: a\nrun: x\n").detail,
                  "needs `execution: parallel`");
  EXPECT_CONTAINS(
      parse_error("name: g\nexecution: parallel\nprimary_tasks: [b]\n---\nname: a\nrun: x\n")
          .detail,
      "no task of the job group is named `b`");
  EXPECT_CONTAINS(
      parse_error("name: g\nexecution: parallel\n---\nname: a\nrun: x\n---\nname: a\nrun: y\n")
          .detail,
      "names must be unique");
  EXPECT_CONTAINS(parse_error("name: g\nexecution: parallel\n---\nrun: x\n").detail,
                  "needs a `name`");
  EXPECT_CONTAINS(
      parse_error("name: g\nexecution: parallel\ntermination_delay: soon\n---\nname: a\nrun: x\n")
          .detail,
      "expected a duration");
  EXPECT_CONTAINS(
      parse_error("name: g\nexecution: parallel\ntermination_delay: {c: 1m}\n---\nname: a\n"
                  "run: x\n")
          .detail,
      "no task of the job group is named `c`");
  EXPECT_CONTAINS(parse_error("name: g\nexecution: sometimes\n---\nname: a\nrun: x\n").detail,
                  "expected `serial` or `parallel`");
}

TEST(Parser, SyntaxErrorHasLineAndColumn) {
  auto error = parse_error("run: [unclosed\nname: x\n");
  EXPECT_EQ(error.code, SpecErrc::kSyntax);
  EXPECT_CONTAINS(error.detail, "task.yaml:");
}

TEST(Parser, NumNodesMustBePositive) {
  auto error = parse_error("run: x\nnum_nodes: 0\n");
  EXPECT_CONTAINS(error.detail, "task.yaml:2:12: num_nodes: expected an integer from 1");
}

TEST(Parser, BadTaskNameIsRejected) {
  EXPECT_CONTAINS(parse_error("name: bad___name\n").detail, "name: expected a task name");
  EXPECT_TRUE(is_valid_task_name("train-v2.1"));
  EXPECT_FALSE(is_valid_task_name("-x"));
  EXPECT_TRUE(is_valid_job_name("my_job.1"));
  EXPECT_FALSE(is_valid_job_name("1job"));
}

TEST(Parser, EnvValuesAreCoercedToStrings) {
  Task task = task_ok("envs:\n  A: 123\n  B: true\n  C: text\n");
  EXPECT_EQ(task.envs.at("A"), "123");
  EXPECT_EQ(task.envs.at("B"), "true");
  EXPECT_EQ(task.envs.at("C"), "text");
}

TEST(Parser, NullEnvNeedsOverride) {
  auto error = parse_error("envs:\n  TOKEN:\n");
  EXPECT_EQ(error.code, SpecErrc::kMissingValue);
  EXPECT_CONTAINS(error.detail, "envs.TOKEN: no value given; pass it with --env TOKEN=VALUE");
  ParseOptions options;
  options.env_overrides["TOKEN"] = "abc";
  EXPECT_EQ(task_ok("envs:\n  TOKEN:\n", options).envs.at("TOKEN"), "abc");
}

TEST(Parser, EnvOverridesWinAndAdd) {
  ParseOptions options;
  options.env_overrides = {{"A", "cli"}, {"NEW", "x"}};
  Task task = task_ok("envs:\n  A: file\n", options);
  EXPECT_EQ(task.envs.at("A"), "cli");
  EXPECT_EQ(task.envs.at("NEW"), "x");
}

TEST(Parser, BadEnvNameIsRejected) {
  EXPECT_CONTAINS(parse_error("envs:\n  1ABC: x\n").detail, "envs.1ABC: expected a variable name");
}

TEST(Parser, EnvValueMustBeScalar) {
  EXPECT_CONTAINS(parse_error("envs:\n  A: [1]\n").detail, "envs.A: expected a string value");
}

TEST(Parser, SecretsAreRedactedForDisplay) {
  Task task = task_ok("secrets:\n  API_KEY: s3cr3t\nenvs:\n  A: b\n");
  EXPECT_EQ(task.secrets.at("API_KEY"), "s3cr3t");
  const std::string shown = to_json(task, SecretMode::kRedact).dump();
  EXPECT_EQ(shown.find("s3cr3t"), std::string::npos);
  EXPECT_CONTAINS(shown, "\"API_KEY\":\"<redacted>\"");
  EXPECT_CONTAINS(to_json(task, SecretMode::kInclude).dump(), "s3cr3t");
}

TEST(Parser, NullSecretNeedsSecretFlag) {
  auto error = parse_error("secrets:\n  KEY:\n");
  EXPECT_CONTAINS(error.detail, "pass it with --secret KEY=VALUE");
  ParseOptions options;
  options.secret_overrides["KEY"] = "v";
  EXPECT_EQ(task_ok("secrets:\n  KEY:\n", options).secrets.at("KEY"), "v");
}

TEST(Parser, EnvFileValuesFillDeclaredSecretsOnly) {
  ParseOptions options;
  options.env_overrides["KEY"] = "from-file";
  options.secret_fallbacks["KEY"] = "from-file";
  Task task = task_ok("secrets:\n  KEY:\n", options);
  EXPECT_EQ(task.secrets.at("KEY"), "from-file");
  EXPECT_FALSE(task.envs.contains("KEY"));
}

TEST(Parser, SecretListFormIsUnsupported) {
  EXPECT_EQ(parse_error("secrets:\n  - secrets:foo\n").code, SpecErrc::kUnsupported);
}

TEST(Parser, SubstitutesVarsInFileMountsAndWorkdirOnly) {
  Task task = task_ok(R"(
envs:
  BUCKET: my-bucket
  DIR: /data
workdir: ${DIR}/code
file_mounts:
  $DIR/in: s3://${BUCKET}/in
  /ckpt:
    name: ${BUCKET}-ckpt
    source: ~/local/$UNKNOWN
run: echo $BUCKET
)");
  EXPECT_EQ(task.workdir, "/data/code");
  ASSERT_EQ(task.file_mounts.size(), 2u);
  EXPECT_EQ(task.file_mounts[0].destination, "/ckpt");
  EXPECT_EQ(task.file_mounts[0].bucket_name, "my-bucket-ckpt");
  EXPECT_EQ(task.file_mounts[0].sources[0], "~/local/$UNKNOWN");
  EXPECT_EQ(task.file_mounts[1].destination, "/data/in");
  EXPECT_EQ(task.file_mounts[1].kind, FileMount::Kind::kBucketUrl);
  EXPECT_EQ(task.file_mounts[1].sources[0], "s3://my-bucket/in");
  EXPECT_EQ(task.run, "echo $BUCKET");
}

TEST(Parser, SubstituteVarsLeavesUnknownAndMalformed) {
  const std::map<std::string, std::string> vars{{"A", "1"}};
  EXPECT_EQ(substitute_vars("$A ${A} $B ${A $ ${}", vars), "1 1 $B ${A $ ${}");
}

TEST(Parser, FileMountForms) {
  Task task = task_ok(R"(
file_mounts:
  /local: ./data
  /url: gs://bucket/path
  /store:
    name: bkt
    source: [./a, ./b]
    store: s3
    mode: copy
    persistent: false
)");
  ASSERT_EQ(task.file_mounts.size(), 3u);
  EXPECT_EQ(task.file_mounts[0].kind, FileMount::Kind::kLocalPath);
  const FileMount& store = task.file_mounts[1];
  EXPECT_EQ(store.kind, FileMount::Kind::kStorage);
  EXPECT_EQ(store.store, StoreType::kS3);
  EXPECT_EQ(store.mode, MountMode::kCopy);
  EXPECT_FALSE(store.persistent);
  EXPECT_EQ(store.sources.size(), 2u);
  EXPECT_EQ(task.file_mounts[2].kind, FileMount::Kind::kBucketUrl);
}

TEST(Parser, BlankBucketNameIsNamedWithItsLine) {
  auto error = parse_error(R"(name: bert
file_mounts:
  /checkpoint:
    name: # NOTE: Fill in your bucket name
    mode: MOUNT
)");
  EXPECT_EQ(error.code, SpecErrc::kMissingValue);
  EXPECT_CONTAINS(error.detail, "task.yaml:4:");
  EXPECT_CONTAINS(error.detail, "file_mounts./checkpoint.name: the bucket name is blank");
}

TEST(Parser, BadMountModeAndStore) {
  EXPECT_CONTAINS(parse_error("file_mounts:\n  /a:\n    name: bkt\n    mode: SYNC\n").detail,
                  "file_mounts./a.mode: expected MOUNT, COPY or MOUNT_CACHED");
  EXPECT_EQ(parse_error("file_mounts:\n  /a:\n    name: bkt\n    store: volume\n").code,
            SpecErrc::kUnsupported);
  EXPECT_CONTAINS(parse_error("file_mounts:\n  s3://x: /a\n").detail, "not a bucket URL");
}

TEST(Parser, BucketNamesFollowS3sRules) {
  for (const char* good : {"abc", "my-bucket.v2", "a1-b2", "123", "x.y.z"}) {
    EXPECT_EQ(bucket_name_problem(good), "") << good;
  }
  const std::pair<const char*, const char*> bad[] = {{"ab", "3 to 63"},
                                                     {"../../../../tmp/x", "holds `/`"},
                                                     {"..", "3 to 63"},
                                                     {"My-Bucket", "holds `M`"},
                                                     {"under_score", "holds `_`"},
                                                     {"-dash", "begin and end"},
                                                     {"dash-", "begin and end"},
                                                     {".dot", "begin and end"},
                                                     {"a..b", "two adjacent periods"},
                                                     {"192.168.5.4", "IP address"},
                                                     {"xn--bucket", "`xn--`"},
                                                     {"sthree-bucket", "`sthree-`"},
                                                     {"amzn-s3-demo-bucket", "`amzn-s3-demo-`"},
                                                     {"bucket-s3alias", "`-s3alias`"},
                                                     {"bucket--ol-s3", "`--ol-s3`"},
                                                     {"bucket.mrap", "`.mrap`"},
                                                     {"bucket--x-s3", "`--x-s3`"},
                                                     {"bucket--table-s3", "`--table-s3`"}};
  for (const auto& [name, why] : bad) EXPECT_CONTAINS(bucket_name_problem(name), why);
  EXPECT_CONTAINS(bucket_name_problem(std::string(64, 'a')), "is 64 characters long");
}

TEST(Parser, ABucketNameThatWouldLeaveItsDirectoryIsRefusedWithItsLine) {
  auto error = parse_error(R"(run: echo hi
file_mounts:
  /x:
    name: ../../../../tmp/x
    mode: MOUNT
)");
  EXPECT_EQ(error.code, SpecErrc::kInvalid);
  EXPECT_CONTAINS(error.detail,
                  "task.yaml:4:11: file_mounts./x.name: bucket name "
                  "`../../../../tmp/x` holds `/`");
  EXPECT_CONTAINS(error.detail, "S3's bucket naming rules");
}

TEST(Parser, GcsBucketsFollowGcsNamingRules) {
  Task task =
      task_ok("file_mounts:\n  /a: {name: my_ckpt, store: gcs}\n  /b: gs://my_data/train\n");
  ASSERT_EQ(task.file_mounts.size(), 2u);
  EXPECT_EQ(task.file_mounts[0].bucket_name, "my_ckpt");
  EXPECT_CONTAINS(parse_error("file_mounts:\n  /a: {name: goog-ckpt, store: gcs}\n").detail,
                  "file_mounts./a.name: bucket name `goog-ckpt` begins with `goog`, which Google "
                  "reserves (GCS's bucket naming rules)");
  EXPECT_CONTAINS(parse_error("file_mounts:\n  /a: gs://my-google-data\n").detail,
                  "holds `google`, which Google reserves (GCS's bucket naming rules)");
  // Without `store: gcs` a name follows S3's rules.
  EXPECT_CONTAINS(parse_error("file_mounts:\n  /a: {name: my_ckpt}\n").detail,
                  "S3's bucket naming rules");
}

TEST(Parser, ABucketNameAfterSubstitutionIsChecked) {
  auto error = parse_error("envs: {B: Upper}\nfile_mounts:\n  /x: {name: data-$B}\n");
  EXPECT_CONTAINS(error.detail, "file_mounts./x.name: bucket name `data-Upper` holds `U`");
}

TEST(Parser, TheBucketOfABucketUrlIsChecked) {
  EXPECT_CONTAINS(parse_error("file_mounts:\n  /x: s3://../etc\n").detail,
                  "file_mounts./x: the bucket `..` of s3://../etc is 2 characters long");
  EXPECT_CONTAINS(parse_error("file_mounts:\n  /x: {source: [\"gs://ok-bucket\", "
                              "\"s3://Bad_Bucket/p\"]}\n")
                      .detail,
                  "file_mounts./x.source[1]: the bucket `Bad_Bucket` of s3://Bad_Bucket/p");
  task_ok("file_mounts:\n  /x: {source: ./local/dir, mode: COPY}\n");
}

TEST(Parser, JobAndTaskNamesHaveALengthLimit) {
  const std::string longest(kMaxNameLength, 'a');
  EXPECT_TRUE(is_valid_job_name(longest));
  EXPECT_TRUE(is_valid_task_name(longest));
  EXPECT_FALSE(is_valid_job_name(longest + "a"));
  EXPECT_FALSE(is_valid_task_name(longest + "a"));
  auto error = parse_error("name: " + longest + "b\nrun: x\n");
  EXPECT_CONTAINS(error.detail, "task.yaml:1:7: name: expected a task name");
  EXPECT_CONTAINS(error.detail, "at most 248 characters");
  EXPECT_CONTAINS(parse_error("name: " + longest + "b\n---\nrun: x\n---\nrun: y\n").detail,
                  "name: expected a job name");
}

TEST(Parser, NulBytesFromEscapesAreRefusedWithTheirField) {
  auto error = parse_error("envs:\n  A: \"x\\0y\"\nrun: echo\n");
  EXPECT_CONTAINS(error.detail, "task.yaml:2:6: envs.A: the value holds a NUL byte");
  EXPECT_CONTAINS(parse_error("run: \"echo \\u0000\"\n").detail, "run: the value holds a NUL byte");
  EXPECT_CONTAINS(parse_error("envs: {\"A\\0\": x}\n").detail, "envs: a key holds a NUL byte");
}

TEST(Parser, TextThatIsNotUtf8IsRefusedWhereItIs) {
  EXPECT_CONTAINS(parse_error("name: ok\nrun: echo \xff\xfe\n").detail,
                  "task.yaml:2:11: byte 255 is not UTF-8");
  // yaml-cpp refuses a lone surrogate escape itself, at its position.
  EXPECT_CONTAINS(parse_error("run: \"a\\ud800b\"\n").detail, "task.yaml:1:");
}

TEST(Parser, ScriptsUpTo8MiBAreAcceptedAndLongerOnesRefusedByTaskAndField) {
  const std::string script(kMaxScriptBytes - 1, 'x');
  Task task = task_ok("name: big\nrun: |\n  " + script + "\n");
  EXPECT_EQ(task.run->size(), kMaxScriptBytes);
  auto error = parse_error("name: big\nsetup: |\n  " + script + "yy\n");
  EXPECT_CONTAINS(error.detail,
                  "task.yaml:2:8: setup: the script of task `big` is 8388610 bytes; "
                  "a script may be at most 8388608 bytes (8 MiB)");
}

TEST(Parser, EnvironmentVariablesMustFitExecve) {
  const std::string value(kMaxEnvEntryBytes - 2, 'v');
  task_ok("envs:\n  A: " + value + "\n");
  auto one = parse_error("envs:\n  AB: " + value + "\n");
  EXPECT_CONTAINS(one.detail,
                  "task.yaml:2:7: envs.AB: `AB=...` is 131072 bytes; one variable may "
                  "be at most 131071 bytes");
  std::string many = "secrets:\n";
  for (int i = 0; i < 9; ++i) {
    many += "  S" + std::to_string(i) + ": " + std::string(kMaxEnvEntryBytes - 10, 'v') + "\n";
  }
  EXPECT_CONTAINS(parse_error(many).detail, "envs: envs and secrets hold");
  EXPECT_CONTAINS(parse_error(many).detail, "at most 1048576 (1 MiB)");
  ParseOptions overrides;
  overrides.env_overrides["BIG"] = std::string(kMaxEnvEntryBytes, 'v');
  EXPECT_CONTAINS(parse_error("run: x\n", overrides).detail, "envs.BIG: `BIG=...` is");
}

TEST(TaskJson, TheDaemonsReadingRefusesWhatTheYamlWouldRefuse) {
  EXPECT_CONTAINS(
      pipeline_from_json(R"({"tasks":[{"file_mounts":{"/x":{"name":"../x","mode":"MOUNT"}}}]})",
                         "submitted")
          .error()
          .detail,
      "tasks[0].file_mounts./x.name: bucket name `../x`");
  EXPECT_CONTAINS(pipeline_from_json(R"({"name":"-bad","tasks":[{}]})", "submitted").error().detail,
                  "name: expected a job name");
  EXPECT_CONTAINS(
      pipeline_from_json(R"({"tasks":[{"envs":{"A":"x\u0000"}}]})", "submitted").error().detail,
      "tasks[0].envs.A: the value holds a NUL byte");
  EXPECT_FALSE(pipeline_from_json(R"({"tasks":[{"run":"\udc00"}]})", "submitted"));
}

TEST(Parser, ResourceScalarFields) {
  Task task = task_ok(R"(
resources:
  cloud: AWS
  region: us-east-1
  zone: us-east-1a
  instance_type: g4dn.xlarge
  cpus: 4+
  memory: 32GB+
  use_spot: true
  disk_size: 1TB
  disk_tier: HIGH
  ports: [8080, "10000-10010", 8081, 10005]
  labels: {team: ml}
  image_id: ami-123
)");
  const Resources& r = task.resources.candidates.at(0);
  EXPECT_EQ(r.cloud, "aws");
  EXPECT_EQ(r.zone, "us-east-1a");
  EXPECT_EQ(r.cpus, (catalog::Quantity{4, true, false}));
  EXPECT_EQ(r.memory, (catalog::Quantity{32, true, false}));
  EXPECT_EQ(r.use_spot, true);
  EXPECT_EQ(r.disk_size, 1024);
  EXPECT_EQ(r.disk_tier, DiskTier::kHigh);
  EXPECT_EQ(r.ports, (std::vector<PortRange>{{8080, 8081}, {10000, 10010}}));
  EXPECT_EQ(r.labels.at("team"), "ml");
  EXPECT_EQ(r.image_id->any_region, "ami-123");
}

TEST(Parser, NetworkTier) {
  Task task = task_ok("resources:\n  network_tier: Best\nrun: echo\n");
  EXPECT_EQ(task.resources.candidates.at(0).network_tier, NetworkTier::kBest);
  task = task_ok("resources:\n  network_tier: standard\nrun: echo\n");
  EXPECT_EQ(task.resources.candidates.at(0).network_tier, NetworkTier::kStandard);
  const Error bad = parse_error("resources:\n  network_tier: fastest\nrun: echo\n");
  EXPECT_CONTAINS(bad.detail, "resources.network_tier");
  EXPECT_CONTAINS(bad.detail, "expected standard or best");
}

TEST(Parser, MaxHourlyCost) {
  Task task = task_ok("resources:\n  use_spot: true\n  max_hourly_cost: 5.0\nrun: echo\n");
  EXPECT_EQ(task.resources.candidates.at(0).max_hourly_cost, 5.0);
  for (const char* bad : {"0", "-2", "cheap"}) {
    const Error error =
        parse_error("resources:\n  max_hourly_cost: " + std::string(bad) + "\nrun: echo\n");
    EXPECT_CONTAINS(error.detail, "resources.max_hourly_cost");
    EXPECT_CONTAINS(error.detail, "expected a positive price in USD per hour");
  }
}

TEST(Parser, AGitWorkdirIsAUrlAndARef) {
  Task task = task_ok("workdir:\n  url: https://github.com/org/repo.git\n  ref: v1.0\nrun: x\n");
  ASSERT_TRUE(task.git_workdir);
  EXPECT_FALSE(task.workdir);
  EXPECT_EQ(task.git_workdir->url, "https://github.com/org/repo.git");
  EXPECT_EQ(task.git_workdir->ref, "v1.0");
  EXPECT_FALSE(task.git_workdir->over_ssh());
  for (const char* url : {"git@github.com:org/repo.git", "ssh://git@host:2222/org/repo.git"}) {
    task = task_ok("workdir:\n  url: " + std::string(url) + "\nrun: x\n");
    EXPECT_TRUE(task.git_workdir && task.git_workdir->over_ssh()) << url;
    EXPECT_FALSE(task.git_workdir->ref);
  }
  // The JSON skyd receives reads back the same.
  task = task_ok("workdir:\n  url: https://github.com/org/repo.git\n  ref: main\nrun: x\n");
  Pipeline pipeline;
  pipeline.tasks.push_back(task);
  auto back = pipeline_from_json(to_json(pipeline, SecretMode::kInclude).dump(), "json");
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(back->tasks.at(0).git_workdir, task.git_workdir);
}

TEST(Parser, AGitWorkdirThatIsNoRemoteRepositoryIsRefusedNamingTheField) {
  for (const char* url : {"/home/me/repo", "file:///home/me/repo", "-uhttps://x/y", "https://host",
                          "'https://x/y z'"}) {
    EXPECT_CONTAINS(parse_error("workdir:\n  url: " + std::string(url) + "\nrun: x\n").detail,
                    "workdir.url: expected a git URL")
        << url;
  }
  EXPECT_CONTAINS(parse_error("workdir:\n  ref: main\nrun: x\n").detail, "workdir.url");
  EXPECT_CONTAINS(
      parse_error("workdir:\n  url: https://h/r.git\n  ref: --upload-pack=x\nrun: x\n").detail,
      "workdir.ref: expected a branch, tag or commit");
  EXPECT_CONTAINS(parse_error("workdir:\n  url: https://h/r.git\n  branch: main\nrun: x\n").detail,
                  "unknown field `branch`");
}

TEST(Parser, MemoryForms) {
  EXPECT_EQ(task_ok("resources:\n  memory: 4x\n").resources.candidates[0].memory,
            (catalog::Quantity{4, false, true}));
  EXPECT_EQ(task_ok("resources:\n  memory: 512MB\n").resources.candidates[0].memory,
            (catalog::Quantity{0.5, false, false}));
  EXPECT_EQ(task_ok("resources:\n  memory: 16\n").resources.candidates[0].memory,
            (catalog::Quantity{16, false, false}));
  EXPECT_CONTAINS(parse_error("resources:\n  memory: lots\n").detail,
                  "resources.memory: expected memory");
  EXPECT_CONTAINS(parse_error("resources:\n  cpus: 0\n").detail,
                  "resources.cpus: expected a vCPU count");
}

TEST(Parser, InfraForms) {
  auto r = task_ok("resources:\n  infra: aws/us-east-1/us-east-1a\n").resources.candidates[0];
  EXPECT_EQ(r.cloud, "aws");
  EXPECT_EQ(r.region, "us-east-1");
  EXPECT_EQ(r.zone, "us-east-1a");
  r = task_ok("resources:\n  infra: '*/us-west1'\n").resources.candidates[0];
  EXPECT_FALSE(r.cloud);
  EXPECT_EQ(r.region, "us-west1");
  EXPECT_EQ(task_ok("resources:\n  infra: local\n").resources.candidates[0].cloud, "local");
  EXPECT_EQ(task_ok("resources:\n  infra: k8s\n").resources.candidates[0].cloud, "kubernetes");
  EXPECT_CONTAINS(parse_error("resources:\n  infra: aws\n  cloud: aws\n").detail,
                  "cannot be combined");
  EXPECT_CONTAINS(parse_error("resources:\n  cloud: awz\n").detail, "did you mean `aws`?");
}

TEST(Parser, UnknownRegionIsReportedWithPosition) {
  auto error = parse_error("resources:\n  cloud: aws\n  region: us-east-9\n");
  EXPECT_CONTAINS(error.detail, "task.yaml:2:3: resources: unknown region `us-east-9` in aws");
}

TEST(Parser, AcceleratorString) {
  auto r = task_ok("resources:\n  accelerators: v100:2\n").resources.candidates[0];
  EXPECT_EQ(r.accelerator, (catalog::AcceleratorRequest{"V100", 2}));
  r = task_ok("resources:\n  gpus: T4\n").resources.candidates[0];
  EXPECT_EQ(r.accelerator, (catalog::AcceleratorRequest{"T4", 1}));
}

TEST(Parser, AcceleratorMappingIsUnorderedSet) {
  auto set = task_ok("resources:\n  accelerators: {V100: 1, A100: 2}\n").resources;
  ASSERT_EQ(set.candidates.size(), 2u);
  EXPECT_FALSE(set.ordered);
  EXPECT_EQ(set.candidates[1].accelerator, (catalog::AcceleratorRequest{"A100", 2}));
}

TEST(Parser, AcceleratorYamlSetIsUnordered) {
  auto set = task_ok("resources:\n  accelerators: {V100:1, A100:1}\n").resources;
  ASSERT_EQ(set.candidates.size(), 2u);
  EXPECT_FALSE(set.ordered);
  EXPECT_EQ(set.candidates[0].accelerator, (catalog::AcceleratorRequest{"V100", 1}));
}

TEST(Parser, OneAcceleratorAtSeveralCountsIsSeveralChoices) {
  auto set = task_ok("resources:\n  accelerators: {A100:4, A100:8}\n").resources;
  ASSERT_EQ(set.candidates.size(), 2u);
  EXPECT_EQ(set.candidates[0].accelerator, (catalog::AcceleratorRequest{"A100", 4}));
  EXPECT_EQ(set.candidates[1].accelerator, (catalog::AcceleratorRequest{"A100", 8}));
  auto listed = task_ok("resources:\n  accelerators: [A100:8, A100:4]\n").resources;
  ASSERT_EQ(listed.candidates.size(), 2u);
  EXPECT_TRUE(listed.ordered);
}

TEST(Parser, TheSameAcceleratorChoiceTwiceIsRefused) {
  auto error = parse_error("resources:\n  accelerators: [A100:4, a100:4]\n");
  EXPECT_NE(error.message().find("accelerator A100:4 is listed twice"), std::string::npos)
      << error.message();
}

TEST(Parser, AcceleratorListIsOrdered) {
  auto set = task_ok("resources:\n  accelerators: [A100:1, V100:1]\n").resources;
  ASSERT_EQ(set.candidates.size(), 2u);
  EXPECT_TRUE(set.ordered);
  EXPECT_EQ(set.candidates[0].accelerator->name, "A100");
}

TEST(Parser, AcceleratorErrors) {
  EXPECT_CONTAINS(parse_error("resources:\n  accelerators: V100:x\n").detail,
                  "resources.accelerators: expected NAME or NAME:COUNT");
  EXPECT_CONTAINS(parse_error("resources:\n  accelerators: V1000\n").detail,
                  "did you mean `V100`?");
  EXPECT_EQ(parse_error("resources:\n  accelerators: 80GB+\n").code, SpecErrc::kUnsupported);
  EXPECT_CONTAINS(parse_error("resources:\n  accelerators: T4\n  gpus: T4\n").detail, "alias");
}

TEST(Parser, AnyOfMergesOverBase) {
  auto set = task_ok(R"(
resources:
  accelerators: A100:8
  labels: {a: "1"}
  any_of:
    - use_spot: true
    - use_spot: false
      labels: {b: "2"}
)")
                 .resources;
  ASSERT_EQ(set.candidates.size(), 2u);
  EXPECT_FALSE(set.ordered);
  EXPECT_EQ(set.candidates[0].use_spot, true);
  EXPECT_EQ(set.candidates[1].use_spot, false);
  EXPECT_EQ(set.candidates[1].accelerator->name, "A100");
  EXPECT_EQ(set.candidates[1].labels.size(), 2u);
  EXPECT_EQ(set.origins[1], "resources.any_of[1]");
}

TEST(Parser, OrderedKeepsOrder) {
  auto set = task_ok(R"(
resources:
  ordered:
    - infra: gcp
      accelerators: A100:1
    - infra: aws
      accelerators: V100:1
)")
                 .resources;
  ASSERT_EQ(set.candidates.size(), 2u);
  EXPECT_TRUE(set.ordered);
  EXPECT_EQ(set.candidates[0].cloud, "gcp");
}

TEST(Parser, ItemErrorsNameTheItemPath) {
  auto error = parse_error(R"(
resources:
  any_of:
    - accelerators: V100:1
    - accelerators: {V100: lots}
)");
  EXPECT_CONTAINS(error.detail, "task.yaml:5:");
  EXPECT_CONTAINS(error.detail, "resources.any_of[1].accelerators: expected an accelerator count");
}

TEST(Parser, CandidateSetRules) {
  EXPECT_CONTAINS(parse_error("resources:\n  any_of: [{cpus: 2}]\n  ordered: [{cpus: 2}]\n").detail,
                  "cannot be used together");
  EXPECT_CONTAINS(
      parse_error("resources:\n  accelerators: [V100, T4]\n  any_of: [{use_spot: true}]\n").detail,
      "cannot be combined with `any_of`");
  EXPECT_CONTAINS(
      parse_error("resources:\n  accelerators: {V100: 1, T4: 1}\n  ordered: [{use_spot: true}]\n")
          .detail,
      "cannot be combined with `ordered`");
  EXPECT_CONTAINS(parse_error("resources:\n  any_of:\n    - any_of: []\n").detail,
                  "cannot be nested");
  EXPECT_CONTAINS(parse_error("resources:\n  any_of: []\n").detail, "non-empty list");
}

TEST(Parser, JobRecoveryForms) {
  auto r = task_ok("resources:\n  job_recovery: failover\n").resources.candidates[0];
  EXPECT_EQ(r.job_recovery->strategy, RecoveryStrategy::kFailover);
  r = task_ok(R"(
resources:
  job_recovery:
    max_restarts_on_errors: 3
    recover_on_exit_codes: [33, 34]
)")
          .resources.candidates[0];
  EXPECT_EQ(r.job_recovery->strategy, RecoveryStrategy::kEagerNextRegion);
  EXPECT_EQ(r.job_recovery->max_restarts_on_errors, 3);
  EXPECT_EQ(r.job_recovery->recover_on_exit_codes, (std::vector<int>{33, 34}));
  EXPECT_CONTAINS(parse_error("resources:\n  job_recovery: sometimes\n").detail,
                  "expected EAGER_NEXT_REGION, FAILOVER or DEADLINE");
  EXPECT_CONTAINS(
      parse_error("resources:\n  job_recovery: {recover_on_exit_codes: [1, 1]}\n").detail,
      "duplicate exit code");
  EXPECT_CONTAINS(parse_error("resources:\n  job_recovery: {max_restarts: 1}\n").detail,
                  "did you mean `max_restarts_on_errors`?");
}

TEST(Parser, ImageIdPerRegion) {
  auto r = task_ok("resources:\n  image_id:\n    us-east-1: ami-1\n    us-west-2: ami-2\n")
               .resources.candidates[0];
  EXPECT_EQ(r.image_id->per_region.size(), 2u);
}

TEST(Parser, AContainerImageIsOneReferenceNeverAnOption) {
  EXPECT_EQ(task_ok("resources:\n  image_id: docker:ubuntu:22.04\n")
                .resources.candidates[0]
                .image_id->any_region,
            "docker:ubuntu:22.04");
  EXPECT_CONTAINS(parse_error("resources:\n  image_id: docker:--privileged\n").detail,
                  "resources.image_id: expected docker:IMAGE with an image reference");
  EXPECT_CONTAINS(parse_error("resources:\n  image_id: 'docker:'\n").detail, "resources.image_id");
  EXPECT_CONTAINS(parse_error("resources:\n  image_id: {us-east-1: 'docker:a b'}\n").detail,
                  "resources.image_id.us-east-1");
}

TEST(Parser, BadPortsAndDiskSize) {
  EXPECT_CONTAINS(parse_error("resources:\n  ports: 70000\n").detail,
                  "resources.ports: expected a port");
  EXPECT_CONTAINS(parse_error("resources:\n  disk_size: big\n").detail, "resources.disk_size");
  EXPECT_CONTAINS(parse_error("resources:\n  use_spot: maybe\n").detail, "expected true or false");
}

TEST(Parser, PipelineWithHeader) {
  auto pipeline = parse_ok("name: pipe\n---\nname: a\nrun: x\n---\nname: b\nrun: y\n---\n");
  EXPECT_EQ(pipeline.name, "pipe");
  ASSERT_EQ(pipeline.tasks.size(), 2u);
  EXPECT_EQ(pipeline.tasks[1].name, "b");
}

TEST(Parser, PipelineWithoutHeader) {
  auto pipeline = parse_ok("name: a\nrun: x\n---\nrun: y\n");
  EXPECT_FALSE(pipeline.name);
  EXPECT_EQ(pipeline.tasks.size(), 2u);
}

TEST(Parser, SingleNameOnlyDocumentIsATask) {
  auto pipeline = parse_ok("name: solo\n");
  EXPECT_FALSE(pipeline.name);
  EXPECT_EQ(pipeline.tasks.at(0).name, "solo");
}

TEST(Parser, ErrorsInLaterDocumentsPointAtTheirLine) {
  auto error = parse_error("name: p\n---\nrun: x\n---\nrun: y\nnum_nodes: -1\n");
  EXPECT_CONTAINS(error.detail, "task.yaml:6:12: num_nodes");
}

TEST(Parser, ControlCharactersAreRefusedWithPosition) {
  auto error = parse_error(std::string("run: a\nname: b\0c\n", 17));
  EXPECT_EQ(error.code, SpecErrc::kSyntax);
  EXPECT_CONTAINS(error.detail, "task.yaml:2:8: control character (byte 0)");
}

TEST(Parser, EmptyFileIsAnError) {
  EXPECT_CONTAINS(parse_error("").detail, "no task");
}

TEST(Parser, NonMappingDocumentIsAnError) {
  EXPECT_CONTAINS(parse_error("- a\n- b\n").detail, "expected a mapping of task fields");
}

TEST(Parser, DuplicateKeysAreRejected) {
  EXPECT_CONTAINS(parse_error("run: a\nrun: b\n").detail, "duplicate key");
}

TEST(Overrides, ApplyToEveryCandidate) {
  Task task = task_ok("resources:\n  any_of:\n    - cloud: aws\n    - cloud: gcp\n");
  TaskOverrides overrides;
  overrides.num_nodes = 3;
  overrides.resources = {{"cpus", "8+", "--cpus"}, {"use_spot", "true", "--use-spot"}};
  ASSERT_TRUE(apply_overrides(task, overrides));
  EXPECT_EQ(task.num_nodes, 3);
  for (const auto& r : task.resources.candidates) {
    EXPECT_EQ(r.cpus, (catalog::Quantity{8, true, false}));
    EXPECT_EQ(r.use_spot, true);
  }
}

TEST(Overrides, GpusCollapseAnAcceleratorSet) {
  Task task = task_ok("resources:\n  accelerators: {V100: 1, A100: 1}\n");
  TaskOverrides overrides;
  overrides.resources = {{"accelerators", "T4:1", "--gpus"}};
  ASSERT_TRUE(apply_overrides(task, overrides));
  ASSERT_EQ(task.resources.candidates.size(), 1u);
  EXPECT_EQ(task.resources.candidates[0].accelerator->name, "T4");
}

TEST(Overrides, NoneAndStarReset) {
  Task task = task_ok("resources:\n  cloud: aws\n  cpus: 4\n");
  TaskOverrides overrides;
  overrides.resources = {{"cloud", "*", "--cloud"}, {"cpus", "none", "--cpus"}};
  ASSERT_TRUE(apply_overrides(task, overrides));
  EXPECT_FALSE(task.resources.candidates[0].cloud);
  EXPECT_FALSE(task.resources.candidates[0].cpus);
}

TEST(Overrides, InfraReplacesLocation) {
  Task task = task_ok("resources:\n  cloud: aws\n  region: us-east-1\n");
  TaskOverrides overrides;
  overrides.resources = {{"infra", "gcp", "--infra"}};
  ASSERT_TRUE(apply_overrides(task, overrides));
  EXPECT_EQ(task.resources.candidates[0].cloud, "gcp");
  EXPECT_FALSE(task.resources.candidates[0].region);
}

TEST(Overrides, BadValueNamesTheFlag) {
  EXPECT_CONTAINS(override_error({"cpus", "many", "--cpus"}), "--cpus: expected a vCPU count");
  Task task = task_ok("run: x\n");
  TaskOverrides overrides;
  Result<void> applied;
  overrides.resources = {{"accelerators", "H1000", "--gpus"}};
  applied = apply_overrides(task, overrides);
  ASSERT_FALSE(applied);
  EXPECT_CONTAINS(applied.error().detail, "did you mean `H100`?");
}

TEST(Overrides, NoUseSpotForcesOnDemand) {
  Task task = task_ok("resources:\n  use_spot: true\n");
  TaskOverrides overrides;
  overrides.resources = {{"use_spot", "false", "--no-use-spot"}};
  ASSERT_TRUE(apply_overrides(task, overrides));
  EXPECT_EQ(task.resources.candidates[0].use_spot, false);
}

TEST(TaskJson, RoundTripsThroughTheParser) {
  auto pipeline = parse_ok(R"(
name: pipe
---
name: train
num_nodes: 2
resources:
  accelerators: {V100: 1, A100: 1}
  ports: [8080]
  labels: {a: b}
  image_id: {us-east-1: ami-1}
  job_recovery: {strategy: FAILOVER, max_restarts_on_errors: 2, recover_on_exit_codes: 3}
envs: {A: "$B"}
secrets: {S: v}
file_mounts:
  /a: s3://bkt/c
  /ckpt: {name: bucket, mode: MOUNT_CACHED, persistent: false}
setup: s
run: r
event_callback: e
config: {x: {y: [1, "2"]}}
---
name: eval
resources:
  ordered:
    - {cloud: gcp, cpus: 4+}
    - {cloud: aws, memory: 2x}
run: r2
)");
  const std::string json = to_json(pipeline, SecretMode::kInclude).dump();
  auto back = pipeline_from_json(json, "submitted");
  ASSERT_TRUE(back) << back.error().detail << "\n" << json;
  EXPECT_EQ(*back, pipeline);
  EXPECT_EQ(to_json(*back, SecretMode::kInclude).dump(), json);
}

TEST(TaskJson, SummarizeLikeTheQueue) {
  Resources r;
  r.accelerator = catalog::AcceleratorRequest{"V100", 8};
  r.use_spot = true;
  EXPECT_EQ(summarize(r, 1), "1x[V100:8][Spot]");
}

}  // namespace
}  // namespace skyd::spec
