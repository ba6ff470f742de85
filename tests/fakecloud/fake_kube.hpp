#pragma once
// fakecloud's Kubernetes API server (the core/v1 subset skyd and kubectl use), on a TLS listener
// of its own with a CA it makes and writes, with the server's URL and a bearer token, into a
// kubeconfig for the test: discovery (/api, /apis, /api/v1), pods in a namespace (POST, LIST
// with labelSelector, GET, DELETE), errors as real Status objects (401 without the token, 403 in
// a namespace the token may not use, 404, 409 AlreadyExists, 422 Invalid), and
// PersistentVolumeClaims (POST, GET, LIST, DELETE), each a directory the pods that mount it
// share, and the nodes (GET /api/v1/nodes: one plain node unless POST /_admin/kube/nodes sets
// their labels and allocatable resources, as a fabric's nodes carry them). A pod's container env
// reaches its skylet. Each pod is a FakeCloud instance: process mode boots a real skylet from the
// script its container runs, at a pod IP of its own. An admin call evicts a pod (phase Failed,
// reason Evicted, skylet killed). Runs on fakecloud's shard; owned by FakeCloud, which it reaches
// as a friend.

#include "reactor/certs.hpp"
#include "reactor/http_server.hpp"
#include "reactor/json.hpp"
#include "tests/fakecloud/fake_cloud.hpp"

#include <map>
#include <string>

namespace skyd::fakecloud {

class FakeKube {
 public:
  FakeKube(FakeCloud& cloud, asio::any_io_executor executor, std::string token);

  // /_admin/kube/... on fakecloud's main router.
  void add_admin_routes(http::Router& router);
  // The API server's routes (its own TLS listener).
  http::Router api_router();
  const CertifiedKey& server_certificate() const { return server_certificate_; }
  // A kubeconfig naming https://127.0.0.1:`port` with the CA and the token (context fake-kube,
  // namespace `default`).
  std::string kubeconfig(std::uint16_t port) const;

 private:
  struct Pod {
    std::string namespace_;
    std::string name;
    std::string uid;
    std::string created;  // RFC 3339
    Json metadata;        // as posted, with uid, creationTimestamp, resourceVersion filled in
    Json spec;
    std::string instance_id;
    std::string deleted_at;  // deletionTimestamp once a DELETE came
    std::string evicted;     // the eviction's message, once evicted
  };

  // A PersistentVolumeClaim: bound at once to a directory of fakecloud's (its volume), which
  // the pods that mount it get bound into their private roots.
  struct Claim {
    Json object;  // as posted, with uid, creationTimestamp and status filled in
    std::string directory;
  };

  Task<http::Response> api(http::Request& request);
  http::Response claims(const std::string& ns, http::Request& request);
  http::Response create_claim(const std::string& ns, const http::Request& request);
  // Where the pod's container mounts each claim it names, as (host directory, mount path); a
  // claim that does not exist leaves the pod unschedulable (nullopt), as a real scheduler does.
  std::optional<std::vector<std::pair<std::string, std::string>>> claim_binds(
      const std::string& ns, const Json& spec) const;
  Task<http::Response> admin(http::Request& request);
  http::Response create(const std::string& ns, const http::Request& request);
  http::Response list(const std::string& ns, const http::Request& request);
  http::Response get(const std::string& ns, const std::string& name);
  http::Response remove(const std::string& ns, const std::string& name);
  Json pod_json(const Pod& pod) const;
  Json node_list() const;
  void evict(Pod& pod);
  Task<void> finish_delete(std::string key);

  FakeCloud& cloud_;
  asio::any_io_executor executor_;
  std::string token_;
  CertifiedKey authority_;
  CertifiedKey server_certificate_;
  std::map<std::string, Pod> pods_;      // "ns/name"
  std::map<std::string, Claim> claims_;  // "ns/name"
  // The nodes GET /api/v1/nodes lists (set by the admin API): one plain node to begin with.
  Json nodes_ = parse_json(R"([{"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"},
                               "allocatable": {"cpu": "64", "memory": "256Gi"}}])")
                    .value();
  std::map<std::string, std::int64_t> calls_;
  std::int64_t created_ = 0, deleted_ = 0, evicted_ = 0, unauthorized_ = 0;
  std::uint64_t next_version_ = 1;
};

}  // namespace skyd::fakecloud
