#pragma once
// A kubeconfig (~/.kube/config, KUBECONFIG, or the path skyd's config names) read for one
// context: the API server's URL, the CA its certificate is pinned to (certificate-authority-data
// or certificate-authority), the bearer token (user.token or user.tokenFile) and the namespace.
// Authentication methods skyd does not implement (client certificates, exec plugins,
// auth-provider, basic auth) and insecure-skip-tls-verify are refused by the field's name.

#include "reactor/error.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace skyd::providers::kubernetes {

struct KubeAccess {
  std::string context;  // the context's name
  std::string server;   // https://host:port
  std::string ca_pem;   // the only CA trusted for the server
  std::string token;    // the bearer token
  std::string namespace_ = "default";
  std::string file;  // the kubeconfig it came from (for errors)
};

// Parses a kubeconfig's text for `context` (empty: its current-context). `file` names it in
// errors; `read_file` reads the files it refers to (certificate-authority, tokenFile).
Result<KubeAccess> parse_kubeconfig(
    std::string_view text, const std::string& file, const std::string& context,
    const std::function<Result<std::string>(const std::string&)>& read_file);

// Where the kubeconfig is: `configured` when set, else the first path of KUBECONFIG, else
// $HOME/.kube/config. Empty when none of those names one.
std::string kubeconfig_path(const std::string& configured,
                            const std::function<std::optional<std::string>(const char*)>& env);

// Reads and parses the file (a blocking read of a small file: call it at start-up).
Result<KubeAccess> load_kubeconfig(const std::string& path, const std::string& context);

}  // namespace skyd::providers::kubernetes
