#pragma once
// Which files of a workdir or a local file mount stay behind when `sky` packs it, as SkyPilot
// decides: the patterns of a `.skyignore` at the top of the directory if there is one; else
// what git ignores there (`.gitignore` files, `.git/info/exclude`, the user's excludes) when it
// is in a git work tree; else the patterns of a top-level `.gitignore`. A pattern that starts with
// `/` is anchored at the top; any other matches at any depth; `*` does not cross `/`; a trailing
// `/` is dropped; `!` (re-inclusion) is not supported and is reported.

#include "reactor/error.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace skyd::cli {

struct Exclusions {
  std::vector<std::string> tar_options;  // for `tar -C dir -c .`
  std::vector<std::string> warnings;     // rules that could not be honoured, named
  std::string source;                    // ".skyignore", "git", ".gitignore" or empty
};

// `scratch` receives a pattern file when git's list is long.
Result<Exclusions> exclusions_for(const std::filesystem::path& directory,
                                  const std::string& scratch_file);

}  // namespace skyd::cli
