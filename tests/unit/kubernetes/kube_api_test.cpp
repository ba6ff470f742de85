// providers/kubernetes without a server: the kubeconfig (what is read, what is refused by name),
// the pod skyd makes, its boot script read back, pods and Status errors read, and the optimizer's
// kubernetes candidates (catalog/kubernetes_shape).
#include "providers/kubernetes/kube_api.hpp"
#include "providers/catalog/kubernetes_shape.hpp"
#include "providers/kubernetes/kube_claims.hpp"
#include "providers/kubernetes/kube_fabric.hpp"
#include "providers/kubernetes/kubeconfig.hpp"
#include "reactor/certs.hpp"

#include <gtest/gtest.h>

#include <string>

namespace skyd::providers::kubernetes {
namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const std::string kCa = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

std::string config(const std::string& user_fields, const std::string& cluster_extra = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster:\n"
         "    server: https://10.0.0.1:6443\n    certificate-authority-data: " +
         base64_encode(kCa) + "\n" + cluster_extra +
         "contexts:\n- name: a\n  context:\n    cluster: c\n    user: u\n    namespace: jobs\n"
         "- name: b\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n" +
         user_fields;
}

Result<KubeAccess> parse(const std::string& text, const std::string& context = "") {
  return parse_kubeconfig(text, "/k/config", context, [](const std::string& path) {
    if (path == "/k/token") return Result<std::string>(std::string("from-file\n"));
    return Result<std::string>(make_error(ProviderErrc::kAuth, "no such file " + path));
  });
}

TEST(Kubeconfig, TheContextsServerCaTokenAndNamespace) {
  auto access = parse(config("    token: abc.def\n"));
  ASSERT_TRUE(access) << access.error().detail;
  EXPECT_EQ(access->context, "a");
  EXPECT_EQ(access->server, "https://10.0.0.1:6443");
  EXPECT_EQ(access->ca_pem, kCa);
  EXPECT_EQ(access->token, "abc.def");
  EXPECT_EQ(access->namespace_, "jobs");
  auto other = parse(config("    tokenFile: /k/token\n"), "b");
  ASSERT_TRUE(other) << other.error().detail;
  EXPECT_EQ(other->namespace_, "default");
  EXPECT_EQ(other->token, "from-file");
}

TEST(Kubeconfig, AuthMethodsSkydDoesNotImplementAreRefusedByName) {
  const auto refused = [](const std::string& text) {
    auto access = parse(text);
    EXPECT_FALSE(access);
    return access ? std::string() : access.error().detail;
  };
  EXPECT_TRUE(has(refused(config("    client-certificate-data: eA==\n    client-key-data: eA==\n")),
                  "/k/config: users[u].client-certificate-data: client certificate"));
  EXPECT_TRUE(has(refused(config("    exec:\n      command: aws\n")),
                  "users[u].exec: credential plugins are not supported by skyd"));
  EXPECT_TRUE(
      has(refused(config("    auth-provider:\n      name: gcp\n")), "users[u].auth-provider"));
  EXPECT_TRUE(has(refused(config("    token: t\n", "    insecure-skip-tls-verify: true\n")),
                  "clusters[c].insecure-skip-tls-verify"));
  EXPECT_TRUE(has(refused(config("    username: a\n    password: b\n")), "username/password"));
  EXPECT_TRUE(has(refused(config("    {}\n")), "users[u].token: the user has no bearer token"));
  auto missing = parse(config("    token: t\n"), "nope");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(has(missing.error().detail, "contexts: no context named `nope`"));
  EXPECT_EQ(missing.error().code, make_error_code(ProviderErrc::kAuth));
}

TEST(Kubeconfig, ThePathComesFromTheConfigThenKubeconfigThenHome) {
  auto env = [](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "KUBECONFIG") return std::string("/a/one:/a/two");
    if (std::string(name) == "HOME") return std::string("/home/x");
    return std::nullopt;
  };
  EXPECT_EQ(kubeconfig_path("/etc/kc", env), "/etc/kc");
  EXPECT_EQ(kubeconfig_path("", env), "/a/one");
  EXPECT_EQ(kubeconfig_path("",
                            [](const char* name) -> std::optional<std::string> {
                              if (std::string(name) == "HOME") return std::string("/home/x");
                              return std::nullopt;
                            }),
            "/home/x/.kube/config");
}

