// Managed jobs on Kubernetes against fakecloud's Kubernetes API (TLS with its own CA, a bearer
// token, both from the kubeconfig it writes; every pod a real skylet): a job's pods run it to
// the end, an evicted pod is relaunched, a cancel deletes every pod, a restarted skyd adopts the
// pods it made, a task's volumes are the claims its pods mount (what one pod wrote there the next
// reads), and a kubeconfig skyd cannot use is refused naming its field.
#include "providers/kubernetes/kubeconfig.hpp"
#include "tests/support/aws_world.hpp"
#include "tests/support/test_users.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace skyd::testing {
namespace {

struct KubeWorld {
  explicit KubeWorld(std::map<std::string, std::string> settings = {},
                     const std::string& kubeconfig = "")
      : cloud(dir, {"--kube-config", dir.file("kubeconfig")}),
        skyd(kube_settings(kubeconfig.empty() ? dir.file("kubeconfig") : kubeconfig,
                           std::move(settings))) {}
  ~KubeWorld() {
    skyd.sky({"jobs", "cancel", "-u", "-y"});
    wait_for([&] { return stat("pods") == 0; });
  }
  static std::map<std::string, std::string> kube_settings(
      const std::string& kubeconfig, std::map<std::string, std::string> extra) {
    extra.insert(
        {{"kubernetes_enabled", "true"}, {"kubeconfig", kubeconfig}, {"bucket_store", "local"}});
    return extra;
  }
  std::string admin(const std::string& method, const std::string& target,
                    const std::string& body = "") {
    std::vector<std::string> argv{"/usr/bin/curl", "-s", "-X", method, cloud.url() + target};
    if (!body.empty()) argv.insert(argv.end(), {"--data-binary", body});
    return run_command(argv).out;
  }
  long long stat(const char* key) {
    auto stats = parse_json(admin("GET", "/_admin/kube/stats"));
    const Json* value = stats ? stats->find(key) : nullptr;
    return value ? value->as_int().value_or(-1) : -1;
  }
  std::vector<Json> pods() {
    std::vector<Json> out;
    auto view = parse_json(admin("GET", "/_admin/kube/pods"));
    const Json* pods = view ? view->find("pods") : nullptr;
    if (pods && pods->as_array()) out = *pods->as_array();
    return out;
  }
  // The first pod, as JSON text, once there is one (read while its job starts or runs); empty if
  // none came.
  std::string first_pod() {
    std::vector<Json> found;
    wait_for([&] {
      found = pods();
      return !found.empty();
    });
    return found.empty() ? std::string() : found[0].dump();
  }
  // The Kubernetes API as kubectl would call it: the kubeconfig's server, CA and token, with curl.
  std::string kube_api(const std::string& method, const std::string& path,
                       const std::string& body = "") {
    auto access = providers::kubernetes::load_kubeconfig(dir.file("kubeconfig"), "");
    if (!access) return "kubeconfig: " + access.error().detail;
    std::ofstream(dir.file("kube-ca.pem")) << access->ca_pem;
    std::vector<std::string> argv = {"/usr/bin/curl",
                                     "-s",
                                     "--cacert",
                                     dir.file("kube-ca.pem"),
                                     "-X",
                                     method,
                                     "-H",
                                     "Authorization: Bearer " + access->token};
    if (!body.empty())
      argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", body});
    argv.push_back(access->server + path);
    return run_command(argv).out;
  }
  // Evicts every pod, then waits (two minutes at most) for job `id` to end: its status.
  std::string evict_all_then_wait_for_the_end(long long id) {
    const std::string evicted = admin("POST", "/_admin/kube/evict?all=1");
    if (!contains(evicted, "\"evicted\":[\"")) return "no pod evicted: " + evicted;
    skyd.wait_for_status(id, {"SUCCEEDED", "FAILED", "FAILED_NO_RESOURCE"},
                         std::chrono::seconds(120));
    return skyd.job_status(id).value_or("unknown");
  }
  // Waits for job `id` to fail; its record and controller log, which say why.
  std::string why_it_failed(long long id) {
    skyd.wait_for_status(id,
                         {"FAILED_PRECHECKS", "FAILED_NO_RESOURCE", "FAILED", "FAILED_CONTROLLER"});
    return skyd.job_json(id) + controller_log(id);
  }
  std::string controller_log(long long id) {
    return skyd.sky({"jobs", "logs", "--controller", "--no-follow", std::to_string(id)}).out;
  }

