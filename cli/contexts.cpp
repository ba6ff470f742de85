#include "cli/contexts.hpp"

#include "cli/daemon_address.hpp"
#include "cli/help.hpp"
#include "cli/table.hpp"
#include "reactor/json.hpp"
#include "reactor/small_files.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <regex>

namespace skyd::cli {
namespace {

constexpr const char* kUsage =
    "usage: sky context create NAME --host ssh://[user@]host[:port][/path/to/skyd.sock]\n"
    "                          [--description TEXT]\n"
    "       sky context use NAME        (`default`: skyd on this machine)\n"
    "       sky context ls\n"
    "       sky context rm NAME\n"
    "       sky context show            (the current context's name)\n"
    "\n"
    "Contexts name skyd hosts: a controller reached over SSH (`sky --host` without typing it).\n"
    "\n"
    "options:\n"
    "  --host URL              ssh://[user@]host[:port][/path/to/skyd.sock], or a socket's path\n"
    "  --description TEXT      shown by `sky context ls`\n"
    "  -h, --help              this text\n";

constexpr std::string_view kDefault = "default";

int usage_error(const std::string& message) {
  std::cerr << "sky: " << message << "\n\n" << kUsage;
  return 2;
}

int failed(const Error& error) {
  std::cerr << "sky: " << error.detail << "\n";
  return 1;
}

bool valid_name(const std::string& name) {
  static const std::regex pattern("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}");
  return std::regex_match(name, pattern);
}

Context* find(ContextStore& store, const std::string& name) {
  for (auto& context : store.contexts)
    if (context.name == name) return &context;
  return nullptr;
}

Error unreadable(const std::string& what) {
  return invalid_argument(contexts_file() + ": " + what + " (fix or remove the file)");
}

int create(ContextStore store, const std::vector<std::string>& args) {
  std::string name, host, description;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[i] == "--host" && has_value) {
      host = args[++i];
    } else if (args[i] == "--description" && has_value) {
      description = args[++i];
    } else if (name.empty() && !args[i].starts_with("-")) {
      name = args[i];
    } else {
      return usage_error("unexpected '" + args[i] + "'");
    }
  }
  if (name.empty() || host.empty()) return usage_error("context create needs NAME and --host");
  if (!valid_name(name) || name == kDefault)
    return usage_error("bad context name '" + name +
                       "': letters, digits, '.', '_' and '-', at most 64, not `default`");
  if (is_ssh_address(host)) {
    if (auto parsed = parse_ssh_address(host); !parsed) return failed(parsed.error());
  } else if (!host.starts_with("/")) {
    return usage_error("--host must be an ssh:// URL or the absolute path of a socket");
  }
  if (find(store, name)) return failed(invalid_argument("context '" + name + "' already exists"));
  store.contexts.push_back({name, host, description});
  if (auto saved = save_contexts(store); !saved) return failed(saved.error());
  std::cout << "Context '" << name << "' created (" << host << "). Use it with: sky context use "
            << name << "\n";
  return 0;
}

int use(ContextStore store, const std::string& name) {
  if (name != kDefault && !find(store, name))
    return failed(invalid_argument("no context '" + name + "' (see `sky context ls`)"));
  store.current = name == kDefault ? "" : name;
  if (auto saved = save_contexts(store); !saved) return failed(saved.error());
  std::cout << "Current context: " << name << "\n";
  return 0;
}

int remove(ContextStore store, const std::string& name) {
  auto found = std::find_if(store.contexts.begin(), store.contexts.end(),
                            [&](const Context& context) { return context.name == name; });
  if (found == store.contexts.end())
    return failed(invalid_argument("no context '" + name + "' (see `sky context ls`)"));
  store.contexts.erase(found);
  if (store.current == name) store.current.clear();
  if (auto saved = save_contexts(store); !saved) return failed(saved.error());
  std::cout << "Context '" << name << "' removed.\n";
  return 0;
}

int list(const ContextStore& store) {
  Table table({"NAME", "HOST", "DESCRIPTION"});
  const auto mark = [&](const std::string& name) {
    return name +
           ((store.current.empty() ? std::string(kDefault) : store.current) == name ? " *" : "");
  };
  table.add_row({mark(std::string(kDefault)), "this machine's socket", "skyd on this machine"});
  for (const auto& context : store.contexts)
    table.add_row({mark(context.name), context.host, context.description});
  std::cout << table.render();
  return 0;
}

}  // namespace

std::string contexts_file() {
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.sky/contexts.json";
}

Result<ContextStore> load_contexts() {
  const std::string path = contexts_file();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return ContextStore{};
  auto json = parse_json(read_small_file(path));
  if (!json || !json->is_object()) return unreadable("not a JSON object");
  ContextStore store;
  if (const Json* current = json->find("current")) {
    if (!current->as_string()) return unreadable("`current` is not a string");
    store.current = std::string(*current->as_string());
  }
  if (const Json* contexts = json->find("contexts")) {
    if (!contexts->as_object()) return unreadable("`contexts` is not an object");
    for (const auto& [name, value] : *contexts->as_object()) {
      const Json* host = value.find("host");
      if (!host || !host->as_string()) return unreadable("context '" + name + "' has no host");
      const Json* description = value.find("description");
      store.contexts.push_back(
          {name, std::string(*host->as_string()),
           description && description->as_string() ? std::string(*description->as_string()) : ""});
    }
  }
  return store;
}

Result<void> save_contexts(const ContextStore& store) {
  Json contexts = Json::object();
  for (const auto& context : store.contexts) {
    Json entry = Json::object();
    entry.set("host", context.host);
    if (!context.description.empty()) entry.set("description", context.description);
    contexts.set(context.name, std::move(entry));
  }
  Json root = Json::object();
  root.set("current", store.current);
  root.set("contexts", std::move(contexts));
  const std::string path = contexts_file();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return invalid_argument("cannot make the folder of " + path + ": " + ec.message());
  return write_small_file(path, root.dump() + "\n");
}

Result<std::optional<std::string>> current_context_host() {
  auto store = load_contexts();
  if (!store) return store.error();
  if (store->current.empty()) return std::optional<std::string>();
  const Context* context = find(*store, store->current);
  if (!context)
    return unreadable("the current context '" + store->current +
                      "' is not defined (`sky context use default` returns to this machine)");
  return std::optional<std::string>(context->host);
}

int context_command(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cout << kUsage;
    return 2;
  }
  // Before the contexts file is read: help needs none, and a name is never `--help`.
  if (asks_for_help(args)) {
    std::cout << kUsage;
    return 0;
  }
  auto store = load_contexts();
  if (!store) return failed(store.error());
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "create") return create(std::move(*store), rest);
  if (args[0] == "use" && rest.size() == 1) return use(std::move(*store), rest[0]);
  if (args[0] == "rm" && rest.size() == 1) return remove(std::move(*store), rest[0]);
  if (args[0] == "ls" && rest.empty()) return list(*store);
  if (args[0] == "show" && rest.empty()) {
    std::cout << (store->current.empty() ? std::string(kDefault) : store->current) << "\n";
    return 0;
  }
  return usage_error("unknown context command '" + args[0] + "'");
}

}  // namespace skyd::cli
