#include "cli/controller_command.hpp"

#include "cli/catalog_command.hpp"
#include "cli/contexts.hpp"
#include "cli/controller_plan.hpp"
#include "cli/daemon_client.hpp"
#include "providers/aws/aws_provider.hpp"
#include "reactor/crypto.hpp"
#include "reactor/http_client.hpp"
#include "reactor/json.hpp"
#include "reactor/sleep.hpp"
#include "reactor/small_files.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <regex>

namespace skyd::cli {
namespace aws = providers::aws;
namespace {

constexpr std::string_view kUsage =
    "usage: sky controller up [--infra aws/REGION] [--instance-type T] [--disk-size GB]\n"
    "                         [--name NAME] [--ssh-cidr CIDR] [--ssh-user USER]\n"
    "                         [--ssh-key FILE.pub] [--package-url URL]\n"
    "       sky controller down [--name NAME] [--purge]\n"
    "\n"
    "up: launches one on-demand EC2 instance that installs skyd's Debian package at first boot\n"
    "and runs it under systemd, with the instance profile jobs.controller.instance_profile\n"
    "(default skyd-controller) and a security group admitting SSH from CIDR (default: this\n"
    "machine's public address, asked of checkip.amazonaws.com); records the context NAME\n"
    "(default controller) as ssh://USER@PUBLIC-IP. Resources: the flags, else\n"
    "jobs.controller.resources in ~/.sky/config.yaml, else cpus 4+, memory 4x, 50 GB.\n"
    "Running it again finds the instance it made. --package-url (or SKYD_PACKAGE_URL) is where\n"
    "the VM downloads skyd_<version>_amd64.deb.\n"
    "\n"
    "down: refuses while the controller has open jobs (or cannot be asked) unless --purge;\n"
    "terminates the instance, deletes its security group and removes the context.\n";

constexpr const char* kDebianImage = "resolve:ssm:/aws/service/debian/release/12/latest/amd64";

int usage_error(const std::string& message) {
  std::cerr << "sky: " << message << "\n\n" << kUsage;
  return 2;
}

// A controller's name is a context's name and part of a file name: no paths, no spaces.
bool valid_name(const std::string& name) {
  static const std::regex pattern("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}");
  return std::regex_match(name, pattern);
}

std::string home() {
  const char* value = std::getenv("HOME");
  return value && *value ? value : ".";
}

// ~/.sky/controllers/NAME.json: what `up` made, written before each create call.
struct ControllerState {
  std::string name;
  std::string region;
  std::string client_token;
  std::string group_id;
  std::string instance_id;
};

std::string state_file(const std::string& name) {
  return home() + "/.sky/controllers/" + name + ".json";
}

Result<std::optional<ControllerState>> load_state(const std::string& name) {
  const std::string path = state_file(name);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<ControllerState>();
  auto json = parse_json(read_small_file(path));
  if (!json || !json->is_object()) return invalid_argument(path + ": not a JSON object");
  auto text = [&](const char* key) {
    const Json* value = json->find(key);
    return value && value->as_string() ? std::string(*value->as_string()) : std::string();
  };
  return std::optional<ControllerState>(ControllerState{name, text("region"), text("client_token"),
                                                        text("group_id"), text("instance_id")});
}

Result<void> save_state(const ControllerState& state) {
  Json root = Json::object();
  root.set("region", state.region);
  root.set("client_token", state.client_token);
  root.set("group_id", state.group_id);
  root.set("instance_id", state.instance_id);
  const std::string path = state_file(state.name);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return invalid_argument("cannot make the folder of " + path + ": " + ec.message());
  return write_small_file(path, root.dump() + "\n");
}

template <typename T>
T run_to_end(Task<T> task) {
  asio::io_context context(1);
  auto future = asio::co_spawn(context, std::move(task), asio::use_future);
  context.run();
  return future.get();
}

struct UpOptions {
  std::string name = "controller";
  ControllerResources resources;
  bool region_flag = false;
  std::string ssh_cidr;
  std::string ssh_user = "admin";
  std::string ssh_key_file;
  std::string package_url;
};

aws::AwsProviderOptions provider_options(const std::string& region) {
  aws::AwsProviderOptions options;
  options.default_region = region;
  options.regions = {region};
  options.poll_interval = std::chrono::milliseconds(500);
  return options;
}

// This machine's public address as AWS sees it, as a /32.
Task<Result<std::string>> discover_cidr() {
  http::Client client(co_await asio::this_coro::executor);
  auto endpoint = http::Endpoint::parse("https://checkip.amazonaws.com/");
  if (!endpoint) co_return endpoint.error();
  http::Request request;
  auto answer = co_await client.request(*endpoint, std::move(request), {std::chrono::seconds(10)});
  if (!answer) co_return answer.error();
  std::string ip = answer->body;
  while (!ip.empty() && std::isspace(static_cast<unsigned char>(ip.back()))) ip.pop_back();
  if (answer->status != 200 || ip.empty() || ip.find_first_not_of("0123456789.") != ip.npos)
    co_return invalid_argument("checkip.amazonaws.com gave no IPv4 address (pass --ssh-cidr)");
  co_return ip + "/32";
}

// The controller's security group (found by its name, else made), admitting SSH from `cidr`.
Task<Result<std::string>> ssh_group(aws::AwsProvider& provider, std::string region,
                                    std::string name, std::string cidr) {
  const std::string group_name = "skyd-controller-" + name;
  std::vector<aws::Ec2Filter> by_name(1);
  by_name[0].name = "group-name";
  by_name[0].values.push_back(group_name);
  auto found = co_await provider.call(region, aws::build_describe_security_groups(by_name));
  if (!found) co_return found.error();
  auto groups = aws::parse_describe_security_groups(*found);
  if (!groups) co_return groups.error();
  std::string group_id;
  if (!groups->empty()) {
    group_id = groups->front().group_id;
  } else {
    std::map<std::string, std::string> tags;
    tags[std::string(aws::kRoleTag)] = std::string(aws::kControllerVmRole);
    const std::string description = "skyd controller " + name + ": SSH";
    auto made = co_await provider.call(
        region, aws::build_create_security_group(group_name, description, tags));
    if (!made) co_return made.error();
    auto id = aws::parse_create_security_group(*made);
    if (!id) co_return id.error();
    group_id = *id;
  }
  std::vector<providers::PortRange> ssh(1);
  ssh[0].first = ssh[0].last = 22;
  auto opened = co_await provider.call(region, aws::build_authorize_ingress(group_id, ssh, cidr));
  if (!opened && opened.error().detail.find("InvalidPermission.Duplicate") == std::string::npos)
    co_return opened.error();
  co_return group_id;
}

// The instance with this id, or the live one a RunInstances with this ClientToken made.
Task<Result<std::optional<aws::Ec2Instance>>> find_instance(aws::AwsProvider& provider,
                                                            ControllerState state) {
  std::vector<aws::Ec2Filter> filters(1);
  if (!state.instance_id.empty()) {
    filters[0].name = "instance-id";
    filters[0].values.push_back(state.instance_id);
  } else {
    filters[0].name = "client-token";
    filters[0].values.push_back(state.client_token);
  }
  auto found = co_await provider.describe_all(state.region, filters);
  if (!found) co_return found.error();
  for (const auto& instance : *found) {
    if (instance.state != aws::Ec2State::kTerminated &&
        instance.state != aws::Ec2State::kShuttingDown)
      co_return std::optional<aws::Ec2Instance>(instance);
  }
  co_return std::optional<aws::Ec2Instance>();
}

Task<Result<aws::Ec2Instance>> wait_for_public_address(aws::AwsProvider& provider,
                                                       ControllerState state) {
  const auto deadline = Clock::now() + std::chrono::minutes(10);
  for (;;) {
    auto found = co_await find_instance(provider, state);
    if (!found) co_return found.error();
    if (!*found) co_return invalid_argument("instance " + state.instance_id + " is gone");
    if ((*found)->state == aws::Ec2State::kRunning && !(*found)->public_ip.empty())
      co_return **found;
    if (Clock::now() > deadline)
      co_return invalid_argument("instance " + state.instance_id + " has no public address yet");
    co_await sleep_for(std::chrono::milliseconds(500));
  }
}

Task<Result<aws::Ec2Instance>> bring_up(UpOptions options, ControllerState state,
                                        std::string user_data) {
  aws::AwsProvider provider(co_await asio::this_coro::executor, provider_options(state.region));
  if (options.ssh_cidr.empty()) {
    auto discovered = co_await discover_cidr();
    if (!discovered) co_return discovered.error();
    options.ssh_cidr = *discovered;
    std::cout << "SSH is admitted from " << options.ssh_cidr << " (this machine's address)\n";
  }
  auto group = co_await ssh_group(provider, state.region, state.name, options.ssh_cidr);
  if (!group) co_return group.error();
  state.group_id = *group;
  if (auto saved = save_state(state); !saved) co_return saved.error();

  auto existing = co_await find_instance(provider, state);
  if (!existing) co_return existing.error();
  if (*existing) {
    std::cout << "Found controller instance " << (*existing)->instance_id << " ("
              << aws::to_string((*existing)->state) << ")\n";
  } else {
    if (!state.instance_id.empty()) {
      // What the saved token made is gone: a new instance needs a token of its own, saved first.
      state.instance_id.clear();
      state.client_token = "skyd-controller-" + random_hex(16);
      if (auto saved = save_state(state); !saved) co_return saved.error();
    }
    aws::RunInstancesInput input;
    input.image_id = kDebianImage;
    input.instance_type = options.resources.instance_type;
    input.client_token = state.client_token;
    input.user_data = user_data;
    input.security_group_ids.push_back(state.group_id);
    input.instance_profile = options.resources.instance_profile;
    input.tags[std::string(aws::kRoleTag)] = std::string(aws::kControllerVmRole);
    input.tags[std::string(aws::kNameTag)] = "skyd-controller-" + state.name;
    aws::BlockDeviceMapping root;
    root.device_name = "/dev/xvda";  // Debian's AMIs
    root.volume.size_gb = options.resources.disk_size_gb;
    root.volume.volume_type = "gp3";
    input.root_disk = root;
    auto made = co_await provider.call(state.region, aws::build_run_instances(input), 3);
    if (made) {
      auto reservation = aws::parse_run_instances(*made);
      if (!reservation) co_return reservation.error();
      if (reservation->instances.empty()) co_return invalid_argument("RunInstances made nothing");
      state.instance_id = reservation->instances.front().instance_id;
    } else {
      // The answer may be lost after EC2 made the instance: the token says what it made.
      auto made_by_token = co_await find_instance(provider, state);
      if (!made_by_token || !*made_by_token) co_return made.error();
      state.instance_id = (*made_by_token)->instance_id;
    }
    std::cout << "Launched controller instance " << state.instance_id << " ("
              << options.resources.instance_type << ", " << options.resources.disk_size_gb
              << " GB) in " << state.region << "\n";
  }
  if (*existing) state.instance_id = (*existing)->instance_id;
  if (auto saved = save_state(state); !saved) co_return saved.error();
  co_return co_await wait_for_public_address(provider, state);
}

Result<void> record_context(const std::string& name, const std::string& host,
                            const std::string& description) {
  auto store = load_contexts();
  if (!store) return store.error();
  bool replaced = false;
  for (auto& context : store->contexts) {
    if (context.name != name) continue;
    context.host = host;
    context.description = description;
    replaced = true;
  }
  if (!replaced) store->contexts.push_back({name, host, description});
  return save_contexts(*store);
}

int up(const std::vector<std::string>& args) {
  UpOptions options;
  const std::string config_file = home() + "/.sky/config.yaml";
  if (std::error_code ec; std::filesystem::exists(config_file, ec)) {
    if (auto read =
            read_controller_config(config_file, read_small_file(config_file), options.resources);
        !read) {
      std::cerr << "sky: " << read.error().detail << "\n";
      return 2;
    }
  }
  if (const char* url = std::getenv("SKYD_PACKAGE_URL")) options.package_url = url;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= args.size()) return usage_error(arg + " needs a value");
    const std::string value = args[++i];
    if (arg == "--infra") {
      if (value.rfind("aws/", 0) != 0 || value.size() <= 4)
        return usage_error("--infra: expected aws/REGION");
      options.resources.region = value.substr(4);
    } else if (arg == "--instance-type") {
      options.resources.instance_type = value;
    } else if (arg == "--disk-size") {
      const int size = std::atoi(value.c_str());
      if (size < 8 || size > 16384) return usage_error("--disk-size: expected 8 to 16384 (GB)");
      options.resources.disk_size_gb = size;
    } else if (arg == "--name") {
      options.name = value;
    } else if (arg == "--ssh-cidr") {
      options.ssh_cidr = value;
    } else if (arg == "--ssh-user") {
      options.ssh_user = value;
    } else if (arg == "--ssh-key") {
      options.ssh_key_file = value;
    } else if (arg == "--package-url") {
      options.package_url = value;
    } else {
      return usage_error("unexpected argument " + arg);
    }
  }
  if (!valid_name(options.name))
    return usage_error("--name: letters, digits, '.', '_' or '-', starting with a letter or digit");
  if (options.package_url.empty())
    return usage_error("where should the VM get skyd's package? pass --package-url URL");
  if (options.ssh_key_file.empty()) {
    for (const char* key : {"/.ssh/id_ed25519.pub", "/.ssh/id_ecdsa.pub", "/.ssh/id_rsa.pub"}) {
      if (std::error_code ec; std::filesystem::exists(home() + key, ec)) {
        options.ssh_key_file = home() + key;
        break;
      }
    }
  }
  std::string public_key = read_small_file(options.ssh_key_file);
  while (!public_key.empty() && (public_key.back() == '\n' || public_key.back() == '\r'))
    public_key.pop_back();
  const bool looks_like_key =
      public_key.rfind("ssh-", 0) == 0 || public_key.rfind("ecdsa-", 0) == 0;
  if (options.ssh_key_file.empty() || !looks_like_key) {
    return usage_error("no SSH public key: pass --ssh-key FILE.pub (or make ~/.ssh/id_ed25519)");
  }
  if (options.resources.instance_type.empty()) {
    if (auto installed = install_configured_catalog(); !installed) {
      std::cerr << "sky: " << installed.error().detail << "\n";
      return 1;
    }
    auto picked = pick_instance_type(*catalog::current(), options.resources);
    if (!picked) {
      std::cerr << "sky: " << picked.error().detail << "\n";
      return 1;
    }
    options.resources.instance_type = *picked;
  }
  auto user_data = controller_user_data(
      {options.package_url, options.ssh_user, public_key, options.resources.region});
  if (!user_data) {
    std::cerr << "sky: " << user_data.error().detail << "\n";
    return 2;
  }

