#pragma once
// fakecloud as a child process for integration tests: process mode (every instance a real
// skylet) unless the extra flags say `--mode virtual`, port 0, ready when it has written its ports.

#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <unistd.h>

#include <csignal>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace skyd::testing {

// A fakecloud child process on port 0; the ports arrive on a pipe once it listens.
class FakeCloudProcess {
 public:
  // `environment`: variables on top of this process's, for fakecloud and the skylets it starts
  // (a container runtime's config, ...).
  explicit FakeCloudProcess(const TempDir& dir, std::vector<std::string> extra = {},
                            const std::map<std::string, std::string>& environment = {}) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> argv = {binary_path("fakecloud/fakecloud"),
                                     "--mode",
                                     "process",
                                     "--skylet",
                                     binary_path("skylet"),
                                     "--work-dir",
                                     dir.file("cloud"),
                                     "--ready-fd",
                                     std::to_string(fds[1]),
                                     "--log-level",
                                     "debug"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child_ = std::make_unique<ChildProcess>(argv, environment, dir.file("fakecloud.log"));
    ::close(fds[1]);
    const std::string ports = read_ready_message(fds[0], std::chrono::seconds(20));
    port_ = std::atoi(ports.c_str());
    if (const auto second = ports.find('\n'); second != std::string::npos)
      virtual_port_ = std::atoi(ports.c_str() + second + 1);
    if (port_ == 0) throw std::runtime_error("fakecloud did not start (see fakecloud.log)");
  }
  // fakecloud's own stop takes its instances' skylets with it; a SIGKILL would orphan them.
  ~FakeCloudProcess() {
    child_->signal(SIGTERM);
    child_->wait(std::chrono::seconds(15));
  }
  FakeCloudProcess(const FakeCloudProcess&) = delete;
  FakeCloudProcess& operator=(const FakeCloudProcess&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  int virtual_port() const { return virtual_port_; }  // virtual mode: the nodes' skylet port

 private:
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
  int virtual_port_ = 0;
};

}  // namespace skyd::testing