TEST(KubeApi, NamesAndLabelsAreValidForKubernetes) {
  EXPECT_EQ(label_value("job-1-task-0"), "job-1-task-0");
  const std::string changed = label_value("My Cluster/1");
  EXPECT_TRUE(has(changed, "My-Cluster-1-")) << changed;
  EXPECT_LE(label_value(std::string(100, 'a')).size(), 63u);
  const std::string name = pod_name_for(std::string(80, 'X'), "token-0123456789", 12);
  EXPECT_LE(name.size(), 63u);
  EXPECT_TRUE(name.ends_with("-12")) << name;
  EXPECT_EQ(pod_name_for("Job_7", "t0123456789abcdef", 0).substr(0, 6), "job-7-");
  EXPECT_EQ(pod_name_for("a", "t1", 0), pod_name_for("a", "t1", 0));
  EXPECT_NE(pod_name_for("a", "t1", 0), pod_name_for("a", "t2", 0));
  EXPECT_EQ(base64_decode(base64_encode("any bytes\n")), "any bytes\n");
}

TEST(KubeApi, ThePodCarriesLabelsShapeGpusImageAndBoot) {
  PodSpec spec;
  spec.name = "c-abc123-0";
  spec.namespace_ = "jobs";
  spec.labels = {{"skyd-cluster", "c"}};
  spec.annotations = {{"skyd.dev/cluster", "c"}};
  spec.image = "rocm/pytorch:v1";
  spec.skylet_image = std::string(kDefaultImage);
  spec.cpus = 0.5;
  spec.memory_gb = 16;
  spec.accelerator_name = "MI300";
  spec.accelerator_count = 2;
  spec.boot_script = "exec skylet";
  spec.skylet_port = 46590;
  const std::string pod = pod_manifest(spec).dump();
  EXPECT_TRUE(has(pod, R"("metadata":{"name":"c-abc123-0","namespace":"jobs",)"
                       R"("labels":{"skyd-cluster":"c"},"annotations":{"skyd.dev/cluster":"c"}})"))
      << pod;
  EXPECT_TRUE(has(pod, R"("requests":{"cpu":"0.5","memory":"16G","amd.com/gpu":"2"})")) << pod;
  EXPECT_TRUE(has(pod, R"("limits":{"cpu":"0.5","memory":"16G","amd.com/gpu":"2"})")) << pod;
  EXPECT_TRUE(has(pod, R"("skypilot.co/accelerator":"mi300")")) << pod;
  EXPECT_TRUE(has(pod, R"("image":"rocm/pytorch:v1")")) << pod;
  EXPECT_TRUE(has(pod, R"("initContainers")")) << pod;
  EXPECT_TRUE(has(pod, R"("mountPath":"/opt/skyd/bin")")) << pod;
  EXPECT_TRUE(has(pod, R"("restartPolicy":"Never")")) << pod;
  EXPECT_TRUE(has(pod, R"("command":["/bin/sh","-c","exec skylet"])")) << pod;
  EXPECT_EQ(gpu_resource_for("H100"), "nvidia.com/gpu");
  spec.skylet_image.clear();
  spec.accelerator_name.clear();
  const std::string plain = pod_manifest(spec).dump();
  EXPECT_FALSE(has(plain, "initContainers")) << plain;
  EXPECT_FALSE(has(plain, "gpu")) << plain;
}