  auto loaded = load_state(options.name);
  if (!loaded) {
    std::cerr << "sky: " << loaded.error().detail << "\n";
    return 1;
  }
  ControllerState state = loaded->value_or(ControllerState{options.name, "", "", "", ""});
  if (!state.region.empty() && state.region != options.resources.region) {
    std::cerr << "sky: controller " << options.name << " is in " << state.region
              << "; `sky controller down --name " << options.name << "` it first\n";
    return 1;
  }
  state.region = options.resources.region;
  if (state.client_token.empty()) state.client_token = "skyd-controller-" + random_hex(16);
  // Written before any create call: an interrupted `up` run again finds what this one made.
  if (auto saved = save_state(state); !saved) {
    std::cerr << "sky: " << saved.error().detail << "\n";
    return 1;
  }
  auto instance = run_to_end(bring_up(options, state, *user_data));
  if (!instance) {
    std::cerr << "sky: controller up failed: " << instance.error().detail << "\n";
    return 1;
  }
  const std::string host = "ssh://" + options.ssh_user + "@" + instance->public_ip;
  if (auto recorded = record_context(
          options.name, host,
          "skyd controller " + instance->instance_id + " (aws/" + state.region + ")");
      !recorded) {
    std::cerr << "sky: " << recorded.error().detail << "\n";
    return 1;
  }
  std::cout << "Controller " << instance->instance_id << " is running at " << host << "\n"
            << "It installs skyd at first boot (a few minutes). Then:\n"
            << "  sky context use " << options.name << "\n";
  return 0;
}

