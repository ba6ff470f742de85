#pragma once
// `sky jobs dashboard`: asks skyd where its dashboard listens, prints the URL, and opens it in a
// browser when the session has a display (xdg-open); over SSH it prints the tunnel to use.

#include <string>
#include <vector>

namespace skyd::cli {

int jobs_dashboard_command(const std::vector<std::string>& args, const std::string& socket);

}  // namespace skyd::cli
