#pragma once
// Contexts, as `docker context` has them: named skyd addresses (a controller over SSH), one of
// them current. Kept in ~/.sky/contexts.json; the context `default` is this machine's socket.

#include "reactor/error.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyd::cli {

struct Context {
  std::string name;
  std::string host;  // ssh://user@host[:port][/socket] or a local socket path
  std::string description;
};

struct ContextStore {
  std::string current;  // empty: `default`
  std::vector<Context> contexts;
};

std::string contexts_file();
// A missing file is an empty store; an unreadable one is an error naming the file.
Result<ContextStore> load_contexts();
Result<void> save_contexts(const ContextStore& store);

// The current context's host; nothing when `default` is current.
Result<std::optional<std::string>> current_context_host();

// `sky context create|use|ls|rm|show`.
int context_command(const std::vector<std::string>& args);

}  // namespace skyd::cli
