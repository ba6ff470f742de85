#include "cli/volumes_command.hpp"

#include "cli/jobs_commands.hpp"
#include "cli/replies.hpp"
#include "cli/table.hpp"
#include "daemon/spec/names.hpp"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <iostream>
#include <set>
#include <stdexcept>

namespace skyd::cli {
namespace {

constexpr const char* kUsage =
    "usage: sky volumes apply [-y] VOLUME.yaml\n"
    "       sky volumes ls [-o table|json]\n"
    "       sky volumes delete [-y] NAME...\n"
    "\n"
    "Volumes are PersistentVolumeClaims in the Kubernetes namespace skyd uses; a task mounts\n"
    "one with `volumes: {/mnt/data: NAME}`. `apply` makes the claim a volume YAML describes\n"
    "(name, type: k8s-pvc, infra: k8s, size, config: {storage_class_name, access_mode}), or with\n"
    "`use_existing: true` checks that a claim of that name is there. `ls` lists the namespace's\n"
    "claims and the pods that mount them. `delete` deletes a claim `apply` made, once no pod\n"
    "mounts it.\n"
    "\n"
    "options:\n"
    "  -o, --output table|json  ls: how to print (default table)\n"
    "  -y, --yes                apply, delete: do not ask\n"
    "  -h, --help               this text\n";

// A mistake in the volume YAML, at its place.
struct YamlError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& file, const YAML::Node& node, const std::string& field,
                       const std::string& message) {
  const YAML::Mark mark = node.Mark();
  std::string where = file;
  if (mark.line >= 0)
    where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  throw YamlError(where + ": " + field + ": " + message);
}

std::string scalar(const std::string& file, const YAML::Node& node, const std::string& field) {
  if (!node.IsScalar()) fail(file, node, field, "expected a string");
  return node.Scalar();
}

void check_keys(const std::string& file, const YAML::Node& map, const std::string& where,
                const std::set<std::string>& known) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (!known.contains(key))
      fail(file, it->first, where + key, "unknown field `" + key + "` of a volume YAML");
  }
}

Json parse_volume(const std::string& file, const YAML::Node& root) {
  if (!root.IsMap()) fail(file, root, "volume", "expected a mapping (name, type, infra, size)");
  check_keys(file, root, "", {"name", "type", "infra", "size", "use_existing", "labels", "config"});
  Json body = Json::object();
  const YAML::Node name = root["name"];
  if (!name || name.IsNull()) fail(file, root, "name", "a volume needs a name");
  body.set("name", scalar(file, name, "name"));
  if (const YAML::Node type = root["type"]; type && !type.IsNull()) {
    const std::string text = scalar(file, type, "type");
    if (text != "k8s-pvc")
      fail(file, type, "type",
           "`" + text + "`: skyd's volumes are Kubernetes claims (k8s-pvc); it makes no " + text);
  }
  if (const YAML::Node infra = root["infra"]; infra && !infra.IsNull()) {
    const std::string text = scalar(file, infra, "infra");
    const std::size_t slash = text.find('/');
    const std::string cloud = text.substr(0, slash);
    if (cloud != "k8s" && cloud != "kubernetes")
      fail(file, infra, "infra", "`" + text + "`: skyd's volumes are on kubernetes (k8s)");
    if (slash != std::string::npos) body.set("context", text.substr(slash + 1));
  }
  bool use_existing = false;
  if (const YAML::Node existing = root["use_existing"]; existing && !existing.IsNull()) {
    const std::string text = scalar(file, existing, "use_existing");
    if (text != "true" && text != "false")
      fail(file, existing, "use_existing", "expected true or false");
    use_existing = text == "true";
  }
  body.set("use_existing", use_existing);
  // An existing claim is mounted as it is: what would make a new one cannot apply to it.
  const YAML::Node config = root["config"];
  for (const auto& [node, field] :
       {std::pair{root["size"], "size"},
        {root["labels"], "labels"},
        {config ? config["storage_class_name"] : YAML::Node(), "config.storage_class_name"},
        {config ? config["access_mode"] : YAML::Node(), "config.access_mode"}}) {
    if (use_existing && node && !node.IsNull())
      fail(file, node, field, "use_existing: true mounts the claim as it is; this sets nothing");
  }
  if (const YAML::Node size = root["size"]; size && !size.IsNull()) {
    std::string text = scalar(file, size, "size");
    // A bare number is GiB, as SkyPilot reads it.
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) text += "Gi";
    body.set("size", text);
  } else if (!use_existing) {
    fail(file, root, "size", "a new volume needs a size (size: 10Gi)");
  }
  if (const YAML::Node labels = root["labels"]; labels && !labels.IsNull()) {
    if (!labels.IsMap()) fail(file, labels, "labels", "expected a mapping KEY: VALUE");
    Json values = Json::object();
    for (auto it = labels.begin(); it != labels.end(); ++it)
      values.set(it->first.Scalar(), scalar(file, it->second, "labels." + it->first.Scalar()));
    body.set("labels", std::move(values));
  }
  if (const YAML::Node config = root["config"]; config && !config.IsNull()) {
    if (!config.IsMap()) fail(file, config, "config", "expected a mapping");
    check_keys(file, config, "config.", {"namespace", "storage_class_name", "access_mode"});
    for (const auto& [key, field] : {std::pair{"namespace", "namespace"},
                                     {"storage_class_name", "storage_class"},
                                     {"access_mode", "access_mode"}}) {
      const YAML::Node value = config[key];
      if (value && !value.IsNull())
        body.set(field, scalar(file, value, std::string("config.") + key));
    }
  }
  return body;
}

