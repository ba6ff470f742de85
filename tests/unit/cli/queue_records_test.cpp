// `sky jobs queue -o json`'s records and the verbose columns' cells, from skyd's job list.
#include "cli/queue_records.hpp"

#include <gtest/gtest.h>

namespace skyd::cli {
namespace {

// Two jobs as GET /v1/jobs lists them: a pipeline whose first task ran on AWS, and a pending one.
Json job_list() {
  auto parsed = parse_json(R"([
    {"id": 7, "name": "train-eval", "user": "alice", "user_uid": 1001, "status": "RUNNING",
     "priority": 0, "submitted_at": 100.5, "ended_at": null, "failure_reason": null,
     "tasks": [
       {"index": 0, "name": "train", "status": "SUCCEEDED", "resources": "1x[V100:1]",
        "placement": {"cloud": "aws", "region": "us-east-1", "zone": "us-east-1a",
                      "instance_type": "p3.2xlarge", "use_spot": true, "accelerator": "V100",
                      "accelerator_count": 1, "nodes": 2, "cluster": "train-7"},
        "cluster": "train-7", "submitted_at": 100.5, "started_at": 130.0, "ended_at": 200.0,
        "last_recovered_at": 160.0,
        "total_duration": 99.5, "job_duration": 70.0, "recovery_count": 1, "restart_count": 0,
        "attempt": 2, "cost_usd": 0.5, "on_demand_cost_usd": 1.5, "failure_reason": null,
        "exit_codes": [0, 0]},
       {"index": 1, "name": "eval", "status": "PENDING", "resources": "1x[CPU:1+]",
        "cluster": null, "submitted_at": 100.5, "started_at": null, "ended_at": null,
        "total_duration": 5, "job_duration": 0, "recovery_count": 0, "restart_count": 0,
        "attempt": 0, "cost_usd": 0, "on_demand_cost_usd": 0, "failure_reason": null,
        "exit_codes": []}]},
    {"id": 8, "name": "wait", "user": "bob", "user_uid": 1002, "status": "PENDING",
     "details": "waiting for a launch slot", "tasks": [
       {"index": 0, "name": "wait", "status": "PENDING", "resources": "1x[CPU:1+]",
        "submitted_at": 300.0, "started_at": null, "ended_at": null, "job_duration": 0,
        "recovery_count": 0, "failure_reason": null}]}])");
  return parsed ? *parsed : Json();
}

std::string text(const Json& record, const char* key) {
  const Json* value = record.find(key);
  return value && value->as_string() ? std::string(*value->as_string())
                                     : "<" + std::string(key) + ">";
}

TEST(QueueRecords, OneFlatRecordPerTaskWithSkyPilotsFieldNames) {
  const Json records = flat_task_records(job_list());
  ASSERT_EQ(records.as_array()->size(), 3u);
  const Json& train = (*records.as_array())[0];
  EXPECT_EQ(train.find("job_id")->as_int(), 7);
  EXPECT_EQ(train.find("task_id")->as_int(), 0);
  EXPECT_EQ(text(train, "job_name"), "train-eval");
  EXPECT_EQ(text(train, "task_name"), "train");
  EXPECT_EQ(text(train, "status"), "SUCCEEDED");
  EXPECT_EQ(train.find("submitted_at")->as_double(), 100.5);
  EXPECT_EQ(train.find("start_at")->as_double(), 130.0);
  EXPECT_EQ(train.find("end_at")->as_double(), 200.0);
  EXPECT_EQ(train.find("last_recovered_at")->as_double(), 160.0);
  EXPECT_EQ(train.find("job_duration")->as_double(), 70.0);
  EXPECT_EQ(train.find("recovery_count")->as_int(), 1);
  EXPECT_EQ(text(train, "resources"), "1x[V100:1]");
  EXPECT_EQ(text(train, "cloud"), "AWS");
  EXPECT_EQ(text(train, "region"), "us-east-1");
  EXPECT_EQ(text(train, "zone"), "us-east-1a");
  EXPECT_EQ(text(train, "infra"), "AWS (us-east-1a)");
  EXPECT_EQ(text(train, "cluster_resources"), "2x(gpus=V100:1, p3.2xlarge, spot)");
  EXPECT_EQ(text(train, "cluster_resources_full"), "2x(gpus=V100:1, p3.2xlarge, spot)");
  ASSERT_TRUE(train.find("accelerators") && train.find("accelerators")->find("V100"));
  EXPECT_EQ(train.find("accelerators")->find("V100")->as_int(), 1);
  EXPECT_EQ(text(train, "user_name"), "alice");
  EXPECT_EQ(text(train, "user_hash"), "000003e9");
  EXPECT_EQ(text(train, "current_cluster_name"), "train-7");
  EXPECT_EQ(text(train, "workspace"), "default");
  EXPECT_TRUE(train.find("pool")->is_null());
  EXPECT_TRUE(train.find("failure_reason")->is_null());
  // skyd's own fields stay, as extras.
  EXPECT_EQ(train.find("cost_usd")->as_double(), 0.5);
  EXPECT_EQ(train.find("exit_codes")->as_array()->size(), 2u);
  EXPECT_EQ(text(train, "cluster"), "train-7");
  EXPECT_EQ(text(train, "job_status"), "RUNNING");
  EXPECT_EQ(train.find("user_uid")->as_int(), 1001);
}

TEST(QueueRecords, ATaskNotYetPlacedHasNoInfra) {
  const Json records = flat_task_records(job_list());
  const Json& eval = (*records.as_array())[1];
  EXPECT_EQ(eval.find("task_id")->as_int(), 1);
  EXPECT_EQ(text(eval, "infra"), "-");
  EXPECT_EQ(text(eval, "cluster_resources"), "-");
  for (const char* where : {"cloud", "region", "zone"}) EXPECT_EQ(text(eval, where), "-") << where;
  EXPECT_TRUE(eval.find("accelerators")->is_null());
  EXPECT_TRUE(eval.find("last_recovered_at")->is_null());
  EXPECT_TRUE(eval.find("start_at")->is_null());
  const Json& waiting = (*records.as_array())[2];
  EXPECT_EQ(text(waiting, "details"), "waiting for a launch slot");
  EXPECT_EQ(text(waiting, "user_name"), "bob");
}

TEST(QueueRecords, InfraNamesTheCloudAsSkyPilotDoesWithTheZoneOrRegion) {
  auto task = [](const char* placement) { return *parse_json(placement); };
  EXPECT_EQ(task_infra(task(R"({"placement": {"cloud": "gcp", "region": "us-central1"}})")),
            "GCP (us-central1)");
  EXPECT_EQ(task_infra(task(R"({"placement": {"cloud": "local", "region": "local",
                                              "zone": "local-a"}})")),
            "Local (local-a)");
  EXPECT_EQ(task_cluster_resources(task(R"({"placement": {"nodes": 1,
                                            "instance_type": "m5.large"}})")),
            "1x(m5.large)");
}

}  // namespace
}  // namespace skyd::cli
