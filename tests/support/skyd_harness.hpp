#pragma once
// A real skyd for integration tests: its own state directory (embedded PostgreSQL, local
// provider, socket), fast timings from a config file, started and awaited through a systemd-style
// notify socket, driven with the real `sky` binary.

#include "reactor/http_types.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_support.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace skyd::testing {

// What the API answered a raw request (status 0: no answer, `message` says why).
struct ApiReply {
  int status = 0;
  std::string body;
  std::string message;  // the {"error":{"message"}} of an error answer, or the transport error
  std::map<std::string, std::string> headers;  // names in lower case
  std::chrono::milliseconds took{0};
};

// One raw HTTP request (the target is sent as given), awaited to its answer.
ApiReply http_request(const http::Endpoint& endpoint, const std::string& method,
                      const std::string& target, const std::string& body = "");

class SkydHarness {
 public:
  // Extra config file lines (YAML `key: value`), on top of the fast defaults.
  struct Environment {
    std::map<std::string, std::string> variables;  // extra environment of the skyd process
  };
  explicit SkydHarness(std::map<std::string, std::string> settings = {},
                       Environment environment = {});
  ~SkydHarness();

  void start();                // waits for READY=1
  std::optional<int> stop();   // SIGTERM, waits for the exit; its status (128 + signal if killed)
  void kill();                 // SIGKILL: a crash
  void restart() { start(); }  // after stop() or kill()
  int pid() const;             // skyd's process id (-1 when it is not running)

  CommandResult sky(const std::vector<std::string>& args,
                    std::chrono::milliseconds limit = std::chrono::seconds(120));
  // `sky jobs preempt ID` once the job is recorded RUNNING: a task's setup and run start on its
  // nodes a moment before that, and only a RUNNING task is preempted.
  CommandResult preempt(long long id);
  // A raw request on the API socket, bypassing the CLI's own checks (the target is sent as given).
  ApiReply api(const std::string& method, const std::string& target, const std::string& body = "");
  // Writes a file under the test's directory and returns its path.
  std::string write_file(const std::string& name, const std::string& text) const;
  // The job as skyd's API shows it (GET /v1/jobs/ID: the job, its tasks nested); nothing when it
  // does not exist.
  std::optional<std::string> job_status(long long id);
  std::string job_json(long long id);
  // Waits until the job's status is one of `statuses` (polling the API: the daemon pushes nothing).
  bool wait_for_status(long long id, const std::vector<std::string>& statuses,
                       std::chrono::milliseconds limit = std::chrono::seconds(60));
  // Every job of the queue: its status by id.
  std::map<long long, std::string> job_statuses();
  // Waits until the queue holds `count` jobs, all with `status`.
  bool wait_for_all_jobs(std::size_t count, const std::string& status,
                         std::chrono::milliseconds limit = std::chrono::seconds(60));
  // Waits until `path` exists (a task's progress marker).
  bool wait_for_file(const std::string& path,
                     std::chrono::milliseconds limit = std::chrono::seconds(60));

  const std::string& state_dir() const { return state_dir_; }
  std::string log_file() const { return state_dir_ + "/logs/skyd.log"; }
  // One query on the embedded database through psql: its rows, fields separated by a space.
  std::string sql(const std::string& query) const;
  // The embedded PostgreSQL's postmaster, from its postmaster.pid (-1 when there is none).
  int postmaster_pid() const;
  std::string socket() const { return state_dir_ + "/skyd.sock"; }
  std::string bucket(const std::string& name) const {
    return state_dir_ + "/local/buckets/" + name;
  }
  std::string dir() const { return dir_.path(); }
  // Every skylet process of this daemon's local machines still running.
  std::vector<int> running_skylets() const;
  // True once no machine of this daemon runs (a job's teardown follows its final status).
  bool no_machines_left(std::chrono::milliseconds limit = std::chrono::seconds(30)) const;

 private:
  TempDir dir_;
  std::string state_dir_;
  std::string config_;
  std::map<std::string, std::string> environment_;
  std::unique_ptr<NotifyListener> notify_;
  std::unique_ptr<ChildProcess> skyd_;
  int starts_ = 0;
};

// A skylet that waits `seconds` before it starts (a launch that takes a while), written in `dir`.
std::string slow_skylet(const TempDir& dir, int seconds);

// Exclusive locks the test holds on files of a directory (a bucket its jobs mount): a job that
// runs `flock -s ~/bucket/NAME true` waits, without polling, until the test opens gate NAME.
class JobGates {
 public:
  explicit JobGates(std::string dir);
  ~JobGates();
  JobGates(const JobGates&) = delete;
  JobGates& operator=(const JobGates&) = delete;
  void close(const std::string& name);
  void open(const std::string& name);

 private:
  std::string dir_;
  std::map<std::string, int> held_;
};

}  // namespace skyd::testing
