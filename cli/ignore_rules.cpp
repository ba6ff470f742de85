#include "cli/ignore_rules.hpp"

#include "reactor/small_files.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <optional>
#include <sstream>

extern char** environ;

namespace skyd::cli {
namespace fs = std::filesystem;
namespace {

// Patterns of an ignore file, one per line, as tar exclusions (each anchoring option applies to
// the --exclude options after it).
Exclusions from_patterns(const std::string& text, const std::string& file) {
  Exclusions exclusions;
  exclusions.source = file;
  exclusions.tar_options.push_back("--no-wildcards-match-slash");
  std::istringstream lines(text);
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '!') {
      exclusions.warnings.push_back(file + ":" + std::to_string(number) + ": '" + line +
                                    "' re-includes files, which is not supported; ignored");
      continue;
    }
    while (line.size() > 1 && line.back() == '/') line.pop_back();
    if (line.front() == '/') {
      exclusions.tar_options.insert(exclusions.tar_options.end(),
                                    {"--anchored", "--exclude=." + line});
    } else {
      exclusions.tar_options.insert(exclusions.tar_options.end(),
                                    {"--no-anchored", "--exclude=" + line});
    }
  }
  return exclusions;
}

// Runs a program (no shell) with its stdout into `output`; true when it exits 0.
bool run_to_file(const std::vector<std::string>& argv, const std::string& output) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& word : argv) args.push_back(const_cast<char*>(word.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return false;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// What git ignores under `directory`, when it is in a work tree: listed by git itself, so every
// .gitignore, .git/info/exclude and core.excludesFile count, with git's own matching.
std::optional<Exclusions> from_git(const fs::path& directory, const std::string& scratch_file) {
  const std::vector<std::string> list{
      "git",      "-C",        directory.string(),   "ls-files",   "-z",
      "--others", "--ignored", "--exclude-standard", "--directory"};
  if (!run_to_file(list, scratch_file)) return std::nullopt;  // no git, or not a work tree
  const std::string listed = read_small_file(scratch_file);
  std::string patterns;
  std::istringstream names(listed);
  for (std::string name; std::getline(names, name, '\0');) {
    while (name.size() > 1 && name.back() == '/') name.pop_back();
    if (name.empty() || name.find('\n') != std::string::npos) continue;
    patterns += "./" + name + "\n";
  }
  std::ofstream(scratch_file, std::ios::trunc) << patterns;
  Exclusions exclusions;
  exclusions.source = "git";
  exclusions.tar_options = {"--anchored", "--no-wildcards", "--exclude-from=" + scratch_file};
  return exclusions;
}

}  // namespace

Result<Exclusions> exclusions_for(const fs::path& directory, const std::string& scratch_file) {
  std::error_code ec;
  if (fs::exists(directory / ".skyignore", ec))
    return from_patterns(read_small_file((directory / ".skyignore").string()), ".skyignore");
  if (auto git = from_git(directory, scratch_file)) return *git;
  if (fs::exists(directory / ".gitignore", ec))
    return from_patterns(read_small_file((directory / ".gitignore").string()), ".gitignore");
  return Exclusions{};
}

}  // namespace skyd::cli
