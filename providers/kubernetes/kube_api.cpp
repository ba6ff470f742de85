#include "providers/kubernetes/kube_api.hpp"

#include "reactor/crypto.hpp"
#include "reactor/http_types.hpp"

#include <cctype>
#include <cstdio>

namespace skyd::providers::kubernetes {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// A root-only file from a quoted here-document (nothing in it is expanded by the shell): the
// form parse_skylet_boot reads back.
void append_file(std::string& script, std::string_view path, std::string_view marker,
                 std::string_view content) {
  script += "cat > " + std::string(path) + " <<'" + std::string(marker) + "'\n";
  script += content;
  if (!content.ends_with('\n')) script += '\n';
  script += std::string(marker) + "\n";
}

}  // namespace

std::map<std::string, std::string> string_map(const Json* json) {
  std::map<std::string, std::string> out;
  if (!json || !json->as_object()) return out;
  for (const auto& [key, value] : *json->as_object())
    if (auto text = value.as_string()) out[key] = std::string(*text);
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    const auto at = kAlphabet.find(c);
    if (at == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3f];
  while (out.size() % 4 != 0) out += '=';
  return out;
}

std::string label_value(std::string_view text) {
  std::string out;
  for (char c : text) out += alnum(c) || c == '-' || c == '_' || c == '.' ? c : '-';
  const bool changed = out != text || out.size() > 63 || (!out.empty() && !alnum(out.front())) ||
                       (!out.empty() && !alnum(out.back()));
  if (!changed) return out;
  const std::string hash = sha256_hex(text).substr(0, 8);
  out = out.substr(0, 63 - hash.size() - 1);
  while (!out.empty() && !alnum(out.back())) out.pop_back();
  while (!out.empty() && !alnum(out.front())) out.erase(out.begin());
  return out.empty() ? hash : out + "-" + hash;
}

std::string launch_label_for(std::string_view token) {
  return sha256_hex(std::string(token)).substr(0, 40);
}

std::string pod_name_for(std::string_view cluster_name, std::string_view token, int rank) {
  std::string name;
  for (char c : cluster_name) {
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    name += alnum(lower) ? lower : '-';
  }
  const std::string tail =
      "-" + sha256_hex(std::string(token)).substr(0, 6) + "-" + std::to_string(rank);
  if (name.size() + tail.size() > 63) name = name.substr(0, 63 - tail.size());
  while (!name.empty() && name.back() == '-') name.pop_back();
  while (!name.empty() && !std::isalpha(static_cast<unsigned char>(name.front())))
    name.erase(name.begin());
  if (name.empty()) name = "skyd";
  return name + tail;
}

std::string gpu_resource_for(std::string_view accelerator) {
  if (accelerator.size() > 2 &&
      (accelerator.substr(0, 2) == "MI" || accelerator.substr(0, 2) == "mi"))
    return "amd.com/gpu";
  return "nvidia.com/gpu";
}

std::string cpu_quantity(double cpus) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", cpus);
  return buffer;
}

std::string memory_quantity(double gb) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%gG", gb);
  return buffer;
}

Json object_metadata(const std::string& name, const std::string& namespace_,
                     const std::map<std::string, std::string>& labels) {
  Json label_values = Json::object();
  for (const auto& [key, value] : labels) label_values.set(key, value);
  Json metadata = Json::object();
  metadata.set("name", name);
  metadata.set("namespace", namespace_);
  metadata.set("labels", std::move(label_values));
  return metadata;
}