Task<Result<void>> tear_down(ControllerState state) {
  aws::AwsProvider provider(co_await asio::this_coro::executor, provider_options(state.region));
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  auto found = co_await find_instance(provider, state);
  if (!found) co_return found.error();
  if (*found) {
    std::vector<std::string> ids(1, (*found)->instance_id);
    auto ended = co_await provider.call(state.region, aws::build_terminate_instances(ids));
    if (!ended) co_return ended.error();
    std::cout << "Terminating controller instance " << ids[0] << "\n";
    std::vector<aws::Ec2Filter> by_id(1);
    by_id[0].name = "instance-id";
    by_id[0].values = ids;
    for (;;) {
      auto still = co_await provider.describe_all(state.region, by_id);
      if (!still) co_return still.error();
      if (still->empty() || still->front().state == aws::Ec2State::kTerminated) break;
      if (Clock::now() > deadline) co_return invalid_argument("the instance did not terminate");
      co_await sleep_for(std::chrono::milliseconds(500));
    }
  }
  if (!state.group_id.empty()) {
    for (;;) {
      auto deleted =
          co_await provider.call(state.region, aws::build_delete_security_group(state.group_id));
      if (deleted || deleted.error().detail.find("InvalidGroup.NotFound") != std::string::npos)
        break;
      // The group stays in use until EC2 has let go of the terminated instance.
      if (deleted.error().detail.find("DependencyViolation") == std::string::npos ||
          Clock::now() > deadline)
        co_return deleted.error();
      co_await sleep_for(std::chrono::seconds(1));
    }
  }
  co_return Result<void>{};
}

