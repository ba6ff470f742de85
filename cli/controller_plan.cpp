#include "cli/controller_plan.hpp"
#include "reactor/shell_quote.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <limits>
#include <set>

namespace skyd::cli {
namespace {

struct Bound {
  double value = 0;
  bool at_least = false;
  bool per_cpu = false;  // memory "4x"
};

std::optional<Bound> parse_bound(std::string text, bool allow_per_cpu) {
  Bound bound;
  if (!text.empty() && text.back() == '+') {
    bound.at_least = true;
    text.pop_back();
  } else if (allow_per_cpu && !text.empty() && text.back() == 'x') {
    bound.per_cpu = true;
    bound.at_least = true;
    text.pop_back();
  }
  char* end = nullptr;
  bound.value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || bound.value <= 0) return std::nullopt;
  return bound;
}

bool fits(const Bound& bound, double have, double per = 1) {
  const double want = bound.per_cpu ? bound.value * per : bound.value;
  return bound.at_least ? have >= want : have == want;
}

}  // namespace

Result<void> read_controller_config(const std::string& file, const std::string& text,
                                    ControllerResources& resources) {
  const std::string where = file + ": jobs.controller";
  try {
    const YAML::Node root = YAML::Load(text);
    const YAML::Node controller = root["jobs"] ? root["jobs"]["controller"] : YAML::Node();
    if (!controller) return {};
    if (controller["instance_profile"])
      resources.instance_profile = controller["instance_profile"].as<std::string>();
    const YAML::Node wanted = controller["resources"];
    if (!wanted) return {};
    if (!wanted.IsMap()) return invalid_argument(where + ".resources: expected a mapping");
    for (const auto& entry : wanted) {
      const std::string key = entry.first.as<std::string>();
      const std::string at = where + ".resources." + key + ": ";
      const std::string value = entry.second.IsScalar() ? entry.second.as<std::string>() : "";
      if (key == "cloud") {
        if (value != "aws") return invalid_argument(at + "the controller runs on aws only");
      } else if (key == "infra") {
        if (value != "aws" && value.rfind("aws/", 0) != 0)
          return invalid_argument(at + "expected aws or aws/REGION");
        if (value.size() > 4) resources.region = value.substr(4);
      } else if (key == "region") {
        resources.region = value;
      } else if (key == "instance_type") {
        resources.instance_type = value;
      } else if (key == "cpus") {
        if (!parse_bound(value, false)) return invalid_argument(at + "expected N or N+");
        resources.cpus = value;
      } else if (key == "memory") {
        if (!parse_bound(value, true)) return invalid_argument(at + "expected N, N+ or Nx");
        resources.memory = value;
      } else if (key == "disk_size") {
        const int size = entry.second.as<int>();
        if (size < 8 || size > 16384) return invalid_argument(at + "expected 8 to 16384 (GB)");
        resources.disk_size_gb = size;
      } else if (key == "use_spot") {
        if (entry.second.as<bool>())
          return invalid_argument(at + "the controller is on-demand (a spot one could vanish)");
      } else {
        return invalid_argument(at +
                                "not a setting sky controller up knows (cloud, infra, "
                                "region, instance_type, cpus, memory, disk_size)");
      }
    }
  } catch (const YAML::Exception& error) {
    return invalid_argument(file + ": " + error.what());
  }
  return {};
}

Result<std::string> pick_instance_type(const catalog::Catalog& catalog,
                                       const ControllerResources& resources) {
  const auto cpus = parse_bound(resources.cpus, false);
  const auto memory = parse_bound(resources.memory, true);
  if (!cpus || !memory) return invalid_argument("cpus or memory cannot be read");
  std::string best;
  double best_price = std::numeric_limits<double>::infinity();
  for (const auto& offering : catalog.offerings()) {
    if (offering.cloud != "aws" || offering.region != resources.region ||
        offering.has_accelerator() || !offering.price)
      continue;
    if (!fits(*cpus, offering.vcpus) || !fits(*memory, offering.memory_gb, offering.vcpus))
      continue;
    if (*offering.price < best_price ||
        (*offering.price == best_price && offering.instance_type < best)) {
      best = offering.instance_type;
      best_price = *offering.price;
    }
  }
  if (best.empty()) {
    return invalid_argument("no AWS instance type in " + resources.region + " has cpus " +
                            resources.cpus + " and memory " + resources.memory +
                            " (pass --instance-type)");
  }
  return best;
}

Result<std::string> controller_user_data(const ControllerBoot& boot) {
  for (const std::string* value :
       {&boot.package_url, &boot.ssh_user, &boot.ssh_public_key, &boot.region}) {
    if (value->find('\n') != std::string::npos || value->find('\'') != std::string::npos)
      return invalid_argument("a controller setting holds a newline or a quote: " + *value);
  }
  std::string script = "#!/bin/bash\n# skyd controller VM (sky controller up)\nset -euo pipefail\n";
  script += "user=" + single_quoted(boot.ssh_user) + "\n";
  script += "key=" + single_quoted(boot.ssh_public_key) + "\n";
  script += "package_url=" + single_quoted(boot.package_url) + "\n";
  script += "region=" + single_quoted(boot.region) + "\n";
  script +=
      "home=$(getent passwd \"$user\" | cut -d: -f6)\n"
      "install -d -m 0700 -o \"$user\" -g \"$user\" \"$home/.ssh\"\n"
      "grep -qxF \"$key\" \"$home/.ssh/authorized_keys\" 2>/dev/null ||\n"
      "  echo \"$key\" >>\"$home/.ssh/authorized_keys\"\n"
      "chown \"$user:$user\" \"$home/.ssh/authorized_keys\"\n"
      "chmod 0600 \"$home/.ssh/authorized_keys\"\n"
      "export DEBIAN_FRONTEND=noninteractive\n"
      "apt-get update -q\n"
      "apt-get install -y -q curl ca-certificates\n"
      "curl -fsSL --retry 5 -o /tmp/skyd.deb \"$package_url\"\n"
      "apt-get install -y -q /tmp/skyd.deb\n"
      "if ! grep -q '^[a-z]' /etc/skyd/config.yaml 2>/dev/null; then\n"
      "  printf 'aws_enabled: true\\naws_regions: \"%s\"\\n' \"$region\" >/etc/skyd/config.yaml\n"
      "fi\n"
      "usermod -aG skyd \"$user\"\n"
      "systemctl enable --now skyd.socket skyd.service\n";
  return script;
}

}  // namespace skyd::cli