Json pod_manifest(const PodSpec& spec) {
  Json annotations = Json::object();
  for (const auto& [key, value] : spec.annotations) annotations.set(key, value);
  Json metadata = object_metadata(spec.name, spec.namespace_, spec.labels);
  metadata.set("annotations", std::move(annotations));

  Json amounts = Json::object();
  amounts.set("cpu", cpu_quantity(spec.cpus));
  amounts.set("memory", memory_quantity(spec.memory_gb));
  if (!spec.accelerator_name.empty() && spec.accelerator_count > 0)
    amounts.set(gpu_resource_for(spec.accelerator_name), std::to_string(spec.accelerator_count));
  for (const auto& [resource, quantity] : spec.fabric_resources) amounts.set(resource, quantity);
  Json resources = Json::object();
  resources.set("requests", amounts);
  resources.set("limits", amounts);

  Json container = Json::object();
  container.set("name", "node");
  container.set("image", spec.image);
  Json command = Json::array();
  command.push_back("/bin/sh");
  command.push_back("-c");
  command.push_back(spec.boot_script);
  container.set("command", std::move(command));
  Json port = Json::object();
  port.set("name", "skylet");
  port.set("containerPort", static_cast<int>(spec.skylet_port));
  Json ports = Json::array();
  ports.push_back(std::move(port));
  container.set("ports", std::move(ports));
  container.set("resources", std::move(resources));
  if (!spec.capabilities.empty()) {
    Json added = Json::array();
    for (const auto& capability : spec.capabilities) added.push_back(capability);
    Json capabilities = Json::object();
    capabilities.set("add", std::move(added));
    Json security = Json::object();
    security.set("capabilities", std::move(capabilities));
    container.set("securityContext", std::move(security));
  }
  if (!spec.environment.empty()) {
    Json env = Json::array();
    for (const auto& [name, value] : spec.environment) {
      Json variable = Json::object();
      variable.set("name", name);
      variable.set("value", value);
      env.push_back(std::move(variable));
    }
    container.set("env", std::move(env));
  }

  Json pod_spec = Json::object();
  pod_spec.set("restartPolicy", "Never");
  pod_spec.set("automountServiceAccountToken", false);
  pod_spec.set("terminationGracePeriodSeconds", 10);
  if (!spec.accelerator_name.empty() && spec.accelerator_count > 0) {
    // SkyPilot's node label for a GPU type: the pod lands on the GPUs it asked for.
    Json selector = Json::object();
    std::string lower;
    for (char c : spec.accelerator_name)
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    selector.set("skypilot.co/accelerator", lower);
    pod_spec.set("nodeSelector", std::move(selector));
  }
  Json volumes = Json::array();
  Json node_mounts = Json::array();
  auto add_volume = [&](Json volume, Json mount) {
    volumes.push_back(std::move(volume));
    node_mounts.push_back(std::move(mount));
  };
  if (!spec.skylet_image.empty()) {
    // The task's image lacks skylet: an init container copies it into a volume the node's
    // container runs it from.
    Json mount = Json::object();
    mount.set("name", "skyd-bin");
    mount.set("mountPath", "/skyd-bin");
    Json init = Json::object();
    init.set("name", "skylet-install");
    init.set("image", spec.skylet_image);
    Json init_command = Json::array();
    init_command.push_back("/bin/sh");
    init_command.push_back("-c");
    init_command.push_back("cp /opt/skyd/bin/skylet /skyd-bin/skylet");
    init.set("command", std::move(init_command));
    Json init_mounts = Json::array();
    init_mounts.push_back(mount);
    init.set("volumeMounts", std::move(init_mounts));
    Json inits = Json::array();
    inits.push_back(std::move(init));
    pod_spec.set("initContainers", std::move(inits));
    Json node_mount = Json::object();
    node_mount.set("name", "skyd-bin");
    node_mount.set("mountPath", "/opt/skyd/bin");
    Json volume = Json::object();
    volume.set("name", "skyd-bin");
    volume.set("emptyDir", Json::object());
    add_volume(std::move(volume), std::move(node_mount));
  }
  for (std::size_t n = 0; n < spec.volumes.size(); ++n) {
    const auto& wanted = spec.volumes[n];
    const std::string name = "volume-" + std::to_string(n);
    Json claim = Json::object();
    claim.set("claimName", wanted.claim);
    Json volume = Json::object();
    volume.set("name", name);
    volume.set("persistentVolumeClaim", std::move(claim));
    Json mount = Json::object();
    mount.set("name", name);
    mount.set("mountPath", wanted.path);
    if (!wanted.sub_path.empty()) mount.set("subPath", wanted.sub_path);
    add_volume(std::move(volume), std::move(mount));
  }
  if (!volumes.as_array()->empty()) {
    container.set("volumeMounts", std::move(node_mounts));
    pod_spec.set("volumes", std::move(volumes));
  }
  Json containers = Json::array();
  containers.push_back(std::move(container));
  pod_spec.set("containers", std::move(containers));

  return v1_object("Pod", std::move(metadata), std::move(pod_spec));
}

Json v1_object(const std::string& kind, Json metadata, Json spec) {
  Json object = Json::object();
  object.set("apiVersion", "v1");
  object.set("kind", kind);
  object.set("metadata", std::move(metadata));
  object.set("spec", std::move(spec));
  return object;
}

std::string render_pod_boot(const SkyletBoot& boot) {
  std::string out =
      "set -eu\n"
      "# skyd node bootstrap: start skylet with the cluster's token and certificate.\n"
      "export HOME=${HOME:-/root}\n"
      "mkdir -p /opt/skyd/work\n"
      "chmod 700 /opt/skyd /opt/skyd/work\n"
      "umask 077\n";
  append_file(out, "/opt/skyd/token", "SKYD_TOKEN", boot.token);
  const bool tls = !boot.certificate.certificate_pem.empty();
  if (tls) {
    append_file(out, "/opt/skyd/skylet.crt", "SKYD_CERT", boot.certificate.certificate_pem);
    append_file(out, "/opt/skyd/skylet.key", "SKYD_KEY", boot.certificate.private_key_pem);
  }
  out += "exec /opt/skyd/bin/skylet --listen 0.0.0.0:" + std::to_string(boot.port) +
         " --token-file /opt/skyd/token --work-dir /opt/skyd/work";
  if (tls) out += " --tls-cert /opt/skyd/skylet.crt --tls-key /opt/skyd/skylet.key";
  if (!boot.notice_signal.empty()) out += " --notice-signal " + boot.notice_signal;
  out += "\n";
  return out;
}

