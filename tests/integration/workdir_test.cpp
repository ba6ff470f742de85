// What `sky` leaves out of a workdir it uploads, as SkyPilot does: `.skyignore` first, else what
// git ignores, else a top-level `.gitignore`. Real skyd, real `sky`, real tar and git.
#include "tests/support/skyd_harness.hpp"

#include <filesystem>
#include <fstream>

namespace skyd::testing {
namespace {
namespace fs = std::filesystem;

class WorkdirUpload : public ::testing::Test {
 protected:
  // Makes `files` (path -> text) under a fresh workdir.
  std::string workdir(const std::map<std::string, std::string>& files) {
    const std::string root = skyd_.dir() + "/work" + std::to_string(++made_);
    for (const auto& [path, text] : files) {
      fs::create_directories(fs::path(root + "/" + path).parent_path());
      std::ofstream(root + "/" + path) << text;
    }
    return root;
  }

  // The files the task found in its working directory, one per line, sorted.
  std::string files_seen_by_a_task(const std::string& root, std::string* warnings = nullptr) {
    const auto yaml = skyd_.write_file(
        "list" + std::to_string(made_) + ".yaml",
        "resources:\n  infra: local\nworkdir: " + root +
            "\nrun: find . -type f -not -path './.git/*' | sort | sed 's/^/seen /'\n");
    auto launched = skyd_.sky({"jobs", "launch", "-y", yaml});
    EXPECT_EQ(launched.exit_code, 0) << launched.out << launched.err;
    if (warnings) *warnings = launched.err;
    std::string seen;
    std::istringstream lines(launched.out);
    for (std::string line; std::getline(lines, line);)
      if (line.starts_with("seen ")) seen += line.substr(5) + "\n";
    return seen;
  }

  SkydHarness skyd_;
  int made_ = 0;
};

TEST_F(WorkdirUpload, SkyignorePatternsMatchAtAnyDepthUnlessAnchored) {
  const auto root =
      workdir({{".skyignore", "# logs and the top data dir\n*.log\n/data/\n!keep.log\n"},
               {"train.py", "1"},
               {"run.log", "x"},
               {"sub/deep.log", "x"},
               {"data/big.bin", "x"},
               {"sub/data/small.bin", "1"},
               {"sub/a.b/c.txt", "1"}});
  std::string warnings;
  EXPECT_EQ(files_seen_by_a_task(root, &warnings),
            "./.skyignore\n./sub/a.b/c.txt\n./sub/data/small.bin\n./train.py\n");
  EXPECT_TRUE(contains(warnings, ".skyignore:4: '!keep.log' re-includes files")) << warnings;
}

TEST_F(WorkdirUpload, WithoutSkyignoreWhatGitIgnoresStaysBehind) {
  const auto root = workdir({{".gitignore", "__pycache__/\n*.ckpt\n"},
                             {"model.py", "1"},
                             {"__pycache__/model.pyc", "x"},
                             {"runs/last.ckpt", "x"},
                             {"runs/.gitignore", "tmp*\n"},
                             {"runs/tmp1", "x"},
                             {"runs/notes.txt", "1"},
                             {"tracked.ckpt", "1"}});
  ASSERT_EQ(run_command({program_on_path("git"), "-C", root, "init", "-q"}).exit_code, 0);
  // A file git tracks goes along even when a pattern matches it, as git itself sees it.
  ASSERT_EQ(
      run_command({program_on_path("git"), "-C", root, "add", "-f", "tracked.ckpt"}).exit_code, 0);
  EXPECT_EQ(files_seen_by_a_task(root),
            "./.gitignore\n./model.py\n./runs/.gitignore\n./runs/notes.txt\n./tracked.ckpt\n");
}

TEST_F(WorkdirUpload, OutsideGitATopLevelGitignoreStillApplies) {
  const auto root = workdir({{".gitignore", "*.tmp\n"}, {"a.txt", "1"}, {"b.tmp", "x"}});
  EXPECT_EQ(files_seen_by_a_task(root), "./.gitignore\n./a.txt\n");
}

}  // namespace
}  // namespace skyd::testing
