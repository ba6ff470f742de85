#include "cli/launch_command.hpp"
#include "cli/show_gpus_command.hpp"
#include "cli/table.hpp"
#include "tests/unit/cli/sky_run.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace skyd::cli {
namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("skyd-cli-test-" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(Table, AlignsColumnsWithTwoSpaces) {
  Table table({"A", "LONGER"});
  table.add_row({"wide cell", "x"});
  table.add_row({"✔", ""});
  EXPECT_EQ(table.render(), "A          LONGER\nwide cell  x\n✔\n");
}

TEST(LaunchArgs, ParsesOverridesAndFlags) {
  auto options = parse_launch_args({"task.yaml", "-n",         "job",      "--cpus=4+",   "--gpus",
                                    "V100:1",    "--use-spot", "-t",       "p3.2xlarge",  "--env",
                                    "A=1",       "--secret",   "S=2",      "--env-file",  "x.env",
                                    "-d",        "-y",         "--dryrun", "--num-nodes", "2",
                                    "--ports",   "80",         "--ports",  "81"});
  ASSERT_TRUE(options) << options.error().detail;
  EXPECT_EQ(options->entrypoint, std::vector<std::string>{"task.yaml"});
  EXPECT_EQ(options->name, "job");
  EXPECT_EQ(options->overrides.num_nodes, 2);
  ASSERT_EQ(options->overrides.resources.size(), 6u);
  EXPECT_EQ(options->overrides.resources[0].field, "cpus");
  EXPECT_EQ(options->overrides.resources[0].value, "4+");
  EXPECT_EQ(options->overrides.resources[3].field, "instance_type");
  EXPECT_TRUE(options->detach_run && options->yes && options->dryrun);
  EXPECT_EQ(options->envs, std::vector<std::string>{"A=1"});
}

TEST(LaunchArgs, NumJobsTakesACountFromOneToTheLimit) {
  EXPECT_EQ(parse_launch_args({"x.yaml"})->num_jobs, 1);
  auto options = parse_launch_args({"x.yaml", "--num-jobs", "16"});
  ASSERT_TRUE(options) << options.error().detail;
  EXPECT_EQ(options->num_jobs, 16);
  EXPECT_EQ(parse_launch_args({"x.yaml", "--num-jobs=10000"})->num_jobs, 10000);
  for (const char* bad : {"0", "-1", "+2", "3.0", "ten", "", "10001", "99999999999"}) {
    auto refused = parse_launch_args({"x.yaml", std::string("--num-jobs=") + bad});
    ASSERT_FALSE(refused) << bad;
    EXPECT_CONTAINS(refused.error().detail,
                    "--num-jobs: expected a number of jobs from 1 to 10000");
  }
  EXPECT_CONTAINS(parse_launch_args({"x.yaml", "--num-jobs", "20000"}).error().detail,
                  "several launches");
  EXPECT_FALSE(parse_launch_args({"x.yaml", "--num-jobs"}));
}

TEST(Table, IdRangesCollapseRuns) {
  EXPECT_EQ(format_id_ranges({}), "");
  EXPECT_EQ(format_id_ranges({7}), "7");
  EXPECT_EQ(format_id_ranges({1, 2, 3, 7, 9, 10}), "1-3,7,9-10");
}

TEST(LaunchArgs, UnknownFlagSuggests) {
  auto options = parse_launch_args({"x.yaml", "--use-spott"});
  ASSERT_FALSE(options);
  EXPECT_CONTAINS(options.error().detail, "did you mean `--use-spot`?");
}

TEST(LaunchArgs, MissingEntrypointAndValue) {
  EXPECT_FALSE(parse_launch_args({"--dryrun"}));
  EXPECT_FALSE(parse_launch_args({"x.yaml", "--cpus"}));
  EXPECT_FALSE(parse_launch_args({"x.yaml", "--num-nodes", "zero"}));
}

TEST(PrepareLaunch, BareCommandBecomesRun) {
  auto options = parse_launch_args({"echo", "hi", "--cloud", "local", "--env", "A=b"});
  ASSERT_TRUE(options);
  auto launch = prepare_launch(*options);
  ASSERT_TRUE(launch) << launch.error().detail;
  EXPECT_EQ(launch->command, "echo hi");
  EXPECT_EQ(launch->job_name, "sky-cmd");
  EXPECT_EQ(launch->pipeline.tasks[0].run, "echo hi");
  EXPECT_EQ(launch->pipeline.tasks[0].envs.at("A"), "b");
  EXPECT_EQ(launch->plans[0].front().cloud, "local");
}

TEST(PrepareLaunch, EnvFromCallerEnvironment) {
  setenv("SKYD_TEST_FROM_ENV", "value-1", 1);
  auto options = parse_launch_args({"true", "--env", "SKYD_TEST_FROM_ENV"});
  ASSERT_TRUE(options);
  auto launch = prepare_launch(*options);
  ASSERT_TRUE(launch);
  EXPECT_EQ(launch->pipeline.tasks[0].envs.at("SKYD_TEST_FROM_ENV"), "value-1");
  unsetenv("SKYD_TEST_FROM_ENV");
  EXPECT_FALSE(prepare_launch(*options));
}

TEST(PrepareLaunch, EnvFilePriorityBelowEnv) {
  const auto env_file = write_temp("a.env", "# comment\nexport A=file\nB=\"quoted\"\n");
  const auto yaml = write_temp("env.yaml", "envs:\n  A: yaml\n  B: yaml\nrun: x\n");
  auto options = parse_launch_args({yaml, "--env-file", env_file, "--env", "A=flag"});
  ASSERT_TRUE(options);
  auto launch = prepare_launch(*options);
  ASSERT_TRUE(launch) << launch.error().detail;
  EXPECT_EQ(launch->pipeline.tasks[0].envs.at("A"), "flag");
  EXPECT_EQ(launch->pipeline.tasks[0].envs.at("B"), "quoted");
}

TEST(PrepareLaunch, PipelineTaskNamesDefaultFromJob) {
  const auto yaml = write_temp("pipe.yaml", "run: a\n---\nrun: b\n");
  auto options = parse_launch_args({yaml, "-n", "mine"});
  ASSERT_TRUE(options);
  auto launch = prepare_launch(*options);
  ASSERT_TRUE(launch) << launch.error().detail;
  EXPECT_EQ(launch->job_name, "mine");
  EXPECT_EQ(launch->pipeline.tasks[1].name, "mine-1");
}

TEST(PrepareLaunch, NamesMadeUpForAPipelineAreCheckedBeforeSubmitting) {
  // A valid job name whose derived task names ("a---b-0") are not valid task names.
  const auto yaml = write_temp("pipe3.yaml", "run: a\n---\nrun: b\n");
  auto options = parse_launch_args({yaml, "-n", "a---b"});
  ASSERT_TRUE(options);
  auto launch = prepare_launch(*options);
  ASSERT_FALSE(launch);
  EXPECT_CONTAINS(launch.error().detail, "(as submitted): tasks[0].name: expected a task name");
}

TEST(PrepareLaunch, AGeneratedJobNameFollowsTheNameRulesWhateverTheUser) {
  const char* saved = std::getenv("USER");
  const std::string user = saved ? saved : "";
  setenv("USER", "jo.hn doe_", 1);
  const auto yaml = write_temp("unnamed.yaml", "run: x\n");
  auto options = parse_launch_args({yaml});
  ASSERT_TRUE(options);
  auto launch = prepare_launch(*options);
  setenv("USER", user.c_str(), 1);
  ASSERT_TRUE(launch) << launch.error().detail;
  EXPECT_TRUE(launch->job_name.starts_with("sky-")) << launch->job_name;
  EXPECT_TRUE(launch->job_name.ends_with("-jo-hn-doe")) << launch->job_name;
  EXPECT_TRUE(spec::is_valid_job_name(launch->job_name)) << launch->job_name;
}

TEST(PrepareLaunch, ResourceOverridesRefusedForPipelines) {
  const auto yaml = write_temp("pipe2.yaml", "run: a\n---\nrun: b\n");
  auto options = parse_launch_args({yaml, "--cpus", "2"});
  ASSERT_TRUE(options);
  auto launch = prepare_launch(*options);
  ASSERT_FALSE(launch);
  EXPECT_CONTAINS(launch.error().detail, "apply to a single task");
}

TEST(PrepareLaunch, InfeasibleNamesTask) {
  auto options = parse_launch_args({"true", "--gpus", "H100:16", "--infra", "aws/us-east-1"});
  ASSERT_TRUE(options);
  auto launch = prepare_launch(*options);
  ASSERT_FALSE(launch);
  EXPECT_CONTAINS(launch.error().detail,
                  "task `sky-cmd`: no instance type in aws/us-east-1 has 16×H100");
}

TEST(ShowGpus, ListsEveryFamily) {
  const std::string text = render_gpus("", 0, "");
  for (const char* name : {"K80", "T4", "V100", "A10G", "L4", "A100", "A100-80GB", "H100"}) {
    EXPECT_CONTAINS(text, std::string("\n") + name + " ");
  }
}

TEST(ShowGpus, FiltersByNameCountAndCloud) {
  const std::string text = render_gpus("H100", 8, "aws");
  EXPECT_CONTAINS(text, "p5.48xlarge");
  EXPECT_EQ(text.find("p5.4xlarge"), std::string::npos);
  EXPECT_EQ(text.find("GCP"), std::string::npos);
  EXPECT_CONTAINS(text, "$ 98.320");  // us-east-1's price, carried from SkyPilot's catalog
  EXPECT_CONTAINS(text, "AWS: built-in aws/vms.csv");
  EXPECT_CONTAINS(text, "as of 2026-12-01");
}

TEST(ShowGpus, UnknownPricesAreShownAsUnknown) {
  const std::string text = render_gpus("L40S", 1, "aws");
  EXPECT_CONTAINS(text, "g6e.xlarge");
  EXPECT_CONTAINS(text, "unknown");
  EXPECT_CONTAINS(text, "\"unknown\": no price known, ranked last");
}

// The real binary, on every example.
TEST(SkyBinary, DryrunEveryExample) {
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(EXAMPLES_DIR)) {
    if (entry.path().extension() != ".yaml") continue;
    ++seen;
    SkyRun run = run_sky("jobs launch --dryrun " + entry.path().string());
    EXPECT_EQ(run.exit_code, 0) << entry.path() << "\n" << run.output;
    EXPECT_CONTAINS(run.output, "YAML to run: " + entry.path().string());
    EXPECT_EQ(run.output.find("CLOUD  "), std::string::npos) << run.output;
    for (const char* header : {"INFRA  ", "INSTANCE  ", "GPUS  ", "COST ($/hr)  CHOSEN"})
      EXPECT_CONTAINS(run.output, header);
    EXPECT_CONTAINS(run.output, "✔");
  }
  EXPECT_GE(seen, 5);
}