TEST(KubeApi, ThePodMountsEachVolumeClaimBesideSkyletsOwnVolume) {
  PodSpec spec;
  spec.name = "c-abc123-0";
  spec.image = "python:3.12";
  spec.skylet_image = std::string(kDefaultImage);
  spec.volumes = {{"/checkpoint", "ckpt", ""}, {"/models", "shared.models", "models/v1"}};
  const std::string pod = pod_manifest(spec).dump();
  EXPECT_TRUE(has(pod, R"("volumeMounts":[{"name":"skyd-bin","mountPath":"/opt/skyd/bin"},)"
                       R"({"name":"volume-0","mountPath":"/checkpoint"},)"
                       R"({"name":"volume-1","mountPath":"/models","subPath":"models/v1"}])"))
      << pod;
  EXPECT_TRUE(has(pod, R"("volumes":[{"name":"skyd-bin","emptyDir":{}},)"
                       R"({"name":"volume-0","persistentVolumeClaim":{"claimName":"ckpt"}},)"
                       R"({"name":"volume-1","persistentVolumeClaim":)"
                       R"({"claimName":"shared.models"}}])"))
      << pod;
  spec.skylet_image.clear();
  spec.volumes.resize(1);
  const std::string claim_only = pod_manifest(spec).dump();
  EXPECT_TRUE(has(claim_only, R"("volumeMounts":[{"name":"volume-0","mountPath":"/checkpoint"}])"))
      << claim_only;
  EXPECT_FALSE(has(claim_only, "skyd-bin")) << claim_only;
  EXPECT_EQ(claim_path("default", "ckpt"),
            "/api/v1/namespaces/default/persistentvolumeclaims/ckpt");
}

KubeNode node_with(std::map<std::string, std::string> labels,
                   std::map<std::string, std::string> allocatable = {}) {
  return KubeNode{"node", std::move(labels), std::move(allocatable)};
}

TEST(KubeFabric, EachFabricIsFoundFromItsNodesLabels) {
  const std::vector<std::pair<KubeNode, Fabric>> cases = {
      {node_with({{"nebius.com/gpu-cluster", "a"}}), Fabric::kNebiusInfiniband},
      {node_with({{"ib.coreweave.cloud/speed", "400G"}}), Fabric::kCoreWeaveInfiniband},
      {node_with({{"node-role.together.ai/gpu", "true"}}), Fabric::kTogetherInfiniband},
      {node_with({{"topology.k8s.aws/zone-id", "use1-az1"}}, {{"vpc.amazonaws.com/efa", "32"}}),
       Fabric::kAwsEfa},
      // An EKS node without EFA interfaces has no fabric.
      {node_with({{"topology.k8s.aws/zone-id", "use1-az1"}}), Fabric::kNone},
      {node_with({{"cloud.google.com/machine-family", "a3"}}), Fabric::kGkeGpuDirect},
      {node_with({{"cloud.google.com/machine-family", "n2"}}), Fabric::kNone},
      {node_with({{"kubernetes.io/hostname", "plain"}}), Fabric::kNone},
  };
  for (const auto& [node, fabric] : cases) {
    std::vector<KubeNode> nodes{node_with({}), node};  // the first node with one decides
    EXPECT_EQ(find_fabric(nodes).fabric, fabric) << to_string(fabric);
  }
}

TEST(KubeFabric, ThePodGetsTheFabricsDevicesCapabilityAndSettingsOrARefusalByName) {
  auto coreweave = fabric_pod({Fabric::kCoreWeaveInfiniband, "n", 0, 0}, 8, "ctx");
  ASSERT_TRUE(coreweave);
  EXPECT_EQ(coreweave->capabilities, std::vector<std::string>{"IPC_LOCK"});
  EXPECT_EQ(coreweave->resources.at("rdma/ib"), "1");
  EXPECT_EQ(coreweave->environment.at("NCCL_IB_HCA"), "ibp");
  auto together = fabric_pod({Fabric::kTogetherInfiniband, "n", 0, 0}, 4, "ctx");
  ASSERT_TRUE(together);
  EXPECT_EQ(together->resources.at("nvidia.com/rdma_ib"), "4") << "one port per GPU";
  // Half a node's GPUs take half its EFA interfaces.
  auto efa = fabric_pod({Fabric::kAwsEfa, "n", 32, 8}, 4, "ctx");
  ASSERT_TRUE(efa);
  EXPECT_EQ(efa->resources.at("vpc.amazonaws.com/efa"), "16");
  EXPECT_EQ(efa->environment.at("FI_PROVIDER"), "efa");
  auto none = fabric_pod({}, 8, "ctx");
  ASSERT_FALSE(none);
  EXPECT_TRUE(has(none.error().detail,
                  "resources.network_tier: best: no node of kubernetes "
                  "context `ctx` has a fabric"))
      << none.error().detail;
  auto gke = fabric_pod({Fabric::kGkeGpuDirect, "gke-a3-1", 0, 0}, 8, "ctx");
  ASSERT_FALSE(gke);
  EXPECT_TRUE(has(gke.error().detail, "node gke-a3-1 is a GKE A3/A4 machine"))
      << gke.error().detail;

  PodSpec spec;
  spec.name = "p";
  spec.namespace_ = "default";
  spec.image = "i";
  spec.cpus = 1;
  spec.memory_gb = 1;
  spec.fabric_resources = coreweave->resources;
  spec.capabilities = coreweave->capabilities;
  spec.environment = coreweave->environment;
  const std::string manifest = pod_manifest(spec).dump();
  EXPECT_TRUE(has(manifest, R"("rdma/ib":"1")")) << manifest;
  EXPECT_TRUE(has(manifest, R"("securityContext":{"capabilities":{"add":["IPC_LOCK"]}})"))
      << manifest;
  EXPECT_TRUE(has(manifest, R"({"name":"NCCL_IB_HCA","value":"ibp"})")) << manifest;
}

