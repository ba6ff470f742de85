// `--help` on every command and subcommand of the real binary, usage texts that name every flag,
// and the bash completion script that offers them.
#include "cli/launch_command.hpp"
#include "tests/unit/cli/sky_run.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace skyd::cli {
namespace {

const std::vector<std::string> kCommands = {"",
                                            "jobs",
                                            "jobs launch",
                                            "jobs queue",
                                            "jobs logs",
                                            "jobs cancel",
                                            "jobs preempt",
                                            "jobs dashboard",
                                            "jobs pool",
                                            "jobs pool apply",
                                            "jobs pool status",
                                            "jobs pool down",
                                            "daemon",
                                            "daemon status",
                                            "show-gpus",
                                            "completion",
                                            "completion bash",
                                            "context",
                                            "context create",
                                            "context use",
                                            "context ls",
                                            "context rm",
                                            "context show",
                                            "controller",
                                            "controller up",
                                            "controller down",
                                            "storage",
                                            "storage ls",
                                            "storage delete",
                                            "volumes",
                                            "volumes apply",
                                            "volumes ls",
                                            "volumes delete",
                                            "catalog",
                                            "catalog refresh"};

// The long flags a usage text names.
std::set<std::string> flags_in(const std::string& text) {
  std::set<std::string> flags;
  const std::regex flag(R"((^|[\s\[/,(])(--[a-z][a-z-]*))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), flag); it != std::sregex_iterator();
       ++it) {
    flags.insert((*it)[2]);
  }
  return flags;
}

TEST(SkyHelp, EveryCommandAnswersHelpWithItsUsageAndExitZero) {
  for (const auto& command : kCommands) {
    for (const char* flag : {"--help", "-h"}) {
      // No daemon is asked: help needs none.
      SkyRun run = run_sky("--socket /nonexistent/skyd.sock " + command + " " + flag);
      EXPECT_EQ(run.exit_code, 0) << command << " " << flag << "\n" << run.output;
      EXPECT_EQ(run.output.rfind("usage: sky", 0), 0u) << command << " " << flag << "\n"
                                                       << run.output;
    }
  }
}

TEST(SkyHelp, HelpWinsAnywhereOnTheLineButNotAfterDoubleDash) {
  SkyRun after_args = run_sky("jobs launch --dryrun task.yaml --help");
  EXPECT_EQ(after_args.exit_code, 0) << after_args.output;
  EXPECT_CONTAINS(after_args.output, "usage: sky jobs launch");
  // After `--` the words are the task's command.
  SkyRun task_word = run_sky("jobs launch --dryrun -- python train.py --help");
  EXPECT_EQ(task_word.exit_code, 0) << task_word.output;
  EXPECT_CONTAINS(task_word.output, "Command to run: python train.py --help");
}

TEST(SkyHelp, LaunchUsageNamesEveryFlagTheParserTakes) {
  const std::string usage = run_sky("jobs launch --help").output;
  const auto named = flags_in(usage);
  for (const auto& flag : launch_flags()) EXPECT_TRUE(named.count(flag)) << flag << "\n" << usage;
}

TEST(SkyHelp, EachCommandsUsageNamesTheFlagsSkyPilotUsersType) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"jobs launch", {"--async", "--secret-file", "--env-file", "--detach-run", "--yes"}},
      {"jobs queue", {"--verbose", "--refresh", "--all-users", "--skip-finished", "--output"}},
      {"jobs logs", {"--name", "--node", "--no-follow", "--controller", "--refresh"}},
      {"jobs cancel", {"--name", "--all", "--all-users", "--yes"}}};
  for (const auto& [command, flags] : expected) {
    const auto named = flags_in(run_sky(command + " --help").output);
    for (const auto& flag : flags) EXPECT_TRUE(named.count(flag)) << command << " " << flag;
  }
}

TEST(SkyCompletion, TheBashScriptOffersEveryFlagOfEveryUsage) {
  SkyRun script = run_sky("completion bash");
  ASSERT_EQ(script.exit_code, 0) << script.output;
  EXPECT_CONTAINS(script.output, "complete -o default -F _sky_complete sky");
  for (const auto& command : kCommands) {
    for (const auto& flag : flags_in(run_sky(command + " --help").output)) {
      // A whole word of one of the script's lists.
      const std::regex word("[\" ]" + flag + "[\" ]");
      EXPECT_TRUE(std::regex_search(script.output, word)) << command << ": " << flag;
    }
  }
  EXPECT_EQ(run_sky("completion zsh").exit_code, 2);
}

TEST(SkyCompletion, BashCompletesCommandsAndFlags) {
  // The script run by bash itself, as the shell would on TAB.
  auto complete = [](const std::string& line) {
    const std::string program =
        "source <(" + std::string(SKY_BINARY) + " completion bash); COMP_WORDS=(" + line +
        "); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _sky_complete; echo \"${COMPREPLY[*]}\"";
    return run_sky_shell(program);
  };
  EXPECT_EQ(complete("sky jo"), "jobs\n");
  EXPECT_EQ(complete("sky jobs q"), "queue\n");
  EXPECT_EQ(complete("sky --socket /s jobs cancel --all-"), "--all-users\n");
  EXPECT_EQ(complete("sky jobs launch --sec"), "--secret --secret-file\n");
  EXPECT_EQ(complete("sky jobs pool a"), "apply\n");
  EXPECT_EQ(complete("sky jobs pool apply --dry"), "--dryrun\n");
}

}  // namespace
}  // namespace skyd::cli