TEST(SkyBinary, ExamplesChooseExpectedPlaces) {
  const std::string dir = EXAMPLES_DIR;
  SkyRun local = run_sky("jobs launch --dryrun " + dir + "/local_hello.yaml");
  EXPECT_CONTAINS(local.output, "Local (local)  local-small");
  SkyRun bert = run_sky("jobs launch --dryrun " + dir + "/bert_qa.yaml");
  EXPECT_CONTAINS(bert.output, "Managed job 'bert-qa'");
  EXPECT_CONTAINS(bert.output, "[Spot]");
  EXPECT_CONTAINS(bert.output, "V100:1");
  // INFRA as SkyPilot shows it, cloud (region): EC2's p3.2xlarge as spot is the cheapest V100:1;
  // GCP's cheapest is an n1 with a V100 in europe-west4 (host plus GPU: 0.15564 + 0.7148 as spot).
  EXPECT_CONTAINS(bert.output, "p3.2xlarge[Spot]");
  EXPECT_CONTAINS(bert.output, "GCP (europe-west4)  n1-standard-8[Spot]");
  EXPECT_CONTAINS(bert.output, "0.87");
  SkyRun pipeline = run_sky("jobs launch --dryrun " + dir + "/pipeline.yaml");
  EXPECT_CONTAINS(pipeline.output, "Considered resources for task 'train' (1 node)");
  EXPECT_CONTAINS(pipeline.output, "Considered resources for task 'eval' (1 node)");
  EXPECT_CONTAINS(pipeline.output, "V100:8");
  EXPECT_CONTAINS(pipeline.output, "Price sources");
  EXPECT_CONTAINS(pipeline.output, "GCP prices: built-in gcp/vms.csv");
}