TEST(KubeFabric, TheNodeListIsRead) {
  auto nodes =
      parse_node_list(R"({"kind":"NodeList","items":[{"metadata":{"name":"a","labels":{"x":"1"}},)"
                      R"("status":{"allocatable":{"vpc.amazonaws.com/efa":"4"}}}]})");
  ASSERT_TRUE(nodes);
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].name, "a");
  EXPECT_EQ((*nodes)[0].labels.at("x"), "1");
  EXPECT_EQ((*nodes)[0].allocatable.at("vpc.amazonaws.com/efa"), "4");
  EXPECT_FALSE(parse_node_list(R"({"kind":"PodList"})"));
}

TEST(KubeApi, TheBootScriptIsReadBackAsSkyletsSettings) {
  auto authority = make_certificate_authority("test CA");
  ASSERT_TRUE(authority);
  auto certificate =
      issue_server_certificate(*authority, "c.skylet.internal", {"c.skylet.internal"});
  ASSERT_TRUE(certificate);
  SkyletBoot boot;
  boot.token = "tok-0123456789abcdef";
  boot.port = 46590;
  boot.certificate = *certificate;
  const std::string script = render_pod_boot(boot);
  EXPECT_TRUE(has(script, "exec /opt/skyd/bin/skylet --listen 0.0.0.0:46590")) << script;
  auto back = parse_skylet_boot(script);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->token, boot.token);
  EXPECT_EQ(back->port, 46590);
  EXPECT_EQ(back->certificate.certificate_pem, certificate->certificate_pem);
  EXPECT_FALSE(back->container);
}