PodPhase parse_phase(std::string_view phase) {
  if (phase == "Pending") return PodPhase::kPending;
  if (phase == "Running") return PodPhase::kRunning;
  if (phase == "Succeeded") return PodPhase::kSucceeded;
  if (phase == "Failed") return PodPhase::kFailed;
  return PodPhase::kUnknown;
}

Result<Pod> parse_pod(const Json& json) {
  const Json* metadata = json.find("metadata");
  if (!metadata || !metadata->as_object())
    return make_error(ProviderErrc::kTransient, "a pod without metadata");
  Pod pod;
  pod.name = string_at(*metadata, "name");
  pod.namespace_ = string_at(*metadata, "namespace");
  pod.labels = string_map(metadata->find("labels"));
  pod.annotations = string_map(metadata->find("annotations"));
  const Json* deletion = metadata->find("deletionTimestamp");
  pod.deleting = deletion && !deletion->is_null();
  if (const Json* status = json.find("status"); status && status->as_object()) {
    pod.phase = parse_phase(string_at(*status, "phase"));
    pod.pod_ip = string_at(*status, "podIP");
    pod.reason = string_at(*status, "reason");
    pod.message = string_at(*status, "message");
    if (const Json* conditions = status->find("conditions"); conditions && conditions->as_array()) {
      for (const auto& condition : *conditions->as_array()) {
        const std::string type = string_at(condition, "type");
        const std::string value = string_at(condition, "status");
        if (type == "Ready" && value == "True") pod.ready = true;
        if (type == "PodScheduled" && value == "False" &&
            string_at(condition, "reason") == "Unschedulable") {
          pod.unschedulable = true;
          if (pod.message.empty()) pod.message = string_at(condition, "message");
        }
      }
    }
  }
  if (pod.name.empty()) return make_error(ProviderErrc::kTransient, "a pod without a name");
  return pod;
}

Result<std::vector<Pod>> parse_pod_list(std::string_view text) {
  auto json = parse_json(text);
  if (!json) return make_error(ProviderErrc::kTransient, "a pod list that is not JSON");
  if (string_at(*json, "kind") != "PodList")
    return make_error(ProviderErrc::kTransient,
                      "expected kind PodList, got `" + string_at(*json, "kind") + "`");
  std::vector<Pod> pods;
  if (const Json* items = json->find("items"); items && items->as_array()) {
    for (const auto& item : *items->as_array()) {
      auto pod = parse_pod(item);
      if (!pod) return pod.error();
      pods.push_back(std::move(*pod));
    }
  }
  return pods;
}

std::string status_reason(std::string_view body) {
  auto json = parse_json(body);
  if (!json || string_at(*json, "kind") != "Status") return "";
  return string_at(*json, "reason");
}

Error classify_status(int http_status, std::string_view body) {
  std::string message(body.substr(0, 300));
  if (auto json = parse_json(body); json && string_at(*json, "kind") == "Status") {
    message = string_at(*json, "message");
    if (const std::string reason = string_at(*json, "reason"); !reason.empty())
      message = reason + ": " + message;
  }
  const std::string detail = "Kubernetes API " + std::to_string(http_status) + ": " + message;
  if (http_status == 401 ||
      (http_status == 403 && message.find("exceeded quota") == std::string::npos))
    return make_error(ProviderErrc::kAuth, detail);
  if (http_status == 403) return make_error(ProviderErrc::kQuota, detail);
  if (http_status == 404) return make_error(ProviderErrc::kNotFound, detail);
  if (http_status == 429) return make_error(ProviderErrc::kThrottled, detail);
  if (http_status >= 500) return make_error(ProviderErrc::kTransient, detail);
  return make_error(ProviderErrc::kInvalid, detail);
}

std::string pods_path(std::string_view namespace_) {
  return "/api/v1/namespaces/" + http::percent_encode(namespace_) + "/pods";
}

std::string pod_path(std::string_view namespace_, std::string_view name) {
  return pods_path(namespace_) + "/" + http::percent_encode(name);
}

std::string selector_query(const std::map<std::string, std::string>& labels) {
  std::string selector;
  for (const auto& [key, value] : labels)
    selector += (selector.empty() ? "" : ",") + key + "=" + value;
  return "labelSelector=" + http::percent_encode(selector);
}

}  // namespace skyd::providers::kubernetes
