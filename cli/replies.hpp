#pragma once
// What every command does with skyd's answers and its user: a call whose reply is JSON, the
// fields of that reply, a usage error, a yes/no question.

#include "cli/daemon_client.hpp"
#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <string>

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
// Asks on a terminal (the default is yes); true without one (scripts: no one to ask).
bool confirm(const std::string& question);

}  // namespace skyd::cli