TEST(KubeApi, PodsAndStatusErrorsAreRead) {
  auto pods = parse_pod_list(
      R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[)"
      R"({"metadata":{"name":"a","namespace":"d","labels":{"skyd-rank":"0"}},)"
      R"("status":{"phase":"Running","podIP":"10.1.2.3","conditions":[{"type":"Ready","status":"True"}]}},)"
      R"({"metadata":{"name":"b","deletionTimestamp":"2026-01-01T00:00:00Z"},"status":{"phase":"Running"}},)"
      R"({"metadata":{"name":"c"},"status":{"phase":"Failed","reason":"Evicted","message":"low memory"}},)"
      R"({"metadata":{"name":"e"},"status":{"phase":"Pending","conditions":[{"type":"PodScheduled",)"
      R"("status":"False","reason":"Unschedulable","message":"0/3 nodes are available"}]}}]})");
  ASSERT_TRUE(pods) << pods.error().detail;
  ASSERT_EQ(pods->size(), 4u);
  EXPECT_EQ((*pods)[0].phase, PodPhase::kRunning);
  EXPECT_EQ((*pods)[0].pod_ip, "10.1.2.3");
  EXPECT_TRUE((*pods)[0].ready);
  EXPECT_EQ((*pods)[0].labels.at("skyd-rank"), "0");
  EXPECT_TRUE((*pods)[1].deleting);
  EXPECT_EQ((*pods)[2].phase, PodPhase::kFailed);
  EXPECT_EQ((*pods)[2].reason, "Evicted");
  EXPECT_TRUE((*pods)[3].unschedulable);
  EXPECT_EQ((*pods)[3].message, "0/3 nodes are available");
  EXPECT_FALSE(parse_pod_list(R"({"kind":"Status"})"));

  const auto status = [](int code, const std::string& reason, const std::string& message) {
    return R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":")" + reason +
           R"(","message":")" + message + R"(","code":)" + std::to_string(code) + "}";
  };
  EXPECT_EQ(classify_status(401, status(401, "Unauthorized", "Unauthorized")).code,
            make_error_code(ProviderErrc::kAuth));
  EXPECT_EQ(classify_status(403, status(403, "Forbidden", "pods is forbidden: cannot create")).code,
            make_error_code(ProviderErrc::kAuth));
  EXPECT_EQ(classify_status(403, status(403, "Forbidden", "exceeded quota: compute")).code,
            make_error_code(ProviderErrc::kQuota));
  EXPECT_EQ(classify_status(404, status(404, "NotFound", "pods x not found")).code,
            make_error_code(ProviderErrc::kNotFound));
  EXPECT_EQ(classify_status(422, status(422, "Invalid", "bad")).code,
            make_error_code(ProviderErrc::kInvalid));
  EXPECT_EQ(classify_status(429, "").code, make_error_code(ProviderErrc::kThrottled));
  EXPECT_EQ(classify_status(503, "").code, make_error_code(ProviderErrc::kTransient));
  EXPECT_TRUE(has(classify_status(404, status(404, "NotFound", "pods x not found")).detail,
                  "NotFound: pods x not found"));
  EXPECT_EQ(status_reason(status(409, "AlreadyExists", "exists")), "AlreadyExists");
  EXPECT_EQ(status_reason(R"({"kind":"Pod"})"), "");
  EXPECT_EQ(selector_query({{"a", "b"}, {"c", "d"}}), "labelSelector=a%3Db%2Cc%3Dd");
  EXPECT_EQ(pod_path("default", "p-0"), "/api/v1/namespaces/default/pods/p-0");
}

}  // namespace
}  // namespace skyd::providers::kubernetes