  TempDir dir;
  FakeCloudProcess cloud;
  SkydHarness skyd;
};

long long recovery_count(SkydHarness& skyd, long long id) {
  auto job = parse_json(skyd.job_json(id));
  if (!job || !job->find("tasks")) return -1;
  const Json& task = (*job->find("tasks")->as_array())[0];
  const Json* count = task.find("recovery_count");
  return count && count->as_int() ? *count->as_int() : -1;
}

std::string label(const Json& pod, const char* key) {
  const Json* labels = pod.find("metadata")->find("labels");
  const Json* value = labels ? labels->find(key) : nullptr;
  return value && value->as_string() ? std::string(*value->as_string()) : "";
}

TEST(KubeJobs, AJobRunsInItsPodsAndSucceedsAndThePodsGo) {
  KubeWorld world;
  const std::string marks = world.dir.path();
  const auto yaml = world.skyd.write_file(
      "job.yaml",
      "name: on-k8s\nnum_nodes: 2\nresources:\n  infra: k8s\n  cpus: 1\n  memory: 2\n"
      "run: |\n  echo ran on $SKYPILOT_NODE_RANK of $SKYPILOT_NUM_NODES\n"
      "  touch " +
          marks +
          "/ran-$SKYPILOT_NODE_RANK\n"
          "  while [ ! -e " +
          marks + "/go ]; do sleep 0.2; done\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out;
  ASSERT_TRUE(world.skyd.wait_for_file(world.dir.file("ran-1"))) << world.controller_log(1);

  // While it runs: two pods, labelled for this installation and cluster, with the shape asked.
  auto pods = world.pods();
  ASSERT_EQ(pods.size(), 2u) << world.admin("GET", "/_admin/kube/pods");
  for (const auto& pod : pods) {
    EXPECT_FALSE(label(pod, "skyd-controller").empty()) << pod.dump();
    EXPECT_EQ(label(pod, "skyd-cluster"), label(pods[0], "skyd-cluster")) << pod.dump();
    EXPECT_EQ(pod.find("status")->find("phase")->as_string(), "Running") << pod.dump();
    const Json& container = (*pod.find("spec")->find("containers")->as_array())[0];
    EXPECT_EQ(container.find("resources")->find("requests")->dump(),
              R"({"cpu":"1","memory":"2G"})");
    EXPECT_EQ(container.find("image")->as_string(), "ghcr.io/skyd/skylet:latest");
  }
  EXPECT_NE(label(pods[0], "skyd-rank"), label(pods[1], "skyd-rank"));

  std::ofstream(world.dir.file("go")) << "go\n";
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_TRUE(contains(logs.out, "ran on 0 of 2")) << logs.out;
  EXPECT_TRUE(contains(logs.out, "ran on 1 of 2")) << logs.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  EXPECT_TRUE(wait_for([&] { return world.stat("pods") == 0; }))
      << "the pods went with the job: " << world.admin("GET", "/_admin/kube/stats");
  EXPECT_EQ(world.stat("created"), 2);
  EXPECT_EQ(world.stat("deleted"), 2);
  const std::string controller = world.controller_log(1);
  EXPECT_TRUE(contains(controller, "kubernetes")) << controller;
}

TEST(KubeJobs, AnImageIdIsThePodsImageWithSkyletCopiedIntoIt) {
  KubeWorld world;
  const auto yaml = world.skyd.write_file(
      "job.yaml",
      "name: own-image\nresources:\n  infra: k8s\n  image_id: docker:python:3.12-slim\n"
      "  accelerators: H100:1\nrun: echo in the pods own image\n");
  auto launched = world.skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out;
  // The pod, read while the job is still starting or running.
  const std::string pod = world.first_pod();
  ASSERT_FALSE(pod.empty()) << world.controller_log(1);
  EXPECT_TRUE(contains(pod, R"("image":"python:3.12-slim")")) << pod;
  EXPECT_TRUE(contains(
      pod, R"("initContainers":[{"name":"skylet-install","image":"ghcr.io/skyd/skylet:latest")"))
      << pod;
  EXPECT_TRUE(contains(pod, R"("nvidia.com/gpu":"1")")) << pod;
  // The pod is the container: skylet runs the task in it directly (no runtime inside the pod).
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_TRUE(contains(logs.out, "in the pods own image")) << logs.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED") << world.controller_log(1);
}

TEST(KubeJobs, AnEvictedPodIsRelaunchedAndTheJobSucceeds) {
  KubeWorld world;
  const std::string marks = world.dir.path();
  const auto yaml =
      world.skyd.write_file("job.yaml",
                            "name: evicted\nresources:\n  cloud: kubernetes\n  cpus: 1\nrun: |\n"
                            "  if [ -e " +
                                marks +
                                "/evicted ]; then echo second attempt; exit 0; fi\n"
                                "  touch " +
                                marks + "/started\n  sleep 600\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(world.skyd.wait_for_file(world.dir.file("started"))) << world.controller_log(1);
  std::ofstream(world.dir.file("evicted")) << "yes\n";
  EXPECT_EQ(world.evict_all_then_wait_for_the_end(1), "SUCCEEDED") << world.controller_log(1);
  EXPECT_EQ(recovery_count(world.skyd, 1), 1);
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_TRUE(contains(logs.out, "second attempt")) << logs.out;
  EXPECT_EQ(world.stat("created"), 2) << world.admin("GET", "/_admin/kube/stats");
  EXPECT_TRUE(wait_for([&] { return world.stat("pods") == 0; }))
      << "the evicted pod and its successor are deleted: "
      << world.admin("GET", "/_admin/kube/pods");
}

TEST(KubeJobs, CancelDeletesEveryPod) {
  KubeWorld world;
  const std::string marks = world.dir.path();
  const auto yaml = world.skyd.write_file(
      "job.yaml",
      "name: cancelled\nnum_nodes: 3\nresources:\n  infra: kubernetes\n  cpus: 1\n"
      "run: |\n  touch " +
          marks + "/started-$SKYPILOT_NODE_RANK\n  sleep 600\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(world.skyd.wait_for_file(world.dir.file("started-2"))) << world.controller_log(1);
  EXPECT_EQ(world.stat("live"), 3);
  auto cancelled = world.skyd.sky({"jobs", "cancel", "-y", "1"});
  EXPECT_EQ(cancelled.exit_code, 0) << cancelled.out;
  EXPECT_TRUE(world.skyd.wait_for_status(1, {"CANCELLED"})) << world.controller_log(1);
  EXPECT_TRUE(wait_for([&] { return world.stat("pods") == 0; }))
      << world.admin("GET", "/_admin/kube/pods");
  EXPECT_EQ(world.stat("deleted"), 3);
}

TEST(KubeJobs, SkydKilledAndRestartedAdoptsItsPodsWithoutMakingNewOnes) {
  KubeWorld world;
  const std::string marks = world.dir.path();
  const auto yaml =
      world.skyd.write_file("job.yaml",
                            "name: adopted\nresources:\n  infra: k8s\n  cpus: 1\nrun: |\n"
                            "  touch " +
                                marks +
                                "/started\n"
                                "  while [ ! -e " +
                                marks + "/go ]; do sleep 0.2; done\n  echo finished\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(world.skyd.wait_for_file(world.dir.file("started"))) << world.controller_log(1);
  world.skyd.kill();
  world.skyd.restart();
  std::ofstream(world.dir.file("go")) << "go\n";
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_TRUE(contains(logs.out, "finished")) << logs.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED");
  EXPECT_EQ(recovery_count(world.skyd, 1), 0);
  EXPECT_EQ(world.stat("created"), 1)
      << "the restarted skyd made no new pod: " << world.admin("GET", "/_admin/kube/stats");
  EXPECT_TRUE(wait_for([&] { return world.stat("pods") == 0; }));
}

TEST(KubeJobs, AVolumeKeepsWhatOnePodWroteForThePodThatReplacesIt) {
  // fakecloud binds a claim's directory into each pod's own root, which needs root.
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: each pod's skylet gets a private root";
  KubeWorld world;
  const std::string claim = world.kube_api(
      "POST", "/api/v1/namespaces/default/persistentvolumeclaims",
      R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"ckpt"},)"
      R"("spec":{"accessModes":["ReadWriteMany"],"resources":{"requests":{"storage":"1Gi"}}}})");
  ASSERT_TRUE(contains(claim, R"("phase":"Bound")")) << claim;
  const std::string marks = world.dir.path();
  const auto yaml = world.skyd.write_file(
      "job.yaml",
      "name: with-volume\nresources:\n  cpus: 1\nvolumes:\n  /checkpoint: ckpt\n"
      "  /models:\n    name: ckpt\n    sub_path: models/v1\nrun: |\n"
      "  if [ -e /checkpoint/step ]; then\n"
      "    echo resumed at $(cat /checkpoint/step) with $(cat /models/weights); exit 0\n"
      "  fi\n"
      "  echo 41 > /checkpoint/step\n  echo w41 > /models/weights\n"
      "  touch " +
          marks + "/started\n  sleep 600\n");
  // No cloud named: the claims are the cluster's, so the task goes there.
  auto launched = world.skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out;
  ASSERT_TRUE(world.skyd.wait_for_file(world.dir.file("started"))) << world.controller_log(1);

  const std::string pod = world.pods().at(0).dump();
  EXPECT_TRUE(contains(pod, R"({"name":"volume-0","persistentVolumeClaim":{"claimName":"ckpt"}})"))
      << pod;
  EXPECT_TRUE(contains(pod, R"({"name":"volume-1","mountPath":"/models","subPath":"models/v1"})"))
      << pod;
  // The pod's paths are its own: nothing was written at the host's /checkpoint.
  EXPECT_FALSE(std::filesystem::exists("/checkpoint/step"));

  EXPECT_EQ(world.evict_all_then_wait_for_the_end(1), "SUCCEEDED") << world.controller_log(1);
  EXPECT_EQ(recovery_count(world.skyd, 1), 1);
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_TRUE(contains(logs.out, "resumed at 41 with w41")) << logs.out;
  EXPECT_EQ(world.stat("created"), 2);
  // The volume outlives the job's pods, with what they wrote.
  std::ifstream kept(world.dir.file("cloud/claims/default/ckpt/models/v1/weights"));
  std::string weights;
  std::getline(kept, weights);
  EXPECT_EQ(weights, "w41");
}

TEST(KubeJobs, AVolumeMadeWithSkyIsListedMountedAndDeletedOnceNoPodMountsIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: each pod's skylet gets a private root";
  KubeWorld world;
  const auto volume = world.skyd.write_file(
      "volume.yaml",
      "name: ckpt\ntype: k8s-pvc\ninfra: k8s\nsize: 1Gi\nconfig:\n  access_mode: "
      "ReadWriteMany\n");
  auto made = world.skyd.sky({"volumes", "apply", "-y", volume});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  EXPECT_TRUE(contains(made.out,
                       "Created volume ckpt: PersistentVolumeClaim ckpt (1Gi, "
                       "ReadWriteMany) in namespace default of context fake-kube."))
      << made.out;
  // The API refuses by name what it does not take, whatever client sends it.
  auto api = [&](const std::string& body) {
    return run_command({"/usr/bin/curl", "-sS", "--unix-socket", world.skyd.socket(), "-X", "POST",
                        "-d", body, "http://localhost/v1/volumes"})
        .out;
  };
  EXPECT_TRUE(contains(api(R"({"name":"v2","size":"1Gi","sizes":"2Gi"})"),
                       "sizes: not a field of a volume"));
  EXPECT_TRUE(contains(api(R"({"name":"v2","size":"1Gi","use_existing":"yes"})"),
                       "use_existing: expected true or false"));
  EXPECT_TRUE(contains(api(R"({"name":"v2","size":"1Gi","labels":{"skyd-volume-owner":"0"}})"),
                       "labels.skyd-volume-owner: `skyd-` labels are skyd's own"));
  auto again = world.skyd.sky({"volumes", "apply", "-y", volume});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(contains(again.err,
                       "is already in namespace `default`; to mount it, set "
                       "use_existing: true"))
      << again.err;
  // A claim someone else made is used, listed, and never deleted by skyd.
  world.kube_api("POST", "/api/v1/namespaces/default/persistentvolumeclaims",
                 R"({"metadata":{"name":"theirs"},"spec":{"accessModes":["ReadWriteOnce"],)"
                 R"("resources":{"requests":{"storage":"5Gi"}}}})");
  const auto existing =
      world.skyd.write_file("existing.yaml", "name: theirs\nuse_existing: true\n");
  auto used = world.skyd.sky({"volumes", "apply", "-y", existing});
  EXPECT_EQ(used.exit_code, 0) << used.err;
  EXPECT_TRUE(contains(used.out, "Volume theirs is the existing PersistentVolumeClaim theirs"))
      << used.out;

  const std::string marks = world.dir.path();
  const auto yaml = world.skyd.write_file(
      "job.yaml",
      "name: writes\nvolumes:\n  /data: ckpt\nrun: |\n  echo kept > /data/out\n"
      "  touch " +
          marks + "/started\n  while [ ! -e " + marks + "/go ]; do sleep 0.2; done\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(world.skyd.wait_for_file(world.dir.file("started"))) << world.controller_log(1);
  const std::string listed = world.skyd.sky({"volumes", "ls"}).out;
  EXPECT_TRUE(contains(listed, "ckpt")) << listed;
  EXPECT_TRUE(contains(listed, "IN_USE")) << listed;
  EXPECT_TRUE(contains(listed, "(existing)")) << listed;
  EXPECT_TRUE(contains(listed, "Kubernetes/fake-kube")) << listed;
  auto busy = world.skyd.sky({"volumes", "delete", "-y", "ckpt"});
  EXPECT_EQ(busy.exit_code, 1);
  EXPECT_TRUE(contains(busy.err, "volume ckpt is in use by pod ")) << busy.err;
  auto foreign = world.skyd.sky({"volumes", "delete", "-y", "theirs"});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_TRUE(contains(foreign.err, "skyd did not make the claim `theirs`")) << foreign.err;

  std::ofstream(world.dir.file("go")) << "go\n";
  ASSERT_TRUE(world.skyd.wait_for_status(1, {"SUCCEEDED", "FAILED"})) << world.controller_log(1);
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED") << world.controller_log(1);
  ASSERT_TRUE(wait_for([&] { return world.stat("pods") == 0; }));
  auto deleted = world.skyd.sky({"volumes", "delete", "-y", "ckpt"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(contains(deleted.out, "Deleted volume ckpt.")) << deleted.out;
  const std::string after = world.skyd.sky({"volumes", "ls", "-o", "json"}).out;
  EXPECT_FALSE(contains(after, "\"ckpt\"")) << after;
  EXPECT_TRUE(contains(after, "\"theirs\"")) << after;
}

TEST(KubeJobs, AVolumeAnotherUserMadeIsNotMountedInTheirJob) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: it makes a user for the test";
  if (!std::filesystem::exists("/usr/sbin/useradd") || !std::filesystem::exists("/usr/bin/setpriv"))
    GTEST_SKIP() << "needs useradd and setpriv (passwd, util-linux)";
  TestUsers users;
  const std::string members = users.group("s");
  KubeWorld world({{"socket_group", members}});
  ::chmod(world.skyd.dir().c_str(), 0711);
  const TestUser alice = users.user("a", {members}, world.skyd.dir());
  // root's volume: alice may not mount it, as she may not use root's buckets.
  const auto volume = world.skyd.write_file("volume.yaml", "name: roots\nsize: 1Gi\n");
  ASSERT_EQ(world.skyd.sky({"volumes", "apply", "-y", volume}).exit_code, 0);
  const std::string yaml = alice.home + "/job.yaml";
  std::ofstream(yaml) << "name: borrows\nvolumes:\n  /data: roots\nrun: cat /data/x\n";
  ::chown(yaml.c_str(), alice.uid, alice.gid);
  auto launched = sky_as(alice, world.skyd.socket(), {"jobs", "launch", "-y", "-d", yaml});
  ASSERT_EQ(launched.exit_code, 0) << launched.out << launched.err;
  const std::string why = world.why_it_failed(1);
  EXPECT_TRUE(contains(why,
                       "volumes./data: `roots` is a volume another user made with `sky "
                       "volumes apply`"))
      << why;
  EXPECT_EQ(world.stat("created"), 0);
  // Nor delete it.
  auto deleted = sky_as(alice, world.skyd.socket(), {"volumes", "delete", "-y", "roots"});
  EXPECT_EQ(deleted.exit_code, 1);
  EXPECT_TRUE(contains(deleted.err, "volume roots is another user's")) << deleted.err;
}

// Launches `yaml` as job 1: it fails saying `why` (in its record or controller log), and no pod
// was made for it.
void expect_failure_before_any_pod(KubeWorld& world, const std::string& yaml,
                                   const std::string& why) {
  const auto file = world.skyd.write_file("job.yaml", yaml);
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", file}).exit_code, 0);
  const std::string said = world.why_it_failed(1);
  EXPECT_TRUE(contains(said, why)) << said;
  EXPECT_EQ(world.stat("created"), 0);
}

TEST(KubeJobs, AJobWhoseClaimIsMissingFailsNamingItAndMakesNoPod) {
  KubeWorld world;
  expect_failure_before_any_pod(
      world, "name: no-claim\nvolumes:\n  /data: absent-claim\nrun: echo never\n",
      "volumes./data: no PersistentVolumeClaim `absent-claim` in namespace `default` of context "
      "`fake-kube`; create the claim first");
}

// network_tier: best on a cluster whose nodes carry CoreWeave's InfiniBand labels: the pod may
// lock memory, asks for the fabric's device, and the task sees NCCL's and UCX's settings for it.
TEST(KubeJobs, NetworkTierBestOnInfinibandNodesGivesThePodItsFabricAndTheTaskNcclsSettings) {
  KubeWorld world;
  world.admin("POST", "/_admin/kube/nodes",
              R"([{"name": "gpu-1", "labels": {"ib.coreweave.cloud/speed": "400G"},
                   "allocatable": {"nvidia.com/gpu": "8", "rdma/ib": "1"}}])");
  const auto yaml = world.skyd.write_file(
      "job.yaml",
      "name: nccl\nresources:\n  infra: k8s\n  accelerators: H100:8\n  network_tier: best\n"
      "run: echo \"nccl=$NCCL_IB_HCA ucx=$UCX_TLS\"\n");
  ASSERT_EQ(world.skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  const std::string pod = world.first_pod();
  ASSERT_FALSE(pod.empty()) << world.controller_log(1);
  EXPECT_TRUE(contains(pod, R"("securityContext":{"capabilities":{"add":["IPC_LOCK"]}})")) << pod;
  EXPECT_TRUE(contains(pod, R"("limits":{"cpu")")) << pod;
  EXPECT_TRUE(contains(pod, R"("rdma/ib":"1")")) << pod;
  auto logs = world.skyd.sky({"jobs", "logs", "1"});
  EXPECT_TRUE(contains(logs.out, "nccl=ibp ucx=tcp")) << logs.out;
  EXPECT_EQ(world.skyd.job_status(1), "SUCCEEDED") << world.controller_log(1);
}

// Without a fabric skyd knows on any node, network_tier: best is refused by name, not dropped.
TEST(KubeJobs, NetworkTierBestOnNodesWithoutAFabricFailsNamingTheFieldAndMakesNoPod) {
  KubeWorld world;
  expect_failure_before_any_pod(
      world, "name: nccl\nresources:\n  infra: k8s\n  network_tier: best\nrun: echo never\n",
      "resources.network_tier: best: no node of kubernetes context `fake-kube` has a fabric skyd "
      "attaches pods to");
}

// Volumes are claims of a Kubernetes cluster: on a controller with none, the job fails naming
// the field and the claim, not "kubernetes", a cloud the task never named.
TEST(KubeJobs, VolumesOnAControllerWithoutKubernetesFailNamingTheField) {
  SkydHarness skyd;
  const auto yaml =
      skyd.write_file("job.yaml", "name: no-cluster\nvolumes:\n  /data: ckpt\nrun: echo never\n");
  ASSERT_EQ(skyd.sky({"jobs", "launch", "-y", "-d", yaml}).exit_code, 0);
  ASSERT_TRUE(skyd.wait_for_status(
      1, {"FAILED_PRECHECKS", "FAILED_NO_RESOURCE", "FAILED", "FAILED_CONTROLLER"}));
  const std::string why = skyd.job_json(1);
  EXPECT_TRUE(contains(why,
                       "volumes: /data: ckpt is a Kubernetes PersistentVolumeClaim, and this "
                       "controller has no kubernetes cluster"))
      << why;
  EXPECT_FALSE(contains(why, "kubernetes: no credentials")) << why;
}

TEST(KubeJobs, AKubeconfigWithAnExecPluginIsRefusedNamingTheField) {
  TempDir scratch;
  const std::string bad = scratch.file("kubeconfig");
  std::ofstream(bad) << "apiVersion: v1\nkind: Config\ncurrent-context: eks\nclusters:\n"
                        "- name: eks\n  cluster:\n    server: https://127.0.0.1:1\n"
                        "contexts:\n- name: eks\n  context:\n    cluster: eks\n    user: iam\n"
                        "users:\n- name: iam\n  user:\n    exec:\n"
                        "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                        "      command: aws\n";
  KubeWorld world({}, bad);
  const auto yaml = world.skyd.write_file(
      "job.yaml", "name: refused\nresources:\n  infra: k8s\nrun: echo never\n");
  world.skyd.sky({"jobs", "launch", "-y", "-d", yaml});
  const std::string why = world.why_it_failed(1);
  EXPECT_TRUE(contains(why, "users[iam].exec")) << why;
  EXPECT_TRUE(contains(why, "credential plugins are not supported")) << why;
  EXPECT_EQ(world.stat("created"), 0);
}

}  // namespace
}  // namespace skyd::testing
