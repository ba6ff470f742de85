#pragma once
// `sky jobs queue | logs | cancel | preempt`, and the submission half of `sky jobs launch`: they
// talk to skyd over its socket and print what SkyPilot's users expect.

#include "cli/launch_command.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyd::cli {

// Exit codes of `sky jobs logs` (and of `sky jobs launch` while it streams).
inline constexpr int kExitSucceeded = 0;
inline constexpr int kExitFailed = 100;
inline constexpr int kExitNotFinished = 101;
inline constexpr int kExitNotFound = 102;
inline constexpr int kExitCancelled = 103;

int jobs_queue_command(const std::vector<std::string>& args, const std::string& socket);
int jobs_logs_command(const std::vector<std::string>& args, const std::string& socket);
int jobs_cancel_command(const std::vector<std::string>& args, const std::string& socket);
int jobs_preempt_command(const std::vector<std::string>& args, const std::string& socket);
// Submits a prepared launch, then streams its logs unless detached. Returns the exit code.
int submit_launch(const PreparedLaunch& launch, const LaunchOptions& options,
                  const std::string& socket);

// "2 hrs ago", "1h 2m 3s": the queue's time columns.
std::string format_age(double seconds);
std::string format_duration(double seconds);

}  // namespace skyd::cli