namespace skyd::catalog {
namespace {

TEST(KubernetesShape, ARequestBecomesOnePodShapeAtPriceZero) {
  ResourceRequest request;
  request.cloud = "kubernetes";
  request.region = "gpu-context";
  request.cpus = Quantity{4, true, false};
  request.memory = Quantity{4, false, true};  // 4 GB per vCPU
  request.accelerator = AcceleratorRequest{"H100", 8};
  auto candidate = kubernetes_candidate(request, 0, 2);
  ASSERT_TRUE(candidate) << candidate.error().detail;
  EXPECT_EQ(candidate->instance_type, "4CPU--16GB--H100:8");
  EXPECT_EQ(candidate->region, "gpu-context");
  EXPECT_EQ(candidate->node_price, 0.0);
  EXPECT_EQ(candidate->num_nodes, 2);
  auto shape = parse_pod_instance_type("4CPU--16GB--H100:8");
  ASSERT_TRUE(shape);
  EXPECT_EQ(shape->cpus, 4);
  EXPECT_EQ(shape->memory_gb, 16);
  EXPECT_EQ(shape->accelerator_count, 8);
  EXPECT_EQ(pod_instance_type(PodShape{}), "2CPU--4GB");
  EXPECT_FALSE(parse_pod_instance_type("n2-standard-8"));
  EXPECT_FALSE(parse_pod_instance_type("4CPU--16GB--H100"));

  ResourceRequest spot;
  spot.cloud = "kubernetes";
  spot.use_spot = true;
  EXPECT_FALSE(kubernetes_candidate(spot, 0, 1));
  ResourceRequest half;
  half.cloud = "kubernetes";
  half.accelerator = AcceleratorRequest{"T4", 0.5};
  EXPECT_FALSE(kubernetes_candidate(half, 0, 1));
  EXPECT_EQ(kubernetes_cloud_name("K8s"), "kubernetes");
  EXPECT_FALSE(kubernetes_cloud_name("gke"));
}

TEST(KubernetesShape, AnAnyOfWithKubernetesPlansItFirstAndItsNodeFieldsAreRefusedByName) {
  PlanRequest request;
  ResourceRequest kube;
  kube.cloud = "kubernetes";
  kube.cpus = Quantity{8, false, false};
  ResourceRequest aws;
  aws.cloud = "aws";
  aws.cpus = Quantity{8, true, false};
  request.options = {aws, kube};
  auto plan = catalog::plan(Catalog::builtin(), request);
  ASSERT_TRUE(plan) << plan.error().detail;
  EXPECT_EQ(plan->front().cloud, "kubernetes");
  EXPECT_EQ(plan->front().instance_type, "8CPU--16GB");
  EXPECT_GT(plan->size(), 1u);

  // Enabled, kubernetes is a candidate for an option that names no cloud; otherwise not.
  PlanRequest unnamed;
  ResourceRequest any;
  any.cpus = Quantity{8, true, false};
  unnamed.options = {any};
  auto clouds_only = catalog::plan(Catalog::builtin(), unnamed);
  ASSERT_TRUE(clouds_only);
  EXPECT_NE(clouds_only->front().cloud, "kubernetes");
  unnamed.kubernetes_by_default = true;
  auto with_kubernetes = catalog::plan(Catalog::builtin(), unnamed);
  ASSERT_TRUE(with_kubernetes);
  EXPECT_EQ(with_kubernetes->front().cloud, "kubernetes");
  EXPECT_EQ(with_kubernetes->front().instance_type, "8CPU--16GB");

  Blocklist blocked{{"kubernetes", std::nullopt, std::nullopt}};
  auto elsewhere = catalog::plan(Catalog::builtin(), request, blocked);
  ASSERT_TRUE(elsewhere);
  EXPECT_EQ(elsewhere->front().cloud, "aws");

  // network_tier: best plans: the nodes' fabric is found when the pods are made.
  PlanRequest fabric;
  kube.node_fields.best_network = true;
  fabric.options = {kube};
  auto planned = catalog::plan(Catalog::builtin(), fabric);
  ASSERT_TRUE(planned) << planned.error().detail;
  EXPECT_EQ(planned->front().cloud, "kubernetes");
  kube.node_fields = {};
  kube.node_fields.disk_size = true;
  fabric.options = {kube};
  auto disk = catalog::plan(Catalog::builtin(), fabric);
  ASSERT_FALSE(disk);
  EXPECT_TRUE(disk.error().detail.find("resources.disk_size") != std::string::npos);
  kube.node_fields = {};
  kube.zone = "z";
  EXPECT_FALSE(validate_request(Catalog::builtin(), kube));
  kube.zone.reset();
}

TEST(KubernetesShape, ATaskWithVolumesIsPlacedOnKubernetesEnabledOrNotAndRefusedElsewhere) {
  // The claims are the cluster's: an option naming no cloud goes there even when kubernetes is
  // not offered by default, and only there.
  PlanRequest request;
  ResourceRequest any;
  any.cpus = Quantity{4, true, false};
  any.node_fields.volumes = true;
  request.options = {any};
  auto plan = catalog::plan(Catalog::builtin(), request);
  ASSERT_TRUE(plan) << plan.error().detail;
  ASSERT_EQ(plan->size(), 1u);
  EXPECT_EQ(plan->front().cloud, "kubernetes");
  EXPECT_EQ(plan->front().instance_type, "4CPU--8GB");

  ResourceRequest aws;
  aws.cloud = "aws";
  aws.node_fields.volumes = true;
  request.options = {aws};
  auto refused = catalog::plan(Catalog::builtin(), request);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().detail.find("volumes: a volume is a Kubernetes "
                                          "PersistentVolumeClaim, which only kubernetes pods "
                                          "mount; aws nodes cannot") != std::string::npos)
      << refused.error().detail;

  // Spot cannot be a pod, and the clouds cannot mount the claims: nowhere is left.
  ResourceRequest spot = any;
  spot.use_spot = true;
  request.options = {spot};
  EXPECT_FALSE(catalog::plan(Catalog::builtin(), request));
}

TEST(KubernetesShape, AZoneIsNoPlaceInAKubernetesRequest) {
  ResourceRequest kube;
  kube.cloud = "kubernetes";
  kube.zone = "z";
  EXPECT_FALSE(validate_request(Catalog::builtin(), kube));
}

}  // namespace
}  // namespace skyd::catalog
