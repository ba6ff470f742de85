#pragma once
// Runs the real `sky` binary (SKY_BINARY) with a command line and keeps what it printed.

#include "reactor/shell_quote.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

namespace skyd::cli {

struct SkyRun {
  int exit_code;
  std::string output;  // stdout and stderr
};

inline SkyRun run_sky(const std::string& arguments) {
  const std::string command = std::string(SKY_BINARY) + " " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  SkyRun run{-1, ""};
  if (!pipe) return run;
  std::array<char, 4096> buffer;
  while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe))
    run.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// What a bash program prints on stdout (stderr dropped).
inline std::string run_sky_shell(const std::string& program) {
  FILE* pipe = popen(("bash -c " + single_quoted(program) + " 2>/dev/null").c_str(), "r");
  std::string out;
  if (!pipe) return out;
  std::array<char, 4096> buffer;
  while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  pclose(pipe);
  return out;
}

}  // namespace skyd::cli
