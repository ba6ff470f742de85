#pragma once
// What every command does with skyd's answers and its user: a call whose reply is JSON, the
// fields of that reply, a usage error, a yes/no question.

#include "cli/daemon_client.hpp"
#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyd::cli {

// The daemon's answer as JSON; an error carries skyd's message (4xx/5xx) or why it could not be
// reached.
Result<Json> call_json(DaemonClient& client, const std::string& method, const std::string& target,
                       const std::string& body = {});
// A string or number field of a reply, or the fallback.
std::string text(const Json& json, const char* key, std::string fallback = "");
double number(const Json& json, const char* key, double fallback = 0);
// Prints "Error: message" and the usage; returns 2, the exit code of a usage error.
int usage_error(const std::string& message, const char* usage);
// A listing's only option, `-o/--output table|json`: whether JSON is asked; a usage error (its
// exit code in `failed`) for anything else.
std::optional<bool> json_output_of(const std::vector<std::string>& args, const char* usage,
                                   int& failed);
// What a listing command (`sky storage ls`, `sky volumes ls`) does before its table: GET
// `target`, and print the reply's `key` array as JSON when `json`, or "No existing WHAT." when it
// is empty. The reply when a table is still to print; otherwise nullopt, the exit code in `code`.
std::optional<Json> listing(DaemonClient& client, const std::string& target, const char* key,
                            bool json, const char* what, int& code);
// A command with subcommands (`sky storage ls`): prints its usage and gives the exit code when it
// has no subcommand (2) or -h/--help is anywhere on the line (0); nullopt when the subcommand runs.
std::optional<int> subcommand_usage(const std::vector<std::string>& args, const char* usage);
// Asks on a terminal (the default is yes); true without one (scripts: no one to ask).
bool confirm(const std::string& question);

}  // namespace skyd::cli