TEST(SkyBinary, JobIdsAreCanonicalPositiveIntegers) {
  // Refused before any daemon is asked (none listens on this socket).
  const std::string socket = "--socket /nonexistent/skyd.sock ";
  for (const char* command : {"jobs cancel -y 01", "jobs cancel -y 0", "jobs logs 1x",
                              "jobs logs 007", "jobs preempt 01"}) {
    SkyRun run = run_sky(socket + command);
    EXPECT_EQ(run.exit_code, 2) << command << "\n" << run.output;
    EXPECT_FALSE(run.output.find("cannot reach skyd") != std::string::npos) << run.output;
  }
  EXPECT_CONTAINS(run_sky(socket + "jobs cancel -y 01").output,
                  "'01' is not a job ID (a positive integer)");
  EXPECT_CONTAINS(run_sky(socket + "jobs logs 3 01").output, "'01' is not a task index");
}

TEST(SkyBinary, ExitCodes) {
  EXPECT_EQ(run_sky("jobs launch --dryrun --bogus x.yaml").exit_code, 2);
  SkyRun bad =
      run_sky("jobs launch --dryrun " + write_temp("bad.yaml", "resources:\n  gpu: V100\n"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_CONTAINS(bad.output,
                  "bad.yaml:2:3: resources.gpu: unknown field `gpu` (did you mean `gpus`?)");
  SkyRun submit = run_sky("--socket /nonexistent/skyd.sock jobs launch -y " +
                          std::string(EXAMPLES_DIR) + "/local_hello.yaml");
  EXPECT_EQ(submit.exit_code, 1);
  EXPECT_CONTAINS(submit.output, "cannot reach skyd at /nonexistent/skyd.sock");
  EXPECT_CONTAINS(submit.output, "Start it with:  skyd --state-dir");
  EXPECT_EQ(run_sky("show-gpus A100").exit_code, 0);
  SkyRun unknown = run_sky("show-gpus A1000");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_CONTAINS(unknown.output, "did you mean `A100`?");
}

TEST(SkyBinary, PoolApplyDryrunPlansOneWorkerOfAPoolYaml) {
  const std::string pool =
      write_temp("pool.yaml", "pool:\n  workers: 3\nresources:\n  cpus: 2+\nsetup: echo ready\n");
  SkyRun run = run_sky("jobs pool apply -p cpu-pool " + pool + " --dryrun");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_CONTAINS(run.output, "YAML to run: " + pool);
  EXPECT_CONTAINS(run.output, "Pool: cpu-pool");
  EXPECT_CONTAINS(run.output, "Worker policy:  Fixed-size (3 workers)");
  EXPECT_CONTAINS(run.output, "Each pool worker will use the following resources (estimated):");
  EXPECT_CONTAINS(run.output, "INFRA  ");
  EXPECT_CONTAINS(run.output, "✔");
  EXPECT_EQ(run.output.find("Managed job"), std::string::npos) << run.output;
  const std::string autoscaling =
      write_temp("autoscaling.yaml",
                 "pool:\n  min_workers: 1\n  max_workers: 10\n  queue_length_threshold: 5\n"
                 "resources:\n  cpus: 2+\n");
  SkyRun scaled = run_sky("jobs pool apply -p scaled " + autoscaling + " --dryrun");
  EXPECT_EQ(scaled.exit_code, 0) << scaled.output;
  EXPECT_CONTAINS(scaled.output,
                  "Worker policy:  Autoscaling (1 to 10 workers; queue length threshold 5)");
  // A task YAML is not a pool.
  SkyRun task =
      run_sky("jobs pool apply -p p " + write_temp("plain.yaml", "run: echo\n") + " --dryrun");
  EXPECT_EQ(task.exit_code, 1) << task.output;
  EXPECT_CONTAINS(task.output, "a pool YAML is one task with a `pool:` section");
  // An autoscaling setting needs max_workers, and says so at its line.
  SkyRun fixed_with_delay =
      run_sky("jobs pool apply " +
              write_temp("fixed-delay.yaml", "pool:\n  workers: 2\n  upscale_delay_seconds: 60\n") +
              " --dryrun");
  EXPECT_EQ(fixed_with_delay.exit_code, 1);
  EXPECT_CONTAINS(fixed_with_delay.output,
                  "fixed-delay.yaml:3:26: pool.upscale_delay_seconds: set only for an autoscaling "
                  "pool: add max_workers");
}

TEST(SkyBinary, LaunchRefusesAPoolYamlAndPointsAtPoolApply) {
  const std::string pool =
      write_temp("launch-pool.yaml", "name: p\nresources:\n  cpus: 2\npool:\n  workers: 2\n");
  SkyRun run = run_sky("jobs launch --dryrun " + pool);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_CONTAINS(run.output, pool +
                                  ":4:1: pool: this YAML defines a pool; create it with "
                                  "`sky jobs pool apply -p NAME " +
                                  pool + "`");
  EXPECT_CONTAINS(run.output, "`sky jobs launch --pool NAME JOB.yaml`");
}

TEST(SkyBinary, PoolsAreNotRunYetAndEveryCommandSaysSoWithoutAskingSkyd) {
  const std::string socket = "--socket /nonexistent/skyd.sock ";
  const std::string pool = write_temp("run-pool.yaml", "pool:\n  workers: 1\n");
  const std::string job = std::string(EXAMPLES_DIR) + "/local_hello.yaml";
  const std::vector<std::string> commands = {
      "jobs pool apply -y -p p " + pool, "jobs pool status", "jobs pool down p -y",
      "jobs launch -y --pool p " + job, "jobs launch --dryrun -p p " + job};
  for (const auto& command : commands) {
    SkyRun run = run_sky(socket + command);
    EXPECT_EQ(run.exit_code, 1) << command << "\n" << run.output;
    EXPECT_CONTAINS(run.output, "skyd does not run pools yet");
    EXPECT_EQ(run.output.find("cannot reach skyd"), std::string::npos) << run.output;
  }
  EXPECT_EQ(run_sky("jobs pool down").exit_code, 2);
  EXPECT_EQ(run_sky("jobs pool resize p").exit_code, 2);
  EXPECT_EQ(run_sky("jobs launch -p 'bad name' x.yaml").exit_code, 2);
}

}  // namespace
}  // namespace skyd::cli