int apply(const std::vector<std::string>& args, const std::string& socket) {
  bool yes = false;
  std::string file;
  for (const auto& arg : args) {
    if (arg == "-y" || arg == "--yes") {
      yes = true;
    } else if (arg.starts_with("-") || !file.empty()) {
      return usage_error("unexpected '" + arg + "'", kUsage);
    } else {
      file = arg;
    }
  }
  if (file.empty()) return usage_error("give the volume YAML", kUsage);
  auto body = read_volume_yaml(file);
  if (!body) {
    std::cerr << "Error: " << body.error().detail << "\n";
    return 1;
  }
  const std::string name = text(*body, "name");
  if (!yes && !confirm("Proceed to create volume '" + name + "'?")) return 0;
  DaemonClient client(socket);
  auto reply = call_json(client, "POST", "/v1/volumes", body->dump());
  if (!reply) {
    std::cerr << "Error: " << reply.error().detail << "\n";
    return 1;
  }
  const std::string where =
      "namespace " + text(*reply, "namespace") + " of context " + text(*reply, "context");
  if (text(*reply, "outcome") == "existing") {
    std::cout << "Volume " << name << " is the existing PersistentVolumeClaim " << name << " in "
              << where << ".\n";
  } else {
    std::cout << "Created volume " << name << ": PersistentVolumeClaim " << name << " ("
              << text(*reply, "size") << ", " << text(*reply, "access_mode") << ") in " << where
              << ".\n";
  }
  return 0;
}

int ls(const std::vector<std::string>& args, const std::string& socket) {
  int failed = 0;
  const auto wants_json = json_output_of(args, kUsage, failed);
  if (!wants_json) return failed;
  DaemonClient client(socket);
  const auto reply = listing(client, "/v1/volumes", "volumes", *wants_json, "volumes", failed);
  if (!reply) return failed;
  const Json::Array& volumes = *reply->find("volumes")->as_array();
  const std::string infra = "Kubernetes/" + text(*reply, "context");
  Table table({"NAME", "TYPE", "INFRA", "SIZE", "ACCESS_MODE", "USER", "STATUS", "USED_BY"});
  for (const Json& volume : volumes) {
    std::string modes;
    std::string used_by;
    if (const Json* list = volume.find("access_modes"); list && list->as_array())
      for (const auto& mode : *list->as_array())
        modes += (modes.empty() ? "" : ",") + std::string(mode.as_string().value_or(""));
    if (const Json* pods = volume.find("used_by"); pods && pods->as_array())
      for (const auto& pod : *pods->as_array())
        used_by += (used_by.empty() ? "" : ",") + std::string(pod.as_string().value_or(""));
    const Json* made = volume.find("made_by_skyd");
    const bool by_skyd = made && made->as_bool().value_or(false);
    std::string status = used_by.empty() ? to_upper(text(volume, "phase")) : "IN_USE";
    if (status == "BOUND") status = "READY";
    table.add_row({text(volume, "name"), "k8s-pvc", infra, text(volume, "size", "-"),
                   modes.empty() ? "-" : modes, by_skyd ? text(volume, "owner", "-") : "(existing)",
                   status, used_by.empty() ? "-" : used_by});
  }
  std::cout << table.render();
  return 0;
}

int remove(const std::vector<std::string>& args, const std::string& socket) {
  std::vector<std::string> names;
  bool yes = false;
  for (const auto& arg : args) {
    if (arg == "-y" || arg == "--yes") {
      yes = true;
    } else if (arg.starts_with("-")) {
      return usage_error("unknown option '" + arg + "'", kUsage);
    } else {
      names.push_back(arg);
    }
  }
  if (names.empty()) return usage_error("give the volumes' names", kUsage);
  for (const auto& name : names)
    if (!spec::is_claim_name(name))
      return usage_error("`" + name + "` is not a volume's name (a claim's name)", kUsage);
  if (!yes) {
    std::string listed;
    for (const auto& name : names) listed += (listed.empty() ? "" : ", ") + name;
    if (!confirm("Proceed to delete volume " + listed + "?")) return 0;
  }
  DaemonClient client(socket);
  int failed = 0;
  for (const auto& name : names) {
    auto reply = call_json(client, "DELETE", "/v1/volumes/" + name);
    if (!reply) {
      std::cerr << "Error: " << name << ": " << reply.error().detail << "\n";
      ++failed;
      continue;
    }
    std::cout << "Deleted volume " << name << ".\n";
  }
  return failed == 0 ? 0 : 1;
}

}  // namespace

Result<Json> read_volume_yaml(const std::string& path) {
  try {
    return parse_volume(path, YAML::LoadFile(path));
  } catch (const YamlError& error) {
    return make_error(boost::system::errc::make_error_code(boost::system::errc::invalid_argument),
                      error.what());
  } catch (const YAML::Exception& error) {
    return make_error(boost::system::errc::make_error_code(boost::system::errc::invalid_argument),
                      path + ": " + error.what());
  }
}

int volumes_command(const std::vector<std::string>& args, const std::string& socket) {
  if (auto code = subcommand_usage(args, kUsage)) return *code;
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "apply") return apply(rest, socket);
  if (args[0] == "ls") return ls(rest, socket);
  if (args[0] == "delete") return remove(rest, socket);
  return usage_error("unknown volumes command '" + args[0] + "'", kUsage);
}

}  // namespace skyd::cli