// How many jobs are open on the controller, asked through its context.
Result<long long> open_jobs(const std::string& host) {
  DaemonClient client(host);
  auto answer = client.call("GET", "/v1/jobs?all_users=1&skip_finished=1&limit=1&summary=1", {},
                            std::chrono::seconds(30));
  if (!answer) return answer.error();
  auto body = parse_json(answer->body);
  if (answer->status != 200 || !body || !body->find("total") || !body->find("total")->as_int())
    return invalid_argument("the controller answered HTTP " + std::to_string(answer->status));
  return *body->find("total")->as_int();
}

int down(const std::vector<std::string>& args) {
  std::string name = "controller";
  bool purge = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (args[i] == "--purge") {
      purge = true;
    } else if (args[i] == "--name" && i + 1 < args.size()) {
      name = args[++i];
    } else {
      return usage_error("unexpected argument " + args[i]);
    }
  }
  if (!valid_name(name)) return usage_error("--name: not a controller's name: " + name);
  auto state = load_state(name);
  if (!state) {
    std::cerr << "sky: " << state.error().detail << "\n";
    return 1;
  }
  if (!*state) {
    std::cerr << "sky: there is no controller named " << name << " (sky controller up)\n";
    return 1;
  }
  auto contexts = load_contexts();
  if (!contexts) {
    std::cerr << "sky: " << contexts.error().detail << "\n";
    return 1;
  }
  std::string host;
  for (const auto& context : contexts->contexts)
    if (context.name == name) host = context.host;
  if (!purge) {
    auto open =
        host.empty() ? Result<long long>(invalid_argument("it has no context")) : open_jobs(host);
    if (!open) {
      std::cerr << "sky: cannot ask controller " << name << " for its open jobs ("
                << open.error().detail << "); start it, or pass --purge to remove it anyway\n";
      return 1;
    }
    if (*open > 0) {
      std::cerr << "sky: controller " << name << " has " << *open << " open job"
                << (*open == 1 ? "" : "s")
                << "; cancel them (sky jobs cancel -a) or pass --purge\n";
      return 1;
    }
  }
  auto removed = run_to_end(tear_down(**state));
  if (!removed) {
    std::cerr << "sky: controller down failed: " << removed.error().detail << "\n";
    return 1;
  }
  std::erase_if(contexts->contexts, [&](const Context& context) { return context.name == name; });
  if (contexts->current == name) contexts->current.clear();
  if (auto saved = save_contexts(*contexts); !saved) {
    std::cerr << "sky: " << saved.error().detail << "\n";
    return 1;
  }
  std::error_code ec;
  std::filesystem::remove(state_file(name), ec);
  std::cout << "Controller " << name << " is gone (instance terminated, context removed)\n";
  return 0;
}

