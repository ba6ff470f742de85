#include "providers/kubernetes/kubeconfig.hpp"

#include "providers/kubernetes/kube_api.hpp"
#include "providers/provider.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace skyd::providers::kubernetes {
namespace {

Error invalid(const std::string& file, const std::string& what) {
  return make_error(ProviderErrc::kAuth, "kubeconfig " + file + ": " + what);
}

// The `name`d entry of a list such as `clusters:`, its value under `field`.
YAML::Node named_entry(const YAML::Node& root, const char* list, const std::string& name,
                       const char* field) {
  const YAML::Node entries = root[list];
  if (!entries || !entries.IsSequence()) return YAML::Node();
  for (const auto& entry : entries) {
    if (entry.IsMap() && entry["name"] && entry["name"].as<std::string>("") == name)
      return entry[field];
  }
  return YAML::Node();
}

std::string text_of(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap() || !node[key] || !node[key].IsScalar()) return "";
  return node[key].as<std::string>("");
}

}  // namespace

Result<KubeAccess> parse_kubeconfig(
    std::string_view text, const std::string& file, const std::string& context,
    const std::function<Result<std::string>(const std::string&)>& read_file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return invalid(file, std::string("not YAML: ") + e.what());
  }
  if (!root.IsMap()) return invalid(file, "expected a mapping (apiVersion, clusters, ...)");
  KubeAccess access;
  access.file = file;
  access.context = context.empty() ? text_of(root, "current-context") : context;
  if (access.context.empty())
    return invalid(file, "current-context is not set and no context was named");
  const YAML::Node ctx = named_entry(root, "contexts", access.context, "context");
  if (!ctx || !ctx.IsMap())
    return invalid(file, "contexts: no context named `" + access.context + "`");
  const std::string cluster_name = text_of(ctx, "cluster");
  const std::string user_name = text_of(ctx, "user");
  if (const std::string ns = text_of(ctx, "namespace"); !ns.empty()) access.namespace_ = ns;
  const YAML::Node cluster = named_entry(root, "clusters", cluster_name, "cluster");
  if (!cluster || !cluster.IsMap())
    return invalid(file, "clusters: no cluster named `" + cluster_name + "` (context `" +
                             access.context + "`)");
  access.server = text_of(cluster, "server");
  if (!access.server.starts_with("https://"))
    return invalid(file, "clusters[" + cluster_name + "].server: expected an https:// URL, got `" +
                             access.server + "`");
  if (cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>(false))
    return invalid(file, "clusters[" + cluster_name +
                             "].insecure-skip-tls-verify: skyd always verifies the API server");
  if (const std::string data = text_of(cluster, "certificate-authority-data"); !data.empty()) {
    auto pem = base64_decode(data);
    if (!pem || pem->find("BEGIN CERTIFICATE") == std::string::npos)
      return invalid(file, "clusters[" + cluster_name +
                               "].certificate-authority-data: not a base64 PEM certificate");
    access.ca_pem = std::move(*pem);
  } else if (const std::string path = text_of(cluster, "certificate-authority"); !path.empty()) {
    auto pem = read_file(path);
    if (!pem)
      return invalid(file,
                     "clusters[" + cluster_name + "].certificate-authority: " + pem.error().detail);
    access.ca_pem = std::move(*pem);
  }
  const YAML::Node user = named_entry(root, "users", user_name, "user");
  if (!user || !user.IsMap())
    return invalid(file,
                   "users: no user named `" + user_name + "` (context `" + access.context + "`)");
  const std::string where = "users[" + user_name + "].";
  for (const char* field :
       {"client-certificate-data", "client-certificate", "client-key-data", "client-key"}) {
    if (user[field])
      return invalid(file, where + field +
                               ": client certificate authentication is not supported by skyd; "
                               "use a bearer token (user.token)");
  }
  if (user["exec"])
    return invalid(file, where +
                             "exec: credential plugins are not supported by skyd; use a bearer "
                             "token (user.token), e.g. a service account's");
  if (user["auth-provider"])
    return invalid(file, where + "auth-provider: not supported by skyd; use user.token");
  if (user["username"] || user["password"])
    return invalid(file, where +
                             "username/password: basic authentication is not supported by "
                             "skyd; use user.token");
  access.token = text_of(user, "token");
  if (access.token.empty()) {
    if (const std::string path = text_of(user, "tokenFile"); !path.empty()) {
      auto token = read_file(path);
      if (!token) return invalid(file, where + "tokenFile: " + token.error().detail);
      access.token = std::move(*token);
      while (!access.token.empty() && (access.token.back() == '\n' || access.token.back() == ' '))
        access.token.pop_back();
    }
  }
  if (access.token.empty())
    return invalid(file, where + "token: the user has no bearer token (user.token or tokenFile)");
  return access;
}

std::string kubeconfig_path(const std::string& configured,
                            const std::function<std::optional<std::string>(const char*)>& env) {
  if (!configured.empty()) return configured;
  if (auto list = env("KUBECONFIG"); list && !list->empty())
    return list->substr(0, list->find(':'));
  if (auto home = env("HOME"); home && !home->empty()) return *home + "/.kube/config";
  return "";
}

Result<KubeAccess> load_kubeconfig(const std::string& path, const std::string& context) {
  auto read = [](const std::string& name) -> Result<std::string> {
    std::ifstream in(name);
    if (!in) return make_error(ProviderErrc::kAuth, "cannot read " + name);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  auto text = read(path);
  if (!text) return invalid(path, "cannot be read");
  return parse_kubeconfig(*text, path, context, read);
}

}  // namespace skyd::providers::kubernetes