// The controller's instance as EC2 sees it; started when it is stopped (after a stop that is
// still under way ends), then awaited until it runs with a public address.
Task<Result<aws::Ec2Instance>> start_if_stopped(ControllerState state, bool* started) {
  // Asked before every command: an unreachable EC2 costs seconds, not a minute of retries.
  aws::AwsProviderOptions options = provider_options(state.region);
  options.retry.max_attempts = 2;
  options.request_timeout = std::chrono::seconds(10);
  aws::AwsProvider provider(co_await asio::this_coro::executor, std::move(options));
  const auto deadline = Clock::now() + std::chrono::minutes(10);
  for (;;) {
    auto found = co_await find_instance(provider, state);
    if (!found) co_return found.error();
    if (!*found) co_return invalid_argument("instance " + state.instance_id + " is gone");
    const aws::Ec2State now = (*found)->state;
    if (now == aws::Ec2State::kRunning && !*started) co_return **found;
    if (now == aws::Ec2State::kStopped) {
      std::vector<std::string> ids(1, state.instance_id);
      auto starting = co_await provider.call(state.region, aws::build_start_instances(ids));
      if (!starting) co_return starting.error();
      *started = true;
      break;
    }
    if (now != aws::Ec2State::kStopping && now != aws::Ec2State::kPending &&
        now != aws::Ec2State::kRunning)
      co_return invalid_argument("instance " + state.instance_id + " is " +
                                 std::string(aws::to_string(now)));
    if (Clock::now() > deadline) co_return invalid_argument("the instance did not stop");
    co_await sleep_for(std::chrono::milliseconds(500));
  }
  co_return co_await wait_for_public_address(provider, state);
}

// `ssh://user@OLD[:port][/socket]` with OLD replaced by `ip`.
std::string with_ip(const std::string& host, const std::string& ip) {
  const auto at = host.find('@');
  const auto from = at == std::string::npos ? host.find("://") + 3 : at + 1;
  const auto to = host.find_first_of(":/", from);
  return host.substr(0, from) + ip + (to == std::string::npos ? "" : host.substr(to));
}

}  // namespace

std::string wake_controller(const std::string& address) {
  auto contexts = load_contexts();
  if (!contexts) return address;
  Context* context = nullptr;
  for (auto& candidate : contexts->contexts)
    if (candidate.host == address) context = &candidate;
  if (!context) return address;
  auto state = load_state(context->name);
  if (!state || !*state || (*state)->instance_id.empty()) return address;
  bool started = false;
  auto instance = run_to_end(start_if_stopped(**state, &started));
  if (!instance) {
    std::cerr << "sky: warning: cannot tell whether controller " << context->name
              << " runs: " << instance.error().detail << "\n";
    return address;
  }
  if (!started) return address;
  std::cerr << "Controller " << context->name << " was stopped; started instance "
            << instance->instance_id << ", waiting for skyd over SSH\n";
  const std::string host = with_ip(address, instance->public_ip);
  if (host != address) {
    context->host = host;
    if (auto saved = save_contexts(*contexts); !saved)
      std::cerr << "sky: warning: " << saved.error().detail << "\n";
  }
  // SSH and skyd come up with the machine (systemd starts both at boot).
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  for (;;) {
    DaemonClient client(host);
    auto health = client.call("GET", "/v1/health", {}, std::chrono::seconds(10));
    if (health && health->status == 200) break;
    if (Clock::now() > deadline) {
      std::cerr << "sky: warning: skyd on controller " << context->name
                << " did not answer within 5 minutes\n";
      break;
    }
    ::sleep(2);
  }
  return host;
}

int controller_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "up") return up(rest);
  if (args[0] == "down") return down(rest);
  return usage_error("unknown controller command '" + args[0] + "'");
}

}  // namespace skyd::cli
